/// What a run will do, step by step, between the collection and the runner. The runner, the
/// capture-name check, the history and `diff` know steps by their `id`, never by where a
/// request stands in one file: includes expand into steps of one plan here, and loops
/// into one step per iteration when the runner reaches them (`Loop`).
public struct RunPlan: Sendable {
    /// The collection the plan runs (its name, file, variables, defaults); its requests are
    /// in `steps`, and not kept twice (`requests` is empty when the plan was made from it).
    public var collection: CollectionSpec
    public var steps: [PlanStep]
    /// The variable scopes of the plan: the collection's first (index 0), then one per
    /// include (`PlanStep.scope` points into it).
    public var scopes: [PlanScope]
    /// The selection the plan was made with (`--request`, `--tag`, `--skip-tag`), as the
    /// command line wrote it: empty when every step runs.
    public var selection: [String]
    /// The captures of the collection's scope that only steps a selection left out take, each
    /// with the step: a step that still reads one (a teardown's) is skipped for it.
    public var leftOutCaptures: [String: String] = [:]

    public init(collection: CollectionSpec, steps: [PlanStep], scopes: [PlanScope] = [], selection: [String] = []) {
        self.collection = collection
        self.steps = steps
        self.scopes = scopes.isEmpty ? [PlanScope(collection: collection)] : scopes
        self.selection = selection
    }

    /// The collection's steps in the order they run: `setup:`, then `requests:`, then
    /// `teardown:`, each include expanded in place into its file's steps (in a scope of their
    /// own). A request's step id is its name (unique in a collection); an included one's is
    /// prefixed by its include's name and `/`.
    public init(_ collection: CollectionSpec) {
        var root = collection
        root.requests = []
        root.includes = []
        root.setup = []
        root.teardown = []
        var scopes = [PlanScope(collection: root)]
        var steps: [PlanStep] = []
        steps.reserveCapacity(collection.requests.count)
        struct Place {
            var phase: Phase
            var scope: Int
            var prefix: String
            var chain: [SourceLocation]
            var tags: [String]
        }
        func add(_ request: RequestSpec, _ place: Place) {
            let id = place.prefix.isEmpty ? request.name : place.prefix + "/" + request.name
            var step = PlanStep(
                id: id, name: id, request: request, location: request.location, phase: place.phase, scope: place.scope, includedFrom: place.chain)
            if !place.tags.isEmpty { step.tags = place.tags + request.tags.filter { !place.tags.contains($0) } }
            steps.append(step)
        }
        func add(_ include: Include, _ place: Place) {
            guard let included = include.included else { return }
            let prefix = place.prefix.isEmpty ? include.stepPrefix : place.prefix + "/" + include.stepPrefix
            var spec = included.spec
            let requests = spec.requests, includes = spec.includes
            spec.requests = []
            spec.includes = []
            scopes.append(
                PlanScope(
                    collection: spec, variables: included.variables, secrets: included.secrets, parent: place.scope, with: include.with,
                    exports: spec.exports, includedAt: include.location, name: prefix))
            let inner = Place(
                phase: place.phase, scope: scopes.count - 1, prefix: prefix, chain: [include.location] + place.chain,
                tags: place.tags + include.tags.filter { !place.tags.contains($0) })
            walk(requests, includes, inner)
        }
        func walk(_ requests: [RequestSpec], _ includes: [(before: Int, include: Include)], _ place: Place) {
            var pending = includes[...]
            for (index, request) in requests.enumerated() {
                while let next = pending.first, next.before <= index {
                    add(next.include, place)
                    pending = pending.dropFirst()
                }
                add(request, place)
            }
            for rest in pending { add(rest.include, place) }
        }
        func walk(_ list: [CollectionStep], _ place: Place) {
            for item in list {
                switch item {
                case .request(let request): add(request, place)
                case .include(let include): add(include, place)
                }
            }
        }
        walk(collection.setup, Place(phase: .setup, scope: 0, prefix: "", chain: [], tags: []))
        walk(collection.requests, collection.includes, Place(phase: .main, scope: 0, prefix: "", chain: [], tags: []))
        walk(collection.teardown, Place(phase: .teardown, scope: 0, prefix: "", chain: [], tags: []))
        self.init(collection: root, steps: steps, scopes: scopes)
    }
}

/// A collection-level phase: `setup:` steps run first, then `requests:`, then `teardown:`,
/// which runs whatever happened before it (failures, skips, `--fail-fast`).
public enum Phase: String, Sendable, Hashable, CaseIterable {
    case setup, main, teardown
}

/// The variables one part of a plan reads: the collection's own (index 0), or an included
/// file's, which sees only its own `vars`, the run's environment file, `.env` and `--var`,
/// and what its include passes in `with:`; of its captures, only its `exports` reach the
/// scope that included it.
public struct PlanScope: Sendable {
    /// The included collection (name, file, base URL, vars, secrets); the root's for index 0.
    public var collection: CollectionSpec
    /// Every definition of the scope from every source (the included file's `vars`, and the
    /// run's environment file, `.env`, `--var`); empty for the root, whose scope the caller makes.
    public var variables: [VariableDefinition]
    /// Names whose values are secret in this scope.
    public var secrets: [String]
    /// The scope that included this one; nil for the root.
    public var parent: Int?
    /// `with:` of the include: templates rendered in the parent scope when the include's
    /// first step is reached, then variables of this scope above every other source.
    public var with: [(name: String, value: TemplateValue)]
    /// The captures that reach the parent scope under the same name.
    public var exports: [String]
    /// The include step (`include:`) that made this scope.
    public var includedAt: SourceLocation?
    /// The include's name: the prefix of its steps' ids and names (`login/login`).
    public var name: String

    public init(
        collection: CollectionSpec, variables: [VariableDefinition] = [], secrets: [String] = [], parent: Int? = nil,
        with: [(name: String, value: TemplateValue)] = [], exports: [String] = [], includedAt: SourceLocation? = nil, name: String = ""
    ) {
        self.collection = collection
        self.variables = variables
        self.secrets = secrets
        self.parent = parent
        self.with = with
        self.exports = exports
        self.includedAt = includedAt
        self.name = name
    }
}

/// One request to send, as a plan holds it.
public struct PlanStep: Sendable {
    /// Stable across runs of the same collection: the history and `diff` match results on it.
    /// An included step's id is the include's name, `/`, the request's (`login/login`); a
    /// loop's iteration adds ` [key]` when the runner expands it.
    public var id: String
    /// What people read (the request's name, with its include's name and a loop's key).
    public var name: String
    public var request: RequestSpec
    /// Where the step comes from (file, line, column).
    public var location: SourceLocation
    public var phase: Phase
    /// Index of its variables in `RunPlan.scopes` (0: the collection's).
    public var scope: Int
    /// Where its file was included from, innermost first (an include's `include:` line).
    public var includedFrom: [SourceLocation]
    /// Why a selection (`--request`, `--tag`) runs a step it did not choose: the step that
    /// needs its capture, and the name (`component statuses needs token`).
    public var addedBecause: String?
    /// The request's `tags:` with its includes' (`--tag`, `--skip-tag`).
    public var tags: [String]

    public init(
        id: String, name: String, request: RequestSpec, location: SourceLocation, phase: Phase = .main, scope: Int = 0,
        includedFrom: [SourceLocation] = [], addedBecause: String? = nil
    ) {
        self.id = id
        self.name = name
        self.request = request
        self.location = location
        self.phase = phase
        self.scope = scope
        self.includedFrom = includedFrom
        self.addedBecause = addedBecause
        self.tags = request.tags
    }
}
