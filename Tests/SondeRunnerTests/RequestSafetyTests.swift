import Foundation
import SondeCore
import SondeMock
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// A value that came from a server never steers a request where the collection did not
/// mean: no injected header or request, no other protocol, no file.
@Suite(.serialized)
struct RequestSafetyTests {
    static func okResponse(_ body: String = "{}") -> [UInt8] {
        Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
    }

    /// A capture holding CR LF (or NUL), used in a header value or name, the URL, a query or
    /// form name: the request is an error that names what it was written as, and nothing reaches the wire.
    @Test(arguments: [
        ("headers: { X-Next: \"{{ evil }}\" }", "the value of header 'X-Next' contains a line break"),
        ("headers: { \"{{ evil }}\": x }", "is not a valid field name"),
        ("query: { \"{{ evil }}\": x }", #"a query field's name (written "{{ evil }}") renders to text with a line break"#),
        ("method: POST\n    form: { \"{{ evil }}\": x }", #"a form field's name (written "{{ evil }}") renders to text with a line break"#),
        ("headers: { X-Nul: \"{{ nul }}\" }", "the value of header 'X-Nul' contains a NUL character"),
        ("headers: { X-Vt: \"{{ vt }}\" }", "the value of header 'X-Vt' contains the control character U+000B"),
    ])
    func aLineBreakOrNULFromAServerIsNeverSent(_ field: String, _ message: String) async throws {
        let raw = try RawServer(answering: Self.okResponse(#"{"evil":"a\r\nX-Injected: 1\r\n\r\nGET /smuggled HTTP/1.1","nul":"a\u0000b","vt":"a\u000bb"}"#))
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - name: source
                url: \(raw.baseURL)/source
                capture: { evil: $.evil, nul: $.nul, vt: $.vt }
              - name: victim
                url: \(raw.baseURL)/victim
                \(field)
            """, baseURL: raw.baseURL)
        let victim = result.requests[1]
        #expect(victim.outcome == .error)
        #expect(victim.problem?.message.contains(message) == true, "\(victim.problem?.message ?? "")")
        #expect(raw.requests.count == 1, "only the first request reached the server")
    }

    @Test(arguments: ["/x\r\nHost: evil", "/x\u{0}y", "/x\ny"])
    func aURLWithALineBreakOrNULIsNeverSent(_ path: String) async throws {
        let raw = try RawServer(answering: Self.okResponse(JSONValue.object(JSONObject([(key: "next", value: .string(path))])).jsonText))
        defer { raw.stop() }
        let result = try await runCollection("""
            base_url: \(raw.baseURL)
            requests:
              - name: source
                url: /source
                capture: { next: $.next }
              - name: follow
                url: "{{ next }}"
            """, baseURL: raw.baseURL)
        #expect(result.requests[1].outcome == .error)
        #expect(result.requests[1].problem?.message.contains(#"the url (written "{{ next }}") renders to text with a"#) == true, "\(result.requests[1].problem?.message ?? "")")
        #expect(raw.requests.count == 1)
    }

    @Test(arguments: ["file:///etc/passwd", "gopher://127.0.0.1:70/x", "ftp://127.0.0.1/x", "dict://127.0.0.1/x"])
    func aCapturedURLOfAnotherProtocolIsAnError(_ target: String) async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            requests:
              - name: source
                url: "\(VerdictTests.respond(JSONValue.object(JSONObject([(key: "next", value: .string(target))])).jsonText))"
                capture: { next: $.next }
              - name: follow
                url: "{{ next }}"
            """, baseURL: server.baseURL)
        #expect(result.requests[1].outcome == .error)
        #expect(result.requests[1].problem?.message.contains("only http and https are sent") == true, "\(result.requests[1].problem?.message ?? "")")
    }

    @Test func aResponseWithNoHTTPStatusNeverPasses() async throws {
        let raw = try RawServer(answering: Array("HTTP/1.1 000 Nothing\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8))
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - name: no status
                url: \(raw.baseURL)/
              - name: no status, with expectations that hold
                url: \(raw.baseURL)/
                expect: { body: ok }
            """, baseURL: raw.baseURL)
        for request in result.requests {
            #expect(request.outcome != .passed, "\(describe(request))")
        }
    }

    @Test func aRelativeURLWhoseQueryHoldsASchemeStillTakesBaseURL() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}/echo"
            requests:
              - name: relative
                url: "go?next=http://elsewhere.invalid/x"
                expect: { jsonpath: { $.path: /echo/go, $.query.next: "http://elsewhere.invalid/x" } }
            """, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .passed, "\(describe(result.requests[0]))")
    }

    /// A captured value placed after the URL's start is one path segment or one query
    /// component (RFC 6570 simple expansion): it cannot add segments, a query, a fragment or
    /// parameters; `.` and `..` are refused; a capture that is the whole URL is a link to follow.
    @Test func aCapturedValueCannotReshapeTheURL() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let next = "http://127.0.0.1:\(server.port)/echo/next"
        let body = JSONValue.object(JSONObject([
            (key: "id", value: .string("../admin?role=root#x")), (key: "q", value: .string("a&b=c+d")), (key: "dots", value: .string("..")),
            (key: "next", value: .string(next)), (key: "plain", value: .string("42")),
        ])).jsonText
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            requests:
              - name: source
                url: "\(VerdictTests.respond(body))"
                capture: { id: $.id, q: $.q, dots: $.dots, next: $.next, plain: $.plain }
              - name: segment and query
                url: "/echo/users/{{ id }}?q={{ q }}&n={{ plain }}"
                expect:
                  jsonpath:
                    $.target: "/echo/users/..%2Fadmin%3Frole%3Droot%23x?q=a%26b%3Dc%2Bd&n=42"
                    $.query.q: "a&b=c+d"
              - name: already encoded by the collection
                url: "/echo/x?q={{ q | urlencode }}"
                expect: { jsonpath: { $.query.q: "a&b=c+d" } }
              - name: dot segment
                url: "/echo/a/{{ dots }}/b"
              - name: whole URL
                url: "{{ next }}"
                expect: { jsonpath: { $.path: /echo/next } }
            """, baseURL: server.baseURL)
        for index in [1, 2, 4] { #expect(result.requests[index].outcome == .passed, "\(describe(result.requests[index]))") }
        #expect(result.requests[3].outcome == .error)
        #expect(result.requests[3].problem?.message.contains("came from a response and would move up the URL's path") == true, "\(result.requests[3].problem?.message ?? "")")
    }

    /// A file to upload is never named by a response: a path that reads a capture, directly
    /// or through a variable, is a load error at its position.
    @Test func aResponseCannotChooseAFileToSend() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("c.yaml").path
        try """
            requests:
              - name: source
                url: http://h/x
                capture: { path: $.path }
              - name: upload
                method: POST
                url: http://h/upload
                multipart:
                  a: { file: "{{ path }}" }
            """.write(toFile: file, atomically: true, encoding: .utf8)
        #expect {
            _ = try CollectionLoader(options: VariableOptions()).load(file: file)
        } throws: { error in
            let diagnostics = (error as? DiagnosticsError)?.diagnostics ?? []
            return diagnostics.count == 1 && diagnostics[0].location.line == 9 && diagnostics[0].location.column == 18
                && diagnostics[0].message.contains("cannot read 'path', which a response sets")
        }
    }

    /// Without a status expectation, only 200–399 passes: a final informational status does not.
    @Test func aFinalInformationalStatusFailsTheImplicitRule() async throws {
        let raw = try RawServer(answering: Array("HTTP/1.1 101 Switching Protocols\r\nConnection: close\r\n\r\n".utf8))
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - name: informational
                url: \(raw.baseURL)/x
            """, baseURL: raw.baseURL)
        let request = result.requests[0]
        #expect(request.outcome != .passed, "\(describe(request))")
    }

    /// A relative token_url is joined with base_url, as a request's url is.
    @Test func aRelativeTokenURLTakesBaseURL() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars: { secret: s3cret }
            secrets: [secret]
            requests:
              - name: protected
                url: /oauth/protected
                auth: { oauth2_client_credentials: { token_url: /oauth/token, client_id: sonde, client_secret: "{{ secret }}" } }
            """, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .passed, "\(describe(result.requests[0]))")
    }
}
