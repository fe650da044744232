/// What a run will do, step by step, between the collection and the runner. The runner, the
/// capture-name check, the history and `diff` know steps by their `id`, never by where a
/// request stands in one file: includes and loops expand into more steps of one plan.
public struct RunPlan: Sendable {
    /// The collection the plan runs (its name, file, variables, defaults); its requests are
    /// in `steps`, and not kept twice (`requests` is empty when the plan was made from it).
    public var collection: CollectionSpec
    public var steps: [PlanStep]

    public init(collection: CollectionSpec, steps: [PlanStep]) {
        self.collection = collection
        self.steps = steps
    }

    /// One step per request of the collection, in order; each step's id is its request's
    /// name (unique in a collection).
    public init(_ collection: CollectionSpec) {
        var collection = collection
        let requests = collection.requests
        collection.requests = []
        self.init(collection: collection, steps: requests.map { PlanStep(id: $0.name, name: $0.name, request: $0, location: $0.location) })
    }
}

/// One request to send, as a plan holds it.
public struct PlanStep: Sendable {
    /// Stable across runs of the same collection: the history and `diff` match results on it.
    public var id: String
    /// What people read (the request's name, with a loop's index when there is one).
    public var name: String
    public var request: RequestSpec
    /// Where the step comes from (file, line, column).
    public var location: SourceLocation

    public init(id: String, name: String, request: RequestSpec, location: SourceLocation) {
        self.id = id
        self.name = name
        self.request = request
        self.location = location
    }
}
