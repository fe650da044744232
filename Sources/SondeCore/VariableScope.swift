/// The variables of one run: every source layered by precedence, rendered on first use.
///
/// A variable's value may itself be a template (`password: "{{ env.PW | default('x') }}"`);
/// it is rendered once, when first read, and a variable that reads itself is an error.
///
/// Secrets are tracked as taint: a variable is secret when declared (`secrets:`, a capture
/// with `secret: true`) or when its value was computed from a secret; every secret value
/// (each leaf of a list or an object) goes to `onSecret` as it becomes known.
public final class VariableScope: TemplateContext {
    private var definitions: [String: VariableDefinition] = [:]
    private var rendered: [String: JSONValue] = [:]
    private var failed: [String: TemplateError] = [:]
    private var rendering: [String] = []
    /// Captures that hold text as HTTP carried it (`TemplateContext.isText`).
    private var textCaptures: Set<String> = []
    private let environmentVariables: [String: String]
    /// Names declared secret, and names whose value was computed from a secret.
    private var secretNames: Set<String> = []
    /// Every secret value noted so far, in order; `onSecret` is told of each new one.
    public private(set) var secretValues: [JSONValue] = []
    /// How long a chain of variables that read each other may be.
    public static let maxChain = 64
    /// Told of each secret value as it becomes known (the runner masks it from then on).
    public var onSecret: ((JSONValue) -> Void)?

    /// `definitions` in any order: for each name the highest-precedence source wins.
    /// `secrets` names variables and captures whose values are secret.
    public init(_ definitions: [VariableDefinition], environment: [String: String], secrets: [String] = []) {
        for definition in definitions {
            if let existing = self.definitions[definition.name], existing.source > definition.source { continue }
            self.definitions[definition.name] = definition
        }
        environmentVariables = environment
        secretNames = Set(secrets)
    }

    /// Declares `name` secret: its value (and what is computed from it) is masked.
    public func declareSecret(_ name: String) {
        secretNames.insert(name)
        if let value = rendered[name] { noteSecret(value) }
    }

    public func isSecret(_ name: String) -> Bool { secretNames.contains(name) }

    public func noteSecret(_ value: JSONValue) {
        if secretValues.contains(value) { return }
        secretValues.append(value)
        onSecret?(value)
    }

    /// Where the effective value of `name` comes from.
    public func source(of name: String) -> VariableSource? { definitions[name]?.source }

    public func isCaptured(_ name: String) -> Bool { definitions[name]?.source == .capture }

    /// A captured value: it outranks every other source. `isText` for a header, a cookie,
    /// a regex group or a URL, which checks compare as text.
    /// `secret` for a capture with `secret: true`; a name declared in `secrets:` is secret too.
    public func capture(_ name: String, _ value: JSONValue, isText: Bool = false, secret: Bool = false) {
        definitions[name] = VariableDefinition(name: name, value: .null, source: .capture)
        rendered[name] = value
        if isText { textCaptures.insert(name) } else { textCaptures.remove(name) }
        if secret { secretNames.insert(name) }
        if secretNames.contains(name) { noteSecret(value) }
    }

    public func isText(_ name: String) -> Bool { textCaptures.contains(name) }

    public func variable(_ name: String) throws(TemplateError) -> JSONValue? {
        if let value = rendered[name] { return value }
        if let error = failed[name] { throw error }
        guard let definition = definitions[name] else { return nil }
        if rendering.contains(name) {
            let cycle = (rendering.drop { $0 != name } + [name]).joined(separator: " -> ")
            throw TemplateError("variable '\(name)' refers to itself (\(cycle))", offset: 0)
        }
        // Rendering recurses through the chain: bounded, so that 10,000 variables that each
        // read the next give an error, not a stack overflow.
        if rendering.count >= Self.maxChain {
            throw TemplateError("variables read each other more than \(Self.maxChain) deep (\(rendering.prefix(3).joined(separator: " -> ")) -> … -> \(name))", offset: 0)
        }
        rendering.append(name)
        defer { rendering.removeLast() }
        let secretsBefore = secretValues.count
        var value: JSONValue
        do {
            value = try definition.value.render(in: self)
        } catch {
            // Remembered: a long chain that fails is not walked again from each of its names.
            failed[name] = error
            throw error
        }
        if let type = definition.convertsTo {
            switch (value, type) {
            case (.string(let text), _):
                guard let converted = VariableDefinition.convert(text, to: type) else {
                    throw TemplateError("'\(name)' is \(JSONValue.quoted(text)) from \(definition.source), which is not \(type.article) as its default in vars is", offset: 0)
                }
                value = converted
            case (.number, .string), (.bool, .string):
                // Over a text default, a number or a boolean is its text, as from --var.
                value = .string(value.jsonText)
            case (.null, _):
                break
            default:
                guard value.typeName == type.rawValue else {
                    throw TemplateError("'\(name)' from \(definition.source) is \(value.typeName == "array" || value.typeName == "object" ? "an" : "a") \(value.typeName), not \(type.article) as its default in vars is", offset: 0)
                }
            }
        }
        rendered[name] = value
        // Computed from a secret (a secret value was noted while rendering it): secret too.
        if secretValues.count > secretsBefore || readsSecret(definition.value) { secretNames.insert(name) }
        if secretNames.contains(name) { noteSecret(value) }
        return value
    }

    /// Whether a value's templates read a secret variable (already rendered, so noted before).
    private func readsSecret(_ value: TemplateValue) -> Bool {
        value.templates.contains { template in template.references.contains { !$0.isEnvironment && secretNames.contains($0.name) } }
    }

    public func environment(_ name: String) -> String? { environmentVariables[name] }
}
