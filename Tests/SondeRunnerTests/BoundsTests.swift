import Foundation
import SondeCore
import SondeMock
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// Bounded work on every input a server or a collection can give: a clear error, never a
/// crash, a hang, or memory without end.
@Suite(.serialized)
struct BoundsTests {
    /// `count` zero bytes through gzip (the system's), as a server would send a bomb.
    static func gzippedZeros(_ count: Int) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "head -c \(count) /dev/zero | gzip -9"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Array(data)
    }

    @Test func aBodyThatInflatesPastItsCapStopsTheTransfer() async throws {
        // 256 MB of zeros in about 250 KB of gzip.
        let bomb = try Self.gzippedZeros(256 << 20)
        #expect(bomb.count < 1 << 20)
        let head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Encoding: gzip\r\nContent-Length: \(bomb.count)\r\nConnection: close\r\n\r\n"
        let raw = try RawServer(answering: Array(head.utf8) + bomb)
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - name: the default cap
                url: \(raw.baseURL)/bomb
                expect: { body: { length: 0 } }
              - name: a cap of its own
                url: \(raw.baseURL)/bomb
                max_body_size: 1MiB
            """, baseURL: raw.baseURL)
        #expect(result.requests[0].outcome == .error)
        #expect(result.requests[0].problem?.message.hasPrefix("the response body is larger than max_body_size (32 MiB): the transfer was stopped after") == true,
            "\(result.requests[0].problem?.message ?? "")")
        #expect(result.requests[1].problem?.message.hasPrefix("the response body is larger than max_body_size (1 MiB)") == true, "\(result.requests[1].problem?.message ?? "")")
    }

    @Test func aRequestWithoutATimeoutHasTheDefault() throws {
        var request = RequestSpec(name: "r", location: SourceLocation(file: "t.yaml", line: 1, column: 1), url: Template(literal: "http://127.0.0.1:1/"))
        #expect(request.timeout == nil)
        request.maxBodySize = ByteSize(bytes: 4096)
        let spec = CollectionSpec(name: "c", file: "t.yaml", location: request.location, requests: [request])
        let transport = ScriptedTransport(fallback: { _ in ScriptedTransport.response(200) })
        _ = Runner(plan: RunPlan(spec), scope: VariableScope([], environment: [:]), secrets: [], transport: transport).run()
        #expect(transport.sent.first?.timeoutSeconds == 30)
        #expect(transport.sent.first?.maxBodySize == 4096)
    }

    @Test func aRegexThatBacktracksWithoutEndIsAnErrorOfItsCheck() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await runCollection("""
            base_url: "{{ base_url }}"
            requests:
              - name: catastrophic
                url: "\(VerdictTests.respond(String(repeating: "a", count: 50) + "b", contentType: "text/plain"))"
                capture: { x: { regex: '(.*a){20}$' } }
                expect:
                  body: { matches: '(.*a){20}$' }
                  status: 200
            """, baseURL: server.baseURL)
        let check = try #require(result.requests[0].checks.first { $0.subject == "body" })
        #expect(!check.passed)
        #expect(check.message?.contains("could not be applied: the match stopped at the time limit") == true, "\(check.message ?? "")")
        #expect(result.requests[0].problem?.message.contains("could not be applied") == true, "\(result.requests[0].problem?.message ?? "")")
    }

    /// Anchored patterns are matched at one place only, and ICU reports reaching the time
    /// limit there differently: still an error, never "does not match" (the first of these
    /// does match, by its second branch).
    @Test func anAnchoredRegexThatBacktracksWithoutEndIsAnErrorToo() throws {
        let text = String(repeating: "a", count: 40) + "!"
        let patterns = [
            "^(?:(a|a)+$|a+!$)", "^(a|a)+$", "\\A(a|a)+$", "(?m)^(a|a)+$", "^(a+)+$", "^(\\w+\\s?)*$", "(a|a)+$",
            "^((a)|(a)|(a)|(a)|(a)|(a)|(a)|(a))+$", "^(?:a|a)+$",
        ]
        for pattern in patterns {
            let regex = try BoundedRegex(pattern)
            #expect(throws: RegexError.self, "\(pattern)") { try regex.firstMatch(in: text) }
        }
        // What ICU answers quickly is still trusted, both ways.
        #expect(try BoundedRegex("^(?:(a|a)+$|a+!$)").matches(String(repeating: "a", count: 12) + "!"))
        #expect(try !BoundedRegex("^(a|a)+$").matches(String(repeating: "a", count: 12) + "!"))
    }

    /// A match that would need more backtracking stack than the limit (a long body through a
    /// repeated group) is an error of its check, never a mismatch.
    @Test func aRegexThatOverflowsItsStackIsAnErrorOfItsCheck() async throws {
        let body = String(repeating: "ab", count: 512 << 10)
        let raw = try RawServer(answering: Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8))
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - name: deep
                url: \(raw.baseURL)/deep
                expect: { body: { matches: '^(a|b)*$' } }
            """, baseURL: raw.baseURL)
        let check = try #require(result.requests[0].checks.first { $0.subject == "body" })
        #expect(!check.passed)
        #expect(check.message?.contains("could not be applied") == true, "\(check.message ?? "")")
    }

    /// A secret a server hands out with a NUL in it is masked like any other (redaction
    /// searches bytes; Foundation's replacingOccurrences traps on such a needle).
    @Test func aSecretWithANULIsMaskedWithoutACrash() async throws {
        let token = "tok\u{0}en-31337"
        let body = JSONValue.object(JSONObject([(key: "token", value: .string(token)), (key: "echo", value: .string("x" + token))])).jsonText
        let raw = try RawServer(answering: Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8))
        defer { raw.stop() }
        let result = try await runCollection("""
            requests:
              - name: hands out a secret
                url: \(raw.baseURL)/login
                capture: { token: { jsonpath: $.token, secret: true } }
                expect: { jsonpath: { $.echo: nope } }
            """, baseURL: raw.baseURL)
        let check = try #require(result.requests[0].checks.first)
        #expect(check.actual == "\"x••••••\"", "\(check.actual)")
    }

    @Test func aJSONPathThatVisitsTooMuchStops() throws {
        // 2,000 nested single-member objects: $..*..* would select millions of nodes.
        var text = ""
        for _ in 0..<2_000 { text += #"{"a":"# }
        text += "1" + String(repeating: "}", count: 2_000)
        let document = try JSONValue.parse(text, maxDepth: 4_000)
        #expect(throws: JSONPathEvaluationError.self) { try JSONPath("$..*..*").values(in: document) }
        // 3 KB, 200 objects deep around 900 numbers: $..*..* selects 199,900 nodes whose paths
        // are up to 201 steps long. They are spelled out only when asked for; all at once they
        // took gigabytes, and $..*..*..* ran out of memory before its node budget stopped it.
        let deep = try JSONValue.parse(
            String(repeating: #"{"a":"#, count: 200) + "[" + Array(repeating: "1", count: 900).joined(separator: ",") + "]"
                + String(repeating: "}", count: 200))
        let nodes = try JSONPath("$..*..*").nodes(in: deep)
        #expect(nodes.count == 199_900)
        #expect(nodes.first?.path == "$['a']['a']")
        #expect(nodes.last?.path == "$" + String(repeating: "['a']", count: 200) + "[899]")
        #expect(throws: JSONPathEvaluationError.self) { try JSONPath("$..*..*..*").nodes(in: deep) }
        let nested = String(repeating: "!(", count: 30_000) + "@.a" + String(repeating: ")", count: 30_000)
        #expect(throws: JSONPathError.self) { try JSONPath("$[?\(nested)]") }
    }

    @Test func deepOrLongTemplatesAndChainsAreErrors() throws {
        #expect(throws: TemplateError.self) { try Template(parsing: "{{ " + String(repeating: "random_int(", count: 20_000) + ")}}") }
        #expect(throws: TemplateError.self) { try Template(parsing: "{{ x" + String(repeating: " | upper", count: 5_000) + " }}") }
        // 10,000 variables each reading the next: an error at load, not a stack overflow.
        var vars = "vars:\n"
        for i in 0..<10_000 { vars += "  v\(i): \"{{ v\(i + 1) }}\"\n" }
        vars += "  v10000: end\nrequests:\n  - name: r\n    url: \"http://h/{{ v0 }}\"\n"
        #expect(throws: DiagnosticsError.self) { try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(text: vars, file: "chain.yaml") }
    }

    /// The limit on chains of variables does not depend on their names (the order they are
    /// rendered in), and the error stands at the variable where the chain grows too deep, once.
    @Test(arguments: [false, true])
    func aChainOfVariablesIsLimitedWhateverItsNames(_ reversed: Bool) throws {
        func chain(_ links: Int) -> String {
            var vars = "vars:\n"
            for i in 0...links {
                let (name, next) = reversed ? ("v\(i)", "v\(i + 1)") : ("v\(i)", "v\(i - 1)")
                let last = reversed ? i == links : i == 0
                vars += last ? "  \(name): end\n" : "  \(name): \"{{ \(next) }}\"\n"
            }
            return vars + "requests:\n  - name: r\n    url: \"http://h/{{ v\(reversed ? 0 : links) }}\"\n"
        }
        let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))
        _ = try loader.load(text: chain(63), file: "chain.yaml")
        for links in [64, 65, 99, 100] {
            do {
                _ = try loader.load(text: chain(links), file: "chain.yaml")
                Issue.record("a chain of \(links) links must be refused")
            } catch {
                let chainErrors = error.diagnostics.filter { $0.message.contains("deep") }
                #expect(chainErrors.count == 1, "\(error.diagnostics)")
            }
        }
    }

    @Test func aSchemaWhoseReferencesFanOutStops() throws {
        let schema = try JSONValue.parse(##"{"allOf":[{"$ref":"#"},{"$ref":"#"}]}"##)
        let violations = JSONSchema(schema).validate(["a": 1])
        #expect(violations.contains { $0.message.hasPrefix("validation stopped after 200000 steps") })
    }

    @Test func billionLaughsIsRefusedWithItsPosition() throws {
        var yaml = "vars:\n  a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for i in 1...9 { yaml += "  a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        yaml += "requests:\n  - name: r\n    url: http://h/\n"
        do {
            _ = try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(text: yaml, file: "lol.yaml")
            Issue.record("a billion laughs must be refused")
        } catch {
            #expect(error.diagnostics.map(\.description).first?.hasPrefix("lol.yaml:6:47:") == true, "\(error.diagnostics)")
            #expect(error.diagnostics.first?.message.contains("aliases expand to more than 100000 nodes") == true)
        }
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: DiagnosticsError.self) { try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(text: deep, file: "deep.yaml") }
    }
}
