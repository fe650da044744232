import Foundation

/// Compiled regular expressions, shared: the same patterns run on every response of a run.
public final class RegexCache: @unchecked Sendable {
    public static let shared = RegexCache()
    private var cache: [ExactString: NSRegularExpression?] = [:]
    private let lock = NSLock()

    /// The compiled pattern (ICU syntax), or nil when it does not compile.
    public func regex(_ pattern: String) -> NSRegularExpression? {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[ExactString(pattern)] { return cached }
        let compiled = try? NSRegularExpression(pattern: pattern)
        cache[ExactString(pattern)] = compiled
        return compiled
    }

    /// ECMA-262 semantics as JSON Schema asks: a match anywhere in the string.
    public func matches(_ pattern: String, _ subject: String) -> Bool {
        guard let regex = regex(pattern) else { return false }
        return regex.firstMatch(in: subject, range: NSRange(location: 0, length: subject.utf16.count)) != nil
    }
}
