import Foundation

/// What an expectation looks at: nothing, one JSON value, text as HTTP carries it (a
/// header, the body, the final URL), or the nodes a non-singular JSONPath selected.
public enum Actual: Sendable, Equatable {
    case missing
    case value(JSONValue)
    case text(String)
    case nodes([JSONPathNode])
    /// A header's field lines, one or more: compared as their values joined with ", " (RFC
    /// 9110 §5.3); `each` and filters see them one by one.
    case lines([String])

    /// The value compared by operators: the nodes' values as a list for a non-singular path.
    var comparable: Operand? {
        switch self {
        case .missing: return nil
        case .value(let v): return .json(v)
        case .text(let t): return .text(t)
        case .nodes(let nodes): return .json(.array(nodes.map(\.value)))
        case .lines(let lines): return .text(lines.joined(separator: ", "))
        }
    }

    /// What filters read: nothing, a value, text as a string, several nodes or field lines as a list.
    public var filterInput: JSONValue? {
        switch self {
        case .missing: return nil
        case .value(let v): return v
        case .text(let t): return .string(t)
        case .nodes(let nodes): return .array(nodes.map(\.value))
        case .lines(let lines): return lines.count == 1 ? .string(lines[0]) : .array(lines.map(JSONValue.string))
        }
    }

    public var display: String { display(atMost: .max) }

    /// The display, written only until it is longer than `limit` UTF-8 bytes: a 5 MB list
    /// is not spelled out to show its first 300 characters. Secrets are masked before the
    /// values are quoted.
    public func display(atMost limit: Int, redactor: Redactor = Redactor()) -> String {
        switch self {
        case .missing: return "nothing"
        case .value(let v): return v.jsonText(atMost: limit, redactor: redactor)
        case .text(let t): return JSONValue.string(t).jsonText(atMost: limit, redactor: redactor)
        case .nodes(let nodes): return JSONValue.array(nodes.map(\.value)).jsonText(atMost: limit, redactor: redactor)
        case .lines(let lines): return JSONValue.string(lines.joined(separator: ", ")).jsonText(atMost: limit, redactor: redactor)
        }
    }
}

/// Whether a predicate held, and if not, a sentence that says why, naming the node that broke it.
public struct PredicateOutcome: Sendable, Equatable {
    public var passed: Bool
    public var message: String?
    /// The normalized path of the node that failed, for `each` over a node list.
    public var failingPath: String?

    static let pass = PredicateOutcome(passed: true)

    static func fail(_ message: String, at path: String? = nil) -> PredicateOutcome {
        PredicateOutcome(passed: false, message: message, failingPath: path)
    }

    init(passed: Bool, message: String? = nil, failingPath: String? = nil) {
        self.passed = passed
        self.message = message
        self.failingPath = failingPath
    }
}

extension ValuePredicate {
    /// Checks `actual`, comparing values as `ValueComparison` says; templates in expected
    /// values render in `context` (captures may be read). `unit` names what numbers count
    /// (`ms` for durations), in messages only.
    /// `redactor` masks secrets in messages before values are quoted, so that a secret with
    /// `"` or `\` in it is never escaped out of its reach.
    public func evaluate(
        _ actual: Actual, unit: String? = nil, redactor: Redactor = Redactor(), in context: some TemplateContext
    ) throws(TemplateError) -> PredicateOutcome {
        let p = Presentation(unit: unit, redactor: redactor)
        let show = { (operand: Operand) in Self.show(operand, p) }
        switch self {
        case .all(let parts):
            for part in parts {
                let outcome = try part.evaluate(actual, unit: unit, redactor: redactor, in: context)
                if !outcome.passed { return outcome }
            }
            return .pass
        case .exists(let expected):
            let exists: Bool
            switch actual {
            case .missing: exists = false
            case .value, .text: exists = true
            case .nodes(let nodes): exists = !nodes.isEmpty
            case .lines(let lines): exists = !lines.isEmpty
            }
            return exists == expected ? .pass : .fail(expected ? "expected a value, found nothing" : "expected nothing, found \(actual.display(atMost: .max, redactor: redactor))")
        case .each(let inner):
            // Paths are spelled only for the node that fails: a large list has thousands.
            let items: [(JSONValue, JSONPathNode?)]
            switch actual {
            case .missing: return .fail("expected a list, found nothing")
            case .nodes(let nodes): items = nodes.map { ($0.value, $0) }
            case .value(.array(let elements)): items = elements.map { ($0, nil) }
            case .value(let v): return .fail("expected a list, found \(Self.typed(.json(v), p))")
            case .text(let t): return .fail("expected a list, found \(Self.typed(.text(t), p))")
            case .lines(let lines): items = lines.map { (.string($0), nil) }
            }
            // Every item of none would hold of anything: an API that dropped the list must not pass.
            if items.isEmpty {
                return .fail("expected each item to be \(try inner.describeExpected(unit: unit, redactor: redactor, in: context)), found no item")
            }
            for (index, (value, node)) in items.enumerated() {
                let outcome = try inner.evaluate(.value(value), unit: unit, redactor: redactor, in: context)
                if !outcome.passed {
                    let path = node?.path
                    return .fail("at \(path ?? "item \(index)"): \(outcome.message ?? "failed")", at: path)
                }
            }
            return .pass
        case .length(let inner):
            guard let value = actual.comparable else { return .fail("expected something with a length, found nothing") }
            guard let count = Self.length(of: value) else { return .fail("\(value.typeName) \(show(value)) has no length") }
            let outcome = try inner.evaluate(.value(.int(count)), in: context)
            return outcome.passed ? .pass : .fail("length \(count): \(outcome.message ?? "failed")")
        case .not(let inner):
            // Nothing is no value to negate a comparison on; `not: { exists: true }` still holds of it.
            if case .missing = actual, !inner.isExistence {
                return .fail("expected \(try describeExpected(unit: unit, redactor: redactor, in: context)), found nothing")
            }
            let outcome = try inner.evaluate(actual, unit: unit, redactor: redactor, in: context)
            guard outcome.passed else { return .pass }
            return .fail("expected \(try describeExpected(unit: unit, redactor: redactor, in: context)), got \(actual.display(atMost: 300, redactor: redactor))")
        case .filtered(let chain, let inner):
            let (filtered, redactor, fromSecret) = Self.filter(actual, chain, redactor: redactor, in: context)
            switch filtered {
            case .failure(let failure): return .fail(failure.message)
            case .success(let value):
                let outcome = try inner.evaluate(.value(value), unit: unit, redactor: redactor, in: context)
                if outcome.passed { return .pass }
                // A value computed from a secret is never shown, whole or in pieces.
                if fromSecret { return .fail("\(chain.description) gives a value computed from a secret (not shown), which is not \(try inner.describeExpected(unit: unit, redactor: redactor, in: context))") }
                return .fail("\(chain.description) gives \(value.jsonText(atMost: 300, redactor: redactor)): \(outcome.message ?? "failed")")
            }
        default:
            break
        }

        guard let value = actual.comparable else {
            if case .empty(let expected) = self {
                // Missing is not empty: `exists: false` says a value must be missing.
                return .fail(expected ? "expected something empty, found nothing (a missing value is checked with exists: false)" : "expected something not empty, found nothing")
            }
            if case .kind(let kind, let expected) = self, !expected {
                return .fail("expected something that is not \(kind.article), found nothing")
            }
            return .fail("expected \(try describeExpected(unit: unit, redactor: redactor, in: context)), found nothing")
        }
        switch self {
        case .equals(let expected):
            let e = try expected.renderOperand(in: context)
            return ValueComparison.equal(value, e) ? .pass : .fail(Self.mismatch(expected: e, actual: value, p))
        case .notEquals(let expected):
            let e = try expected.renderOperand(in: context)
            return ValueComparison.equal(value, e) ? .fail("expected anything but \(show(e))") : .pass
        case .oneOf(let options):
            var rendered: [Operand] = []
            for option in options { rendered.append(try option.renderOperand(in: context)) }
            return rendered.contains { ValueComparison.equal(value, $0) } ? .pass
                : .fail("expected one of \(Self.list(rendered, p)), got \(Self.typed(value, p))")
        case .compare(let kind, let expected):
            let e = try expected.renderOperand(in: context)
            guard let order = ValueComparison.order(value, e) else {
                return .fail("cannot compare \(Self.typed(value, p)) with \(Self.typed(e, p))")
            }
            let holds: Bool
            switch kind {
            case .less: holds = order < 0
            case .lessOrEqual: holds = order <= 0
            case .greater: holds = order > 0
            case .greaterOrEqual: holds = order >= 0
            }
            return holds ? .pass : .fail("expected \(kind.rawValue) \(show(e)), got \(show(value))")
        case .contains(let expected), .notContains(let expected):
            let e = try expected.renderOperand(in: context)
            let found: Bool
            switch value {
            case .text(let s), .json(.string(let s)): found = Self.contains(s, e.string ?? e.json.jsonText)
            case .json(.array(let items)): found = items.contains { ValueComparison.equal(.json($0), e) }
            case .json(.object(let o)): found = e.string.map { o[$0] != nil } ?? false
            case .json: found = false
            }
            if case .contains = self {
                return found ? .pass : .fail("expected \(show(value)) to contain \(show(e))")
            }
            return found ? .fail("expected \(show(value)) not to contain \(show(e))") : .pass
        case .startsWith(let template), .endsWith(let template):
            let e = try template.render(in: context)
            guard let s = value.string else { return .fail("expected a string, got \(Self.typed(value, p))") }
            if case .startsWith = self {
                return s.unicodeScalars.starts(with: e.unicodeScalars) ? .pass : .fail("expected \(show(value)) to start with \(JSONValue.quoted(redactor.redact(e)))")
            }
            return s.unicodeScalars.reversed().starts(with: e.unicodeScalars.reversed()) ? .pass
                : .fail("expected \(show(value)) to end with \(JSONValue.quoted(redactor.redact(e)))")
        case .matches(let pattern):
            let subject = value.string ?? value.json.jsonText
            // A match that stops at a limit is an error of this check, never "does not match".
            switch Result(catching: { () throws(RegexError) -> Bool in try RegexCache.shared.matches(pattern, subject) }) {
            case .success(let matched): return matched ? .pass : .fail("expected \(show(value)) to match /\(pattern)/")
            case .failure(let error): return .fail("the regex /\(pattern)/ could not be applied: \(error.message)")
            }
        case .type(let name):
            let typeName = value.json.typeName
            return typeName == name.rawValue ? .pass : .fail("expected \(name.article), got \(Self.typed(value, p))")
        case .empty(let expected):
            let isEmpty: Bool
            switch value {
            case .text(let s), .json(.string(let s)): isEmpty = s.isEmpty
            case .json(.array(let a)): isEmpty = a.isEmpty
            case .json(.object(let o)): isEmpty = o.isEmpty
            case .json(.null): isEmpty = true
            case .json: isEmpty = false
            }
            return isEmpty == expected ? .pass : .fail(expected ? "expected empty, got \(show(value))" : "expected something not empty, got \(show(value))")
        case .kind(let kind, let expected):
            return kind.holds(of: value) == expected ? .pass
                : .fail(expected ? "expected \(kind.article), got \(Self.typed(value, p))" : "expected something that is not \(kind.article), got \(Self.typed(value, p))")
        case .all, .exists, .each, .length, .not, .filtered:
            return .pass
        }
    }

    /// Whether the predicate speaks of a value's presence (`exists`), so that it has a verdict on nothing.
    var isExistence: Bool {
        switch self {
        case .exists: return true
        case .all(let parts): return parts.allSatisfy(\.isExistence)
        default: return false
        }
    }

    /// What the filters make of `actual`, or why they could not; and a redactor that also masks
    /// the result when it was computed from a secret (an argument that reads one, or a value
    /// a secret shows in), so that a piece of a secret is never shown in clear.
    /// `fromSecret`: the value was computed from a secret, and is never to be shown (its
    /// pieces may be too short, or numbers, for masking to find).
    public static func filter(
        _ actual: Actual, _ chain: FilterChain, redactor: Redactor, in context: some TemplateContext
    ) -> (Result<JSONValue, FilterFailure>, Redactor, fromSecret: Bool) {
        let input = actual.filterInput
        let inputHoldsSecret = input.map { redactor.redact($0.jsonText(atMost: .max)) != $0.jsonText(atMost: .max) } ?? false
        switch chain.apply(to: input, in: context) {
        case .failure(let error):
            // The message may quote the value: it says only which filter failed when a secret was read.
            let message = inputHoldsSecret || chain.readsSecret(in: context) ? "\(chain.description): a filter failed on a value computed from a secret (not shown)" : error.message
            return (.failure(FilterFailure(message: redactor.redact(message))), redactor, inputHoldsSecret)
        case .success(let (value, secret)):
            var redactor = redactor
            let fromSecret = secret || inputHoldsSecret
            // Masked wherever it appears, unless it is short or a plain word (a count, a
            // character): masking every `1` would garble the output and tell the value. The
            // verdict never shows it either way.
            let strong: Bool = switch value {
            case .array, .object: true
            default: Redactor.masksAsLeaf(value)
            }
            if fromSecret, strong {
                context.noteSecret(value)
                redactor.add(leavesOf: value)
            }
            return (.success(value), redactor, fromSecret)
        }
    }

    /// A short text of what was expected, for reports; numbers carry `unit` when given.
    public func describeExpected(unit: String? = nil, redactor: Redactor = Redactor(), in context: some TemplateContext) throws(TemplateError) -> String {
        let p = Presentation(unit: unit, redactor: redactor)
        let show = { (operand: Operand) in Self.show(operand, p) }
        switch self {
        case .all(let parts):
            var texts: [String] = []
            for part in parts { texts.append(try part.describeExpected(unit: unit, redactor: redactor, in: context)) }
            return texts.joined(separator: " and ")
        case .equals(let v): return show(try v.renderOperand(in: context))
        case .notEquals(let v): return "not \(show(try v.renderOperand(in: context)))"
        case .compare(let kind, let v): return "\(kind.rawValue) \(show(try v.renderOperand(in: context)))"
        case .contains(let v): return "contains \(show(try v.renderOperand(in: context)))"
        case .notContains(let v): return "does not contain \(show(try v.renderOperand(in: context)))"
        case .startsWith(let t): return "starts with \(JSONValue.quoted(redactor.redact(try t.render(in: context))))"
        case .endsWith(let t): return "ends with \(JSONValue.quoted(redactor.redact(try t.render(in: context))))"
        case .matches(let p): return "matches /\(p)/"
        case .exists(let b): return b ? "exists" : "does not exist"
        case .type(let t): return t.article
        case .length(let inner): return "length \(try inner.describeExpected(redactor: redactor, in: context))"
        case .oneOf(let options):
            var rendered: [Operand] = []
            for option in options { rendered.append(try option.renderOperand(in: context)) }
            return "one of \(Self.list(rendered, p))"
        case .each(let inner): return "each \(try inner.describeExpected(unit: unit, redactor: redactor, in: context))"
        case .empty(let b): return b ? "empty" : "not empty"
        case .not(let inner): return "not (\(try inner.describeExpected(unit: unit, redactor: redactor, in: context)))"
        case .kind(let kind, let b): return b ? kind.article : "not \(kind.article)"
        case .filtered(let chain, let inner): return "\(chain.description) gives \(try inner.describeExpected(unit: unit, redactor: redactor, in: context))"
        }
    }

    /// The length of a string or text in Unicode scalar values (as RFC 9535's `length()`
    /// counts), of a list in items, of an object in members; nil for anything else.
    static func length(of value: Operand) -> Int? {
        switch value {
        case .text(let s), .json(.string(let s)): return s.unicodeScalars.count
        case .json(.array(let a)): return a.count
        case .json(.object(let o)): return o.count
        case .json: return nil
        }
    }

    /// Substring search on Unicode scalars: `"a\r\nb"` contains `"\r"`, which a search by
    /// grapheme clusters (Swift's `String.contains`) does not find.
    static func contains(_ text: String, _ part: String) -> Bool {
        if part.isEmpty { return true }
        let haystack = Array(text.unicodeScalars), needle = Array(part.unicodeScalars)
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }

    /// How messages show values: numbers with their unit, secrets masked before quoting.
    struct Presentation {
        var unit: String?
        var redactor: Redactor
    }

    /// The value as messages show it: JSON text (text quoted as a string), its secrets
    /// masked first; numbers with the unit.
    static func show(_ value: Operand, _ p: Presentation) -> String {
        switch value {
        case .json(.number):
            let text = value.json.jsonText(atMost: .max, redactor: p.redactor)
            return p.unit.map { "\(text) \($0)" } ?? text
        case .json(let v): return v.jsonText(atMost: .max, redactor: p.redactor)
        case .text(let t): return JSONValue.quoted(p.redactor.redact(t))
        }
    }

    /// The value with its type named: `string "7"`, `number 7`, `text "7"`.
    static func typed(_ value: Operand, _ p: Presentation) -> String {
        if case .json(.null) = value { return "null" }
        // A duration is a number in a unit: the unit says what it is.
        if p.unit != nil, case .json(.number) = value { return show(value, p) }
        return "\(value.typeName) \(show(value, p))"
    }

    /// `U+0065 U+0301`, for the first differences of short texts.
    static func codePoints(_ text: String) -> String {
        let scalars = text.unicodeScalars.prefix(12).map { scalar -> String in
            let hex = String(scalar.value, radix: 16, uppercase: true)
            return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        }
        return scalars.joined(separator: " ") + (text.unicodeScalars.count > 12 ? " …" : "")
    }

    static func list(_ values: [Operand], _ p: Presentation) -> String {
        "[" + values.map { show($0, p) }.joined(separator: ",") + "]"
    }

    /// Why two values are not equal; their types are named when they differ, so that a
    /// number that became a string reads as such, not as `expected 7, got "7"` alone.
    static func mismatch(expected: Operand, actual: Operand, _ p: Presentation) -> String {
        if case .json(let e) = expected, case .json(let a) = actual, e.typeName != a.typeName {
            return "expected \(typed(expected, p)), got \(typed(actual, p))"
        }
        var message = "expected \(show(expected, p)), got \(show(actual, p))"
        // Text that looks the same but is another sequence of code points (é as one, or as e
        // and a combining accent): say so, or the message reads "expected é, got é".
        if let e = expected.string, let a = actual.string, e == a, p.redactor.redact(e) == e {
            message += " (the same letters in other Unicode code points: \(codePoints(e)) against \(codePoints(a)))"
        }
        return message
    }
}

/// Why filters could not apply, masked.
public struct FilterFailure: Error, Sendable, Equatable {
    public var message: String
}

extension ValueKind {
    /// Whether the value is of this kind. Text (a header, the body) is a string, whatever it spells.
    func holds(of value: Operand) -> Bool {
        switch self {
        case .integer, .float:
            guard case .json(.number(let n)) = value else { return false }
            let written = n.jsonText.contains { $0 == "." || $0 == "e" || $0 == "E" }
            return (self == .float) == written
        case .number: if case .json(.number) = value { return true } else { return false }
        case .string: return value.string != nil
        case .boolean: if case .json(.bool) = value { return true } else { return false }
        case .collection:
            switch value {
            case .json(.array), .json(.object): return true
            default: return false
            }
        case .date: return value.string.flatMap { DateText.parse($0) } != nil
        case .iso_date: return value.string.flatMap { DateText.rfc3339($0) } != nil
        case .uuid:
            guard let text = value.string else { return false }
            let groups = text.split(separator: "-", omittingEmptySubsequences: false)
            return groups.map(\.count) == [8, 4, 4, 4, 12] && groups.allSatisfy { $0.allSatisfy(\.isHexDigit) && $0.allSatisfy(\.isASCII) }
        case .ipv4, .ipv6:
            guard let text = value.string else { return false }
            var buffer = [UInt8](repeating: 0, count: 16)
            return inet_pton(self == .ipv4 ? AF_INET : AF_INET6, text, &buffer) == 1
        }
    }
}
