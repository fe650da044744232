import Foundation
import SondeCore
import Testing

@testable import SondeRunner

/// The checker thread keeps events in order and never lets responses pile up.
struct CheckWorkerTests {
    @Test func theRunnerWaitsWhenTwoChecksArePending() async throws {
        // Given checks that block until released
        let gate = DispatchSemaphore(value: 0)
        let worker = CheckWorker(onEvent: UncheckedSendable { _ in })
        let handedOver = Counter()
        let runner = Thread {
            for index in 0..<4 {
                worker.check(UncheckedSendable {
                    gate.wait()
                    return RunnerTestSupport.result(index)
                })
                handedOver.increment()
            }
        }
        runner.start()
        // When nothing is released, the runner hands over two checks and then waits
        try await Task.sleep(for: .milliseconds(300))
        #expect(handedOver.value == 2)
        // Then each release lets one more in, and all four finish in order
        for _ in 0..<4 { gate.signal() }
        let results = try await offPoolDrain(worker)
        #expect(handedOver.value == 4)
        #expect(results.map(\.index) == [0, 1, 2, 3])
        worker.stop()
    }

    private func offPoolDrain(_ worker: CheckWorker) async throws -> [RequestResult] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                // The runner thread may still be handing over its last check.
                Thread.sleep(forTimeInterval: 0.1)
                continuation.resume(returning: worker.drain())
            }.start()
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

enum RunnerTestSupport {
    static func result(_ index: Int) -> RequestResult {
        RequestResult(
            index: index, name: "r\(index)", method: "GET", url: "http://x", location: .init(file: "t.yaml", line: 1, column: 1), startOffset: 0,
            outcome: .passed, status: 200, timings: nil, attempts: 1, responseSize: 0, bodyHash: nil, shapeSource: nil, error: nil, skipReason: nil,
            checks: [], requestHeaders: [], requestBody: nil, responseHeaders: [], responseBody: nil)
    }
}

struct SlimResultTests {
    /// Without keepDetails, listeners still get every check; the returned run keeps outcomes only.
    @Test func resultsAreSlimmedOnlyAfterTheirEvent() {
        var request = RequestSpec(name: "r", location: SourceLocation(file: "t.yaml", line: 1, column: 1), url: Template(literal: "http://h/"))
        request.expectations = [Expectation(subject: .body, predicate: .equals(.string(Template(literal: "other"))), location: request.location)]
        let spec = CollectionSpec(name: "c", file: "t.yaml", location: request.location, requests: Array(repeating: request, count: 3))
        let runner = Runner(
            spec: spec, scope: VariableScope([], environment: [:]), secrets: [], transport: FixedTransport(body: "body"),
            options: .init(keepDetails: false))
        var seen: [Int] = []
        let result = runner.run { event in
            if case .requestFinished(let finished) = event { seen.append(finished.checks.count) }
        }
        #expect(seen == [1, 1, 1])
        #expect(result.requests.map(\.outcome) == [.failed, .failed, .failed])
        #expect(result.requests.allSatisfy { $0.checks.isEmpty && $0.responseBody == nil && $0.status == 200 })
    }
}
