/// An RFC 9535 JSONPath query, parsed once and evaluated many times.
public struct JSONPath: Sendable, CustomStringConvertible {
    /// The query as written.
    public let text: String
    let query: PathQuery

    /// Parses `text`; an invalid query throws with the column of the problem.
    public init(_ text: String) throws(JSONPathError) {
        self.text = text
        var parser = JSONPathParser(text)
        self.query = try parser.parseRootQuery()
    }

    /// A singular query selects at most one node (only name and index selectors, no descendants).
    public var isSingular: Bool { query.isSingular }

    public var description: String { text }

    /// How deep filters, parentheses, negations and function calls may nest.
    public static let maxNesting = 64

    /// The selected values, in order. Throws when the evaluation had to stop: it visited
    /// more than a million nodes, or a match()/search() pattern hit a limit of the regex engine.
    public func values(in document: JSONValue) throws(JSONPathEvaluationError) -> [JSONValue] {
        var out: [JSONValue] = []
        let run = PathEvaluation()
        query.evaluate(root: document, current: document, tracking: false, run: run) { value, _ in out.append(value) }
        if let error = run.error { throw error }
        return out
    }

    /// The selected nodes with their normalized paths; throws as `values(in:)` does.
    public func nodes(in document: JSONValue) throws(JSONPathEvaluationError) -> [JSONPathNode] {
        var out: [JSONPathNode] = []
        let run = PathEvaluation()
        query.evaluate(root: document, current: document, tracking: true, run: run) { value, link in
            out.append(JSONPathNode(value: value, link: link))
        }
        if let error = run.error { throw error }
        return out
    }
}

/// A node a query selected: its value and where it stands in the document.
///
/// The location is kept as links shared with the nodes above it and spelled out only when
/// asked for: `$..*..*` on a deep document returns nodes whose paths, spelled out all at
/// once, would take gigabytes.
public struct JSONPathNode: Sendable, Equatable {
    public let value: JSONValue
    let link: PathLink?

    public init(value: JSONValue, location: NormalizedPath) {
        self.value = value
        self.link = location.elements.reduce(nil) { PathLink($0, $1) }
    }

    init(value: JSONValue, link: PathLink?) {
        self.value = value
        self.link = link
    }

    /// Where the node stands, as RFC 9535 section 2.7 writes it (spelled out on each call).
    public var location: NormalizedPath { PathLink.path(link) }

    public static func == (a: JSONPathNode, b: JSONPathNode) -> Bool {
        a.value == b.value && a.location == b.location
    }

    /// The normalized path, e.g. `$['items'][0]['metadata']`.
    public var path: String { location.description }
}

/// A node's location as RFC 9535 section 2.7 writes it.
public struct NormalizedPath: Sendable, Hashable, CustomStringConvertible {
    public enum Element: Sendable, Hashable {
        case name(String)
        case index(Int)
    }

    public var elements: [Element]

    public init(_ elements: [Element] = []) { self.elements = elements }

    public func appending(_ element: Element) -> NormalizedPath {
        var copy = self
        copy.elements.append(element)
        return copy
    }

    public var description: String {
        var out = "$"
        for element in elements {
            switch element {
            case .index(let i): out += "[\(i)]"
            case .name(let name):
                out += "['"
                for scalar in name.unicodeScalars {
                    switch scalar {
                    case "'": out += "\\'"
                    case "\\": out += "\\\\"
                    case "\u{08}": out += "\\b"
                    case "\u{0C}": out += "\\f"
                    case "\n": out += "\\n"
                    case "\r": out += "\\r"
                    case "\t": out += "\\t"
                    default:
                        if scalar.value < 0x20 {
                            let hex = String(scalar.value, radix: 16)
                            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                        } else {
                            out.unicodeScalars.append(scalar)
                        }
                    }
                }
                out += "']"
            }
        }
        return out
    }
}

/// Why an evaluation stopped before its end.
public struct JSONPathEvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Why a JSONPath query is invalid, and at which character (1-based).
public struct JSONPathError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// 1-based column in the query text, counted in characters.
    public let column: Int

    public var description: String { "invalid JSONPath at column \(column): \(message)" }
}

// MARK: - The syntax tree

struct PathQuery: Sendable {
    /// `$` (absolute) or `@` (relative to the current node in a filter).
    var isAbsolute: Bool
    var segments: [PathSegment]

    var isSingular: Bool {
        segments.allSatisfy { segment in
            guard !segment.isDescendant, segment.selectors.count == 1 else { return false }
            switch segment.selectors[0] {
            case .name, .index: return true
            default: return false
            }
        }
    }
}

struct PathSegment: Sendable {
    var isDescendant: Bool
    var selectors: [PathSelector]
}

enum PathSelector: Sendable {
    case name(String)
    case wildcard
    case index(Int)
    case slice(start: Int?, end: Int?, step: Int?)
    case filter(FilterExpression)
}

indirect enum FilterExpression: Sendable {
    case or([FilterExpression])
    case and([FilterExpression])
    case not(FilterExpression)
    case comparison(FilterOperand, ComparisonOperator, FilterOperand)
    /// An existence test of a query, or a function of logical or nodes type.
    case test(FilterOperand, at: Int)
}

enum FilterOperand: Sendable {
    case literal(JSONValue)
    case query(PathQuery)
    case function(FunctionCall)
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
}

/// The function extensions of RFC 9535 section 2.4.
enum PathFunction: String, Sendable, CaseIterable {
    case length, count, match, search, value

    enum ValueKind { case value, logical, nodes }

    var parameters: [ValueKind] {
        switch self {
        case .length: return [.value]
        case .count: return [.nodes]
        case .match, .search: return [.value, .value]
        case .value: return [.nodes]
        }
    }

    var result: ValueKind {
        switch self {
        case .length, .count, .value: return .value
        case .match, .search: return .logical
        }
    }
}

struct FunctionCall: Sendable {
    var function: PathFunction
    var arguments: [FunctionArgument]
    /// For match and search with a literal pattern: compiled once, at parse time.
    var compiledPattern: IRegexp?
}

enum FunctionArgument: Sendable {
    case operand(FilterOperand)
    case logical(FilterExpression)
}
