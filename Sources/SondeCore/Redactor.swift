import Foundation

/// Replaces every secret value, in every form it travels in, before text leaves the process.
///
/// A server echoes what it got with its own escaping, so a secret is found however each of
/// its characters is written (`docs/collections.md`, "Secrets"):
/// - as itself, or its UTF-8 bytes percent-encoded in either hex case (`%2F`, `%2f`), any
///   mix of raw and encoded bytes, `+` for a space;
/// - JSON escapes: `\uXXXX` for any character in either hex case (surrogate pairs beyond
///   U+FFFF, as Python and Go write them), `\"`, `\\`, `\/` (PHP), `\n`, `\r`, `\t`, `\b`, `\f`;
/// - HTML character references: `&#NNN;`, `&#xHH;`, and `&amp;`, `&lt;`, `&gt;`, `&quot;`,
///   `&apos;`, `&nbsp;`.
///
/// A short secret (fewer than 6 characters) or a plain word (letters only, or digits only)
/// is masked only where it stands whole, between characters that are not letters or digits:
/// masking every `7` or `admin` in all output would give the value away.
public struct Redactor: Sendable {
    public static let mask = "••••••"

    /// A class, so that reaching one from the scan costs one reference count, not four.
    final class Secret: Sendable {
        let scalars: [Unicode.Scalar]
        let wholeWordOnly: Bool
        /// The secret's UTF-8, compared as it is first (most text holds it raw or not at all).
        let utf8: [UInt8]
        /// Whether one of its characters has a form that starts like another of its forms
        /// (`%`, `&`, `\`, `+`, a space): only then can a raw match be beaten by a longer one.
        let hasSpecial: Bool
        /// The bytes a match can start with.
        let firstBytes: [Bool]

        init(scalars: [Unicode.Scalar], wholeWordOnly: Bool, utf8: [UInt8], hasSpecial: Bool, firstBytes: [Bool]) {
            self.scalars = scalars
            self.wholeWordOnly = wholeWordOnly
            self.utf8 = utf8
            self.hasSpecial = hasSpecial
            self.firstBytes = firstBytes
        }
    }

    /// Longest first, so that a secret containing another is masked whole.
    private var secrets: [Secret] = []
    /// For each byte, the secrets (indices into `secrets`, longest first) a match can start
    /// with it: most text holds few such bytes, and is passed over a byte at a time.
    private var byLead = [[Int]](repeating: [], count: 256)
    /// Whether any secret can start with the byte: the scan's only test for most bytes.
    private var leads = [Bool](repeating: false, count: 256)

    public init(_ secrets: [String] = []) {
        for secret in secrets { add(secret) }
    }

    /// Whether a secret's value is short or a plain word, and so masked only where it stands whole.
    public static func isWeak(_ secret: String) -> Bool {
        let scalars = secret.unicodeScalars
        return scalars.count < 6 || scalars.allSatisfy { $0.properties.isAlphabetic } || scalars.allSatisfy { ("0"..."9").contains($0) }
    }

    /// Adds a value to mask wherever it appears, in any of the forms above, and its base64
    /// (standard and URL-safe, with and without padding), as servers echo credentials.
    public mutating func add(_ secret: String) {
        let scalars = Array(secret.unicodeScalars)
        guard !scalars.isEmpty, !secrets.contains(where: { $0.scalars == scalars }) else { return }
        let weak = Self.isWeak(secret)
        insert(scalars, wholeWordOnly: weak)
        guard !weak else { return }
        let base64 = Data(secret.utf8).base64EncodedString()
        let unpadded = String(base64.prefix { $0 != "=" })
        let urlSafe = unpadded.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        for form in [base64, unpadded, urlSafe] where !secrets.contains(where: { $0.scalars.elementsEqual(form.unicodeScalars) }) {
            insert(Array(form.unicodeScalars), wholeWordOnly: false)
        }
    }

    private mutating func insert(_ scalars: [Unicode.Scalar], wholeWordOnly: Bool) {
        var utf8: [UInt8] = []
        for scalar in scalars { UTF8.encode(scalar) { utf8.append($0) } }
        var firstBytes = [Bool](repeating: false, count: 256)
        firstBytes[Int(utf8[0])] = true
        for byte in "%\\&".utf8 { firstBytes[Int(byte)] = true }
        if scalars[0] == " " { firstBytes[Int(UInt8(ascii: "+"))] = true }
        let hasSpecial = utf8.contains { Self.isSpecial($0) || $0 == UInt8(ascii: " ") }
        secrets.append(Secret(scalars: scalars, wholeWordOnly: wholeWordOnly, utf8: utf8, hasSpecial: hasSpecial, firstBytes: firstBytes))
        secrets.sort { $0.scalars.count > $1.scalars.count }
        byLead = [[Int]](repeating: [], count: 256)
        for (index, secret) in secrets.enumerated() {
            for byte in 0..<256 where secret.firstBytes[byte] { byLead[byte].append(index) }
        }
        leads = byLead.map { !$0.isEmpty }
    }

    /// The bytes that start an encoded form of a character.
    static func isSpecial(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "%") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "&") || byte == UInt8(ascii: "+")
    }

    /// Adds every leaf of a structured value (the strings, and the numbers' text): each is a secret.
    public mutating func add(leavesOf value: JSONValue) {
        switch value {
        case .string(let s): add(s)
        case .number(let n): add(n.jsonText)
        case .array(let items): for item in items { add(leavesOf: item) }
        case .object(let object): for member in object.members { add(leavesOf: member.value) }
        case .bool, .null: break
        }
    }

    public var isEmpty: Bool { secrets.isEmpty }

    /// The most UTF-8 bytes any secret can take in the text (12 a character, as `%F0%9F%91%8D`
    /// or a surrogate pair): text cut after `limit + longest` bytes still shows every secret
    /// that starts before `limit` whole, to be masked.
    public var longest: Int { (secrets.first?.scalars.count ?? 0) * 12 }

    /// The text with every secret, in any of its forms, replaced by `mask`.
    public func redact(_ text: String) -> String {
        guard !secrets.isEmpty else { return text }
        var copy = text
        let masked = copy.withUTF8 { bytes -> [UInt8]? in
            leads.withUnsafeBufferPointer { leads in
            var out: [UInt8] = []
            var copied = 0
            var i = 0
            while i < bytes.count {
                guard leads[Int(bytes[i])], let end = matchAny(at: i, in: bytes) else {
                    i += 1
                    continue
                }
                if out.isEmpty { out.reserveCapacity(bytes.count) }
                out.append(contentsOf: bytes[copied..<i])
                out.append(contentsOf: Self.mask.utf8)
                copied = end
                i = end
            }
            if copied == 0 { return nil }
            out.append(contentsOf: bytes[copied...])
            return out
            }
        }
        return masked.map { String(decoding: $0, as: UTF8.self) } ?? text
    }

    /// The end of the longest secret that matches at `start`, whole where it must be.
    private func matchAny(at start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        for index in byLead[Int(bytes[start])] {
            let secret = secrets[index]
            let found: Int?
            switch Self.rawMatch(secret, at: start, in: bytes) {
            case .matched(let end): found = end
            case .none: found = nil
            case .undecided:
                // The full search, only when the first character can match in some form.
                found = Self.firstCanMatch(secret, at: start, in: bytes) ? Self.match(secret.scalars, at: start, in: bytes) : nil
            }
            guard let end = found else { continue }
            if secret.wholeWordOnly, Self.isWordCharacter(before: start, in: bytes) || Self.isWordCharacter(at: end, in: bytes) { continue }
            return end
        }
        return nil
    }

    enum RawMatch {
        case matched(Int)
        case none
        /// An encoded form may match: the full search decides.
        case undecided
    }

    /// The fast path: the secret's bytes as they are. When they differ at a byte that cannot
    /// start an encoded form, and the secret has no character whose forms overlap, nothing
    /// else can match either.
    static func rawMatch(_ secret: Secret, at start: Int, in t: UnsafeBufferPointer<UInt8>) -> RawMatch {
        if secret.hasSpecial { return .undecided }
        let u = secret.utf8
        var j = 0
        while j < u.count, start + j < t.count, t[start + j] == u[j] { j += 1 }
        if j == u.count { return .matched(start + j) }
        if start + j < t.count, isSpecial(t[start + j]) { return .undecided }
        return .none
    }

    /// Whether the secret's first character can start at `p` in one of its forms, with no
    /// allocation: most places a special byte stands do not begin a secret.
    static func firstCanMatch(_ secret: Secret, at p: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        let byte = t[p]
        if byte == secret.utf8[0] { return true }
        switch byte {
        case UInt8(ascii: "%"): return hexValue(t, p + 1, digits: 2) == UInt32(secret.utf8[0])
        case UInt8(ascii: "\\"): return jsonEscape(of: secret.scalars[0], at: p, in: t) != nil
        case UInt8(ascii: "&"): return characterReference(of: secret.scalars[0], at: p, in: t) != nil
        case UInt8(ascii: "+"): return secret.scalars[0] == " "
        default: return false
        }
    }

    /// The end of the longest match of `scalars` at `start`, each character in any of its forms;
    /// every alternative is followed (a set of positions), so none is missed for another.
    static func match(_ scalars: [Unicode.Scalar], at start: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        var positions = [start]
        var next: [Int] = []
        for scalar in scalars {
            next.removeAll(keepingCapacity: true)
            for position in positions { ends(of: scalar, at: position, in: bytes, into: &next) }
            if next.isEmpty { return nil }
            if next.count > 1 {
                next.sort()
                var unique: [Int] = []
                for p in next where unique.last != p { unique.append(p) }
                next = unique
            }
            swap(&positions, &next)
        }
        return positions.max()
    }

    /// Every position where one written form of `scalar` starting at `p` ends.
    static func ends(of scalar: Unicode.Scalar, at p: Int, in t: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        guard p < t.count else { return }
        // Its UTF-8 bytes, each raw or percent-encoded.
        var positions = [p]
        var utf8: [UInt8] = []
        UTF8.encode(scalar) { utf8.append($0) }
        for byte in utf8 {
            var advanced: [Int] = []
            for q in positions where q < t.count {
                if t[q] == byte { advanced.append(q + 1) }
                if t[q] == UInt8(ascii: "%"), q + 2 < t.count, let value = hexValue(t, q + 1, digits: 2), value == UInt32(byte) { advanced.append(q + 3) }
            }
            positions = advanced
            if positions.isEmpty { break }
        }
        out.append(contentsOf: positions)
        switch t[p] {
        case UInt8(ascii: "+"):
            if scalar == " " { out.append(p + 1) }
        case UInt8(ascii: "\\"):
            if let end = jsonEscape(of: scalar, at: p, in: t) { out.append(end) }
        case UInt8(ascii: "&"):
            if let end = characterReference(of: scalar, at: p, in: t) { out.append(end) }
        default:
            break
        }
    }

    /// `\uXXXX` (or a surrogate pair) or a short escape for `scalar` at `p`.
    static func jsonEscape(of scalar: Unicode.Scalar, at p: Int, in t: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p + 1 < t.count else { return nil }
        let short: UInt8? = switch scalar {
        case "\"": UInt8(ascii: "\"")
        case "\\": UInt8(ascii: "\\")
        case "/": UInt8(ascii: "/")
        case "\n": UInt8(ascii: "n")
        case "\r": UInt8(ascii: "r")
        case "\t": UInt8(ascii: "t")
        case "\u{08}": UInt8(ascii: "b")
        case "\u{0C}": UInt8(ascii: "f")
        default: nil
        }
        if let short, t[p + 1] == short { return p + 2 }
        guard t[p + 1] == UInt8(ascii: "u"), p + 5 < t.count, let unit = hexValue(t, p + 2, digits: 4) else { return nil }
        if scalar.value <= 0xFFFF { return unit == scalar.value ? p + 6 : nil }
        let value = scalar.value - 0x10000
        guard unit == 0xD800 + (value >> 10), p + 11 < t.count, t[p + 6] == UInt8(ascii: "\\"), t[p + 7] == UInt8(ascii: "u"),
            let low = hexValue(t, p + 8, digits: 4), low == 0xDC00 + (value & 0x3FF)
        else { return nil }
        return p + 12
    }

    /// `&#NNN;`, `&#xHH;` or a named reference for `scalar` at `p`.
    static func characterReference(of scalar: Unicode.Scalar, at p: Int, in t: UnsafeBufferPointer<UInt8>) -> Int? {
        guard p + 3 < t.count else { return nil }
        if t[p + 1] == UInt8(ascii: "#") {
            let hex = t[p + 2] == UInt8(ascii: "x") || t[p + 2] == UInt8(ascii: "X")
            var q = p + (hex ? 3 : 2)
            var value: UInt32 = 0
            let start = q
            while q < t.count, q - start < 8, let digit = digitValue(t[q], hex: hex) {
                value = value * (hex ? 16 : 10) + digit
                q += 1
            }
            guard q > start, q < t.count, t[q] == UInt8(ascii: ";"), value == scalar.value else { return nil }
            return q + 1
        }
        let name: String? = switch scalar {
        case "&": "amp;"
        case "<": "lt;"
        case ">": "gt;"
        case "\"": "quot;"
        case "'": "apos;"
        case "\u{A0}": "nbsp;"
        default: nil
        }
        guard let name, p + name.utf8.count < t.count else { return nil }
        for (k, byte) in name.utf8.enumerated() where t[p + 1 + k] != byte { return nil }
        return p + 1 + name.utf8.count
    }

    static func hexValue(_ t: UnsafeBufferPointer<UInt8>, _ start: Int, digits: Int) -> UInt32? {
        guard start + digits <= t.count else { return nil }
        var value: UInt32 = 0
        for k in 0..<digits {
            guard let digit = digitValue(t[start + k], hex: true) else { return nil }
            value = value << 4 | digit
        }
        return value
    }

    static func digitValue(_ byte: UInt8, hex: Bool) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where hex: return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where hex: return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// Whether the character ending just before `index` is a letter or a digit.
    static func isWordCharacter(before index: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard index > 0 else { return false }
        var start = index - 1
        while start > 0, t[start] & 0xC0 == 0x80 { start -= 1 }
        return isWordCharacter(at: start, in: t)
    }

    /// Whether the character starting at `index` is a letter or a digit.
    static func isWordCharacter(at index: Int, in t: UnsafeBufferPointer<UInt8>) -> Bool {
        guard index < t.count else { return false }
        var end = index + 1
        while end < t.count, t[end] & 0xC0 == 0x80 { end += 1 }
        guard let scalar = String(decoding: UnsafeBufferPointer(rebasing: t[index..<end]), as: UTF8.self).unicodeScalars.first else { return false }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
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

    /// The value with every string (and member name) redacted: mask before quoting, so that
    /// a secret with `"` or `\` in it is never escaped out of reach.
    public func redact(_ value: JSONValue) -> JSONValue {
        guard !secrets.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let items): return .array(items.map(redact))
        case .object(let o): return .object(JSONObject(o.members.map { (key: redact($0.key), value: redact($0.value)) }))
        case .number(let n):
            let text = n.jsonText
            return redact(text) == text ? value : .string(Self.mask)
        default: return value
        }
    }

    /// A shape with secrets masked in its paths (a token used as a key, say).
    public func redact(_ shape: JSONShape) -> JSONShape {
        guard !secrets.isEmpty else { return shape }
        var types: [String: String] = [:]
        for (path, type) in shape.types { types[redact(path)] = type }
        return JSONShape(types: types)
    }
}
