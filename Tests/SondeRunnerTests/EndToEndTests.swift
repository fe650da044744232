import Foundation
import SondeTestSupport
import SondeCore
import SondeHTTP
import SondeMock
import SondeRunner
import SondeSpec
import Testing

/// The runner on the real stack: libcurl against SondeMock on 127.0.0.1, port 0.
@Suite(.serialized)
struct EndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func run(_ yaml: String, server: MockServer, failFast: Bool = false, file: String? = nil) async throws -> RunResult {
        let baseURL = server.baseURL
        return try await offPool { try Self.runBlocking(yaml, baseURL: baseURL, failFast: failFast, file: file) }
    }

    static func runBlocking(_ yaml: String, baseURL: String, failFast: Bool, file: String?) throws -> RunResult {
        let loader = CollectionLoader(options: VariableOptions(assignments: ["base_url=\(baseURL)"], processEnvironment: [:]))
        let loaded: LoadedCollection
        if let file {
            loaded = try loader.load(file: file)
        } else {
            loaded = try loader.load(text: yaml, file: "test.yaml")
        }
        let runner = Runner(
            plan: RunPlan(loaded.spec), scope: loaded.makeScope(), secrets: loaded.secrets, transport: try CurlTransport(),
            options: .init(failFast: failFast, keepExchanges: true))
        return runner.run()
    }

    @Test func theSeedFlowPasses() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("", server: server, file: Self.root.appendingPathComponent("collections/kubesphere.yaml").path)
        #expect(result.requests.map(\.outcome) == [.passed, .passed], "\(result.requests.map { ($0.problem?.message, $0.failedChecks.map(\.message)) })")
        #expect(result.requests[1].checks.count == 7)
        #expect(result.requests[1].requestHeaders.contains { $0.name == "Authorization" && $0.value == "Bearer \(Redactor.mask)" })
    }

    @Test func aWrongPasswordFailsAtLoginAndSkipsWhatNeedsTheToken() async throws {
        let server = try await MockServer.start(.init(password: "other"))
        defer { server.stop() }
        let result = try await run("", server: server, file: Self.root.appendingPathComponent("collections/kubesphere.yaml").path)
        #expect(result.requests[0].outcome == .failed)
        #expect(result.requests[0].status == 401)
        #expect(result.requests[1].outcome == .skipped)
        #expect(result.requests[1].skip?.message == "needs 'token', captured by request 'login', which did not pass")
        #expect(result.outcome == .failed)
    }

    @Test func anUnhealthyComponentFailsWithThePathAndValues() async throws {
        let server = try await MockServer.start(.init(unhealthy: ["etcd-1"]))
        defer { server.stop() }
        let result = try await run("", server: server, file: Self.root.appendingPathComponent("collections/kubesphere.yaml").path)
        let failed = try #require(result.requests[1].failedChecks.first)
        #expect(failed.subject == "$.items[*].conditions[?@.type == 'Healthy'].status")
        #expect(failed.message == "at $['items'][3]['conditions'][0]['status']: expected \"True\", got \"False\"")
        #expect(failed.actual == #"["True","True","True","False","True"]"#)
        #expect(failed.location.line == 44)
    }

    @Test func timeoutsAndRefusedConnectionsAreRequestErrors() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            requests:
              - name: slow
                url: "{{ base_url }}/slow?ms=3000"
                timeout: 200ms
              - name: refused
                url: http://127.0.0.1:9/
            """, server: server)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message.contains("timed out") == true, "\(result.requests[0].problem?.message ?? "")")
        #expect(result.requests[1].outcome == .error)
        #expect(result.requests[1].problem?.message.lowercased().contains("connect") == true, "\(result.requests[1].problem?.message ?? "")")
    }

    @Test func redirectsRetriesAndCookies() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            requests:
              - name: followed
                url: "{{ base_url }}/redirect?to=/echo"
                expect: { status: 200, jsonpath: { $.path: /echo } }
              - name: not followed
                url: "{{ base_url }}/redirect?to=/echo"
                follow_redirects: false
                expect: { status: 302, headers: { Location: /echo } }
              - name: flaky
                url: "{{ base_url }}/flaky?key=e2e&failures=2"
                retry: { count: 3, delay: 10ms, until_status: 200 }
                expect: { status: 200, jsonpath: { $.call: 3 } }
              - name: set cookie
                url: "{{ base_url }}/cookies/set?session=abc123"
                capture: { sid: { cookie: session } }
              - name: cookie sent back
                url: "{{ base_url }}/cookies"
                expect: { jsonpath: { $.cookies.session: "{{ sid }}" } }
            """, server: server)
        for request in result.requests {
            #expect(request.outcome == .passed, "\(request.name): \(request.problem?.message ?? "") \(request.failedChecks.map { $0.message ?? "" })")
        }
        #expect(result.requests[2].attempts == 3)
    }

    @Test func everyBodyKind() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-e2e-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "file contents".write(to: folder.appendingPathComponent("upload.txt"), atomically: true, encoding: .utf8)
        let file = folder.appendingPathComponent("bodies.yaml")
        try """
            vars: { n: 5 }
            requests:
              - name: json
                method: POST
                url: "{{ base_url }}/echo"
                json: { count: "{{ n }}", label: "n={{ n }}" }
                expect:
                  jsonpath:
                    $.json.count: 5
                    $.json.label: n=5
                    $.headers['Content-Type']: application/json
              - name: form
                method: PUT
                url: "{{ base_url }}/echo"
                form: { a: "1 2", b: "x&y" }
                expect:
                  jsonpath: { $.body: a=1%202&b=x%26y, $.method: PUT }
              - name: raw
                method: PATCH
                url: "{{ base_url }}/echo"
                headers: { Content-Type: text/plain }
                body: "hello {{ n }}"
                expect: { jsonpath: { $.body: hello 5 } }
              - name: multipart
                method: POST
                url: "{{ base_url }}/echo"
                multipart:
                  field: value
                  upload: { file: upload.txt, content_type: text/plain }
                expect:
                  jsonpath:
                    $.body: { contains: "file contents", matches: 'name="upload"; filename="upload.txt"' }
                    $.headers['Content-Type']: { starts_with: "multipart/form-data; boundary=" }
              - name: query
                url: "{{ base_url }}/echo"
                query: { q: "a b", n: "{{ n }}" }
                expect: { jsonpath: { $.query.q: a b, $.query.n: "5" } }
            """.write(to: file, atomically: true, encoding: .utf8)
        let result = try await run("", server: server, file: file.path)
        for request in result.requests {
            #expect(request.outcome == .passed, "\(request.name): \(request.problem?.message ?? "") \(request.failedChecks.map { "\($0.subject): \($0.message ?? "")" })")
        }
    }

    @Test func everyAuthHelper() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            vars: { secret: s3cret }
            secrets: [secret]
            defaults:
              auth: { oauth2_client_credentials: { token_url: "{{ base_url }}/oauth/token", client_id: sonde, client_secret: "{{ secret }}" } }
            requests:
              - name: login
                method: POST
                url: "{{ base_url }}/kapis/iam.kubesphere.io/v1alpha2/login"
                auth: { basic: { username: x, password: y } }
                json: { username: admin, password: P@88w0rd }
                capture: { token: { jsonpath: $.access_token, secret: true } }
              - name: bearer
                url: "{{ base_url }}/api/v1/componentstatuses"
                auth: { bearer: "{{ token }}" }
              - name: basic
                url: "{{ base_url }}/basic"
                auth: { basic: { username: admin, password: P@88w0rd } }
              - name: oauth once
                url: "{{ base_url }}/oauth/protected"
              - name: oauth twice
                url: "{{ base_url }}/oauth/protected"
            """, server: server)
        for request in result.requests {
            #expect(request.outcome == .passed, "\(request.name): \(request.problem?.message ?? "") \(request.failedChecks.map { $0.message ?? "" })")
        }
        #expect(server.state.oauthTokenRequestCount == 1)
        let basic = result.requests[2].requestHeaders.first { $0.name == "Authorization" }?.value
        #expect(basic == "Basic \(Redactor.mask)")
    }

    @Test func failFastStopsTheCollection() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            requests:
              - name: broken
                url: "{{ base_url }}/status/500"
              - name: after
                url: "{{ base_url }}/echo"
            """
        let normal = try await run(yaml, server: server)
        #expect(normal.requests.map(\.outcome) == [.failed, .passed])
        let fast = try await run(yaml, server: server, failFast: true)
        #expect(fast.requests.map(\.outcome) == [.failed, .skipped])
        #expect(fast.requests[1].skip?.message == "--fail-fast: an earlier request failed")
    }

    @Test func skipAndEveryCaptureKind() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            vars: { enabled: "false" }
            requests:
              - name: skipped
                url: "{{ base_url }}/status/500"
                skip: "{{ enabled | lower | default('true') }}"
              - name: never
                url: "{{ base_url }}/status/500"
                skip: true
              - name: captures
                url: "{{ base_url }}/flaky?key=captures&failures=0"
                capture:
                  code: { status: true }
                  took: { duration: true }
                  call: { regex: '"call":([0-9]+)' }
                  type: { header: content-type }
                expect:
                  jsonpath: { $.call: "{{ call }}" }
                  status: { equals: "{{ code }}" }
                  headers: { Content-Type: "{{ type }}" }
                  duration: { "<": 5s }
            """, server: server)
        #expect(result.requests[0].outcome == .failed)  // skip rendered "false": it was sent, and 500 fails
        #expect(result.requests[1].outcome == .skipped)
        #expect(result.requests[1].skip?.message == "skip: true")
        #expect(result.requests[2].outcome == .passed, "\(result.requests[2].problem?.message ?? "") \(result.requests[2].failedChecks.map { $0.message ?? "" })")
    }

    @Test func checksThatReadAVariableSeeItAsItWasWhenTheirRequestRan() async throws {
        // Request a's expectation reads v; request b captures a new v. Checks that run while the
        // next request is sent must not see b's capture: a passes only if its check ran first.
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run(
            """
            name: ordering
            base_url: "{{ base_url }}"
            vars: { v: "1" }
            requests:
              - name: a
                url: /echo?x=1
                expect: { jsonpath: { $.query.x: "{{ v }}" } }
              - name: b
                url: /echo?x=2
                capture: { v: $.query.x }
              - name: c
                url: /echo?x=2
                expect: { jsonpath: { $.query.x: "{{ v }}" } }
              - name: d
                url: /echo?x=3
                expect: { jsonpath: { $.query.x: "3" } }
            """, server: server)
        #expect(result.requests.map(\.outcome) == [.passed, .passed, .passed, .passed], "\(result.requests.map(\.failedChecks))")
        #expect(result.requests.map(\.position) == [0, 1, 2, 3])
    }

    @Test func eventsComeInOrderFromOneThread() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let baseURL = server.baseURL
        let events = try await offPool { () -> [String] in
            let requests = (0..<50).map { "  - name: r\($0)\n    url: /echo?n=\($0)\n    expect: { status: 200, jsonpath: { $.query.n: \"\($0)\" } }\n" }.joined()
            let loaded = try CollectionLoader(options: VariableOptions(assignments: ["base_url=\(baseURL)"], processEnvironment: [:]))
                .load(text: "name: order\nbase_url: \"{{ base_url }}\"\nrequests:\n" + requests, file: "order.yaml")
            let runner = Runner(plan: RunPlan(loaded.spec), scope: loaded.makeScope(), secrets: [], transport: try CurlTransport())
            var seen: [String] = []
            let result = runner.run { event in
                switch event {
                case .requestStarted(let index, _): seen.append("start \(index)")
                case .requestFinished(let request): seen.append("end \(request.position) \(request.outcome)")
                }
            }
            #expect(result.requests.count == 50)
            return seen
        }
        #expect(events == (0..<50).flatMap { ["start \($0)", "end \($0) passed"] })
    }
}
