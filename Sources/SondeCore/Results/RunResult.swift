import Foundation

/// A whole run of one collection, as the runner returns it.
public struct RunResult: Sendable {
    public var collection: String
    public var file: String
    public var environment: String?
    public var started: Date
    public var finished: Date
    public var requests: [RequestResult]
    /// What the run learned and the user should know (a secret capture with values too short to mask).
    public var warnings: [String] = []
    /// Whether the run was cancelled before it reached its last step.
    public var cancelled = false

    public init(collection: String, file: String, environment: String?, started: Date, finished: Date, requests: [RequestResult]) {
        self.collection = collection
        self.file = file
        self.environment = environment
        self.started = started
        self.finished = finished
        self.requests = requests
    }

    public var outcome: Outcome { requests.map(\.outcome).filter { $0 != .skipped }.max() ?? .passed }

    public func count(_ outcome: Outcome) -> Int { requests.filter { $0.outcome == outcome }.count }

    /// From the first request to the last.
    public var duration: Duration { .fromSeconds(finished.timeIntervalSince(started)) }
}
