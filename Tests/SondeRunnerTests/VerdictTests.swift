import Foundation
import SondeCore
import SondeHTTP
import SondeMock
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// Verdicts that can be trusted, on the real stack (libcurl against SondeMock on loopback):
/// comparisons with JSON types, requests sent as written, responses read as sent, and
/// variables that keep their types.
@Suite(.serialized)
struct VerdictTests {
    func run(
        _ yaml: String, server: MockServer, assignments: [String] = [], files: [String: [UInt8]] = [:], keepExchanges: Bool = true
    ) async throws -> RunResult {
        try await runCollection(yaml, baseURL: server.baseURL, assignments: assignments, files: files, keepExchanges: keepExchanges)
    }

    /// `/respond` answering `body` (bytes) with `contentType` and extra header lines.
    static func respond(_ body: [UInt8], contentType: String? = "application/json", headers: [String] = []) -> String {
        var query = "body_base64=" + PercentEncoding.encode(Data(body).base64EncodedString())
        if let contentType { query += "&content_type=" + PercentEncoding.encode(contentType) }
        for header in headers { query += "&header=" + PercentEncoding.encode(header) }
        return "/respond?" + query
    }

    static func respond(_ text: String, contentType: String? = "application/json", headers: [String] = []) -> String {
        respond(Array(text.utf8), contentType: contentType, headers: headers)
    }

    /// Each check's verdict by subject, for one request.
    static func verdicts(_ request: RequestResult) -> [String: Bool] {
        Dictionary(request.checks.map { ($0.subject, $0.passed) }, uniquingKeysWith: { first, _ in first })
    }

    static func describe(_ request: RequestResult) -> String { SondeRunnerTests.describe(request) }

    // MARK: comparisons

    @Test func jsonValuesCompareWithTheirTypes() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let body = #"{"count":"7","ok":"true","n":7,"f":1.0,"big":9007199254740993,"items":["7","8"],"numbers":[7,8],"s":"a\r\nb"}"#
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: typed
                url: "\(Self.respond(body, headers: ["X-Count: 42", "X-Emoji: thumbs"]))"
                expect:
                  jsonpath:
                    $.count: 7
                    $.ok: true
                    $.n: "7"
                    $.f: 1
                    $.big: { ">": 9007199254740992 }
                    $.items: { contains: 7 }
                    $.numbers: { contains: 7 }
                    $.items[*]: { each: { one_of: [7, 8] } }
                    $.numbers[*]: { each: { one_of: [7, 8] } }
                    $.s: { length: 4, not_equals: "a\\nb" }
                  headers:
                    X-Count: { equals: 42, ">": 10, "<=": 42 }
                  body: { length: \(body.unicodeScalars.count) }
            """, server: server)
        let typed = result.requests[0]
        let verdicts = Self.verdicts(typed)
        #expect(verdicts["$.count"] == false)
        #expect(verdicts["$.ok"] == false)
        #expect(verdicts["$.n"] == false)
        #expect(verdicts["$.f"] == true)
        #expect(verdicts["$.big"] == true)
        #expect(verdicts["$.items"] == false)
        #expect(verdicts["$.numbers"] == true)
        #expect(verdicts["$.items[*]"] == false)
        #expect(verdicts["$.numbers[*]"] == true)
        #expect(verdicts["$.s"] == true)
        #expect(verdicts["header X-Count"] == true)
        #expect(verdicts["body"] == true)
        #expect(typed.checks.first { $0.subject == "$.count" }?.message == #"expected number 7, got string "7""#)
    }

    @Test func integersBeyondTwoToTheFiftyThirdCompareExactly() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: big
                url: "\(Self.respond(#"{"id":9007199254740993,"huge":123456789012345678901234567890}"#))"
                expect:
                  jsonpath:
                    $.id: 9007199254740993
                    $.huge: { ">": 123456789012345678901234567889, "<": 123456789012345678901234567891 }
              - name: off by one
                url: "\(Self.respond(#"{"id":9007199254740993,"huge":123456789012345678901234567890}"#))"
                expect:
                  jsonpath:
                    $.id: 9007199254740992
                    $.huge: { "<=": 123456789012345678901234567889 }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        #expect(Self.verdicts(result.requests[1]) == ["$.id": false, "$.huge": false])
    }

    @Test func aFailingDurationCheckSaysItsUnit() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: slow
                url: /slow?ms=20
                expect: { duration: { "<": 1ms } }
            """, server: server)
        let check = try #require(result.requests[0].checks.first)
        #expect(check.expected == "< 1 ms")
        #expect(check.actual.hasSuffix(" ms"), "\(check.actual)")
        #expect(check.message?.hasPrefix("expected < 1 ms, got ") == true)
        #expect(check.message?.hasSuffix(" ms") == true, "\(check.message ?? "")")
    }

    // MARK: requests sent as written

    @Test func aBodyGoesOutWithTheContentTypeOfItsKindOrNone() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: raw
                method: POST
                url: /echo
                body: '{"not": "a form"}'
                expect: { jsonpath: { "$.headers['Content-Type']": { exists: false }, $.body: '{"not": "a form"}' } }
              - name: raw with its own type
                method: POST
                url: /echo
                headers: { Content-Type: text/csv }
                body: "a,b"
                expect: { jsonpath: { "$.headers['Content-Type']": text/csv } }
              - name: json
                method: POST
                url: /echo
                json: { a: 1 }
                expect: { jsonpath: { "$.headers['Content-Type']": application/json } }
              - name: json with its own type
                method: POST
                url: /echo
                headers: { content-type: application/merge-patch+json }
                json: { a: 1 }
                expect: { jsonpath: { "$.header_list[?@[0] == 'content-type' || @[0] == 'Content-Type'][1]": [application/merge-patch+json] } }
              - name: form
                method: POST
                url: /echo
                form: { a: "1" }
                expect: { jsonpath: { "$.headers['Content-Type']": application/x-www-form-urlencoded } }
              - name: multipart
                method: POST
                url: /echo
                multipart: { a: "1" }
                expect: { jsonpath: { "$.headers['Content-Type']": { starts_with: "multipart/form-data; boundary=" } } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func verboseShowsEveryHeaderThatWasReallySent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: set cookie
                url: /cookies/set?session=abc
              - name: post
                method: POST
                url: /echo
                headers: { X-Mine: "1" }
                json: { a: 1 }
                capture: { arrived: $.header_list }
            """, server: server)
        let post = result.requests[1]
        #expect(post.outcome == .passed, "\(Self.describe(post))")
        let sent = post.requestHeaders.map { $0.name.lowercased() }
        for name in ["host", "user-agent", "accept-encoding", "cookie", "content-length", "content-type", "x-mine", "accept"] {
            #expect(sent.contains(name), "\(name) is missing from \(sent)")
        }
        #expect(post.requestHeaders.first { $0.name.lowercased() == "cookie" }?.value == "session=abc")
        #expect(post.requestHeaders.first { $0.name.lowercased() == "content-length" }?.value == "7")
        #expect(post.requestBody == #"{"a":1}"#)
    }

    @Test func aHeaderWithAnEmptyValueIsSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { nothing: "" }
            requests:
              - name: empty
                url: /echo
                headers: { X-Trace: "", X-Also: "{{ nothing }}", X-Blank: " \t", User-Agent: "  " }
                expect: { jsonpath: { "$.headers['X-Trace']": "", "$.headers['X-Also']": "", "$.headers['X-Blank']": "", "$.headers['User-Agent']": "" } }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
    }

    @Test func templatesWorkInNames() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { team: core, field: colour }
            requests:
              - name: names
                method: POST
                url: /echo
                headers: { "X-{{ team }}": "yes" }
                query: { "{{ field }}": red }
                json: { "{{ field }}": blue, "{{ team }}-size": 3 }
                expect:
                  jsonpath:
                    "$.headers['X-core']": "yes"
                    $.query.colour: red
                    $.json: { equals: { colour: blue, core-size: 3 } }
              - name: form names
                method: POST
                url: /echo
                form: { "{{ field }}": green }
                expect: { jsonpath: { $.body: colour=green } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func aDefaultGivesWayToAFieldOfTheSameRenderedName() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { h: x-tenant, q: limit }
            defaults:
              headers: { X-Tenant: default, Content-Type: application/json }
              query: { limit: 1, page: 1 }
            requests:
              - name: templated names
                url: /echo
                headers: { "{{ h }}": mine }
                query: { "{{ q }}": 2 }
                expect:
                  jsonpath:
                    "$.header_list[?@[0] == 'X-Tenant' || @[0] == 'x-tenant'][1]": [mine]
                    $.raw_query: page=1&limit=2
              - name: a default type does not relabel a form
                method: POST
                url: /echo
                form: { a: "1" }
                expect: { jsonpath: { "$.headers['Content-Type']": application/x-www-form-urlencoded } }
              - name: nor a multipart body
                method: POST
                url: /echo
                multipart: { a: "1" }
                expect: { jsonpath: { "$.headers['Content-Type']": { starts_with: "multipart/form-data; boundary=" } } }
              - name: a json body takes it
                method: POST
                url: /echo
                json: { a: 1 }
                expect: { jsonpath: { "$.headers['Content-Type']": application/json } }
              - name: a request's own multipart type
                method: POST
                url: /echo
                headers: { Content-Type: multipart/mixed }
                multipart: { a: "1" }
                expect: { jsonpath: { "$.headers['Content-Type']": { starts_with: "multipart/mixed; boundary=" } } }
              - name: a query after a bare question mark
                url: /echo?
                query: { x: "1" }
                expect: { jsonpath: { $.raw_query: limit=1&page=1&x=1 } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func anExplicitCookieJoinsTheJarsInOneHeader() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: fill the jar
                url: /cookies/set?sess=s1
              - name: both
                url: /echo
                headers: { Cookie: k=v }
                expect: { jsonpath: { "$.header_list[?@[0] == 'Cookie' || @[0] == 'cookie'][1]": { length: 1 }, $.headers.Cookie: { contains: k=v } } }
              - name: both read back
                url: /cookies
                headers: { Cookie: k=v }
                expect: { jsonpath: { $.cookies.sess: s1, $.cookies.k: v } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func repeatedFieldsAreSentOncePerValueInOrder() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: query
                url: /echo
                query: { tag: [red, blue], n: 1 }
                expect: { jsonpath: { $.raw_query: tag=red&tag=blue&n=1 } }
              - name: form
                method: POST
                url: /echo
                form: { id: [1, 2] }
                expect: { jsonpath: { $.body: id=1&id=2 } }
              - name: headers
                url: /echo
                headers: { X-Tag: [a, b] }
                expect: { jsonpath: { "$.header_list[?@[0] == 'X-Tag'][1]": [a, b] } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func multipartNamesAndFileNamesCannotBreakThePartHeader() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { upload: data.json }
            requests:
              - name: hostile names
                method: POST
                url: /echo
                multipart:
                  'a"b': "1"
                  file:
                    file: "{{ upload }}"
                    filename: "x\\"y\\r\\nX-Injected: 1.json"
                  plain:
                    file: notes.txt
                  nonascii:
                    file: notes.txt
                    filename: "résumé.txt"
                capture: { body: $.body }
                expect:
                  jsonpath:
                    $.body:
                      contains: 'name="a%22b"'
                      not_contains: "\\r\\nX-Injected"
                      matches: 'name="file"; filename="x%22y%0D%0AX-Injected: 1.json"\\r\\nContent-Type: application/json\\r\\n\\r\\n\\{"k": 1\\}'
              - name: inferred types
                method: POST
                url: /echo
                multipart: { plain: { file: notes.txt }, nonascii: { file: notes.txt, filename: "résumé.txt" } }
                expect:
                  jsonpath:
                    $.body:
                      contains: "filename=\\"notes.txt\\"\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello"
                      matches: 'filename="résumé.txt"\\r\\nContent-Type: text/plain'
            """, server: server, files: ["data.json": Array(#"{"k": 1}"#.utf8), "notes.txt": Array("hello".utf8)])
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func baseURLAndURLJoinWithExactlyOneSlash() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let cases: [(base: String, url: String, path: String, query: String)] = [
            ("{{ base_url }}/echo/v2", "pods", "/echo/v2/pods", ""),
            ("{{ base_url }}/echo/v2/", "/pods", "/echo/v2/pods", ""),
            ("{{ base_url }}/echo/v2//", "//pods", "/echo/v2/pods", ""),
            ("{{ base_url }}/echo/v2", "pods?limit=1#top", "/echo/v2/pods", "limit=1"),
            ("{{ base_url }}/echo/v2?key=k", "pods?limit=1", "/echo/v2/pods", "limit=1&key=k"),
            ("http://nowhere.invalid/base", "{{ base_url }}/echo/absolute", "/echo/absolute", ""),
            ("{{ base_url }}/echo", "a b/é", "/echo/a%20b/%C3%A9", ""),
            ("{{ base_url }}/echo", "q?x=a b&y=\"é\"", "/echo/q", "x=a%20b&y=%22%C3%A9%22"),
            ("{{ base_url }}/echo/v2?key=k", "?x=1", "/echo/v2", "x=1&key=k"),
            ("{{ base_url }}/echo/v2?key=k#frag", "pods?x=1", "/echo/v2/pods", "x=1&key=k"),
            ("{{ base_url }}/echo/v2/api", "../../x/./y", "/echo/x/y", ""),
            // A backslash in the path is a slash, as the URL standard reads http and https.
            ("{{ base_url }}/echo/v2/api", #"\x\y?q=a\b"#, "/echo/v2/api/x/y", #"q=a\b"#),
        ]
        for (base, url, path, query) in cases {
            let result = try await run("""
                base_url: "\(base)"
                requests:
                  - name: joined
                    url: '\(url)'
                    expect: { jsonpath: { $.path: { equals: '\(path)' }, $.raw_query: '\(query)' } }
                """, server: server)
            #expect(result.requests[0].outcome == .passed, "\(base) + \(url): \(Self.describe(result.requests[0]))")
        }
    }

    // MARK: redirects

    @Test(arguments: [
        // (method, status, the method that arrives, whether the body arrives)
        ("DELETE", 303, "GET", false), ("POST", 303, "GET", false), ("PUT", 303, "GET", false), ("HEAD", 303, "HEAD", false),
        ("POST", 301, "GET", false), ("POST", 302, "GET", false), ("PUT", 301, "PUT", true), ("PATCH", 302, "PATCH", true),
        ("POST", 307, "POST", true), ("POST", 308, "POST", true), ("DELETE", 307, "DELETE", true), ("PUT", 308, "PUT", true),
    ])
    func redirectsChangeTheMethodAsRFC9110Says(_ method: String, _ status: Int, _ arrives: String, _ keepsBody: Bool) async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        // HEAD has no body to read the echo from; its status says it arrived at /echo.
        let expectation = method == "HEAD"
            ? "{ status: 200, redirects: { length: 1 }, url: { ends_with: /echo } }"
            : "{ status: 200, jsonpath: { $.method: \(arrives), $.body: \(keepsBody ? #""{\"a\":1}""# : #""""#), \"$.headers['Content-Type']\": { exists: \(keepsBody) } } }"
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: redirected
                method: \(method)
                url: /redirect?status=\(status)&to=/echo
                \(method == "HEAD" ? "" : "json: { a: 1 }")
                expect: \(expectation)
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(method) \(status): \(Self.describe(result.requests[0]))")
        #expect(result.requests[0].redirects.map(\.status) == [status])
    }

    @Test func theChainIsRecordedCheckedAndCaptured() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: two hops
                url: /hops/2
                capture: { landed_on: { url: true } }
                expect: { redirects: { length: 2 }, url: { ends_with: /echo } }
              - name: use the capture
                url: /echo
                query: { landed: "{{ landed_on }}" }
                expect: { jsonpath: { $.query.landed: { ends_with: /echo, starts_with: "http://127.0.0.1:" } } }
              - name: too many
                url: /hops/3
                max_redirects: 2
              - name: not followed
                url: /hops/1
                follow_redirects: false
                expect: { status: 302, redirects: { length: 0 }, url: { ends_with: /hops/1 } }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        #expect(result.requests[1].outcome == .passed, "\(Self.describe(result.requests[1]))")
        let hops = result.requests[0].redirects
        #expect(hops.map(\.status) == [302, 302])
        #expect(hops.first?.url == "\(server.baseURL)/hops/2")
        #expect(hops.first?.location == "\(server.baseURL)/hops/1")
        #expect(result.requests[0].finalURL == "\(server.baseURL)/echo")
        #expect(result.requests[0].recorded(withShape: true).finalURL == "\(server.baseURL)/echo")
        #expect(result.requests[2].outcome == .error)
        #expect(result.requests[2].problem?.message == "more than 2 redirects (max_redirects): \(server.baseURL)/hops/3 -> 302 -> \(server.baseURL)/hops/2 -> 302 -> \(server.baseURL)/hops/1 -> 302 -> \(server.baseURL)/echo")
        #expect(result.requests[2].redirects.count == 3, "the chain is recorded with the error")
        #expect(result.requests[3].outcome == .passed, "\(Self.describe(result.requests[3]))")
    }

    @Test func credentialsStayWithTheirOriginUnlessTrusted() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        // 127.0.0.1 and localhost are two origins on one server.
        let other = "http://localhost:\(server.port)/echo"
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: same origin
                url: /redirect?to=/echo
                headers: { Authorization: Bearer abc, Cookie: c=1 }
                expect: { jsonpath: { "$.headers.Authorization": Bearer abc, "$.headers.Cookie": c=1 } }
              - name: other origin
                url: /redirect?to=\(PercentEncoding.encode(other))
                headers: { Authorization: Bearer abc, Cookie: c=1, X-Kept: yes }
                auth: { basic: { username: u, password: p } }
                expect: { jsonpath: { "$.headers.Authorization": { exists: false }, "$.headers.Cookie": { exists: false }, "$.headers['X-Kept']": "yes" } }
              - name: other origin trusted
                url: /redirect?to=\(PercentEncoding.encode(other))
                location_trusted: true
                headers: { Authorization: Bearer abc, Host: "127.0.0.1:\(server.port)" }
                expect: { jsonpath: { "$.headers.Authorization": Bearer abc, "$.authority": "localhost:\(server.port)" } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
        // -v shows what each hop went out with.
        let hop = try #require(result.requests[1].redirectHeaders.first)
        #expect(hop.contains { $0.name == "Host" && $0.value == "localhost:\(server.port)" }, "\(hop)")
        #expect(!hop.contains { $0.name == "Authorization" })
        #expect(hop.contains { $0.name == "X-Kept" })
    }

    @Test func cookiesSetAlongTheChainStayInTheJar() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: redirect that sets a cookie
                url: /redirect?to=/echo&cookie=hop%3D1
                expect: { jsonpath: { "$.headers.Cookie": hop=1 } }
              - name: later request
                url: /cookies
                expect: { jsonpath: { $.cookies.hop: "1" } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func aHostHeaderDoesNotMoveCookiesToAnotherHost() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: a virtual host
                url: /echo
                headers: { Host: api.internal }
              - name: login on 127.0.0.1
                url: /cookies/set?jar=JARSECRET
              - name: another host
                url: http://localhost:\(server.port)/echo
                expect: { jsonpath: { $.headers.Cookie: { exists: false } } }
              - name: the same host
                url: /echo
                expect: { jsonpath: { $.headers.Cookie: jar=JARSECRET } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func framingHeadersAndBodilessDefaultsAreNotSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { name: content-length }
            defaults: { headers: { Content-Type: application/json } }
            requests:
              - name: a templated framing header
                method: POST
                url: /echo
                headers: { "{{ name }}": "3" }
                body: abcdef
              - name: no body, no default type
                url: /echo
                expect: { jsonpath: { "$.headers['Content-Type']": { exists: false } } }
            """, server: server)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message.contains("libcurl frames the body") == true, "\(result.requests[0].problem?.message ?? "")")
        #expect(result.requests[1].outcome == .passed, "\(Self.describe(result.requests[1]))")
        #expect(server.state.totalRequests == 1)
    }

    @Test func namesThatRenderAlikeAreAnError() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { a: k, b: k }
            requests:
              - name: duplicate keys
                method: POST
                url: /echo
                json: { "{{ a }}": 1, "{{ b }}": 2 }
            """, server: server)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message == #"template: two members of this object render to the name "k" (one is "{{ b }}")"#)
        #expect(server.state.totalRequests == 0)
    }

    @Test func timeoutCoversTheWholeChain() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        // A quick first hop, then two of 400 ms: each within the timeout, the chain not.
        let slowHop = "/redirect?to=" + PercentEncoding.encode("/redirect?ms=400&to=" + PercentEncoding.encode("/redirect?ms=400&to=/echo"))
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: three hops, two slow
                url: "\(slowHop)"
                timeout: 600ms
            """, server: server)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message.contains("timed out after 600ms (timeout, for the whole chain) while following redirects") == true, "\(result.requests[0].problem?.message ?? "")")
        #expect(!result.requests[0].redirects.isEmpty)
    }

    @Test func locationsAreReadAsBrowsersReadThem() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: a blank and non-ASCII in the location
                url: "/redirect?to=\(PercentEncoding.encode("/echo/a b/é"))"
                expect: { jsonpath: { $.path: { matches: '(?i)^/echo/a%20b/%C3%A9$' } } }
              - name: backslashes
                url: "/redirect?to=\(PercentEncoding.encode("http:\\\\127.0.0.1:\(server.port)\\echo\\x"))"
                expect: { jsonpath: { $.path: /echo/x } }
              - name: dot segments
                url: "/redirect?to=\(PercentEncoding.encode("/echo/a/../b"))"
                expect: { jsonpath: { $.path: /echo/b }, url: { ends_with: /echo/b } }
              - name: backslashes in a relative location, and encoded dots
                url: "/redirect?to=\(PercentEncoding.encode("\\echo\\a/..\\c/%2e%2E/d?x\\y"))"
                expect: { jsonpath: { $.path: /echo/d, $.raw_query: 'x\\y' } }
              - name: a blank in a relative query, a tab anywhere
                url: "/redirect?to=\(PercentEncoding.encode("/ec\tho/é?q=a b"))"
                expect: { jsonpath: { $.target: "/echo/%C3%A9?q=a%20b" } }
              - name: the base scheme without slashes is relative
                url: "/redirect?to=\(PercentEncoding.encode("http:/echo/z"))"
                expect: { jsonpath: { $.path: /echo/z } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func aRedirectToAnotherProtocolIsNotFollowed() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: to a file
                url: /redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd
            """, server: server)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message.hasPrefix(#"a redirect was not followed: "file:///etc/passwd" uses file:, and only http and https are sent"#) == true, "\(result.requests[0].problem?.message ?? "")")
    }

    // MARK: responses read as sent

    @Test func anEmptyCookieIsCapturedAsEmptyText() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: set
                url: /cookies/set?empty=
                capture: { c: { cookie: empty } }
              - name: read
                url: /echo
                query: { got: "[{{ c }}]" }
                expect: { jsonpath: { $.query.got: "[]" } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(Self.describe(request))") }
    }

    @Test func cookiesAreCapturedFromRedirectsAndDeletionsAreNotValues() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: login answers 302 with the session
                url: /redirect?to=/echo&cookie=session%3Dabc
                capture: { session: { cookie: session } }
              - name: use it
                url: /echo
                query: { s: "{{ session }}" }
                expect: { jsonpath: { $.query.s: abc } }
              - name: deleted
                url: "/cookies/set?gone=bye%3B%20Max-Age%3D0"
                capture: { gone: { cookie: gone } }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        #expect(result.requests[1].outcome == .passed, "\(Self.describe(result.requests[1]))")
        // Where the capture is written, as a failed expectation says (collection.yaml, line 12, column 16).
        #expect(result.requests[2].problem?.message.hasPrefix("capture 'gone' (") == true)
        #expect(result.requests[2].problem?.message.hasSuffix(":12:16): the response deletes the cookie 'gone' (Max-Age=0)") == true, "\(result.requests[2].problem?.message ?? "")")
    }

    @Test func aFoldedResponseHeaderIsOneField() async throws {
        let raw = try RawServer(answering: Array("HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".utf8))
        defer { raw.stop() }
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            requests:
              - name: folded
                url: \(raw.baseURL)/
                expect: { headers: { X-Fold: a b } }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        #expect(!result.requests[0].responseHeaders.contains { $0.name.hasPrefix(" ") })
    }

    @Test func textsCompareCodePointForCodePoint() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        // "é" as one code point (NFC) and as e + a combining accent (NFD) are different texts.
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { other: "e\\u0301" }
            requests:
              - name: exact
                method: POST
                url: /echo
                headers: { X-A: "e\\u0301" }
                json: { nfc: "\\u00e9", nfd: "e\\u0301", "\\u00e9": 1, "e\\u0301x": 2 }
                expect:
                  jsonpath:
                    $.json.nfc: "\\u00e9"
                    $.json.nfd: "e\\u0301"
                    "$.json['\\u00e9']": 1
                    "$.body": { contains: "\\u00e9" }
              - name: not equal
                url: "\(Self.respond(#"{"nfd":"e\u0301"}"#))"
                expect: { jsonpath: { $.nfd: "\\u00e9" } }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        let check = try #require(result.requests[1].checks.first)
        #expect(!check.passed)
        #expect(check.message == "expected \"é\", got \"é\" (the same letters in other Unicode code points: U+00E9 against U+0065 U+0301)")
    }

    @Test func aStatusCanBeATemplate() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { created: 201 }
            requests:
              - name: templated status
                url: /status/201
                expect: { status: "{{ created }}" }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        // From --var, without a typed default, the value is text: compared as the status line's text.
        let fromText = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - { name: equal, url: /status/201, expect: { status: "{{ want }}" } }
              - { name: not equal, url: /status/201, expect: { status: { not_equals: "{{ want }}" } } }
              - { name: in a list, url: /status/201, expect: { status: { one_of: ["{{ want }}", 204] } } }
            """, server: server, assignments: ["want=201"])
        #expect(fromText.requests.map(\.outcome) == [.passed, .failed, .passed], "\(fromText.requests.map(Self.describe))")
    }

    @Test func numbersAreSentAsWritten() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { limit: 10 }
            requests:
              - name: as written
                method: POST
                url: /echo
                query: { limit: "{{ limit }}" }
                json: { a: 1e300, j: 9007199254740993.0, c: 100000000000000000000000.5, limit: "{{ limit }}", hex: 0x10 }
                expect:
                  jsonpath:
                    $.body: '{"a":1e300,"j":9007199254740993.0,"c":100000000000000000000000.5,"limit":1e3,"hex":16}'
                    $.query.limit: "1e3"
                    $.json.j: { equals: 9007199254740993, ">": 9007199254740992 }
            """, server: server, assignments: ["limit=1e3"])
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
    }

    @Test func aJSONBodyWithAByteOrderMarkIsParsed() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: bom
                url: "\(Self.respond([0xEF, 0xBB, 0xBF] + Array(#"{"a":1}"#.utf8)))"
                expect: { jsonpath: { $.a: 1 }, body: { length: 7 } }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
    }

    @Test(arguments: [
        ("text/plain; charset=ISO-8859-1", [0x63, 0x61, 0x66, 0xE9], "café"),
        ("text/plain; charset=\"windows-1252\"", [0x80, 0x20, 0x35], "€ 5"),
        ("text/plain; charset=utf-16", [0xFF, 0xFE, 0x68, 0x00, 0xE9, 0x00], "hé"),
        ("text/plain; charset=UTF-16BE", [0x00, 0x68, 0x00, 0xE9], "hé"),
        ("text/plain; charset=GB2312", [0xD6, 0xD0, 0xCE, 0xC4], "中文"),
        ("text/plain; charset=GBK", [0xD6, 0xD0, 0xCE, 0xC4], "中文"),
        ("text/plain; charset=Shift_JIS", [0x93, 0xFA, 0x96, 0x7B], "日本"),
        ("text/plain; charset=EUC-JP", [0xC6, 0xFC, 0xCB, 0xDC], "日本"),
        // JSON is UTF-8 whatever its label says (RFC 8259 §11).
        ("application/json; charset=iso-8859-1", Array(#"{"v":"é"}"#.utf8), #"{"v":"é"}"#),
        ("application/problem+json; charset=windows-1252", Array(#"{"v":"€"}"#.utf8), #"{"v":"€"}"#),
        // A bad UTF-16 code unit is one U+FFFD; what follows decodes.
        ("text/plain; charset=utf-16le", [0x6F, 0x00, 0x6B, 0x00, 0x3D, 0xD8, 0x61, 0x00, 0x62, 0x00], "ok\u{FFFD}ab"),
        // Undefined windows-1252 bytes are the C1 controls of their number, as browsers read them.
        ("text/plain; charset=windows-1252", [0x61, 0x81, 0x62], "a\u{81}b"),
        // WHATWG labels: two Content-Types (the last counts), a quoted ';', labels iconv spells otherwise.
        ("text/plain; foo=\"x;charset=utf-16le\"; charset=latin1", [0xE9], "é"),
        ("text/html; charset=ks_c_5601-1987", [0xC7, 0xD1], "한"),
        ("text/html; charset=x-mac-cyrillic", [0x80], "А"),
        ("text/plain; charset=x-user-defined", [0x61, 0x80], "a\u{F780}"),
    ] as [(String, [UInt8], String)])
    func bodiesAreDecodedWithTheirCharset(_ contentType: String, _ bytes: [UInt8], _ text: String) async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: decoded
                url: "\(Self.respond(bytes, contentType: contentType))"
                capture: { all: { regex: '^(.*)$' } }
                expect: { body: { equals: \(yamlQuoted(text)), length: \(text.unicodeScalars.count) } }
              - name: the capture is the decoded text
                url: /echo
                query: { all: "{{ all }}" }
                expect: { jsonpath: { $.query.all: \(yamlQuoted(text)) } }
            """, server: server)
        for request in result.requests { #expect(request.outcome == .passed, "\(contentType): \(Self.describe(request))") }
    }

    @Test func anUnknownCharsetFailsTheCheckThatNeedsTheText() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            requests:
              - name: unknown
                url: "\(Self.respond("abc", contentType: "text/plain; charset=x-no-such"))"
                expect: { status: 200, body: abc }
            """, server: server)
        let check = try #require(result.requests[0].checks.first { $0.subject == "body" })
        #expect(!check.passed)
        #expect(check.message?.contains(#"charset "x-no-such""#) == true, "\(check.message ?? "")")
        #expect(Self.verdicts(result.requests[0])["status"] == true)
    }

    // MARK: variables keep their types

    @Test func textThatOverridesATypedDefaultTakesItsType() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            base_url: "{{ base_url }}"
            vars: { limit: 10, verbose: false, tags: [a], name: x }
            requests:
              - name: typed
                method: POST
                url: /echo
                json: { limit: "{{ limit }}", verbose: "{{ verbose }}", tags: "{{ tags }}", name: "{{ name }}" }
                expect:
                  jsonpath:
                    $.json.limit: { equals: 25, type: number }
                    $.json.verbose: true
                    $.json.tags: [b, c]
                    $.json.name: { equals: "42", type: string }
            """
        let result = try await run(yaml, server: server, assignments: ["limit=25", "verbose=yes", #"tags=["b","c"]"#, "name=42"])
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        await #expect {
            _ = try await run(yaml, server: server, assignments: ["limit=ten"])
        } throws: { error in
            "\(error)".contains("--var limit=ten: 'limit' is a number in vars") && server.state.totalRequests == 1
        }
    }

    @Test func conversionFiltersConvertExplicitly() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { n: "25", f: "2.5", b: "on", j: '{"a":[1,2]}', cut: 7.9 }
            requests:
              - name: converted
                method: POST
                url: /echo
                json: { n: "{{ n | int }}", f: "{{ f | float }}", b: "{{ b | bool }}", j: "{{ j | from_json }}", cut: "{{ cut | int }}" }
                expect:
                  jsonpath: { $.json.n: 25, $.json.f: 2.5, $.json.b: true, $.json.j.a: [1, 2], $.json.cut: 7 }
              - name: not a number
                url: /echo
                query: { x: "{{ f | int }}" }
            """, server: server)
        #expect(result.requests[0].outcome == .passed, "\(Self.describe(result.requests[0]))")
        #expect(result.requests[1].outcome == .error)
        #expect(result.requests[1].problem?.message == #"template: int: "2.5" is not a whole number"#)
    }

    @Test func skipMustRenderToABoolean() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await run("""
            base_url: "{{ base_url }}"
            vars: { maybe: perhaps, off: "No" }
            requests:
              - name: not a boolean
                url: /echo
                skip: "{{ maybe }}"
              - name: a spelling of false
                url: /echo
                skip: "{{ off }}"
            """, server: server)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message == #"skip: {{ maybe }} rendered "perhaps", which is not true or false (nor yes/no, on/off, 1/0)"#)
        #expect(result.requests[1].outcome == .passed)
        #expect(server.state.totalRequests == 1)
    }
}
