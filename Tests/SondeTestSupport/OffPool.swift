import Foundation

/// Runs blocking work (libcurl, a child process) on a thread of its own, so that the
/// in-process mock's async handlers keep the cooperative pool (two threads on CI) to themselves.
public func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }
}

/// A global actor whose work runs on a serial dispatch queue of its own, not on the
/// cooperative pool: for test suites that block (a PostgreSQL server's sockets, `initdb`,
/// `psql`), so that they never hold the pool's threads (two on CI), which the in-process
/// mock's handlers need to answer in time. Its tests also run one at a time.
@globalActor
public actor BlockingTests {
    public static let shared = BlockingTests()
    private nonisolated let executor = QueueExecutor()
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
}

/// A serial executor on a dispatch queue (libdispatch's worker threads, not the cooperative pool's).
final class QueueExecutor: SerialExecutor, @unchecked Sendable {
    private let queue = DispatchQueue(label: "sonde-blocking-tests")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }
}
