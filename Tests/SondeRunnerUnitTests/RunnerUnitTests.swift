import Foundation
import SondeCore
import SondeRunner
import SondeSpec
import Testing

/// The runner over a scripted transport and a fake clock: no network, no libcurl, no waiting.
struct RunnerUnitTests {
    /// A clock that moves only when the run sleeps (or a test moves it), and notes each sleep.
    final class FakeClock: @unchecked Sendable {
        private let lock = NSLock()
        private var current = Date(timeIntervalSince1970: 1_780_000_000)
        private(set) var sleeps: [Duration] = []

        var clock: RunClock {
            RunClock(
                now: { [self] in
                    lock.lock()
                    defer { lock.unlock() }
                    return current
                },
                sleep: { [self] duration in
                    lock.lock()
                    defer { lock.unlock() }
                    sleeps.append(duration)
                    current = current.addingTimeInterval(duration.inSeconds)
                })
        }
    }

    static func load(_ yaml: String, variables: [String] = []) throws -> LoadedCollection {
        try CollectionLoader(options: VariableOptions(assignments: ["base_url=http://api.test"] + variables, processEnvironment: [:]))
            .load(text: yaml, file: "unit.yaml")
    }

    static func run(
        _ yaml: String, _ transport: ScriptedTransport, failFast: Bool = false, clock: FakeClock = FakeClock(), cancellation: Cancellation? = nil
    ) throws -> RunResult {
        let loaded = try load(yaml)
        let runner = Runner(
            plan: RunPlan(loaded.spec), scope: loaded.makeScope(), secrets: loaded.secrets, transport: transport,
            options: .init(failFast: failFast, keepExchanges: true), clock: clock.clock, cancellation: cancellation)
        return runner.run()
    }

    static let login = """
        base_url: "{{ base_url }}"
        requests:
          - name: login
            method: POST
            url: /login
            json: { user: admin }
            capture: { token: $.token }
          - name: me
            url: /me
            headers: { Authorization: "Bearer {{ token }}" }
          - name: health
            url: /health
        """

    @Test func aRequestNeedingAFailedCaptureIsSkippedAndNotSent() throws {
        let transport = ScriptedTransport([
            { _ in ScriptedTransport.response(401, #"{"error":"no"}"#) }, { _ in ScriptedTransport.response(200, "{}") },
        ])
        let result = try Self.run(Self.login, transport)
        #expect(result.requests.map(\.outcome) == [.failed, .skipped, .passed])
        #expect(result.requests[1].skip == .failedCapture("token", capturedBy: "login"))
        #expect(result.requests[1].skip?.kind == .failedCapture)
        #expect(transport.sent.map(\.url) == ["http://api.test/login", "http://api.test/health"])
        // The implicit status check comes first, at the request.
        #expect(result.requests[0].checks.first?.subject == "status" && result.requests[0].checks.first?.location.line == 3)
    }

    /// Skips cascade: a request that needs a capture of a skipped request, which nothing else
    /// defines, is skipped and says so (not an error of an undefined name); a name a variable
    /// also defines is used as that variable.
    @Test func aRequestNeedingACaptureOfASkippedRequestIsSkippedToo() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            vars: { region: eu }
            requests:
              - name: login
                url: /login
                skip: true
                capture: { token: $.token, region: $.region }
              - { name: me, url: "/me?t={{ token }}" }
              - { name: where, url: "/where/{{ region }}" }
              - { name: after, url: "/after?t={{ token }}" }
            """
        let transport = ScriptedTransport([], fallback: { _ in ScriptedTransport.response(200, "{}") })
        let result = try Self.run(yaml, transport)
        #expect(result.requests.map(\.outcome) == [.skipped, .skipped, .passed, .skipped])
        #expect(result.requests[1].skip?.message == "needs 'token', captured by request 'login', which was skipped")
        #expect(result.requests[1].skip?.kind == .failedCapture)
        #expect(transport.sent.map(\.url) == ["http://api.test/where/eu"])
    }

    @Test func skipConditionAndFailFastSkipWithTheirKinds() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            vars: { off: true }
            requests:
              - { name: a, url: /a, skip: "{{ off }}" }
              - { name: b, url: /b }
              - { name: c, url: /c }
            """
        let transport = ScriptedTransport([{ _ in ScriptedTransport.response(500) }], fallback: { _ in ScriptedTransport.response(200) })
        let result = try Self.run(yaml, transport, failFast: true)
        #expect(result.requests.map(\.outcome) == [.skipped, .failed, .skipped])
        #expect(result.requests.map { $0.skip?.kind } == [.condition, nil, .failFast])
        #expect(transport.sent.map(\.url) == ["http://api.test/b"])
    }

    @Test func retriesWaitOnTheClockAndCountAttempts() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            requests:
              - name: eventually
                url: /ready
                delay: 250ms
                retry: { count: 3, delay: 2s }
                expect: { status: 200 }
            """
        let transport = ScriptedTransport([
            { _ in ScriptedTransport.response(503) }, { _ in ScriptedTransport.response(503) }, { _ in ScriptedTransport.response(200) },
        ])
        let clock = FakeClock()
        let result = try Self.run(yaml, transport, clock: clock)
        #expect(result.requests[0].outcome == .passed && result.requests[0].attempts == 3)
        #expect(clock.sleeps == [.milliseconds(250), .seconds(2), .seconds(2)])
        // The start is read from the clock: after the delay.
        #expect(result.requests[0].startOffset == .milliseconds(250))
        #expect(result.duration == .milliseconds(4250))
    }

    @Test func theOAuthTokenIsFetchedOnceAndMasked() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            vars: { secret: s3cret-client }
            secrets: [secret]
            defaults:
              auth: { oauth2_client_credentials: { token_url: /oauth/token, client_id: sonde, client_secret: "{{ secret }}" } }
            requests:
              - { name: one, url: /one }
              - { name: two, url: /two }
            """
        let transport = ScriptedTransport(
            [{ _ in ScriptedTransport.response(200, #"{"access_token":"tok-123456789","token_type":"Bearer"}"#) }],
            fallback: { request in ScriptedTransport.response(200, #"{"echo":"\#(request.headers.first { $0.name == "Authorization" }?.value ?? "")"}"#) })
        let result = try Self.run(yaml, transport)
        #expect(result.requests.map(\.outcome) == [.passed, .passed])
        #expect(transport.sent.filter { $0.url.hasSuffix("/oauth/token") }.count == 1)
        #expect(transport.sent.last?.headers.contains { $0.name == "Authorization" && $0.value == "Bearer tok-123456789" } == true)
        let shown = result.requests.flatMap { $0.requestHeaders.map(\.value) + [$0.responseBody ?? ""] }.joined(separator: "\n")
        #expect(!shown.contains("tok-123456789") && !shown.contains("s3cret-client"))
    }

    @Test func problemsHaveKinds() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            requests:
              - { name: slow, url: /slow }
              - { name: refused, url: /refused }
              - { name: template, url: "/x/{{ missing | int }}", skip: false }
              - name: capture
                url: /json
                capture: { id: $.id }
            """
        let transport = ScriptedTransport([
            { _ in throw TransportError(.timeout, "Operation timed out after 100 milliseconds") },
            { _ in throw TransportError(.connect, "Failed to connect") },
            { _ in ScriptedTransport.response(200, #"{"name":"x"}"#) },
        ])
        let loaded = try Self.load(yaml, variables: ["missing=abc"])
        let runner = Runner(plan: RunPlan(loaded.spec), scope: loaded.makeScope(), secrets: [], transport: transport, clock: FakeClock().clock)
        let result = runner.run()
        #expect(result.requests.map(\.outcome) == [.error, .error, .error, .failed])
        #expect(result.requests.map { $0.problem?.kind } == [.timeout, .connect, .template, .capture])
        #expect(result.requests[3].problem?.message.hasPrefix("capture 'id'") == true)
        #expect(result.requests.map(\.step) == ["slow", "refused", "template", "capture"])
    }

    /// Checks run later than the next request's captures (a transport that never overlaps,
    /// and a second request that does not read the capture, so nothing waits for the
    /// first's checks): they read the variables as their own request left them.
    @Test func expectationsReadTheVariablesTheirRequestLeft() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            requests:
              - name: first
                url: /1
                capture: { id: $.id }
                expect: { body: { contains: "{{ id }}" } }
              - name: second
                url: /2
                capture: { id: $.id }
              - { name: third, url: /3 }
              - { name: fourth, url: /4 }
            """
        let transport = ScriptedTransport(
            [{ _ in ScriptedTransport.response(200, #"{"id":"one"}"#) }, { _ in ScriptedTransport.response(200, #"{"id":"two"}"#) }],
            overlap: .never, fallback: { _ in ScriptedTransport.response(200, "{}") })
        let result = try Self.run(yaml, transport)
        #expect(result.requests.map(\.outcome) == [.passed, .passed, .passed, .passed], "\(result.requests.map { $0.checks.map(\.actual) })")
        #expect(result.requests[0].checks[0].expected.contains("one"))
    }

    @Test func cancellingStopsBetweenStepsAndDropsTheRequestOnTheWire() throws {
        let cancellation = Cancellation()
        let transport = ScriptedTransport([
            { _ in ScriptedTransport.response(200, #"{"token":"t"}"#) },
            { _ in
                cancellation.cancel()
                throw TransportError(.transport, "the run was cancelled")
            },
        ])
        let result = try Self.run(Self.login, transport, cancellation: cancellation)
        #expect(result.cancelled)
        #expect(result.requests.map(\.name) == ["login"])
        #expect(transport.sent.count == 2, "the third request is never sent")
    }

    /// Two steps whose names differ only by a secret stay two steps once masked.
    @Test func maskedStepsKeepTheirPlace() throws {
        let yaml = """
            base_url: "{{ base_url }}"
            vars: { one: Sup3rS3cretPW, two: Zx9Qw8Er7Ty6 }
            secrets: [one, two]
            requests:
              - { name: with Sup3rS3cretPW, url: /a }
              - { name: with Zx9Qw8Er7Ty6, url: /b }
              - { name: plain, url: /c }
            """
        let result = try Self.run(yaml, ScriptedTransport(fallback: { _ in ScriptedTransport.response(200) }))
        #expect(result.requests.map(\.name) == ["with ••••••", "with ••••••", "plain"])
        #expect(result.requests.map(\.step) == ["with •••••• #1", "with •••••• #2", "plain"])
    }

    @Test func oldSentencesGetTheirKinds() {
        #expect(RequestProblem.guessedKind(of: "Recv failure: Connection reset by peer") == .reset)
        #expect(RequestProblem.guessedKind(of: "Failed to connect to 127.0.0.1 port 1: Connection refused") == .connect)
        #expect(RequestProblem.guessedKind(of: "Could not resolve host: nope.invalid") == .dns)
        #expect(RequestProblem.guessedKind(of: "Operation timed out after 500 milliseconds with 0 bytes received") == .timeout)
        #expect(RequestProblem.guessedKind(of: "template: 'x' is not defined") == .template)
        #expect(RequestProblem.guessedKind(of: "capture 'id': no match") == .capture)
        #expect(SkipReason.guessedKind(of: "needs 'token', captured by request 'login', which did not pass") == .failedCapture)
    }
}
