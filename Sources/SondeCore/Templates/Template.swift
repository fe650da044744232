import Foundation

/// A string with `{{ expression }}` holes, parsed once and rendered per run.
///
/// Grammar inside the braces: a variable (`name`, `user.id`, `items.0`), an
/// environment variable (`env.NAME`), a quoted string, a number, `true`,
/// `false`, `null`, or a function call (`uuid()`, `now()`, `timestamp()`,
/// `random_int(1, 6)`), followed by any chain of filters (`| default('x')`,
/// `| base64`, `| base64_decode`, `| urlencode`, `| upper`, `| lower`, `| json`, and the
/// conversions `| int`, `| float`, `| bool`, `| from_json`).
/// A literal `{{` is written `\{{`.
public struct Template: Sendable, Hashable, CustomStringConvertible {
    public let source: String
    let parts: [Part]

    /// How deep function calls and their arguments may nest in one expression, and how many
    /// filters one chain may have: evaluation recurses through both.
    public static let maxNesting = 32
    public static let maxFilters = 32

    enum Part: Sendable, Hashable {
        case literal(String)
        case expression(TemplateExpression)
    }

    /// A template with no holes.
    public init(literal: String) {
        source = literal
        parts = literal.isEmpty ? [] : [.literal(literal)]
    }

    public init(parsing source: String) throws(TemplateError) {
        self.source = source
        var parser = TemplateParser(source)
        parts = try parser.parseParts()
    }

    public var description: String { source }

    /// The text when there are no holes.
    public var literalValue: String? {
        if parts.isEmpty { return "" }
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        return nil
    }

    /// True when the whole string is one `{{ … }}`: its value keeps its JSON type in a JSON body.
    public var isSingleExpression: Bool {
        parts.count == 1 && { if case .expression = parts[0] { return true } else { return false } }()
    }

    /// Every variable the template reads, with its offset in `source`; `guarded` when a `default` covers it.
    public var references: [TemplateReference] {
        var out: [TemplateReference] = []
        for part in parts {
            if case .expression(let expression) = part { expression.collectReferences(into: &out, guarded: false) }
        }
        return out
    }

    /// The rendered text. A hole whose value is secret (read from a secret, or computed
    /// from one) is told to `context.noteSecret`, so that it is masked wherever it appears.
    public func render(in context: some TemplateContext) throws(TemplateError) -> String {
        if parts.count == 1, case .literal(let text) = parts[0] { return text }
        var out = ""
        for part in parts {
            switch part {
            case .literal(let text): out += text
            case .expression(let expression):
                let evaluated = try expression.evaluateTracked(in: context)
                if evaluated.secret { context.noteSecret(evaluated.value) }
                out += evaluated.value.interpolated
            }
        }
        return out
    }

    /// Whether the template reads a secret variable (declared, captured with `secret: true`,
    /// or computed from one), once its variables have been evaluated in `context`.
    public func readsSecret(in context: some TemplateContext) -> Bool {
        references.contains { !$0.isEnvironment && context.isSecret($0.name) }
    }

    /// The rendered URL, where a value a response chose (one that reads a capture) cannot
    /// change the URL's structure: after the URL's start, every character but RFC 3986's
    /// unreserved ones is percent-encoded, as RFC 6570 §3.2.2 (simple expansion) does, so it
    /// stays one path segment or one query component; a segment that would be `.` or `..`
    /// is an error.
    /// A value at the very start is the URL itself (a `next` link), whose scheme the
    /// transport restricts to http and https. A value whose last filter is `urlencode` is
    /// already encoded.
    public func renderURL(in context: some TemplateContext) throws(TemplateError) -> String {
        guard parts.contains(where: { if case .expression = $0 { true } else { false } }) else { return try render(in: context) }
        var out = ""
        for (index, part) in parts.enumerated() {
            switch part {
            case .literal(let text): out += text
            case .expression(let expression):
                let evaluated = try expression.evaluateTracked(in: context)
                if evaluated.secret { context.noteSecret(evaluated.value) }
                let text = evaluated.value.interpolated
                var references: [TemplateReference] = []
                expression.collectReferences(into: &references, guarded: false)
                let chosenByServer = references.contains { !$0.isEnvironment && context.isCaptured($0.name) }
                guard index > 0, chosenByServer else {
                    out += text
                    continue
                }
                // `urlencode` leaves `.` as it is: a dot segment is refused either way.
                let inPath = !out.contains("?") && !out.contains("#")
                let segmentEnds = index + 1 == parts.count || { if case .literal(let next) = parts[index + 1] { return next.first.map { "/?#".contains($0) } ?? true } else { return false } }()
                if inPath, text == "." || text == "..", out.hasSuffix("/"), segmentEnds {
                    throw TemplateError(
                        "the value \(JSONValue.quoted(text)) came from a response and would move up the URL's path; a captured value is one path segment",
                        offset: expression.offset, length: 1)
                }
                out += expression.endsInURLEncode ? text : PercentEncoding.encode(text)
            }
        }
        return out
    }

    /// The variable's name when the template is that variable alone (`{{ token }}`), no path, no filter.
    public var soleVariable: String? {
        guard parts.count == 1, case .expression(.variable(let name, let path, _, _)) = parts[0], path.isEmpty else { return nil }
        return name
    }

    /// The rendered value: a template that is one expression alone keeps the value's JSON type.
    public func renderValue(in context: some TemplateContext) throws(TemplateError) -> JSONValue {
        if isSingleExpression, case .expression(let expression) = parts[0] {
            let evaluated = try expression.evaluateTracked(in: context)
            if evaluated.secret { context.noteSecret(evaluated.value) }
            return evaluated.value
        }
        return .string(try render(in: context))
    }
}

/// A variable a template reads.
public struct TemplateReference: Sendable, Hashable {
    /// The variable's name (for `user.id`, `user`), or for `env.NAME`, `NAME` with `isEnvironment`.
    public var name: String
    public var isEnvironment: Bool
    /// Offset in unicode scalars from the start of the template's source, and the span's length.
    public var offset: Int
    public var length: Int
    /// A `| default(…)` applies, so an undefined value is no error.
    public var guarded: Bool
}

/// Why a template cannot be parsed or rendered; `offset` counts unicode scalars into the source.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public var length: Int
    /// Set when the problem is a name that nothing defines (the caller may suggest one).
    public var undefinedName: String?
    /// Set when the problem belongs to a variable other than the one being rendered (the
    /// variable where a chain grows past `VariableScope.maxChain`): reported at its definition.
    public var variable: String?

    public init(_ message: String, offset: Int, length: Int = 1, undefinedName: String? = nil) {
        self.message = message
        self.offset = offset
        self.length = length
        self.undefinedName = undefinedName
    }

    public var description: String { message }
}

/// Where templates find their values.
public protocol TemplateContext {
    /// The variable's value, nil when nothing defines it; throws when its own template fails.
    func variable(_ name: String) throws(TemplateError) -> JSONValue?
    func environment(_ name: String) -> String?
    /// Whether the variable holds text as HTTP carried it (a header, a cookie, a regex
    /// capture), which checks compare as text (`ValueComparison`) rather than as a JSON string.
    func isText(_ name: String) -> Bool
    /// Whether the variable is secret: declared (`secrets:`, `secret: true`), or computed
    /// from a secret.
    func isSecret(_ name: String) -> Bool
    /// A value computed from a secret was rendered: it is a secret too, wherever it appears.
    func noteSecret(_ value: JSONValue)
    /// Whether the variable's value came from a response (a capture): a server chose it.
    func isCaptured(_ name: String) -> Bool
    /// The clock and randomness that template functions read.
    var sources: TemplateSources { get }
}

extension TemplateContext {
    public func isCaptured(_ name: String) -> Bool { false }
    public func isText(_ name: String) -> Bool { false }
    public func isSecret(_ name: String) -> Bool { false }
    public func noteSecret(_ value: JSONValue) {}
    public var sources: TemplateSources { .system }
}

/// A context over a plain dictionary, for tests and simple uses.
public struct DictionaryTemplateContext: TemplateContext {
    public var variables: [String: JSONValue]
    public var environmentVariables: [String: String]
    public var sources: TemplateSources

    public init(_ variables: [String: JSONValue] = [:], environment: [String: String] = [:], sources: TemplateSources = .system) {
        self.variables = variables
        self.environmentVariables = environment
        self.sources = sources
    }

    public func variable(_ name: String) -> JSONValue? { variables[name] }
    public func environment(_ name: String) -> String? { environmentVariables[name] }
}

extension JSONValue {
    /// The text a value becomes inside a string: strings as they are, the rest as JSON.
    public var interpolated: String {
        if case .string(let s) = self { return s }
        return jsonText
    }
}
