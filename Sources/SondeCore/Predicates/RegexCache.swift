import Foundation

/// Compiled regular expressions, shared: the same patterns run on every response of a run.
/// Bounded: past `capacity` distinct patterns (a pattern a document supplies, per node) the
/// cache starts over, so that memory does not grow with the patterns seen.
public final class RegexCache: @unchecked Sendable {
    public static let shared = RegexCache()
    static let capacity = 512
    private var cache: [ExactString: Result<BoundedRegex, RegexError>] = [:]
    private let lock = NSLock()

    /// The compiled pattern (ICU syntax), or why it does not compile.
    public func regex(_ pattern: String) -> Result<BoundedRegex, RegexError> {
        let key = ExactString(pattern)
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[key] { return cached }
        if cache.count >= Self.capacity { cache.removeAll(keepingCapacity: true) }
        let compiled = Result { () throws(RegexError) -> BoundedRegex in try BoundedRegex(pattern) }
        cache[key] = compiled
        return compiled
    }

    /// A match anywhere in the string (ECMA-262 semantics, as JSON Schema's `pattern` asks).
    /// Throws when the pattern does not compile or its match stopped at a limit.
    public func matches(_ pattern: String, _ subject: String) throws(RegexError) -> Bool {
        try regex(pattern).get().matches(subject)
    }
}
