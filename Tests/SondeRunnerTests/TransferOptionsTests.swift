import Foundation
import SondeCore
import SondeMock
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// The authentication libcurl does (Digest, NTLM, AWS SigV4, .netrc) and the ways a request
/// travels (`resolve`, `connect_to`, `proxy`, `http_version`, …), against SondeMock.
@Suite(.serialized)
struct TransferOptionsTests {
    static func run(_ yaml: String, server: MockServer, files: [String: [UInt8]] = [:], assignments: [String] = []) async throws -> RunResult {
        try await runCollection("base_url: \"{{ base_url }}\"\n" + yaml, baseURL: server.baseURL, assignments: assignments, files: files)
    }

    @Test func digestAndNTLMAnswerTheServersChallenge() async throws {
        let server = try await MockServer.start(.init(username: "ops", password: "digest-pass-9"))
        defer { server.stop() }
        let yaml = """
            vars: { password: digest-pass-9 }
            secrets: [password]
            requests:
              - name: digest
                url: /digest
                auth: { digest: { username: ops, password: "{{ password }}" } }
                expect: { jsonpath: { $.user: ops, $.scheme: digest } }
              - name: ntlm
                url: /ntlm
                auth: { ntlm: { username: ops, password: "{{ password }}" } }
                expect: { jsonpath: { $.user: ops, $.scheme: ntlm } }
              - name: a wrong digest password
                url: /digest
                auth: { digest: { username: ops, password: wrong } }
                expect: { status: 401 }
            """
        let result = try await Self.run(yaml, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(describe(request))") }
        // The password never shows, in what was sent or anywhere else.
        #expect(!result.requests.flatMap(\.requestHeaders).contains { $0.value.contains("digest-pass-9") })
    }

    @Test func awsSigV4SignsWithTheRegionAndService() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            vars: { secret_key: wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY }
            secrets: [secret_key]
            requests:
              - name: signed
                url: /echo
                auth:
                  aws_sigv4:
                    region: eu-west-3
                    service: execute-api
                    access_key_id: AKIDEXAMPLE
                    secret_access_key: "{{ secret_key }}"
                    session_token: session-token-value-1
                expect:
                  jsonpath:
                    $.headers.Authorization:
                      matches: '^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/[0-9]{8}/eu-west-3/execute-api/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$'
                    $['headers']['X-Amz-Date']: { matches: '^[0-9]{8}T[0-9]{6}Z$' }
              - name: signed, with a body and a query
                method: POST
                url: /echo
                query: { b: "2", a: "1" }
                body: "{}"
                auth:
                  aws_sigv4: { region: eu-west-3, service: s3, access_key_id: AKIDEXAMPLE, secret_access_key: "{{ secret_key }}" }
                expect:
                  jsonpath:
                    $.raw_query: a=1&b=2
                    # Every field signed is sent: none that libcurl 7.88 would sign while removing it.
                    $.headers.Authorization: { not: { matches: 'SignedHeaders=[^,]*(expect|content-type)' } }
            """
        let result = try await Self.run(yaml, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(describe(request))") }
        let sent = result.requests[0].requestHeaders
        #expect(sent.contains { $0.name.lowercased() == "x-amz-security-token" && $0.value == Redactor.mask }, "\(sent)")
        #expect(!(result.requests[0].responseBody ?? "").contains("wJalrXUtnFEMI"))
    }

    @Test func netrcGivesTheHostsCredentials() async throws {
        let server = try await MockServer.start(.init(username: "netrc-user", password: "netrc-pass"))
        defer { server.stop() }
        let yaml = """
            requests:
              - name: from the file
                url: /basic
                auth: { netrc: { file: ci.netrc } }
                expect: { jsonpath: { $.user: netrc-user } }
              - name: a host the file does not name, optional
                url: "http://localhost:{{ port }}/basic"
                auth: { netrc: { file: ci.netrc, optional: true } }
                expect: { status: 401 }
            """
        let netrc = "machine 127.0.0.1 login netrc-user password netrc-pass\n"
        let result = try await Self.run(yaml, server: server, files: ["ci.netrc": Array(netrc.utf8)], assignments: ["port=\(server.port)"])
        for request in result.requests { #expect(request.outcome == .passed, "\(describe(request))") }
        // Sonde never read the file, yet what libcurl sent from it is masked.
        let sent = result.requests[0].requestHeaders
        #expect(sent.contains { $0.name == "Authorization" && $0.value == "Basic \(Redactor.mask)" }, "\(sent)")
    }

    @Test func resolveConnectToAndProxyChooseWhereRequestsGo() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            requests:
              - name: resolved
                url: "http://api.sonde.test:{{ port }}/echo"
                resolve: "api.sonde.test:{{ port }}:127.0.0.1"
                expect: { jsonpath: { $.authority: "api.sonde.test:{{ port }}" } }
              - name: connected elsewhere
                url: "http://shop.sonde.test/echo"
                connect_to: ["shop.sonde.test:80:127.0.0.1:{{ port }}"]
                expect: { jsonpath: { $.authority: shop.sonde.test } }
              - name: through a proxy
                url: "http://proxied.sonde.test/echo/via"
                proxy: "http://proxy-user:proxy-pass-42@127.0.0.1:{{ port }}"
                expect: { jsonpath: { $.authority: proxied.sonde.test } }
              - name: resolved, and the server closes the connection
                url: "http://api.sonde.test:{{ port }}/respond"
                query: { header: "Connection: close" }
                resolve: "api.sonde.test:{{ port }}:127.0.0.1"
              - name: the resolve entry is gone
                url: "http://api.sonde.test:{{ port }}/echo"
                timeout: 5s
            """
        let result = try await Self.run(yaml, server: server, assignments: ["port=\(server.port)"])
        for request in result.requests.prefix(4) { #expect(request.outcome == .passed, "\(describe(request))") }
        // The per-request proxy's credentials are secrets, as --proxy's are: in what was sent and what the proxy echoed.
        let proxied = result.requests[2]
        #expect(proxied.requestHeaders.contains { $0.name == "Proxy-Authorization" && $0.value == "Basic \(Redactor.mask)" }, "\(proxied.requestHeaders)")
        #expect(!(proxied.responseBody ?? "").contains("cHJveHktdXNlcjpwcm94eS1wYXNzLTQy"), "\(proxied.responseBody ?? "")")
        #expect(result.requests[4].outcome == .error, "\(describe(result.requests[4]))")
        #expect(result.requests[4].problem?.kind == .dns, "\(describe(result.requests[4]))")
    }

    @Test func theWaysARequestIsWrittenOnTheWire() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            defaults:
              user_agent: "smoke/2.0"
            requests:
              - name: as is
                url: /echo/a/../b
                path_as_is: true
                expect: { jsonpath: { $.path: /echo/a/../b, "$['headers']['User-Agent']": smoke/2.0 } }
              - name: resolved
                url: /echo/a/../b
                expect: { jsonpath: { $.path: /echo/b } }
              - name: not compressed
                url: /echo
                compressed: false
                user_agent: other/1
                expect: { jsonpath: { "$['headers']['Accept-Encoding']": { exists: false }, "$['headers']['User-Agent']": other/1 } }
              - name: compressed
                url: /echo
                expect: { jsonpath: { "$['headers']['Accept-Encoding']": { contains: gzip } }, version: "1.1" }
                capture: { version: { version: true } }
              - name: HTTP/1.0
                url: /echo
                http_version: 1.0
                expect: { version: { one_of: ["1.0", "1.1"] } }
              - name: IPv4 only
                url: /echo
                ipv4: true
              - name: IPv6 only, to an IPv4 address
                url: /echo
                ipv6: true
                timeout: 5s
              - name: slowly
                method: POST
                url: /echo
                body: "{{ big }}"
                limit_rate: 16KiB
                expect: { duration: { ">": 1s } }
            """
        let big = String(repeating: "x", count: 20_000)
        let result = try await Self.run(yaml, server: server, assignments: ["big=\(big)"])
        for request in result.requests where request.name != "IPv6 only, to an IPv4 address" {
            #expect(request.outcome == .passed, "\(describe(request)) \(request.responseBody?.prefix(300) ?? "")")
        }
        #expect(result.requests[6].outcome == .error, "\(describe(result.requests[6]))")
    }
}
