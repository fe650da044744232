import Foundation

/// What an expectation looks at: nothing, one value, or the nodes a non-singular JSONPath selected.
public enum Actual: Sendable, Equatable {
    case missing
    case value(JSONValue)
    case nodes([JSONPathNode])

    /// The value compared by operators: the nodes' values as a list for a non-singular path.
    var comparable: JSONValue? {
        switch self {
        case .missing: return nil
        case .value(let v): return v
        case .nodes(let nodes): return .array(nodes.map(\.value))
        }
    }

    public var display: String { display(atMost: .max) }

    /// The display, written only until it is longer than `limit` UTF-8 bytes: a 5 MB list
    /// is not spelled out to show its first 300 characters.
    public func display(atMost limit: Int) -> String {
        switch self {
        case .missing: return "nothing"
        case .value(let v): return v.jsonText(atMost: limit)
        case .nodes(let nodes): return JSONValue.array(nodes.map(\.value)).jsonText(atMost: limit)
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
    /// Checks `actual`; templates in expected values render in `context` (captures may be read).
    public func evaluate(_ actual: Actual, in context: some TemplateContext) throws(TemplateError) -> PredicateOutcome {
        switch self {
        case .all(let parts):
            for part in parts {
                let outcome = try part.evaluate(actual, in: context)
                if !outcome.passed { return outcome }
            }
            return .pass
        case .exists(let expected):
            let exists: Bool
            switch actual {
            case .missing: exists = false
            case .value: exists = true
            case .nodes(let nodes): exists = !nodes.isEmpty
            }
            return exists == expected ? .pass : .fail(expected ? "expected a value, found nothing" : "expected nothing, found \(actual.display)")
        case .each(let inner):
            // Paths are spelled only for the node that fails: a large list has thousands.
            let items: [(JSONValue, NormalizedPath?)]
            switch actual {
            case .missing: return .fail("expected a list, found nothing")
            case .nodes(let nodes): items = nodes.map { ($0.value, $0.location) }
            case .value(.array(let elements)): items = elements.map { ($0, nil) }
            case .value(let v): return .fail("expected a list, found \(v.typeName) \(v.jsonText)")
            }
            for (index, (value, location)) in items.enumerated() {
                let outcome = try inner.evaluate(.value(value), in: context)
                if !outcome.passed {
                    let path = location?.description
                    return .fail("at \(path ?? "item \(index)"): \(outcome.message ?? "failed")", at: path)
                }
            }
            return .pass
        case .length(let inner):
            guard let value = actual.comparable else { return .fail("expected something with a length, found nothing") }
            let count: Int
            switch value {
            case .string(let s): count = s.count
            case .array(let a): count = a.count
            case .object(let o): count = o.count
            default: return .fail("\(value.typeName) \(value.jsonText) has no length")
            }
            let outcome = try inner.evaluate(.value(.int(count)), in: context)
            return outcome.passed ? .pass : .fail("length \(count): \(outcome.message ?? "failed")")
        default:
            break
        }

        guard let value = actual.comparable else {
            if case .empty(let expected) = self { return expected ? .pass : .fail("expected something not empty, found nothing") }
            return .fail("expected \(try describeExpected(in: context)), found nothing")
        }
        switch self {
        case .equals(let expected):
            let e = try expected.render(in: context)
            return Self.looselyEqual(value, e) ? .pass : .fail("expected \(e.jsonText), got \(value.jsonText)")
        case .notEquals(let expected):
            let e = try expected.render(in: context)
            return Self.looselyEqual(value, e) ? .fail("expected anything but \(e.jsonText)") : .pass
        case .oneOf(let options):
            var rendered: [JSONValue] = []
            for option in options { rendered.append(try option.render(in: context)) }
            return rendered.contains { Self.looselyEqual(value, $0) } ? .pass
                : .fail("expected one of \(JSONValue.array(rendered).jsonText), got \(value.jsonText)")
        case .compare(let kind, let expected):
            let e = try expected.render(in: context)
            guard let order = Self.order(value, e) else {
                return .fail("cannot compare \(value.typeName) \(value.jsonText) with \(e.jsonText)")
            }
            let holds: Bool
            switch kind {
            case .less: holds = order < 0
            case .lessOrEqual: holds = order <= 0
            case .greater: holds = order > 0
            case .greaterOrEqual: holds = order >= 0
            }
            return holds ? .pass : .fail("expected \(kind.rawValue) \(e.jsonText), got \(value.jsonText)")
        case .contains(let expected), .notContains(let expected):
            let e = try expected.render(in: context)
            let found: Bool
            switch value {
            case .string(let s): found = s.contains(e.interpolated)
            case .array(let items): found = items.contains { Self.looselyEqual($0, e) }
            case .object(let o): found = o[e.interpolated] != nil
            default: found = false
            }
            if case .contains = self {
                return found ? .pass : .fail("expected \(value.jsonText) to contain \(e.jsonText)")
            }
            return found ? .fail("expected \(value.jsonText) not to contain \(e.jsonText)") : .pass
        case .startsWith(let template), .endsWith(let template):
            let e = try template.render(in: context)
            guard case .string(let s) = value else { return .fail("expected a string, got \(value.typeName) \(value.jsonText)") }
            if case .startsWith = self {
                return s.hasPrefix(e) ? .pass : .fail("expected \(value.jsonText) to start with \(JSONValue.quoted(e))")
            }
            return s.hasSuffix(e) ? .pass : .fail("expected \(value.jsonText) to end with \(JSONValue.quoted(e))")
        case .matches(let pattern):
            let subject = value.interpolated
            return RegexCache.shared.matches(pattern, subject) ? .pass : .fail("expected \(value.jsonText) to match /\(pattern)/")
        case .type(let name):
            return value.typeName == name.rawValue ? .pass : .fail("expected a \(name.rawValue), got \(value.typeName) \(value.jsonText)")
        case .empty(let expected):
            let isEmpty: Bool
            switch value {
            case .string(let s): isEmpty = s.isEmpty
            case .array(let a): isEmpty = a.isEmpty
            case .object(let o): isEmpty = o.isEmpty
            case .null: isEmpty = true
            default: isEmpty = false
            }
            return isEmpty == expected ? .pass : .fail(expected ? "expected empty, got \(value.jsonText)" : "expected something not empty, got \(value.jsonText)")
        case .all, .exists, .each, .length:
            return .pass
        }
    }

    /// A short text of what was expected, for reports.
    public func describeExpected(in context: some TemplateContext) throws(TemplateError) -> String {
        switch self {
        case .all(let parts):
            var texts: [String] = []
            for part in parts { texts.append(try part.describeExpected(in: context)) }
            return texts.joined(separator: " and ")
        case .equals(let v): return try v.render(in: context).jsonText
        case .notEquals(let v): return "not \(try v.render(in: context).jsonText)"
        case .compare(let kind, let v): return "\(kind.rawValue) \(try v.render(in: context).jsonText)"
        case .contains(let v): return "contains \(try v.render(in: context).jsonText)"
        case .notContains(let v): return "does not contain \(try v.render(in: context).jsonText)"
        case .startsWith(let t): return "starts with \(JSONValue.quoted(try t.render(in: context)))"
        case .endsWith(let t): return "ends with \(JSONValue.quoted(try t.render(in: context)))"
        case .matches(let p): return "matches /\(p)/"
        case .exists(let b): return b ? "exists" : "does not exist"
        case .type(let t): return "a \(t.rawValue)"
        case .length(let p): return "length \(try p.describeExpected(in: context))"
        case .oneOf(let options):
            var rendered: [JSONValue] = []
            for option in options { rendered.append(try option.render(in: context)) }
            return "one of \(JSONValue.array(rendered).jsonText)"
        case .each(let p): return "each \(try p.describeExpected(in: context))"
        case .empty(let b): return b ? "empty" : "not empty"
        }
    }

    /// Equality that lets a header's text "5" equal the number 5.
    static func looselyEqual(_ actual: JSONValue, _ expected: JSONValue) -> Bool {
        if actual == expected { return true }
        switch (actual, expected) {
        case (.string(let s), .number), (.string(let s), .bool): return s == expected.jsonText
        case (.number(let n), .string(let s)): return n.jsonText == s
        default: return false
        }
    }

    /// -1, 0 or 1; numbers numerically (a numeric string counts), strings by code points.
    static func order(_ a: JSONValue, _ b: JSONValue) -> Int? {
        func number(_ v: JSONValue) -> Double? {
            switch v {
            case .number(let n): return n.double
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces))
            default: return nil
            }
        }
        if case .string(let x) = a, case .string(let y) = b {
            if let p = Double(x), let q = Double(y) { return p < q ? -1 : (p > q ? 1 : 0) }
            return x == y ? 0 : (x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : 1)
        }
        guard let x = number(a), let y = number(b) else { return nil }
        return x < y ? -1 : (x > y ? 1 : 0)
    }
}
