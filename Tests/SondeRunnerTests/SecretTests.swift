import Foundation
import SondeCore
import SondeMock
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// Secrets stay secret: every value computed from a secret, in every form a server writes
/// it back, is masked in everything a run shows or keeps.
@Suite(.serialized)
struct SecretTests {
    /// Every text of a result a person or a report could read.
    static func texts(_ result: RunResult) -> [String] {
        result.requests.flatMap { request -> [String] in
            var out = [request.name, request.url, request.problem?.message ?? "", request.skip?.message ?? "", request.requestBody ?? "", request.responseBody ?? "", request.responseExcerpt ?? "",
                request.finalURL ?? ""]
            out += (request.requestHeaders + request.responseHeaders + request.redirectHeaders.flatMap { $0 }).map { "\($0.name): \($0.value)" }
            out += request.checks.flatMap { [$0.subject, $0.expected, $0.actual, $0.message ?? ""] }
            out += request.redirects.flatMap { [$0.url, $0.location] }
            out += request.recorded(withShape: true).shape.map { Array($0.types.keys) } ?? []
            return out
        }
    }

    /// The forms a secret travels in: as it is, and as servers and reports escape it.
    static func forms(of secret: String) -> Set<String> {
        var forms = Set(Reflection.styles.map { Reflection.write(secret, style: $0) })
        forms.insert(PercentEncoding.encode(secret))
        forms.insert(JSONValue.quoted(JSONValue.quoted(secret)))  // quoted twice, as a message of a body would
        return forms.filter { !$0.isEmpty }
    }

    static func expectMasked(_ secrets: [String], in result: RunResult, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        let texts = texts(result)
        for secret in secrets {
            for form in forms(of: secret) {
                for text in texts where text.contains(form) {
                    Issue.record("the secret \(JSONValue.quoted(secret)) shows as \(JSONValue.quoted(form)) in \(JSONValue.quoted(String(text.prefix(300))))", sourceLocation: sourceLocation)
                }
            }
        }
    }

    @Test func everythingComputedFromASecretIsSecret() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let password = "Tr0ub4dor&3x"
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars:
              password: "\(password)"
              creds: "ops:{{ password }}"
            secrets: [password]
            requests:
              - name: derived
                method: POST
                url: /echo
                headers:
                  Authorization: "Basic {{ creds | base64 }}"
                  X-Upper: "{{ password | upper }}"
                  X-Chain: "{{ password | lower | base64 | urlencode }}"
                query: { p: "{{ password | json }}" }
                json: { c: "{{ creds }}", n: "{{ password | lower }}" }
                expect:
                  jsonpath: { $.headers: { equals: nope }, $.json: { equals: nope } }
              - name: reflected
                method: POST
                url: /reflect?style=json_ascii
                body: "{{ creds | upper }}"
                expect: { body: { equals: nope } }
            """, baseURL: server.baseURL)
        #expect(result.requests[0].outcome == .failed)
        let creds = "ops:" + password
        let chain = PercentEncoding.encode(Data(password.lowercased().utf8).base64EncodedString())
        Self.expectMasked(
            [password, creds, Data(creds.utf8).base64EncodedString(), password.uppercased(), password.lowercased(), chain, creds.uppercased()],
            in: result)
        #expect(result.requests[0].requestHeaders.contains { $0.name == "Authorization" && $0.value == "Basic \(Redactor.mask)" })
    }

    @Test func aNameInSecretsThatIsACaptureIsMasked() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            secrets: [token]
            requests:
              - name: login
                method: POST
                url: /kapis/iam.kubesphere.io/v1alpha2/login
                json: { username: admin, password: P@88w0rd }
                capture: { token: $.access_token }
              - name: echo
                url: /echo
                headers: { Authorization: "Bearer {{ token }}" }
                expect: { jsonpath: { $.headers.Authorization: nope } }
            """, baseURL: server.baseURL)
        #expect(result.requests[1].outcome == .failed)
        Self.expectMasked(Array(server.state.issuedTokens), in: result)
    }

    @Test func everyLeafOfAStructuredSecretIsSecret() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars: { db: { user: app-user-4411, password: pw-4f9d2a-x } }
            secrets: [db]
            requests:
              - name: a leaf
                url: /echo
                headers: { X-Db: "{{ db.password }}" }
                expect: { jsonpath: { $.headers: nope } }
              - name: the whole, pretty-printed back
                method: POST
                url: /reflect?style=pretty
                json: { db: "{{ db }}" }
                expect: { body: nope }
              - name: a captured object
                method: POST
                url: /echo
                json: { conf: { key: cap-8812-key, list: [cap-0001-item] } }
                capture: { conf: { jsonpath: $.json.conf, secret: true } }
              - name: its leaves
                url: /echo
                query: { k: "{{ conf.key }}", i: "{{ conf.list.0 }}" }
                expect: { jsonpath: { $.query: nope } }
            """, baseURL: server.baseURL)
        Self.expectMasked(["app-user-4411", "pw-4f9d2a-x", "cap-8812-key", "cap-0001-item"], in: Self.keepingLater(result, from: 3))
        Self.expectMasked(["app-user-4411", "pw-4f9d2a-x"], in: result)
    }

    /// The results from `index` on (a capture is secret from when it is taken).
    static func keepingLater(_ result: RunResult, from index: Int) -> RunResult {
        var result = result
        result.requests = Array(result.requests[index...])
        return result
    }

    static let hardSecrets = [#"p@ss/w"rd\é 1+2 ok"#, "s3cr3t-tøken/🔑x", "Bearer+abc==/xyz", "<&'unsafe'&>9", "new\nline\ttab-x"]

    @Test(arguments: Reflection.styles)
    func everyEchoedFormIsMasked(_ style: String) async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        for secret in Self.hardSecrets {
            let result = try await runCollection("""
                base_url: "{{ base_url }}"
                vars: { secret: \(yamlQuoted(secret)) }
                secrets: [secret]
                requests:
                  - name: reflected
                    method: POST
                    url: /reflect?style=\(style)
                    body: "{{ secret }}"
                    expect: { body: { equals: nope, contains: nope } }
                """, baseURL: server.baseURL)
            #expect(result.requests[0].outcome == .failed)
            #expect(result.requests[0].responseBody?.hasPrefix("you sent: ") == true)
            Self.expectMasked([secret], in: result)
        }
    }

    @Test func secretsAreMaskedBeforeTheyAreQuoted() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let secret = #"a"b\c-0123-"q""#
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars: { secret: \(yamlQuoted(secret)) }
            secrets: [secret]
            requests:
              - name: quoted again
                method: POST
                url: /echo
                json: { s: "{{ secret }}" }
                expect:
                  body: { equals: nope }
                  jsonpath: { $.json: { equals: nope }, $.body: { starts_with: nope } }
            """, baseURL: server.baseURL)
        Self.expectMasked([secret], in: result)
        #expect(result.requests[0].checks.contains { $0.actual.contains(Redactor.mask) })
    }

    @Test func aShortSecretIsMaskedOnlyWhereItStandsWhole() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let yaml = """
            base_url: "{{ base_url }}"
            vars: { pin: "7" }
            secrets: [pin]
            requests:
              - name: numbers
                url: "\(VerdictTests.respond(#"{"n":17,"pin":7,"port":"127.0.0.1"}"#))"
                expect: { jsonpath: { $: { equals: nope } } }
            """
        let result = try await runCollection(yaml, baseURL: server.baseURL)
        let actual = try #require(result.requests[0].checks.first?.actual)
        #expect(actual == #"{"n":17,"pin":"••••••","port":"127.0.0.1"}"#)
        #expect(result.requests[0].url.contains("127.0.0.1"))
        // The loader says so, without the value.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-short-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try yaml.write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        let loaded = try CollectionLoader(options: VariableOptions(assignments: ["base_url=http://h"])).load(file: folder.appendingPathComponent("c.yaml").path)
        #expect(loaded.warnings.map(\.message) == ["secret 'pin' is short or a plain word (under 6 characters, or only letters or digits): it is masked only where it stands as a whole word"])
        #expect(loaded.warnings.allSatisfy { !$0.quotesSource })
    }

    @Test func dotEnvIsReadAsDotenvToolsReadItAndItsValuesAreNeverPrinted() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-dotenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try """
            vars: { limit: 10 }
            requests:
              - name: r
                url: http://127.0.0.1/
            """.write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        try """
            # secrets kept out of git
            export API_KEY=k-123456789 # a comment
            BROKEN_LINE_hunter2secret
            PEM="-----BEGIN KEY-----
            MIIB\\nline2
            -----END KEY-----"
            RAW='single \\n stays'
            UNCLOSED="never closed hunter3secret
            AFTER=still-read
            limit=ten-hunter4secret
            """.write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))
        do {
            _ = try loader.load(file: folder.appendingPathComponent("c.yaml").path)
            Issue.record("limit=ten must be refused")
        } catch {
            // A wrong value is named by its variable and line, never shown.
            let text = error.diagnostics.map(\.description).joined(separator: "\n")
            #expect(!text.contains("hunter4secret"), "\(text)")
            #expect(error.diagnostics.allSatisfy { !$0.quotesSource })
            #expect(error.diagnostics.map(\.location.line) == [10])
        }
        try String(try String(contentsOf: folder.appendingPathComponent(".env"), encoding: .utf8).dropLast("limit=ten-hunter4secret".count))
            .write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let loaded = try loader.load(file: folder.appendingPathComponent("c.yaml").path)
        let scope = loaded.makeScope()
        #expect(try scope.variable("API_KEY") == "k-123456789")
        #expect(try scope.variable("PEM") == "-----BEGIN KEY-----\nMIIB\nline2\n-----END KEY-----")
        #expect(try scope.variable("RAW") == #"single \n stays"#)
        #expect(try scope.variable("AFTER") == "still-read")
        #expect(try scope.variable("UNCLOSED") == nil)
        let warnings = loaded.warnings.map(\.description).joined(separator: "\n")
        #expect(loaded.warnings.map(\.location.line) == [3, 8])
        #expect(!warnings.contains("hunter2secret") && !warnings.contains("hunter3secret"), "\(warnings)")
        #expect(warnings.contains("'UNCLOSED'"))
    }

    /// A .env saved with CRLF line ends reads as with LF ones; a value that reads an undefined
    /// name says which name, still without the value.
    @Test func dotEnvWithCRLFAndUndefinedNames() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-dotenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let collection = folder.appendingPathComponent("c.yaml")
        try "requests:\n  - { name: r, url: http://127.0.0.1/ }\n".write(to: collection, atomically: true, encoding: .utf8)
        let env = folder.appendingPathComponent(".env")
        try "TOKEN=abc-123456\r\nPEM=\"line1\r\nline2\"\r\nQUOTED='x'\r\n".write(to: env, atomically: true, encoding: .utf8)
        let loaded = try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(file: collection.path)
        let scope = loaded.makeScope()
        #expect(try scope.variable("TOKEN") == "abc-123456")
        #expect(try scope.variable("PEM") == "line1\nline2")
        #expect(try scope.variable("QUOTED") == "x")
        #expect(loaded.warnings.isEmpty, "\(loaded.warnings)")
        try "TOKEN=hunter5-{{ nope }}\n".write(to: env, atomically: true, encoding: .utf8)
        do {
            _ = try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(file: collection.path)
            Issue.record("an undefined name must be refused")
        } catch {
            let text = error.diagnostics.map(\.description).joined(separator: "\n")
            // Not even the name it reads: that name is part of the value's text.
            #expect(text.contains("its value reads a variable that is not defined"), "\(text)")
            #expect(!text.contains("nope"), "\(text)")
            #expect(!text.contains("hunter5"), "\(text)")
        }
    }

    /// A secret whose value is hard to mask says so at load time, whatever its type.
    @Test func everyHardToMaskSecretIsWarnedOf() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-weak-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let collection = folder.appendingPathComponent("c.yaml")
        try """
            vars: { pin: 1234, flag: true, db: { user: admin, password: long-enough-1 }, good: long-enough-2 }
            secrets: [pin, flag, db, good]
            requests: [{ name: r, url: http://127.0.0.1/ }]
            """.write(to: collection, atomically: true, encoding: .utf8)
        let loaded = try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(file: collection.path)
        let messages = loaded.warnings.map(\.message).sorted()
        #expect(messages == [
            "secret 'db' holds values that are short or plain words, true, false or null, which are not masked (they stand in too many places): $['user']",
            "secret 'flag' is true, false or null, which is not masked (it would hide every such word in all output)",
            "secret 'pin' is short or a plain word (under 6 characters, or only letters or digits): it is masked only where it stands as a whole word",
        ])
    }

    @Test func aPasswordInAURLIsASecret() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let port = server.port
        let result = try await runCollection("""
            vars: { pw: S3cr3tPW-url }
            secrets: [pw]
            requests:
              - name: userinfo
                url: "http://admin:{{ pw }}@127.0.0.1:\(port)/echo"
                expect: { jsonpath: { $.headers: nope } }
              - name: a password a server put in a Location
                url: "http://127.0.0.1:\(port)/redirect?to=\(PercentEncoding.encode("http://bob:hunter2-loc@127.0.0.1:\(port)/echo"))"
                expect: { jsonpath: { $.headers: nope } }
            """, baseURL: server.baseURL)
        Self.expectMasked(["S3cr3tPW-url", "admin:S3cr3tPW-url", "hunter2-loc", "bob:hunter2-loc"], in: result)
    }

    @Test func aHeaderHoldingASecretDoesNotFollowARedirectToAnotherOrigin() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let other = PercentEncoding.encode("http://localhost:\(server.port)/echo")
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            vars: { key: k-31337-api }
            secrets: [key]
            requests:
              - name: same origin
                url: /redirect?to=/echo
                headers: { X-Api-Key: "{{ key }}" }
                expect: { jsonpath: { "$.headers['X-Api-Key']": { exists: true } } }
              - name: other origin
                url: /redirect?to=\(other)
                headers: { X-Api-Key: "{{ key }}", X-Plain: plain }
                expect: { jsonpath: { "$.headers['X-Api-Key']": { exists: false }, "$.headers['X-Plain']": plain } }
              - name: trusted
                url: /redirect?to=\(other)
                location_trusted: true
                headers: { X-Api-Key: "{{ key }}" }
                expect: { jsonpath: { "$.headers['X-Api-Key']": { exists: true } } }
            """, baseURL: server.baseURL)
        for request in result.requests { #expect(request.outcome == .passed, "\(describe(request))") }
    }

    /// Escapes hide neither a secret written twice over nor the word boundaries of a short one.
    @Test func escapesWrittenTwiceAndEscapedBoundariesHideNothing() {
        let strong = Redactor([#"pa"ss\word-1"#])
        let cases: [(String, String)] = [
            // httpbin's "data": the JSON body echoed inside a JSON string.
            (#"{"data": "{\"password\": \"pa\\\"ss\\\\word-1\"}"}"#, #"{"data": "{\"password\": \"••••••\"}"}"#),
            // A query encoded twice.
            ("next=%2Flogin%3Fp%3Dpa%2522ss%255Cword-1", "next=%2Flogin%3Fp%3D••••••"),
            // JSON shown in HTML.
            (#"<pre>pa\&quot;ss\\word-1</pre>"#, "<pre>••••••</pre>"),
            // A JSON document passed on base64-encoded (AWS Lambda's body).
            ("body=" + Data(#"{"password":"pa\"ss\\word-1"}"#.utf8).base64EncodedString() + ";", "body=••••••;"),
            // An RFC 9535 normalized path naming a member by the secret.
            (#"$['pa"ss\\word-1']"#, "$['••••••']"),
        ]
        for (text, expected) in cases { #expect(strong.redact(text) == expected, "\(text)") }
        let quoted = Redactor(["it's-a-key"])
        #expect(quoted.redact(#"$['it\'s-a-key']"#) == "$['••••••']")
        let weak = Redactor(["admin"])
        for (text, expected) in [
            ("q=hello%20admin", "q=hello%20••••••"), (#"{"log":"user\nadmin"}"#, #"{"log":"user\n••••••"}"#),
            (#"\u0020admin"#, #"\u0020••••••"#), ("&#32;admin&#10;", "&#32;••••••&#10;"), ("administrator", "administrator"),
            ("%41admin", "%41admin"), (#"\u0041admin"#, #"\u0041admin"#),
        ] {
            #expect(weak.redact(text) == expected, "\(text)")
        }
        // Hashes and tokens that merely look like base64 are left alone.
        let token = "3q2+7wAAAAAAAAAAAAAAAA9zqzqzAAAAadmin"
        #expect(weak.redact(token) == token)
    }

    /// The forms servers were seen to write secrets in, beyond the escapes: mojibake, PHP's
    /// named entities, base64 in paths, wrapped or over binary bytes, quoted cookies, `+` read
    /// as a space, UTF-16 without its charset, line breaks written CR LF.
    @Test func secretsInTheFormsServersWereSeenToWrite() {
        func check(_ secret: String, _ text: String, _ expected: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
            #expect(Redactor([secret]).redact(text) == expected, "\(JSONValue.quoted(text))", sourceLocation: sourceLocation)
        }
        // UTF-8 read as Latin-1 by the server (WSGI, Node), echoed raw or as JSON.
        check("Geheim-Schlüssel-42", "key=Geheim-SchlÃ¼ssel-42;", "key=••••••;")
        check("Geheim-Schlüssel-42", #""Geheim-Schl\u00c3\u00bcssel-42""#, "\"••••••\"")
        // PHP's htmlentities().
        check("Pässwort-2024!x", "<b>P&auml;sswort-2024!x</b>", "<b>••••••</b>")
        // base64url of a JSON body, in a path whose slashes are base64 characters too.
        let document = Data(#"{"password":"Tr0ub4dor-and-3"}"#.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        check("Tr0ub4dor-and-3", "\"next\": \"/v1/files/\(document)\"", "\"next\": \"/v1/files/••••••\"")
        // MIME base64, 76 columns, raw and inside a JSON string.
        let long = Data((#"{"headers": {"X-Padding": "0123456789012345678901234567890123456789", "X-Val": "Tr0ub4dor-and-3"}}"#).utf8).base64EncodedString()
        var wrapped: [String] = []
        var rest = Substring(long)
        while !rest.isEmpty {
            wrapped.append(String(rest.prefix(76)))
            rest = rest.dropFirst(76)
        }
        check("Tr0ub4dor-and-3", "[" + wrapped.joined(separator: "\n") + "]", "[••••••]")
        check("Tr0ub4dor-and-3", "[" + wrapped.joined(separator: #"\n"#) + "]", "[••••••]")
        // base64 of bytes that are not text (a multipart body with an image in it).
        let binary = Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF] + Array("password=Tr0ub4dor-and-3".utf8) + [0x00, 0x01, 0xFE]).base64EncodedString()
        check("Tr0ub4dor-and-3", "{\"body\":\"\(binary)\"}", "{\"body\":\"••••••\"}")
        // A cookie captured with the quotes its server put around it, shown without them.
        check("\"c2Vzc2lvbi1zZWNyZXQ==\"", "<p>Your session c2Vzc2lvbi1zZWNyZXQ== has expired</p>", "<p>Your session •••••• has expired</p>")
        // A `+` that the server's form decoding read as a space.
        check("Ab3+Xy/Zk9+Qw==", #"{"key": "Ab3 Xy/Zk9 Qw=="}"#, #"{"key": "••••••"}"#)
        // UTF-16LE without a charset, read as UTF-8.
        let utf16 = String(decoding: Array("{\"k\":\"Hash-Me-S3cret-42\"}".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }, as: UTF8.self)
        #expect(!Redactor(["Hash-Me-S3cret-42"]).redact(utf16).contains("H\u{0}a\u{0}s\u{0}h\u{0}-\u{0}M"))
        // A key with line breaks, echoed with CR LF, raw and as JSON.
        let pem = "-----BEGIN KEY-----\nMIIEabc\n-----END KEY-----"
        check(pem, "k=" + pem.replacingOccurrences(of: "\n", with: "\r\n") + ";", "k=••••••;")
        check(pem, #"{"k": "-----BEGIN KEY-----\r\nMIIEabc\r\n-----END KEY-----"}"#, #"{"k": "••••••"}"#)
    }

    /// For random secrets reshaped by a server (trimmed, upper-cased, quotes doubled, accents
    /// decomposed, line breaks moved): what is left of their letters and digits is masked
    /// when there are at least 8 of them, and the text around is left as it was.
    @Test func noReshapedFormOfARandomSecretSurvives() {
        var generator = SeededGenerator(seed: 0x5EC12E8)
        let alphabet = Array("abcXYZ019 \"\\+/=&<>'%#?:;,.-_~é€🔑\t\n")
        var tried = 0
        while tried < 200 {
            let length = Int.random(in: 10...40, using: &generator)
            let secret = String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "x" })
            let skeleton = Redactor.skeleton(of: Array(secret.unicodeScalars))
            guard !Redactor.isWeak(secret), skeleton.count >= Redactor.minimumSkeleton else { continue }
            tried += 1
            let redactor = Redactor([secret])
            for style in Reflection.reshapingStyles {
                let reflected = Reflection.write(secret, style: style)
                let masked = redactor.redact("before [" + reflected + "] after")
                let left = Redactor.skeleton(of: Array(masked.unicodeScalars))
                #expect(!left.starts(with: skeleton) && left.firstRange(of: skeleton) == nil,
                    "\(JSONValue.quoted(secret)) as \(style): \(JSONValue.quoted(masked))")
                #expect(masked.hasPrefix("before [") && masked.hasSuffix("] after"), "\(JSONValue.quoted(secret)) as \(style): \(JSONValue.quoted(masked))")
            }
        }
    }

    /// A short secret does not stand whole inside a dotted number or a joined word (`127.0.0.1`,
    /// `v1.0.1`, `user-admin`); `true`, `false` and `null` as text are never masked; a reshaped
    /// secret is found whatever case folding made of it (`ß` upper-cased is `SS`).
    @Test func shortSecretsStayInsideTheirNumbersAndWords() {
        let redactor = Redactor(["0", "127", "admin", "true", "null"])
        let text = #"{"p":"0","ip":"127.0.0.1","v":"v1.0.1","f":0.1,"u":"user-admin","ok":true,"n":null,"who":"admin"}"#
        #expect(redactor.redact(text) == #"{"p":"••••••","ip":"127.0.0.1","v":"v1.0.1","f":0.1,"u":"user-admin","ok":true,"n":null,"who":"••••••"}"#)
        #expect(Redactor([#"/!ß6/0X[8\}_~91'5"#]).redact(#"< X-Form: /!SS6/0X[8\}_~91'5"#) == "< X-Form: /!••••••")
    }

    /// Two secrets that overlap in the text are masked together, the longer one whole.
    @Test func overlappingSecretsAreMaskedTogether() {
        let redactor = Redactor(["Alpha-Bravo-Charlie-99", "zz9-Alpha-Br"])
        #expect(redactor.redact(#"{"key": "zz9-Alpha-Bravo-Charlie-99"}"#) == #"{"key": "••••••"}"#)
    }

    /// For random secrets written back in every style, inside other text: no form survives
    /// the redactor, and the text around each is left as it was.
    @Test func noFormOfARandomSecretSurvives() {
        var generator = SeededGenerator(seed: 0x5EC12E7)
        let alphabet = Array("abcXYZ019 \"\\+/=&<>'%#?:;,.-_~é€🔑\t")
        for _ in 0..<300 {
            let length = Int.random(in: 6...24, using: &generator)
            var secret = String((0..<length).map { _ in alphabet.randomElement(using: &generator) ?? "x" })
            if Redactor.isWeak(secret) { secret += "+/9" }
            let redactor = Redactor([secret])
            for style in Reflection.styles {
                let reflected = Reflection.write(secret, style: style)
                let text = "before [" + reflected + "] after"
                let masked = redactor.redact(text)
                #expect(masked == "before [" + Redactor.mask + "] after", "\(JSONValue.quoted(secret)) as \(style): \(JSONValue.quoted(masked))")
            }
        }
    }
}

/// A deterministic generator (SplitMix64), so a failing case can be run again.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
