import Foundation
import SondeCore
import SondeHTTP
import SondeMock
import SondeTestSupport
import Testing

@testable import SondeRunner

/// The check queue keeps events in order and never lets responses pile up; the transport
/// runs it while a request is on the wire.
struct CheckQueueTests {
    @Test func deferredChecksRunWhenMoreThanTwoWait() {
        var ran: [Int] = []
        var events: [String] = []
        let queue = CheckQueue(onEvent: { event in
            if case .requestFinished(let result) = event { events.append("end \(result.position)") }
        })
        for index in 0..<3 {
            queue.check {
                ran.append(index)
                return RunnerTestSupport.result(index)
            }
            // Two may wait; the third makes them all run, in order.
            #expect(ran == (index < 2 ? [] : [0, 1, 2]))
        }
        queue.check {
            ran.append(3)
            return RunnerTestSupport.result(3)
        }
        #expect(ran == [0, 1, 2])
        #expect(queue.finish().results.map(\.position) == [0, 1, 2, 3])
        #expect(events == ["end 0", "end 1", "end 2", "end 3"])
    }

    @Test func curlRunsTheWaitingWorkWhileTheRequestIsOnTheWire() async throws {
        // The work waits until the mock has received the request: if the transport ran it
        // before sending (as a transport that cannot overlap does), it would wait in vain.
        let server = try await MockServer.start()
        defer { server.stop() }
        let baseURL = server.baseURL
        let state = server.state
        let arrivedWhileWaiting = try await offPool { () -> Bool in
            let transport = try CurlTransport()
            let before = state.totalRequests
            var arrived = false
            let response = try transport.send(HTTPRequest(method: "GET", url: baseURL + "/slow?ms=300"), whileWaiting: {
                let deadline = Date().addingTimeInterval(5)
                while state.totalRequests == before && Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
                arrived = state.totalRequests > before
            })
            #expect(response.status == 200)
            return arrived
        }
        #expect(arrivedWhileWaiting)
    }
}

struct SlimResultTests {
    /// Without keepDetails, listeners still get every check; the returned run keeps the counts only.
    @Test func resultsAreDroppedOnlyAfterTheirEvent() {
        var request = RequestSpec(name: "r", location: SourceLocation(file: "t.yaml", line: 1, column: 1), url: Template(literal: "http://h/"))
        request.expectations = [Expectation(subject: .body, predicate: .equals(.string(Template(literal: "other"))), location: request.location)]
        let spec = CollectionSpec(name: "c", file: "t.yaml", location: request.location, requests: Array(repeating: request, count: 3))
        let runner = Runner(
            plan: RunPlan(spec), scope: VariableScope([], environment: [:]), secrets: [], transport: fixedTransport(body: "body"),
            options: .init(keepDetails: false))
        var seen: [Int] = []
        let result = runner.run { event in
            if case .requestFinished(let finished) = event { seen.append(finished.checks.count) }
        }
        #expect(seen == [1, 1, 1])
        #expect(result.requests.isEmpty)
        #expect(result.counts.failed == 3 && result.counts.total == 3 && result.outcome == .failed && result.count(.failed) == 3)
    }
}

enum RunnerTestSupport {
    static func result(_ index: Int) -> RequestResult {
        RequestResult(
            step: "r\(index)", position: index, name: "r\(index)", method: "GET", url: "http://x", location: .init(file: "t.yaml", line: 1, column: 1),
            startOffset: .zero, outcome: .passed, status: 200, attempts: 1)
    }
}

/// A large body (`Runner.largeBody`) is checked before the next request is sent, and a
/// recorded run works its shape out at once: its document, several times the body's size,
/// is let go before the next one is parsed.
struct LargeBodyTests {
    final class Seen: @unchecked Sendable {
        var finished: Set<Int> = []
        var sends = 0
        /// Whether the first request's result was out when the second was sent.
        var firstCheckedBeforeSecondSend = false
    }

    static func run(bodySize: Int, records: Bool) -> (Seen, RunResult) {
        let items = Array(repeating: #"{"name":"component","status":"True"}"#, count: bodySize / 36 + 1).joined(separator: ",")
        let body = #"{"items":["# + items + "]}"
        var request = RequestSpec(name: "r", location: SourceLocation(file: "t.yaml", line: 1, column: 1), url: Template(literal: "http://h/"))
        request.expectations = [
            Expectation(subject: .jsonpath(try! JSONPath("$.items[0].status")), predicate: .equals(.string(Template(literal: "True"))), location: request.location)
        ]
        var second = request
        second.name = "r2"
        let seen = Seen()
        let transport = ScriptedTransport(overlap: .never) { _ in
            seen.sends += 1
            if seen.sends == 2 { seen.firstCheckedBeforeSecondSend = seen.finished.contains(0) }
            return ScriptedTransport.response(200, body, contentType: "application/json")
        }
        let spec = CollectionSpec(name: "c", file: "t.yaml", location: request.location, requests: [request, second])
        let runner = Runner(
            plan: RunPlan(spec), scope: VariableScope([], environment: [:]), secrets: [], transport: transport, options: .init(records: records))
        let result = runner.run { event in
            if case .requestFinished(let finished) = event { seen.finished.insert(finished.position) }
        }
        return (seen, result)
    }

    @Test func aLargeBodyIsCheckedBeforeTheNextRequestIsSent() {
        let (large, largeRun) = Self.run(bodySize: Runner.largeBody + 10, records: true)
        #expect(largeRun.requests.map(\.outcome) == [.passed, .passed])
        #expect(large.firstCheckedBeforeSecondSend)
        #expect(largeRun.requests.allSatisfy { if case .computed? = $0.shapeSource { true } else { false } })
        // A small one waits for the next request's time on the wire, and its shape for the recorder.
        let (small, smallRun) = Self.run(bodySize: 4_000, records: true)
        #expect(smallRun.requests.map(\.outcome) == [.passed, .passed])
        #expect(!small.firstCheckedBeforeSecondSend)
        #expect(smallRun.requests.allSatisfy { if case .document? = $0.shapeSource { true } else { false } })
        // Unrecorded, no shape is worked out, large or not.
        let (_, unrecorded) = Self.run(bodySize: Runner.largeBody + 10, records: false)
        #expect(unrecorded.requests.allSatisfy { if case .computed? = $0.shapeSource { false } else { true } })
    }
}
