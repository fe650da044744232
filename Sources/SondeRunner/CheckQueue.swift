import Foundation
import SondeCore

/// A run's checks and events, in order, on the runner's own thread. A deferred check
/// waits until the next request is on the wire (the transport runs `runPending` while it
/// waits for the answer), or until something needs its outcome (`drain`). No second
/// thread: no hand-over, no wake-ups, and the listener is called where `run` was.
final class CheckQueue {
    private enum Job {
        case event(RunEvent)
        case finished(RequestResult)
        case check(() -> RequestResult)
    }

    private var jobs: [Job] = []
    private var pendingChecks = 0
    /// Every result, when `keepDetails`; otherwise none (listeners have had them).
    private var results: [RequestResult] = []
    /// Every request's outcome so far, in order: what the runner settles its captures by.
    private(set) var outcomes: [Outcome] = []
    private var onEvent: ((RunEvent) -> Void)?
    private let keepDetails: Bool
    /// Deferred checks beyond this run at once: each holds a response (and maybe its parsed
    /// body), and a run of skipped or unsent requests must not pile them up.
    static let maxPending = 2

    init(onEvent: @escaping (RunEvent) -> Void, keepDetails: Bool = true) {
        self.onEvent = onEvent
        self.keepDetails = keepDetails
    }

    func post(_ event: RunEvent) { jobs.append(.event(event)) }

    /// A request already checked: its result and event are queued behind the earlier ones.
    func finish(_ result: RequestResult) { jobs.append(.finished(result)) }

    /// A request whose checks are still to run.
    func check(_ work: @escaping () -> RequestResult) {
        jobs.append(.check(work))
        pendingChecks += 1
        if pendingChecks > Self.maxPending { runPending() }
    }

    /// Runs every queued job, in order.
    func runPending() {
        guard !jobs.isEmpty else { return }
        let batch = jobs
        jobs = []
        pendingChecks = 0
        for job in batch {
            let result: RequestResult
            switch job {
            case .event(let event):
                onEvent?(event)
                continue
            case .finished(let finished):
                result = finished
            case .check(let work):
                result = work()
            }
            onEvent?(.requestFinished(result))
            outcomes.append(result.outcome)
            if keepDetails { results.append(result) }
        }
    }

    /// Runs what is queued; the outcomes so far, in order.
    func drain() -> [Outcome] {
        runPending()
        return outcomes
    }

    /// Runs what is queued; the results kept.
    func finish() -> (results: [RequestResult], counts: OutcomeCounts) {
        runPending()
        return (results, OutcomeCounts(outcomes))
    }

    /// Drops the listener, which must not outlive `run` (a non-escaping closure).
    func stop() { onEvent = nil }
}
