import Foundation
import SondeCore
import SondeMock
import SondeReport
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// The less obvious places a secret could surface: a Location rewritten when resolved, the
/// message of a filter that failed on it, a header's name, a hash of a body that holds it,
/// a redirect that would carry it elsewhere, the line of a file quoted in a message.
@Suite(.serialized)
struct SecretSurfacesTests {
    /// A Location that holds a secret is masked before it is resolved: resolving removes dot
    /// segments, which would cut the secret past recognition and show most of it. Nor is it
    /// followed: the server would receive, and may echo, the rewritten secret.
    @Test func aLocationIsMaskedBeforeItIsResolved() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection(#"""
            base_url: "{{ base_url }}"
            vars: { key: 'k3y/../value-31337' }
            secrets: [key]
            requests:
              - name: echo the key in a Location
                url: "/redirect?to={{ '/echo/a/' }}{{ key | urlencode }}"
            """#, baseURL: server.baseURL)
        let request = result.requests[0]
        #expect(request.outcome == .error)
        #expect(request.problem?.message.contains("resolving its Location would rewrite a secret it holds") == true, "\(request.problem?.message ?? "")")
        #expect(request.redirects.count == 1)
        for text in SecretTests.texts(result) {
            #expect(!text.contains("value-31337"), "\(text)")
            #expect(!text.contains("k3y"), "\(text)")
        }
    }

    /// A Location that holds a secret is followed (same origin), and the chain and the final
    /// URL show the mask as it is, not percent-encoded.
    @Test func aMaskInARedirectIsShownAsAMask() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection(#"""
            base_url: "{{ base_url }}"
            vars: { key: 'Api-Key-7781-zz' }
            secrets: [key]
            requests:
              - name: a key in a Location
                url: "/redirect?to={{ '/echo?api_key=' | urlencode }}{{ key }}"
            """#, baseURL: server.baseURL)
        let request = result.requests[0]
        #expect(request.outcome == .passed, "\(request.problem?.message ?? "")")
        #expect(request.finalURL?.hasSuffix("api_key=••••••") == true, "\(request.finalURL ?? "")")
        #expect(request.redirects.first?.location.hasSuffix("api_key=••••••") == true, "\(request.redirects)")
    }

    /// A failing check on a binary body shows its summary, never its bytes.
    @Test func aBinaryBodyIsSummarisedInAFailingCheck() async throws {
        let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 0x00, count: 64) + Array("IEND\u{1B}[31m".utf8)
        let raw = try RawServer(answering: Array("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: \(png.count)\r\nConnection: close\r\n\r\n".utf8) + png)
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - { name: image, url: "\(raw.baseURL)/logo.png", expect: { body: { contains: "<svg" } } }
            """, baseURL: raw.baseURL)
        let check = try #require(result.requests[0].checks.first { $0.subject == "body" })
        #expect(!check.passed)
        #expect(check.actual == "<binary body, 81 bytes, image/png>", "\(check.actual)")
        #expect(check.message?.contains("IEND") == false, "\(check.message ?? "")")
    }

    /// A filter that fails on a secret says what failed, never the value it was given.
    @Test func aFilterThatFailsOnASecretDoesNotQuoteIt() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        for filter in ["int", "float", "bool", "from_json", "base64_decode"] {
            let result = try await runCollection("""
                base_url: "{{ base_url }}"
                vars: { password: "hunter2-not-a-number" }
                secrets: [password]
                requests:
                  - name: convert
                    url: /echo
                    headers: { X-Value: "{{ password | upper | \(filter) }}" }
                """, baseURL: server.baseURL)
            let request = result.requests[0]
            #expect(request.outcome == .error)
            #expect(request.problem?.message.contains("\(filter): the filter failed on a secret value (not shown)") == true, "\(request.problem?.message ?? "")")
            #expect(request.problem?.message.lowercased().contains("hunter2") == false, "\(request.problem?.message ?? "")")
        }
    }

    /// A header whose name holds a secret is masked by name as well as by value, in -v.
    @Test func aHeaderNameIsMaskedToo() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars: { key: "tenant-31337-secret" }
            secrets: [key]
            requests:
              - name: named by a secret
                url: /echo
                headers: { "X-{{ key }}": "1" }
            """, baseURL: server.baseURL)
        let request = result.requests[0]
        #expect(request.outcome == .passed, "\(describe(request))")
        #expect(request.requestHeaders.contains { $0.name == "X-\(Redactor.mask)" })
        for text in SecretTests.texts(result) { #expect(!text.contains("31337"), "\(text)") }
    }

    /// A body that holds a secret is recorded with the hash of its masked text: a hash of
    /// the secret itself could be checked against guesses.
    @Test func theHashOfABodyThatHoldsASecretIsOfItsMaskedText() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let body = #"{"token":"tok-31337-abcdef"}"#
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            requests:
              - name: login
                url: "\(VerdictTests.respond(body))"
                capture: { token: { jsonpath: $.token, secret: true } }
              - name: plain
                url: "\(VerdictTests.respond(#"{"ok":true}"#))"
            """, baseURL: server.baseURL)
        #expect(result.requests[0].bodyHash != Digest.sha256(body))
        #expect(result.requests[0].bodyHash == Digest.sha256(#"{"token":"••••••"}"#))
        #expect(result.requests[1].bodyHash == Digest.sha256(#"{"ok":true}"#))
    }

    /// A header computed from a secret stays with its origin even where masking could not
    /// recognise it (a short secret inside a word), and a 307 that would send a body holding
    /// a secret to another origin is not followed.
    @Test func whatIsComputedFromASecretStaysWithItsOrigin() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let other = PercentEncoding.encode("http://localhost:\(server.port)/echo")
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars: { pin: "7", key: "k-31337-api" }
            secrets: [pin, key]
            requests:
              - name: header from a short secret
                url: /redirect?to=\(other)
                headers: { X-Pin: "pin{{ pin }}", X-Plain: plain }
                expect: { jsonpath: { "$.headers['X-Pin']": { exists: false }, "$.headers['X-Plain']": plain } }
              - name: body with a secret, 307
                method: POST
                url: /redirect?status=307&to=\(other)
                json: { key: "{{ key }}" }
              - name: body with a secret, 307, trusted
                method: POST
                url: /redirect?status=307&to=\(other)
                location_trusted: true
                json: { key: "{{ key }}" }
              - name: body with a secret, 302 turns into GET
                method: POST
                url: /redirect?status=302&to=\(other)
                json: { key: "{{ key }}" }
            """, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .passed, "\(describe(result.requests[0]))")
        #expect(result.requests[1].outcome == .error)
        #expect(result.requests[1].problem?.message.contains("would send the request body, which holds a secret") == true, "\(result.requests[1].problem?.message ?? "")")
        #expect(result.requests[2].outcome == .passed, "\(describe(result.requests[2]))")
        #expect(result.requests[3].outcome == .passed, "\(describe(result.requests[3]))")
    }

    /// A short password a server puts in a Location does not become a secret: a server must
    /// not choose which words are masked in all output.
    @Test func aShortPasswordInALocationIsNotMaskedEverywhere() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let to = PercentEncoding.encode("http://u:200@127.0.0.1:\(server.port)/echo")
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            requests:
              - name: hostile location
                url: /redirect?to=\(to)
                expect: { status: 200 }
            """, baseURL: server.baseURL)
        let request = result.requests[0]
        #expect(request.outcome == .passed, "\(describe(request))")
        #expect(request.checks.first?.actual == "200")
    }

    /// A message about a line that holds a secret's value names the line without showing it;
    /// so does a YAML error in a file that declares secrets.
    @Test(arguments: [
        // An undefined name in the secret's own value.
        ("vars: { password: \"hunter2-{{ nope }}\", limit: 10 }\nsecrets: [password]\nrequests:\n  - { name: a, url: \"http://h/{{ limit }}\" }\n", "hunter2"),
        // A duplicate key among the secrets: a YAML error before anything is known.
        ("vars:\n  password: hunter2-long\n  password: hunter2-other\nsecrets: [password]\nrequests: [{ name: a, url: http://h }]\n", "hunter2"),
        // An undefined name inside a secret's own value, on the lines after its key.
        ("vars:\n  token: |\n    first line\n    hunter2-line {{ nope }}\nsecrets: [token]\nrequests: [{ name: a, url: http://h }]\n", "hunter2"),
        // A credential of an auth helper, written in the file.
        ("requests:\n  - name: a\n    url: http://h\n    auth: { basic: { username: u, password: \"hunter2-{{ nope }}\" } }\n", "hunter2"),
        ("requests:\n  - name: a\n    url: http://h\n    auth: { bearer: \"hunter2-{{ nosuch }}\" }\n", "hunter2"),
        // A password in a URL written out, in the message and the line.
        ("requests:\n  - name: a\n    url: \"http://u:hunter2-url@127.0.0.1:99999/x\"\n", "hunter2"),
        ("requests:\n  - name: a\n    url: \"ftp://u:hunter2-url@127.0.0.1/x\"\n", "hunter2"),
    ])
    func aLineHoldingASecretIsNotQuoted(_ yaml: String, _ secret: String) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-quote-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("c.yaml").path
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try CollectionLoader(options: VariableOptions()).load(file: file)
            Issue.record("the collection loaded")
        } catch {
            #expect(!error.diagnostics.isEmpty)
            let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let printed = error.diagnostics.map { DiagnosticRenderer(colors: false).render($0, sourceLine: lines[$0.location.line - 1]) }.joined()
            #expect(!printed.contains(secret), "\(printed)")
            #expect(error.diagnostics.allSatisfy { $0.location.file == file && $0.location.line >= 1 })
        }
    }

    /// A URL whose template could not be rendered is shown as written, its password masked.
    @Test func anUnrenderedURLDoesNotShowItsPassword() async throws {
        let result = try await runCollection("""
            vars: { port: "99999" }
            requests:
              - name: bad port
                url: "http://u:hunter2-url@127.0.0.1:{{ port }}/x"
            """, baseURL: "http://127.0.0.1:1")
        let request = result.requests[0]
        #expect(request.outcome == .error)
        for text in SecretTests.texts(result) { #expect(!text.contains("hunter2"), "\(text)") }
        #expect(request.url.contains("u:\(Redactor.mask)@"), "\(request.url)")
    }

    /// An environment file declares secrets in either of its forms, and names only what exists.
    @Test func anEnvironmentFileDeclaresSecretsInEitherForm() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-envfile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let collection = folder.appendingPathComponent("c.yaml")
        try "requests: [{ name: r, url: http://127.0.0.1/, headers: { X-T: \"{{ token }}\" } }]\n".write(to: collection, atomically: true, encoding: .utf8)
        try "token: EnvFile-S3cret-Tok3\nsecrets: [token]\n".write(to: folder.appendingPathComponent("environments/flat.yaml"), atomically: true, encoding: .utf8)
        let loaded = try CollectionLoader(options: VariableOptions(environmentName: "flat", processEnvironment: [:])).load(file: collection.path)
        #expect(loaded.secrets.contains("token"))
        #expect(!loaded.variables.contains { $0.name == "secrets" })
        try "vars: { token: EnvFile-S3cret-Tok3 }\nsecrets: [token, nonexist]\n".write(to: folder.appendingPathComponent("environments/nested.yaml"), atomically: true, encoding: .utf8)
        #expect {
            _ = try CollectionLoader(options: VariableOptions(environmentName: "nested", processEnvironment: [:])).load(file: collection.path)
        } throws: { error in
            let diagnostics = (error as? DiagnosticsError)?.diagnostics ?? []
            return diagnostics.count == 1 && diagnostics[0].message == "secret 'nonexist' is neither a variable nor a capture"
                && diagnostics[0].location.file.hasSuffix("environments/nested.yaml") && diagnostics[0].location.line == 2
        }
    }

    /// A redirect to another scheme written without `//` (`file:/etc/passwd`) is refused as
    /// another scheme, not followed as a path on the same server.
    @Test func aLocationWithAnotherSchemeIsRefused() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        for target in ["file:/etc/passwd", "data:text/plain,x", "javascript:alert(1)"] {
            let result = try await runCollection("""
                base_url: "{{ base_url }}"
                requests:
                  - name: elsewhere
                    url: /redirect?to=\(PercentEncoding.encode(target))
                """, baseURL: server.baseURL)
            let request = result.requests[0]
            #expect(request.outcome == .error, "\(target): \(describe(request))")
            #expect(request.problem?.message.contains("only http and https are sent") == true, "\(request.problem?.message ?? "")")
        }
    }
}
