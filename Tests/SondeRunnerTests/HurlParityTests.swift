import Foundation
import SondeCore
import SondeMock
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// What Hurl can say, said in Sonde's YAML and checked against SondeMock on loopback:
/// filters, negation and kinds, dates, variables, repeated headers and cookie attributes
/// as subjects, XML and HTML, bytes and digests, bodies from files and bytes.
@Suite(.serialized)
struct HurlParityTests {
    /// An HTTP-date `days` from now, as an `Expires` header writes it.
    static func httpDate(daysFromNow days: Double) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: Date().addingTimeInterval(days * 86_400))
    }

    static func run(_ yaml: String, baseURL: String, files: [String: [UInt8]] = [:]) async throws -> RunResult {
        try await runCollection("base_url: \"{{ base_url }}\"\n" + yaml, baseURL: baseURL, files: files)
    }

    static func failures(_ result: RunResult) -> String { result.requests.map(describe).joined(separator: "\n") }

    @Test func filtersNegationKindsAndDatesHoldOnARealResponse() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let expires = Self.httpDate(daysFromNow: 3.5)
        let body = #"{"id": "6f1c2a9e-4b7d-4e3a-9f00-1b2c3d4e5f60", "count": 3, "ratio": 1.0, "ip": "10.0.0.7", "ip6": "fe80::1", "#
            + #""created_at": "2020-01-02T03:04:05Z", "payload": "{\"kind\": \"order\"}", "tags": ["a", "b"]}"#
        let yaml = """
            vars: { index: -1 }
            requests:
              - name: an order
                url: /respond
                query:
                  content_type: application/json
                  header: ["Location: /orders/42", "Expires: \(expires)", "Set-Cookie: a=1", "Set-Cookie: b=2", "Vary: Accept-Encoding"]
                  body: \(yamlQuoted(body))
                capture:
                  order_id: { header: Location, filters: "split('/') | nth(index)" }
                  second_tag: { jsonpath: $.tags, filters: ["nth(1)", upper] }
                expect:
                  status: { not: { matches: '^5' } }
                  headers:
                    Location: { filters: "split('/') | nth(-1) | int", is_integer: true, ">": 40 }
                    Expires: { filters: [days_after_now], equals: 3 }
                    Set-Cookie: { filters: [count], equals: 2 }
                    Vary: { filters: [count, "string"], equals: "1" }
                    X-Missing: { filters: [count], equals: 0 }
                  jsonpath:
                    $.id: { is_uuid: true, is_string: true, not: { is_integer: true } }
                    $.count: { is_integer: true, is_number: true, is_float: false }
                    $.ratio: { is_float: true, equals: 1 }
                    $.ip: { is_ipv4: true, is_ipv6: false }
                    $.ip6: { is_ipv6: true }
                    $.tags: { is_collection: true, length: 2 }
                    $['tags']: { filters: [count], equals: 2 }
                    $.created_at: { is_iso_date: true, is_date: true }
                    $['created_at']: { filters: [days_before_now], ">": 300 }
                    $.payload: { filters: ["jsonpath('$.kind')"], equals: order }
                  vars:
                    order_id: { equals: "42" }
                    "order_id | int": 42
                    second_tag: B
                    "{{ order_id }}-{{ second_tag }}": 42-B
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .passed, "\(Self.failures(result))")
    }

    @Test func aFilteredCheckThatFailsSaysWhatTheFiltersGave() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            requests:
              - name: an order
                url: /respond
                query: { header: ["Location: /orders/42", "X-Id: 7"] }
                expect:
                  headers:
                    Location: { filters: "split('/') | nth(-1)", equals: "43" }
                    X-Id: { filters: ["nth(3)"], equals: "7" }
                  status: { not: { one_of: [200, 201] } }
                  body: { is_date: true }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        let failed = result.requests[0].failedChecks
        #expect(failed.count == 4, "\(Self.failures(result))")
        #expect(failed.contains { $0.subject == "header Location | split('/') | nth(-1)" && $0.actual == #""42""# && $0.message == #"expected "43", got "42""# })
        #expect(failed.contains { $0.subject == "header X-Id | nth(3)" && $0.message == "nth: no item 3 in a single value" })
        #expect(failed.contains { $0.subject == "status" && $0.message == "expected not (one of [200,201]), got 200" })
        #expect(failed.contains { $0.subject == "body" && $0.message == #"expected a date, got text """# })
    }

    @Test func cookieAttributesAreSubjectsAndCaptures() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let expires = Self.httpDate(daysFromNow: 10.5)
        let yaml = """
            requests:
              - name: log in
                url: /respond
                query:
                  header:
                    - "Set-Cookie: session=abc123; Path=/app; Domain=example.test; Max-Age=7200; Expires=\(expires); Secure; HttpOnly; SameSite=Strict"
                    - "Set-Cookie: theme=dark"
                capture:
                  session: { cookie: session }
                  session_age: { cookie: "session[Max-Age]" }
                  days_left: { cookie: "session[Expires]", filters: [days_after_now] }
                expect:
                  cookies:
                    session: abc123
                    "session[Path]": /app
                    "session[Domain]": example.test
                    "session[Max-Age]": { ">": 3600, is_integer: true }
                    "session[Expires]": { filters: [days_after_now], equals: 10 }
                    "session[expires]": { is_date: true }
                    "session[secure]": true
                    "session[HttpOnly]": true
                    "session[SameSite]": Strict
                    "theme[Secure]": false
                    "theme[Max-Age]": { exists: false }
                    missing: { exists: false }
                  vars:
                    session_age: 7200
                    days_left: 10
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .passed, "\(Self.failures(result))")
    }

    @Test func xpathReadsXMLWithNamespacesAndHTML() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let atom = #"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" xmlns:x="urn:x"><title>News</title>"#
            + #"<entry><title>one</title><x:rank>2</x:rank></entry><entry><title>two</title><x:rank>5</x:rank></entry></feed>"#
        let html = "<!DOCTYPE html><html><head><title> Dashboard </title></head><body><ul><li>a<li>b<li>c</ul>"
            + "<input name=csrf value=tok-123><p>unclosed</body></html>"
        let yaml = """
            requests:
              - name: a feed
                url: /respond
                query: { content_type: application/atom+xml, body: \(yamlQuoted(atom)) }
                capture:
                  first: { xpath: "string(//_:entry[1]/_:title)" }
                expect:
                  xpath:
                    "string(/_:feed/_:title)": News
                    "count(//_:entry)": 2
                    "sum(//x:rank)": 7
                    "//_:entry/_:title": [one, two]
                    "boolean(//_:author)": false
                    "//_:author": { exists: false }
                  vars: { first: one }
              - name: a page
                url: /respond
                query: { content_type: text/html, body: \(yamlQuoted(html)) }
                capture:
                  csrf: { xpath: "string(//input[@name='csrf']/@value)" }
                expect:
                  xpath:
                    "normalize-space(//title)": Dashboard
                    "count(//li)": 3
                  vars: { csrf: tok-123 }
              - name: not XML
                url: /respond
                query: { content_type: application/xml, body: "<a><b></a>" }
                expect:
                  xpath: { "count(//b)": 1 }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .passed, "\(Self.failures(result))")
        #expect(result.requests[1].outcome == .passed, "\(Self.failures(result))")
        let broken = try #require(result.requests[2].failedChecks.first)
        #expect(broken.actual == "a body that XPath cannot read")
        #expect(broken.message?.hasPrefix("the body is not XML: ") == true && broken.message?.contains("line 1") == true, "\(broken.message ?? "")")
    }

    @Test func bytesAndDigestsCheckTheRawBody() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0xFF, 0x00, 0x7F]
        let encoded = Data(png).base64EncodedString()
        let sha = Digest.sha256(png), md5 = Digest.md5(png)
        let yaml = """
            requests:
              - name: an image
                url: /respond
                query: { content_type: image/png, body_base64: \(yamlQuoted(encoded)) }
                capture:
                  digest: { sha256: true }
                expect:
                  bytes: { file: fixtures/logo.png }
                  sha256: \(sha.uppercased())
                  md5: \(md5)
                  vars: { digest: \(sha) }
              - name: its parts
                url: /respond
                query: { content_type: image/png, body_base64: \(yamlQuoted(encoded)) }
                expect:
                  bytes:
                    starts_with: { hex: "89 50 4e 47 0d 0a 1a 0a" }
                    ends_with: { base64: /wB/ }
                    contains: { hex: "0x000000" }
                    not_contains: { hex: abcd }
                    length: 15
                    empty: false
                  body: { length: { ">": 0 } }
              - name: a wrong image
                url: /respond
                query: { content_type: image/png, body_base64: \(yamlQuoted(encoded)) }
                expect:
                  bytes: { hex: "89 50 4e 47 0d 0a 1a 0b" }
                  md5: { not_equals: \(md5) }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL, files: ["fixtures/logo.png": png])
        #expect(result.requests[0].outcome == .passed, "\(Self.failures(result))")
        #expect(result.requests[1].outcome == .passed, "\(Self.failures(result))")
        let failed = result.requests[2].failedChecks
        #expect(failed.count == 2)
        #expect(failed.first?.message == "expected 8 bytes 0x89504e470d0a1a0b, got 15 bytes; they differ first at byte 7 (expected 0x0b, got 0x0a)")
    }

    @Test func bodiesComeFromFilesAndWrittenBytes() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            vars: { limit: 25, who: ada }
            requests:
              - name: a file as it is
                method: POST
                url: /echo
                body: { file: fixtures/raw.txt }
                expect:
                  jsonpath:
                    $.body: 'hello \\{{ not_rendered }}'
                    $.headers['Content-Type']: text/plain
              - name: a templated JSON file
                method: POST
                url: /echo
                body: { file: fixtures/order.json, templated: true }
                expect:
                  jsonpath:
                    $.json.limit: { equals: 25, is_integer: true }
                    $.json.note: "for ada"
                    $.json.ada: { equals: true }
                    $.headers['Content-Type']: application/json
              - name: a templated text file
                method: POST
                url: /echo
                headers: { Content-Type: text/x-custom }
                body: { file: fixtures/note.txt, templated: true }
                expect:
                  jsonpath:
                    $.body: "dear ada"
                    $.headers['Content-Type']: text/x-custom
              - name: hex bytes
                method: POST
                url: /echo
                body: { hex: "68 69 21" }
                expect:
                  jsonpath: { $.body: "hi!" }
              - name: base64 bytes
                method: POST
                url: /echo
                body: { base64: aGkh }
                expect:
                  jsonpath: { $.body: "hi!" }
            """
        let files: [String: [UInt8]] = [
            "fixtures/raw.txt": Array("hello {{ not_rendered }}".utf8),
            "fixtures/order.json": Array(#"{"limit": "{{ limit }}", "note": "for {{ who }}", "{{ who }}": true}"#.utf8),
            "fixtures/note.txt": Array("dear {{ who }}".utf8),
        ]
        let result = try await Self.run(yaml, baseURL: server.baseURL, files: files)
        for request in result.requests { #expect(request.outcome == .passed, "\(describe(request))") }
    }

    @Test func aSecretFilteredIsStillMasked() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            vars: { token: "alpha.bravo-charlie.delta", pw: Hunt3rePass }
            secrets: [token, pw]
            requests:
              - name: echo
                url: /echo
                capture:
                  piece: { header: X-None, filters: "default(pw) | split('e') | nth(0)" }
                  missing_count: { header: X-None, filters: [count] }
                expect:
                  vars:
                    "token | split('.') | nth(1)": { equals: nope }
                    "pw | utf8_encode": { equals: nope }
                    "pw | split('e')": { equals: nope }
                    piece: { equals: nope }
                    missing_count: 0
                    "pw | nth(3)": 1
                  headers:
                    Content-Type: { filters: "default(pw) | utf8_encode", equals: nope }
                    X-None: { filters: "default(pw) | replace('H', 'h')", equals: nope }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        let failed = result.requests[0].failedChecks
        #expect(failed.count == 7, "\(describe(result.requests[0]))")
        #expect(result.requests[0].outcome == .failed, "\(describe(result.requests[0]))")
        // No piece of a secret, as text or as its bytes' numbers, in what a failure shows.
        let shown = failed.map { $0.actual + " " + ($0.message ?? "") }.joined(separator: "\n")
        for piece in ["bravo-charlie", "alpha", "Hunt", "3r", "Pass", "72,117", "104,117"] {
            #expect(!shown.contains(piece), "\(piece) in \(shown)")
        }
    }

    /// XPath and digests over a body that holds a secret are computed from it: never shown,
    /// and captured as secrets; a short value computed from a secret masks nothing else.
    @Test func whatIsComputedFromASecretInTheBodyIsNotShown() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            vars: { pw: Tr0ub4dor-Secret99, seventy: "71 72 73" }
            secrets: [pw]
            requests:
              - name: a body with the secret
                method: POST
                url: /reflect
                body: "<pw>{{ pw }}</pw>"
                capture:
                  tail: { regex: '<pw>(.*)</pw>' }
                expect:
                  xpath: { "substring(//pw, 8)": nope, "substring(//pw, 1, 8)": nope }
                  sha256: { equals: nope }
                  md5: { equals: nope }
                  vars: { "pw | count": 2, "pw | utf8_encode | nth(0)": 0 }
              - name: a body with numbers
                url: /respond
                query: { body: "{{ seventy }} 1 84" }
                expect: { body: { equals: nope } }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        let shown = result.requests.flatMap(\.failedChecks).map { $0.actual + " " + ($0.message ?? "") }.joined(separator: "\n")
        #expect(result.requests[0].failedChecks.count == 6, "\(shown)")
        for piece in ["Secret99", "Tr0ub4d", "r-Secret", Digest.sha256(Array("you sent: <pw>Tr0ub4dor-Secret99</pw>".utf8))] {
            #expect(!shown.contains(piece), "\(piece) in \(shown)")
        }
        // The count (1) and the first byte (84) are not learned as secrets: the numbers stay.
        #expect(shown.contains(#"got "71 72 73 1 84""#), "\(shown)")
    }

    @Test func anXMLBodyThatDeclaresEntitiesIsRefused() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let bomb = #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;&b;</r>"#
        let xxe = #"<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>"#
        let yaml = """
            requests:
              - name: a bomb
                url: /respond
                query: { content_type: application/xml, body: \(yamlQuoted(bomb)) }
                expect: { xpath: { "string-length(/r)": 0 } }
              - name: an external entity
                url: /respond
                query: { content_type: application/xml, body: \(yamlQuoted(xxe)) }
                expect: { xpath: { "string(/r)": { not: { contains: "root:" } } } }
              - name: an undeclared prefix
                url: /respond
                query: { content_type: application/xml, body: "<r xmlns:a='urn:a'/>" }
                expect: { xpath: { "count(//b:x)": 0 } }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        for request in result.requests.prefix(2) {
            let check = try #require(request.failedChecks.first, "\(describe(request))")
            #expect(check.message?.contains("declares entities in a DTD, which Sonde does not expand") == true, "\(check)")
        }
        let prefix = try #require(result.requests[2].failedChecks.first)
        #expect(prefix.actual == "an XPath that cannot be evaluated on this body", "\(prefix)")
        #expect(prefix.message?.contains("(the document declares a)") == true, "\(prefix)")
    }

    @Test func theCookieJarIsSeededAndInspected() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            vars: { session_token: s3cr3t-cookie-value }
            secrets: [session_token]
            defaults:
              cookies: { lang: en }
            requests:
              - name: seeded
                url: /cookies
                cookies: { session: "{{ session_token }}", lang: fr }
                expect:
                  jsonpath: { $.cookies.session: "{{ session_token }}", $.cookies.lang: fr }
                  cookie_jar: { session: { exists: true }, "session[Path]": /, "session[Expires]": { exists: false } }
              - name: the server sets one
                url: /cookies/set
                query: { theme: dark }
                expect:
                  cookie_jar:
                    theme: dark
                    "theme[HttpOnly]": true
                    "theme[Secure]": false
                    "theme[Domain]": 127.0.0.1
                    lang: en
                    nothing: { exists: false }
              - name: the jar sends them all
                url: /cookies
                expect:
                  jsonpath: { $.cookies.theme: dark, $.cookies.session: "{{ session_token }}", $.cookies.lang: en }
              - name: a logout deletes one
                url: /respond
                query: { header: "Set-Cookie: theme=; Max-Age=0; Path=/" }
                expect:
                  cookies: { theme: "", "theme[Max-Age]": 0 }
                  cookie_jar: { theme: { exists: false } }
            """
        let result = try await Self.run(yaml, baseURL: server.baseURL)
        for request in result.requests { #expect(request.outcome == .passed, "\(describe(request))") }
        #expect(!result.requests.flatMap(\.requestHeaders).contains { $0.value.contains("s3cr3t-cookie-value") })
    }
}
