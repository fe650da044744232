import Foundation
import _FoundationICU

/// (The toolchain's ICU renames its functions `swift_uregex_…`: they are ICU's uregex API.)
///
/// A regular expression (ICU syntax, as NSRegularExpression reads it) whose matching is
/// bounded in time and memory, on ICU's C API directly: a pattern that backtracks without
/// end (`(.*a){20}$`) stops with an error instead of running for minutes, and a deep match
/// stops with an error instead of overflowing a stack.
///
/// Limits (`uregex_setTimeLimit`, `uregex_setStackLimit`): `timeLimit` steps of ICU's match
/// engine (ICU says a step is "on the order of milliseconds"; 5,000 steps are about a
/// second here), and `stackLimit` bytes of backtracking stack, kept on the heap by ICU.
public final class BoundedRegex: @unchecked Sendable {
    /// ICU match-engine steps a match may take (about a second on this project's machines).
    public static let timeLimit: Int32 = 5_000
    /// ICU match-engine steps after which "no match" is not trusted (see `firstMatch(in:)`).
    public static let untrustedMisses: Int32 = 1_000
    /// Bytes of ICU's backtracking stack a match may use.
    public static let stackLimit: Int32 = 8 << 20

    public let pattern: String
    /// The number of capture groups.
    public let groupCount: Int
    /// The compiled pattern; each match runs on a clone (URegularExpression is not thread-safe).
    private let compiled: OpaquePointer
    private let lock = NSLock()

    /// Throws `RegexError` with ICU's reason and the offset (in UTF-16 units) of a syntax error.
    public init(_ pattern: String) throws(RegexError) {
        self.pattern = pattern
        var status = U_ZERO_ERROR
        var parseError = UParseError()
        let units = Array(pattern.utf16)
        let regex = units.withUnsafeBufferPointer { swift_uregex_open($0.baseAddress, Int32($0.count), 0, &parseError, &status) }
        guard let regex, status.rawValue <= U_ZERO_ERROR.rawValue else {
            if let regex { swift_uregex_close(regex) }
            throw RegexError(kind: .syntax, message: RegexError.describe(status), offset: Int(parseError.offset))
        }
        compiled = regex
        groupCount = Int(swift_uregex_groupCount(regex, &status))
    }

    deinit { swift_uregex_close(compiled) }

    /// Whether the pattern matches somewhere in `text`.
    public func matches(_ text: String) throws(RegexError) -> Bool {
        try firstMatch(in: text) != nil
    }

    /// The first match's groups (0: the whole match) as ranges of `text`; nil for a group
    /// that took no part; nil when nothing matches.
    public func firstMatch(in text: String) throws(RegexError) -> [Range<String.Index>?]? {
        var status = U_ZERO_ERROR
        lock.lock()
        let clone = swift_uregex_clone(compiled, &status)
        lock.unlock()
        guard let clone, status.rawValue <= U_ZERO_ERROR.rawValue else { throw RegexError(kind: .engine, message: RegexError.describe(status)) }
        defer { swift_uregex_close(clone) }
        swift_uregex_setTimeLimit(clone, Self.timeLimit, &status)
        swift_uregex_setStackLimit(clone, Self.stackLimit, &status)
        // ICU (76) can give up on a pattern with capture groups that backtracks a lot and
        // answer "no match" with no error (`^(?:(a|a)+$|a+!$)` on 40 a's and a '!', which
        // matches), after about 3,000 to 4,000 steps. Its clock, read through the match
        // callback, tells how much work a "no match" cost: past `untrustedMisses` steps the
        // answer is not trusted and the match is reported as stopped.
        let clock = MatchClock()
        swift_uregex_setMatchCallback(clone, { context, steps in
            if let context { Unmanaged<MatchClock>.fromOpaque(context).takeUnretainedValue().steps = steps }
            return 1
        }, Unmanaged.passUnretained(clock).toOpaque(), &status)
        defer { withExtendedLifetime(clock) {} }
        // A terminator after the text, so that an empty text still has an address.
        let units = Array(text.utf16) + [0]
        return try units.withUnsafeBufferPointer { buffer throws(RegexError) -> [Range<String.Index>?]? in
            swift_uregex_setText(clone, buffer.baseAddress, Int32(buffer.count - 1), &status)
            let found = swift_uregex_find(clone, 0, &status) != 0
            guard status.rawValue <= U_ZERO_ERROR.rawValue else {
                throw RegexError(kind: status == U_REGEX_TIME_OUT ? .timeLimit : status == U_REGEX_STACK_OVERFLOW ? .stackLimit : .engine,
                    message: RegexError.describe(status))
            }
            guard found else {
                if clock.steps >= Self.untrustedMisses {
                    throw RegexError(kind: .timeLimit, message: RegexError.describe(U_REGEX_TIME_OUT))
                }
                return nil
            }
            var groups: [Range<String.Index>?] = []
            for group in 0...groupCount {
                let start = Int(swift_uregex_start(clone, Int32(group), &status)), end = Int(swift_uregex_end(clone, Int32(group), &status))
                guard start >= 0, end >= start else {
                    groups.append(nil)
                    continue
                }
                let lower = String.Index(utf16Offset: start, in: text), upper = String.Index(utf16Offset: end, in: text)
                groups.append(lower..<upper)
            }
            return groups
        }
    }
}

/// The steps of ICU's match clock one match has taken (set by its match callback).
private final class MatchClock: @unchecked Sendable {
    var steps: Int32 = 0
}

/// Why a pattern does not compile, or why a match stopped.
public struct RegexError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case syntax
        /// `BoundedRegex.timeLimit` was reached.
        case timeLimit
        /// `BoundedRegex.stackLimit` was reached.
        case stackLimit
        case engine
    }

    public var kind: Kind
    public var message: String
    /// For a syntax error: where, in UTF-16 units of the pattern.
    public var offset: Int = 0

    public var description: String { message }

    static func describe(_ status: UErrorCode) -> String {
        switch status {
        case U_REGEX_TIME_OUT: return "the match stopped at the time limit (about a second of matching): the pattern backtracks too much on this text"
        case U_REGEX_STACK_OVERFLOW: return "the match stopped at the memory limit (8 MB of backtracking): the pattern nests too deep for this text"
        case U_REGEX_MISMATCHED_PAREN: return "a parenthesis is not closed, or closes nothing"
        case U_REGEX_MISSING_CLOSE_BRACKET: return "a '[' is not closed"
        case U_REGEX_BAD_ESCAPE_SEQUENCE: return "an unknown escape after '\\'"
        case U_REGEX_RULE_SYNTAX: return "not a valid regular expression (ICU syntax)"
        case U_REGEX_BAD_INTERVAL: return "a bad {n,m} interval"
        case U_REGEX_MAX_LT_MIN: return "an interval {n,m} whose m is below its n"
        case U_REGEX_INVALID_BACK_REF: return "a back reference to a group that does not exist"
        case U_REGEX_INVALID_RANGE: return "a range in [] whose end comes before its start"
        case U_REGEX_PROPERTY_SYNTAX: return "a bad \\p{…} property"
        case U_REGEX_NUMBER_TOO_BIG: return "a number in the pattern is too big"
        case U_REGEX_LOOK_BEHIND_LIMIT: return "a look-behind without a bounded length"
        case U_REGEX_PATTERN_TOO_BIG: return "the pattern is too big"
        default: return "ICU error \(status.rawValue)"
        }
    }
}
