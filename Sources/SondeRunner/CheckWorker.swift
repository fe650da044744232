import Foundation

/// A value handed to another thread by code that guarantees only one thread uses it at a time.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }
}

/// The runner's second thread: runs the checks it is handed while the runner sends the next
/// request, keeps the results in order, and tells the listener about each event, in order.
/// The listener is only ever called from this thread.
final class CheckWorker: @unchecked Sendable {
    private enum Job {
        case event(RunEvent)
        case finished(RequestResult)
        case check(UncheckedSendable<() -> RequestResult>)
    }

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var busy = false
    private var stopped = false
    private var results: [RequestResult] = []
    /// Checks queued or running. The runner waits when there are `maxPending`: each holds a
    /// response (and maybe its parsed body), and a fast API with large bodies would
    /// otherwise queue responses faster than they are checked, without bound.
    private var pendingChecks = 0
    static let maxPending = 2
    /// Dropped by `stop()`: the runner's listener must not outlive `run` (it is a non-escaping closure).
    private var onEvent: UncheckedSendable<(RunEvent) -> Void>?

    private let keepDetails: Bool

    init(onEvent: UncheckedSendable<(RunEvent) -> Void>, keepDetails: Bool = true) {
        self.onEvent = onEvent
        self.keepDetails = keepDetails
        let thread = Thread { self.work() }
        thread.name = "sonde-checks"
        thread.stackSize = 8 << 20
        thread.start()
    }

    func post(_ event: RunEvent) { enqueue(.event(event)) }

    /// A request already checked: its result and event are queued behind the earlier ones.
    func finish(_ result: RequestResult) { enqueue(.finished(result)) }

    /// A request whose checks are still to run; waits while `maxPending` are.
    func check(_ work: UncheckedSendable<() -> RequestResult>) {
        condition.lock()
        while pendingChecks >= Self.maxPending { runnerWait() }
        pendingChecks += 1
        jobs.append(.check(work))
        wakeWorker()
        condition.unlock()
    }

    // Wake-ups cost a system call and a context switch each, a few times per request:
    // each side is woken only when it sleeps.
    private var workerSleeps = false
    private var runnerSleeps = false

    private func runnerWait() {
        runnerSleeps = true
        condition.wait()
        runnerSleeps = false
    }

    private func wakeWorker() { if workerSleeps { condition.broadcast() } }
    private func wakeRunner() { if runnerSleeps { condition.broadcast() } }

    /// Waits until every job so far is done; the results so far, in order.
    func drain() -> [RequestResult] {
        condition.lock()
        defer { condition.unlock() }
        while !jobs.isEmpty || busy { runnerWait() }
        return results
    }

    /// Call after `drain()`: nothing is left to tell the listener.
    func stop() {
        condition.lock()
        onEvent = nil
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        jobs.append(job)
        wakeWorker()
        condition.unlock()
    }

    private func work() {
        condition.lock()
        while true {
            while jobs.isEmpty && !stopped {
                workerSleeps = true
                condition.wait()
                workerSleeps = false
            }
            if jobs.isEmpty && stopped { break }
            let batch = jobs
            jobs = []
            busy = true
            var listener = onEvent
            condition.unlock()
            var finished: [RequestResult] = []
            for job in batch {
                switch job {
                case .event(let event):
                    listener?.value(event)
                case .finished(let result):
                    finished.append(result)
                    listener?.value(.requestFinished(result))
                case .check(let work):
                    let result = work.value()
                    finished.append(result)
                    listener?.value(.requestFinished(result))
                    condition.lock()
                    pendingChecks -= 1
                    wakeRunner()
                    condition.unlock()
                }
            }
            // Released before `drain()` can return, so that the listener never outlives `run`.
            listener = nil
            condition.lock()
            results += keepDetails ? finished : finished.map(\.slim)
            busy = false
            wakeRunner()
        }
        condition.unlock()
    }
}

extension RequestResult {
    /// What a run's summary and exit status need, once listeners have had the rest.
    var slim: RequestResult {
        var result = self
        result.checks = []
        result.shapeSource = nil
        result.requestHeaders = []
        result.requestBody = nil
        result.responseHeaders = []
        result.responseBody = nil
        return result
    }
}
