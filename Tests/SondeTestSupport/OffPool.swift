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
