import Foundation

/// Asks a run to stop: the runner stops between steps, and a transport that registered a
/// wake-up stops the transfer on the wire. Thread-safe; cancelling twice is cancelling once.
public final class Cancellation: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var wakeUps: [Int: @Sendable () -> Void] = [:]
    private var nextToken = 0

    public init() {}

    public var isCancelled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return cancelled
    }

    public func cancel() {
        lock.lock()
        let first = !cancelled
        cancelled = true
        let handlers = Array(wakeUps.values)
        lock.unlock()
        if first { for wake in handlers { wake() } }
    }

    /// Calls `wake` on `cancel()` (at once when already cancelled) until `remove` with the
    /// returned token: a transport wakes its poll with it.
    public func onCancel(_ wake: @escaping @Sendable () -> Void) -> Int {
        lock.lock()
        nextToken += 1
        let token = nextToken
        wakeUps[token] = wake
        let already = cancelled
        lock.unlock()
        if already { wake() }
        return token
    }

    public func remove(_ token: Int) {
        lock.lock()
        wakeUps[token] = nil
        lock.unlock()
    }
}

/// The time a run reads: when it is, and waiting (`delay:`, retries). Injected so that unit
/// tests run without waiting and with known times.
public struct RunClock: Sendable {
    public var now: @Sendable () -> Date
    public var sleep: @Sendable (Duration) -> Void

    public init(now: @escaping @Sendable () -> Date, sleep: @escaping @Sendable (Duration) -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// The system clock; sleeping blocks the run's thread.
    public static let system = RunClock(now: { Date() }, sleep: { Thread.sleep(forTimeInterval: $0.inSeconds) })
}
