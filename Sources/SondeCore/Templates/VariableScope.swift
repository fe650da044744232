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
    /// Names declared secret (`secrets:`, `declareSecret`): secret whatever value they hold.
    private var declaredSecrets: Set<String> = []
    /// Every secret value noted so far, in order; `onSecret` is told of each new one.
    public private(set) var secretValues: [JSONValue] = []
    /// How many secret captures there have been (a server's value that earlier responses
    /// may hold too, unlike a value computed from a secret already known).
    public private(set) var capturedSecrets = 0
    /// The JSON text of short or plain-word leaves of structured secrets (see `weakLeaves(of:)`).
    private var weakLeaves: Set<String> = []
    /// For each secret capture that is a list or an object with short or plain-word leaves:
    /// a warning that names their paths (they are not masked), for the run to show.
    public private(set) var unmaskedLeafWarnings: [String] = []
    /// For each variable rendered, how long the chain of variables it reads is (1: none).
    private var depths: [String: Int] = [:]
    /// For each variable being rendered, the deepest chain among the variables it has read.
    private var readDepths: [Int] = []

    private func noteRead(depth: Int) {
        if !readDepths.isEmpty { readDepths[readDepths.count - 1] = max(readDepths[readDepths.count - 1], depth) }
    }

    /// How long a chain of variables that read each other may be.
    public static let maxChain = 64
    /// The clock and randomness that template functions read (`.system` in a run).
    public var sources: TemplateSources = .system
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
        declaredSecrets = Set(secrets)
    }

    /// The scope a snapshot was taken from: secrets a snapshot comes to know go to it.
    private weak var origin: VariableScope?

    /// The variables as they are now, for checks that run later: the runner's captures and
    /// renderings after this call do not change it. A secret it comes to know (an expected
    /// value computed from a secret) is noted in this scope too, and so masked everywhere.
    public func snapshot() -> VariableScope {
        let copy = VariableScope([], environment: environmentVariables)
        copy.definitions = definitions
        copy.rendered = rendered
        copy.failed = failed
        copy.textCaptures = textCaptures
        copy.secretNames = secretNames
        copy.declaredSecrets = declaredSecrets
        copy.secretValues = secretValues
        copy.capturedSecrets = capturedSecrets
        copy.weakLeaves = weakLeaves
        copy.depths = depths
        copy.sources = sources
        copy.origin = self
        return copy
    }

    /// A scope of its own for an included file: `definitions` and `secrets` are its, the
    /// process environment and template sources are this scope's, and every secret it comes
    /// to know is noted here too (and so masked everywhere).
    public func child(_ definitions: [VariableDefinition], secrets: [String]) -> VariableScope {
        let child = VariableScope(definitions, environment: environmentVariables, secrets: secrets)
        child.sources = sources
        child.origin = self
        return child
    }

    /// Declares `name` secret: its value (and what is computed from it) is masked.
    public func declareSecret(_ name: String) {
        secretNames.insert(name)
        declaredSecrets.insert(name)
        if let value = rendered[name] { noteSecret(value) }
    }

    public func isSecret(_ name: String) -> Bool { secretNames.contains(name) }

    public func noteSecret(_ value: JSONValue) {
        switch value {
        case .array, .object:
            for leaf in Self.weakLeaves(of: value) { weakLeaves.insert(leaf.value.jsonText) }
        case .string, .number:
            // A short leaf of a structured secret, read alone (`{{ auth.token_type }}`): not
            // masked, as it is not inside the structure.
            if weakLeaves.contains(value.jsonText) { return }
        case .bool, .null:
            break
        }
        if secretValues.contains(value) { return }
        secretValues.append(value)
        if let origin {
            origin.noteSecret(value)
        } else {
            onSecret?(value)
        }
    }

    /// Where the effective value of `name` comes from.
    public func source(of name: String) -> VariableSource? { definitions[name]?.source }

    public func isCaptured(_ name: String) -> Bool { definitions[name]?.source == .capture }

    /// A captured value: it outranks every other source. `isText` for a header, a cookie,
    /// a regex group or a URL, which checks compare as text.
    /// `secret` for a capture with `secret: true`; a name declared in `secrets:` is secret too.
    /// `warnsOfWeakLeaves`: a secret list or object whose short leaves are not masked is said
    /// once in the run's warnings (not for a loop's item, which is part of a list said already).
    public func capture(_ name: String, _ value: JSONValue, isText: Bool = false, secret: Bool = false, warnsOfWeakLeaves: Bool = true) {
        definitions[name] = VariableDefinition(name: name, value: .null, source: .capture)
        rendered[name] = value
        if isText { textCaptures.insert(name) } else { textCaptures.remove(name) }
        if secret { secretNames.insert(name) }
        if secretNames.contains(name) {
            capturedSecrets += 1
            noteSecret(value)
            let weak = warnsOfWeakLeaves ? Self.weakLeaves(of: value) : []
            if !weak.isEmpty {
                let paths = weak.prefix(8).map(\.path).joined(separator: ", ") + (weak.count > 8 ? ", …" : "")
                unmaskedLeafWarnings.append(
                    "capture '\(name)' is secret, but \(weak.count == 1 ? "one of its values is" : "\(weak.count) of its values are") short or a plain word "
                        + "(under 6 characters, only letters or digits, true, false or null), and is not masked: \(paths); "
                        + "capture the secret part alone to mask it wherever it stands")
            }
        }
    }

    /// What a name holds (its definition, value, and whether it is secret or text), to be put
    /// back with `restore`: a loop's variable is bound only during the loop.
    public struct Saved: Sendable {
        fileprivate var name: String
        fileprivate var definition: VariableDefinition?
        fileprivate var rendered: JSONValue?
        fileprivate var failed: TemplateError?
        fileprivate var isText: Bool
        fileprivate var isSecret: Bool
    }

    public func save(_ name: String) -> Saved {
        Saved(
            name: name, definition: definitions[name], rendered: rendered[name], failed: failed[name], isText: textCaptures.contains(name),
            isSecret: secretNames.contains(name))
    }

    /// Puts a name back as `save` found it (values noted secret meanwhile stay masked).
    public func restore(_ saved: Saved) {
        definitions[saved.name] = saved.definition
        rendered[saved.name] = saved.rendered
        failed[saved.name] = saved.failed
        if saved.isText { textCaptures.insert(saved.name) } else { textCaptures.remove(saved.name) }
        if saved.isSecret { secretNames.insert(saved.name) } else { secretNames.remove(saved.name) }
    }

    /// A loop's variable (`item`, `as:`) bound to the next item: secret when the item is (or
    /// the name is declared secret), and otherwise not, whatever the item before it was; a
    /// capture, by contrast, stays secret once it has held a secret.
    public func bind(_ name: String, _ value: JSONValue, secret: Bool) {
        if !secret && !declaredSecrets.contains(name) { secretNames.remove(name) }
        capture(name, value, secret: secret, warnsOfWeakLeaves: false)
    }

    /// The leaves of a list or an object that are not masked: true, false, null, and strings
    /// and numbers that are short or plain words (`Redactor.isWeak`), with their paths.
    public static func weakLeaves(of value: JSONValue) -> [(path: String, value: JSONValue)] {
        switch value {
        case .array, .object: weakLeaves(of: value, at: NormalizedPath())
        default: []
        }
    }

    private static func weakLeaves(of value: JSONValue, at path: NormalizedPath) -> [(path: String, value: JSONValue)] {
        var out: [(path: String, value: JSONValue)] = []
        var stack: [(JSONValue, NormalizedPath)] = [(value, path)]
        while let (leaf, at) = stack.popLast() {
            switch leaf {
            case .array(let items): for (i, item) in items.enumerated().reversed() { stack.append((item, at.appending(.index(i)))) }
            case .object(let object): for member in object.members.reversed() { stack.append((member.value, at.appending(.name(member.key)))) }
            case .string, .number, .bool, .null: if !Redactor.masksAsLeaf(leaf) { out.append((at.description, leaf)) }
            }
        }
        return out
    }

    public func isText(_ name: String) -> Bool { textCaptures.contains(name) }

    public func variable(_ name: String) throws(TemplateError) -> JSONValue? {
        if let value = rendered[name] {
            noteRead(depth: depths[name] ?? 0)
            return value
        }
        if let error = failed[name] { throw error }
        guard let definition = definitions[name] else { return nil }
        if rendering.contains(name) {
            let cycle = (rendering.drop { $0 != name } + [name]).joined(separator: " -> ")
            throw TemplateError("variable '\(name)' refers to itself (\(cycle))", offset: 0)
        }
        // Rendering recurses through the chain: bounded, so that 10,000 variables that each
        // read the next give an error, not a stack overflow.
        if rendering.count >= Self.maxChain {
            var error = TemplateError(
                "variables read each other more than \(Self.maxChain) deep (\(rendering.prefix(3).joined(separator: " -> ")) -> … -> \(name))", offset: 0)
            error.variable = rendering.first
            throw error
        }
        rendering.append(name)
        readDepths.append(0)
        defer {
            rendering.removeLast()
            readDepths.removeLast()
        }
        let secretsBefore = secretValues.count
        var value: JSONValue
        do {
            value = try definition.value.render(in: self)
        } catch {
            // Remembered: a long chain that fails is not walked again from each of its names.
            failed[name] = error
            throw error
        }
        // How deep the chain below it goes, whichever variables were rendered before: a
        // variable that reads one rendered earlier counts that one's depth too.
        let depth = (readDepths.last ?? 0) + 1
        if depth > Self.maxChain {
            var error = TemplateError(
                "variable '\(name)' reads a chain of variables more than \(Self.maxChain) deep (each reads the next)", offset: 0)
            error.variable = name
            failed[name] = error
            throw error
        }
        depths[name] = depth
        if readDepths.count >= 2 { readDepths[readDepths.count - 2] = max(readDepths[readDepths.count - 2], depth) }
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
