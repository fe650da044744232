/// Filters applied to what a check or a capture reads, before its predicate or its variable
/// sees it: `filters: [ split('/'), nth(-1) ]`, or `filters: "split('/') | nth(-1)"`. The
/// filters, their names and their arguments are those of templates (`{{ x | split('/') }}`).
public struct FilterChain: Sendable, Hashable, CustomStringConvertible {
    struct Call: Sendable, Hashable {
        var filter: TemplateFilter
        var arguments: [TemplateExpression]
        var offset: Int
    }

    var calls: [Call]
    /// The chain as written, filters joined by ` | `.
    public private(set) var description: String
    /// One template per piece parsed, holding the arguments' expressions at their offsets in
    /// that piece: the loader checks the names they read as for any template.
    public private(set) var argumentTemplates: [Template]

    /// The empty chain.
    public init() {
        calls = []
        description = ""
        argumentTemplates = []
    }

    /// `filter(args) | filter(args) …`. Throws at the offset of what is wrong.
    public init(parsing text: String) throws(TemplateError) {
        do {
            try self.init(parsingChain: text)
        } catch {
            // The grammar is that of `{{ }}`, whose messages speak of braces no chain has.
            var error = error
            if error.message.contains("'{{' is not closed") {
                error.message = "the filter is not finished: an argument list needs its ')', a text its closing quote"
            } else if error.message.hasPrefix("unterminated string in '{{ }}'") {
                error.message = "a text in the filter's arguments has no closing quote"
            }
            throw error
        }
    }

    private init(parsingChain text: String) throws(TemplateError) {
        var parser = TemplateParser(text)
        var calls: [Call] = []
        var arguments: [Template.Part] = []
        while true {
            parser.skipSpaces()
            if calls.count >= Template.maxFilters {
                throw TemplateError("more than \(Template.maxFilters) filters in one chain", offset: parser.index)
            }
            let call = try parser.parseFilterCall()
            calls.append(Call(filter: call.filter, arguments: call.arguments, offset: call.offset))
            arguments += call.arguments.map(Template.Part.expression)
            parser.skipSpaces()
            if parser.current == nil { break }
            guard parser.current == "|" else {
                throw TemplateError("expected '|' between filters, or the end, found '\(Character(parser.current ?? " "))'", offset: parser.index)
            }
            parser.index += 1
        }
        self.calls = calls
        description = text.trimmingCharacters(in: .whitespaces)
        argumentTemplates = arguments.isEmpty ? [] : [Template(source: text, parts: arguments)]
    }

    public var isEmpty: Bool { calls.isEmpty }

    /// Whether an argument reads a secret variable.
    public func readsSecret(in context: some TemplateContext) -> Bool {
        argumentTemplates.contains { $0.readsSecret(in: context) }
    }

    /// This chain, then `other`.
    public func followed(by other: FilterChain) -> FilterChain {
        var out = self
        out.calls += other.calls
        out.argumentTemplates += other.argumentTemplates
        out.description = [description, other.description].filter { !$0.isEmpty }.joined(separator: " | ")
        return out
    }

    /// What the filters make of `input` (nil: nothing was found), and whether it was computed
    /// from a secret (an argument that reads one). Nothing counts as no item for `count` and
    /// takes `default`'s value; any other filter fails on it.
    /// Fails with a message naming the filter that could not apply.
    public func apply(to input: JSONValue?, in context: some TemplateContext) -> Result<(value: JSONValue, secret: Bool), TemplateError> {
        var value = input
        var secret = false
        for call in calls {
            var arguments: [JSONValue] = []
            for argument in call.arguments {
                switch Result(catching: { () throws(TemplateError) in try argument.evaluateTracked(in: context) }) {
                case .success(let evaluated):
                    arguments.append(evaluated.value)
                    secret = secret || evaluated.secret
                case .failure(let error): return .failure(error)
                }
            }
            guard let present = value else {
                switch call.filter {
                case .count: value = .int(0)
                case .default: value = arguments[0]
                default: return .failure(TemplateError("\(call.filter.rawValue): found nothing to filter", offset: call.offset))
                }
                continue
            }
            do {
                value = try call.filter.apply(to: present, arguments, offset: call.offset, sources: context.sources)
            } catch {
                return .failure(error)
            }
        }
        guard let value else { return .failure(TemplateError("found nothing to filter", offset: 0)) }
        return .success((value, secret))
    }
}

extension Template {
    /// A template of expressions only, for the names they read (`FilterChain`).
    init(source: String, parts: [Part]) {
        self.source = source
        self.parts = parts
    }
}
