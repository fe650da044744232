import Foundation

/// A whole run of one collection, as the runner returns it.
public struct RunResult: Sendable {
    public var collection: String
    public var file: String
    public var environment: String?
    public var started: Date
    public var finished: Date
    /// Every request's result, in order; empty when the runner was told not to keep them
    /// (`Runner.Options.keepDetails`: a recorded run's listeners have had each one).
    public var requests: [RequestResult]
    /// How many requests ended each way: kept whether `requests` is or not.
    public var counts: OutcomeCounts
    /// What the run learned and the user should know (a secret capture with values too short to mask).
    public var warnings: [String] = []
    /// Whether the run was cancelled before it reached its last step.
    public var cancelled = false

    /// `counts` defaults to the outcomes of `requests`.
    public init(
        collection: String, file: String, environment: String?, started: Date, finished: Date, requests: [RequestResult], counts: OutcomeCounts? = nil
    ) {
        self.collection = collection
        self.file = file
        self.environment = environment
        self.started = started
        self.finished = finished
        self.requests = requests
        self.counts = counts ?? OutcomeCounts(requests.lazy.map(\.outcome))
    }

    /// The worst outcome of a request that was not skipped; passed when none was sent.
    public var outcome: Outcome { counts.outcome }

    public func count(_ outcome: Outcome) -> Int { counts[outcome] }

    /// From the first request to the last.
    public var duration: Duration { .fromSeconds(finished.timeIntervalSince(started)) }
}

