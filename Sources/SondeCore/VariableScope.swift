/// The variables of one run: every source layered by precedence, rendered on first use.
///
/// A variable's value may itself be a template (`password: "{{ env.PW | default('x') }}"`);
/// it is rendered once, when first read, and a variable that reads itself is an error.
public final class VariableScope: TemplateContext {
    private var definitions: [String: VariableDefinition] = [:]
    private var rendered: [String: JSONValue] = [:]
    private var rendering: [String] = []
    /// Captures that hold text as HTTP carried it (`TemplateContext.isText`).
    private var textCaptures: Set<String> = []
    private let environmentVariables: [String: String]

    /// `definitions` in any order: for each name the highest-precedence source wins.
    public init(_ definitions: [VariableDefinition], environment: [String: String]) {
        for definition in definitions {
            if let existing = self.definitions[definition.name], existing.source > definition.source { continue }
            self.definitions[definition.name] = definition
        }
        environmentVariables = environment
    }

    /// Where the effective value of `name` comes from.
    public func source(of name: String) -> VariableSource? { definitions[name]?.source }

    /// A captured value: it outranks every other source. `isText` for a header, a cookie,
    /// a regex group or a URL, which checks compare as text.
    public func capture(_ name: String, _ value: JSONValue, isText: Bool = false) {
        definitions[name] = VariableDefinition(name: name, value: .null, source: .capture)
        rendered[name] = value
        if isText { textCaptures.insert(name) } else { textCaptures.remove(name) }
    }

    public func isText(_ name: String) -> Bool { textCaptures.contains(name) }

    public func variable(_ name: String) throws(TemplateError) -> JSONValue? {
        if let value = rendered[name] { return value }
        guard let definition = definitions[name] else { return nil }
        if rendering.contains(name) {
            let cycle = (rendering.drop { $0 != name } + [name]).joined(separator: " -> ")
            throw TemplateError("variable '\(name)' refers to itself (\(cycle))", offset: 0)
        }
        rendering.append(name)
        defer { rendering.removeLast() }
        var value = try definition.value.render(in: self)
        if let type = definition.convertsTo, case .string(let text) = value {
            guard let converted = VariableDefinition.convert(text, to: type) else {
                throw TemplateError("'\(name)' is \(JSONValue.quoted(text)) from \(definition.source), which is not \(type.article) as its default in vars is", offset: 0)
            }
            value = converted
        }
        rendered[name] = value
        return value
    }

    public func environment(_ name: String) -> String? { environmentVariables[name] }
}
