import Foundation

/// Replaces every secret value, in the forms it travels in, before text leaves the process.
public struct Redactor: Sendable {
    public static let mask = "••••••"
    private var needles: [String] = []

    public init(_ secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    /// Adds a value and its encoded forms (percent-encoded, JSON-escaped) to redact.
    public mutating func add(_ secret: String) {
        guard !secret.isEmpty else { return }
        var forms = [secret, PercentEncoding.encode(secret)]
        let quoted = JSONValue.quoted(secret)
        forms.append(String(quoted.dropFirst().dropLast()))
        for form in forms where !form.isEmpty && !needles.contains(form) { needles.append(form) }
        // Longest first, so that a secret containing another is masked whole.
        needles.sort { $0.count > $1.count }
    }

    public var isEmpty: Bool { needles.isEmpty }

    /// The longest form of any secret, in UTF-8 bytes: text cut after `limit + longest`
    /// bytes still shows every secret that starts before `limit` whole, to be masked.
    public var longest: Int { needles.first?.utf8.count ?? 0 }

    public func redact(_ text: String) -> String {
        guard !needles.isEmpty else { return text }
        // Most text holds no secret: a byte search says so without Foundation's
        // Unicode-aware search, which cost more than the request itself on the hot path.
        var out = text
        for needle in needles where Self.contains(out, needle) {
            out = out.replacingOccurrences(of: needle, with: Self.mask)
        }
        return out
    }

    static func contains(_ text: String, _ needle: String) -> Bool {
        var text = text
        var needle = needle
        return text.withUTF8 { haystack in
            needle.withUTF8 { needle in
                guard let first = needle.first, needle.count <= haystack.count, let h = haystack.baseAddress, let n = needle.baseAddress else {
                    return needle.isEmpty
                }
                var i = 0
                let last = haystack.count - needle.count
                while i <= last {
                    guard let found = memchr(h + i, Int32(first), last - i + 1) else { return false }
                    i = h.distance(to: found.assumingMemoryBound(to: UInt8.self))
                    if memcmp(h + i, n, needle.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }

    /// The text redacted whole, then cut to `limit` characters: cutting first could split
    /// a secret so that its first part no longer matches, and shows in clear.
    public func excerpt(_ text: String, limit: Int) -> String {
        Self.cut(redact(text), limit: limit)
    }

    /// Text already redacted, cut to `limit` characters.
    public static func cut(_ text: String, limit: Int) -> String {
        text.count > limit ? String(text.prefix(limit)) + "…" : text
    }

    public func redact(_ value: JSONValue) -> JSONValue {
        guard !needles.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let items): return .array(items.map(redact))
        case .object(let o): return .object(JSONObject(o.members.map { (key: $0.key, value: redact($0.value)) }))
        default: return value
        }
    }

    /// A shape with secrets masked in its paths (a token used as a key, say).
    public func redact(_ shape: JSONShape) -> JSONShape {
        guard !needles.isEmpty else { return shape }
        var types: [String: String] = [:]
        for (path, type) in shape.types { types[redact(path)] = type }
        return JSONShape(types: types)
    }
}
