import Foundation
import SondeCore
import Testing

@testable import SondeSpec

struct CollectionLoaderTests {
    @Test func theKubeSphereCollectionLoadsWithDefaultsMerged() throws {
        let file = Paths.collections.appendingPathComponent("kubesphere.yaml").path
        let loaded = try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(file: file)
        let spec = loaded.spec
        #expect(spec.name == "kubesphere-smoke")
        #expect(spec.requests.map(\.name) == ["login", "component statuses"])
        #expect(loaded.secrets == ["password"])
        let login = spec.requests[0]
        #expect(login.method == "POST")
        #expect(login.timeout == TimeSpan(milliseconds: 10_000))
        #expect(login.defaultHeaders.map(\.name.source) == ["Accept"])
        #expect(login.captures.first?.name == "token")
        #expect(login.captures.first?.secret == true)
        let statuses = spec.requests[1]
        #expect(statuses.headers.map(\.name.source) == ["Authorization"])
        #expect(statuses.expectations.count == 7)
        #expect(statuses.location.line == 33)

        let scope = loaded.makeScope()
        #expect(try scope.variable("password") == "P@88w0rd")
        #expect(try spec.baseURL?.render(in: scope) == "http://127.0.0.1:31078")
    }

    @Test func theCollectionNameDefaultsToTheFileName() throws {
        let loaded = try CollectionLoader().load(text: "requests:\n  - name: a\n    url: http://x/\n", file: "dir/smoke-test.yaml")
        #expect(loaded.spec.name == "smoke-test")
        #expect(loaded.spec.requests[0].method == "GET")
        #expect(loaded.spec.requests[0].followRedirects)
    }

    @Test func requestValuesOverrideDefaults() throws {
        let text = """
            defaults:
              headers: { Accept: application/json, X-Team: core }
              query: { page: 1 }
              timeout: 3s
              follow_redirects: false
              retry: { count: 2, delay: 100ms, until_status: [200, 204] }
              auth: { bearer: "{{ token }}" }
            vars: { token: t }
            requests:
              - name: a
                url: http://x/
                headers: { accept: text/plain }
                timeout: 250ms
              - name: b
                url: http://x/
                follow_redirects: true
                auth: { basic: { username: u, password: p } }
            """
        let spec = try CollectionLoader().load(text: text, file: "d.yaml").spec
        let a = spec.requests[0], b = spec.requests[1]
        // Defaults stay apart: the runner leaves one out when the request's own field has its rendered name.
        #expect(a.headers.map { "\($0.name): \($0.value)" } == ["accept: text/plain"])
        #expect(a.defaultHeaders.map { "\($0.name): \($0.value)" } == ["Accept: application/json", "X-Team: core"])
        #expect(a.defaultQuery.map(\.name.source) == ["page"])
        #expect(a.timeout == TimeSpan(milliseconds: 250))
        #expect(!a.followRedirects)
        #expect(a.retry == RetryPolicy(count: 2, delay: TimeSpan(milliseconds: 100), untilStatus: [200, 204]))
        #expect(a.auth == .bearer(try Template(parsing: "{{ token }}")))
        #expect(b.timeout == TimeSpan(milliseconds: 3000))
        #expect(b.followRedirects)
        #expect(b.auth == .basic(username: Template(literal: "u"), password: Template(literal: "p")))
    }

    /// Requests are read as they are composed (the file is never one tree), so `defaults`,
    /// `base_url`, `vars` and `secrets` after `requests` must count as much as before it.
    @Test func theCollectionsKeysMayComeInAnyOrder() throws {
        let requests = """
            requests:
              - name: a
                url: /a
                headers: &shared { X-Trace: "{{ trace }}" }
                timeout: 250ms
              - name: b
                url: /b
                headers: *shared
                capture: { id: { jsonpath: $.id } }
              - name: c
                url: "/c/{{ id }}"

            """
        let keys = """
            base_url: http://x
            defaults: { timeout: 3s, follow_redirects: false, headers: { Accept: application/json } }
            vars: { trace: t-1, key: k-123456 }
            secrets: [key]

            """
        let before = try CollectionLoader().load(text: keys + requests, file: "k.yaml")
        let after = try CollectionLoader().load(text: requests + keys, file: "k.yaml")
        for loaded in [before, after] {
            let spec = loaded.spec
            #expect(spec.baseURL?.source == "http://x")
            #expect(loaded.secrets == ["key"])
            #expect(spec.requests.map(\.name) == ["a", "b", "c"])
            #expect(spec.requests.map(\.timeout) == [TimeSpan(milliseconds: 250), TimeSpan(milliseconds: 3000), TimeSpan(milliseconds: 3000)])
            #expect(spec.requests.allSatisfy { !$0.followRedirects && $0.defaultHeaders.map(\.name.source) == ["Accept"] })
            #expect(spec.requests[1].headers.map(\.name.source) == ["X-Trace"])
        }
        // Without a base_url anywhere, each relative URL is reported where it is written.
        let error = #expect(throws: DiagnosticsError.self) { try CollectionLoader().load(text: requests + "vars: { trace: t }\n", file: "k.yaml") }
        #expect(error?.diagnostics.map { "\($0.location.line):\($0.location.column)" } == ["3:10", "7:10", "11:10"])
        #expect(error?.diagnostics.allSatisfy { $0.message.contains("has no base_url") } == true)
        // An anchored list of requests (which an alias could copy) is read whole, the same way.
        let anchored = try CollectionLoader().load(text: keys + requests.replacingOccurrences(of: "requests:", with: "requests: &all"), file: "k.yaml")
        #expect(anchored.spec.requests.map(\.timeout) == before.spec.requests.map(\.timeout))
    }

    /// Each request captures a name of its own and reads the one before: each may read what
    /// earlier steps captured and its own in expect, never a later one. (A set of names per
    /// step made this quadratic: 6 GB for 20,000 such requests.)
    @Test func manyCapturesAreCheckedStepByStep() throws {
        let count = 3_000
        func collection(lastReads name: String) -> String {
            var text = "base_url: http://x\nrequests:\n"
            for index in 0..<count {
                let reads = index == 0 ? "" : "\n    headers: { X-Previous: \"{{ v\(index - 1) }}\" }"
                text += "  - name: r\(index)\n    url: /\(index)\(reads)\n    capture: { v\(index): $.n }\n    expect: { jsonpath: { $.n: \"{{ v\(index) }}\" } }\n"
            }
            return text + "  - name: last\n    url: \"/{{ \(name) }}\"\n"
        }
        let loaded = try CollectionLoader().load(text: collection(lastReads: "v\(count - 1)"), file: "many.yaml")
        #expect(loaded.spec.requests.count == count + 1)
        var text = collection(lastReads: "v0")
        text = text.replacingOccurrences(of: "  - name: r0\n    url: /0\n", with: "  - name: r0\n    url: \"/{{ v5 }}\"\n")
        let error = #expect(throws: DiagnosticsError.self) { try CollectionLoader().load(text: text, file: "many.yaml") }
        #expect(error?.diagnostics.map(\.message) == ["'v5' is not defined; it is captured by request 'r5', which runs after this one"])
    }

    /// A secret's value written out stands on other lines than its definition too: no
    /// message quotes such a line, or the value (from the break-test of issue 16).
    @Test func aSecretsValueIsNeitherQuotedNorNamedInAnError() throws {
        let secret = "LiteralTok3nValue"
        let text = """
            vars: { token: \(secret) }
            secrets: [token]
            requests:
              - name: a
                url: http://x/
                headers: { X: "\(secret) {{ nope }}" }
              - name: b
                url: http://x/
                \(secret): 1
            """
        let error = #expect(throws: DiagnosticsError.self) { try CollectionLoader().load(text: text, file: "s.yaml") }
        let diagnostics = try #require(error?.diagnostics)
        #expect(diagnostics.map(\.location.line) == [6, 9])
        #expect(diagnostics.allSatisfy { !$0.quotesSource && !$0.message.contains(secret) })
    }

    @Test func everyRequestKeyIsRead() throws {
        let text = """
            vars: { n: 2, flag: "false" }
            requests:
              - name: all
                method: patch
                url: http://x/items
                query: { q: "a b", n: "{{ n }}" }
                form: { a: 1, b: "{{ n }}" }
                delay: 1s
                skip: "{{ flag }}"
                insecure: true
                capture:
                  id: $.id
                  loc: { header: Location }
                  sid: { cookie: session, secret: true }
                  ver: { regex: "v([0-9]+)" }
                  code: { status: true }
                  took: { duration: true }
                expect:
                  status: [200, 201]
                  headers: { Content-Type: { starts_with: application/json } }
                  body: { not_contains: error, matches: "^\\\\{" }
                  duration: { "<=": 1.5s }
                  schema: { type: object, required: [id] }
                  jsonpath:
                    $.id: { type: number, ">": 0 }
                    $.tags: { one_of: [[], [a]], empty: false, length: { "<": 5 } }
                    $.items[*].ok: { each: true }
            """
        let r = try CollectionLoader().load(text: text, file: "all.yaml").spec.requests[0]
        #expect(r.method == "PATCH")
        #expect(r.query.count == 2)
        if case .form(let fields) = r.body { #expect(fields.map(\.name.source) == ["a", "b"]) } else { Issue.record("form body") }
        #expect(r.delay == TimeSpan(milliseconds: 1000))
        #expect(r.insecure)
        #expect(r.captures.map(\.name) == ["id", "loc", "sid", "ver", "code", "took"])
        #expect(r.captures[2].secret)
        if case .regex(_, let group) = r.captures[3].source { #expect(group == 1) } else { Issue.record("regex capture") }
        #expect(r.expectations.count == 8)
        if case .duration = r.expectations[3].subject, case .compare(.lessOrEqual, .number(let ms)) = r.expectations[3].predicate {
            #expect(ms.double == 1500)
        } else {
            Issue.record("duration predicate: \(r.expectations[3])")
        }
    }

    @Test func jsonBodiesKeepYAMLTypes() throws {
        let text = """
            vars: { count: 5 }
            requests:
              - name: a
                method: POST
                url: http://x/
                json: { n: 1, f: 1.5, yes: yes, t: true, nil: null, s: "1", list: [1, "two"], c: "{{ count }}", big: 123456789012345678901 }
            """
        let loaded = try CollectionLoader().load(text: text, file: "j.yaml")
        guard case .json(let body) = loaded.spec.requests[0].body else { throw SpecTestFailure("no json body") }
        let rendered = try body.render(in: loaded.makeScope())
        #expect(rendered.jsonText == #"{"n":1,"f":1.5,"yes":"yes","t":true,"nil":null,"s":"1","list":[1,"two"],"c":5,"big":123456789012345678901}"#)
    }
}

struct VariableSourceTests {
    @Test func everySourceInItsPlace() throws {
        let folder = try Paths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        try """
            vars: { a: vars, b: vars, c: vars, d: vars, e: vars }
            requests:
              - name: r
                url: "http://x/{{ a }}/{{ b }}/{{ c }}/{{ d }}/{{ only_env }}"
            """.write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        try "vars: { b: envfile, c: envfile, d: envfile, only_env: \"{{ env.WHO }}\" }\nsecrets: [c]\n"
            .write(to: folder.appendingPathComponent("environments/staging.yaml"), atomically: true, encoding: .utf8)
        try "# secrets kept out of git\nexport c=dotenv\nd = \"dot env\" \n"
            .write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let options = VariableOptions(environmentName: "staging", assignments: ["d=cli", "e=x=y"], processEnvironment: ["WHO": "me"])
        let loaded = try CollectionLoader(options: options).load(file: folder.appendingPathComponent("c.yaml").path)
        let scope = loaded.makeScope()
        #expect(try loaded.spec.requests[0].url.render(in: scope) == "http://x/vars/envfile/dotenv/cli/me")
        #expect(try scope.variable("e") == "x=y")
        #expect(loaded.secrets == ["c"])
        #expect(loaded.environmentName == "staging")
    }

    @Test func aMissingEnvironmentSuggestsTheNearestOne() throws {
        let folder = try Paths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        try "requests:\n  - name: r\n    url: http://x/\n".write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        try "base_url: x\n".write(to: folder.appendingPathComponent("environments/staging.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try CollectionLoader(options: VariableOptions(environmentName: "stagign")).load(file: folder.appendingPathComponent("c.yaml").path)
            Issue.record("should fail")
        } catch {
            #expect(error.diagnostics.map(\.message).first?.hasSuffix("did you mean 'staging'?") == true)
        }
    }

    @Test func textFromEverySourceTakesTheTypeOfTheDefaultItOverrides() throws {
        let folder = try Paths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        try """
            vars: { limit: 10, ratio: 0.5, on: false, ids: [1], page: 1, label: x, templated: 3 }
            requests:
              - name: r
                url: "http://x/"
            """.write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        try "vars: { limit: \"25\", ratio: \"1e-3\", templated: \"{{ env.N }}\" }\n"
            .write(to: folder.appendingPathComponent("environments/ci.yaml"), atomically: true, encoding: .utf8)
        try "on=TRUE\nids=[2, 3]\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let options = VariableOptions(environmentName: "ci", assignments: ["page=2", "label=7"], processEnvironment: ["N": "4"])
        let scope = try CollectionLoader(options: options).load(file: folder.appendingPathComponent("c.yaml").path).makeScope()
        #expect(try scope.variable("limit") == 25)
        #expect(try scope.variable("ratio") == 0.001)
        #expect(try scope.variable("on") == true)
        #expect(try scope.variable("ids") == [2, 3])
        #expect(try scope.variable("page") == 2)
        #expect(try scope.variable("label") == "7")
        #expect(try scope.variable("templated") == 4)

        // Text that is not of the default's type is an error at its source, before anything is sent.
        try "on=maybe\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let wrong = VariableOptions(environmentName: "ci", assignments: ["page=two"], processEnvironment: ["N": "4"])
        do {
            _ = try CollectionLoader(options: wrong).load(file: folder.appendingPathComponent("c.yaml").path)
            Issue.record("text of the wrong type must be refused")
        } catch {
            let messages = error.diagnostics.map { "\($0.location.file.hasSuffix(".env") ? ".env" : $0.location.file):\($0.location.line): \($0.message)" }
            // A value of .env is never shown: secrets are kept there.
            #expect(messages.contains(".env:1: 'on' (from .env): 'on' is a boolean in vars (\(folder.path)/c.yaml:1:32), and the value given is not (it is not shown: it may be a secret)"), "\(messages)")
            #expect(messages.contains("--var:1: --var page=two: 'page' is a number in vars (\(folder.path)/c.yaml:1:53), and \"two\" is not a number"), "\(messages)")
        }
        // A template's text is converted when it is rendered, which the loader does, at its definition.
        let late = CollectionLoader(options: VariableOptions(environmentName: "ci", processEnvironment: ["N": "four"]))
        try "on=no\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        do {
            _ = try late.load(file: folder.appendingPathComponent("c.yaml").path)
            Issue.record("a template's text of the wrong type must be refused")
        } catch {
            #expect(error.diagnostics.map(\.description) == [
                "\(folder.path)/environments/ci.yaml:1:37: variable 'templated': 'templated' is \"four\" from environment file, which is not a number as its default in vars is"
            ])
        }
        // A typed value of another type is refused too.
        try "vars: { limit: true }\n".write(to: folder.appendingPathComponent("environments/ci.yaml"), atomically: true, encoding: .utf8)
        do {
            _ = try CollectionLoader(options: VariableOptions(environmentName: "ci")).load(file: folder.appendingPathComponent("c.yaml").path)
            Issue.record("a boolean for a number must be refused")
        } catch {
            #expect(error.diagnostics.map(\.message) == ["'limit' is a boolean: 'limit' is a number in vars (\(folder.path)/c.yaml:1:9), and a boolean is not a number"])
        }
    }

    @Test func valuesFromTheShellAreTemplatesOfTheirDefaultsType() throws {
        let folder = try Paths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("environments"), withIntermediateDirectories: true)
        try "vars: { name: bob, limit: 10, folder: d }\nrequests:\n  - name: r\n    url: http://h/\n    multipart: { f: { file: \"{{ folder }}\" } }\n"
            .write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("d"), withIntermediateDirectories: true)
        try "vars: { name: 5 }\n".write(to: folder.appendingPathComponent("environments/e.yaml"), atomically: true, encoding: .utf8)
        try "greeting=hi {{ name }}\nbraces=\\{{ kept }}\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let options = VariableOptions(environmentName: "e", assignments: ["twice={{ limit }}{{ limit }}"], processEnvironment: [:])
        let scope = try CollectionLoader(options: options).load(file: folder.appendingPathComponent("c.yaml").path).makeScope()
        // Over a text default a number is its text, as from --var; shell values are templates.
        #expect(try scope.variable("name") == "5")
        #expect(try scope.variable("greeting") == "hi 5")
        #expect(try scope.variable("braces") == "{{ kept }}")
        #expect(try scope.variable("twice") == "1010")
        for bad in ["a.b=5", "x={{ nope }}"] {
            #expect(throws: DiagnosticsError.self, "\(bad)") {
                try CollectionLoader(options: VariableOptions(assignments: [bad], processEnvironment: [:])).load(file: folder.appendingPathComponent("c.yaml").path)
            }
        }
    }

    @Test func explicitYAMLTagsDecideTheType() throws {
        let text = "vars: { v: !!str 42 }\nrequests:\n  - name: r\n    url: http://h/\n    json: { a: !!str 5, b: !!str true, c: !!str null, e: !!int \"7\", f: \"{{ v }}\", g: !!float 1 }\n"
        let loaded = try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(text: text, file: "t.yaml")
        guard case .json(let body)? = loaded.spec.requests[0].body else { throw SpecTestFailure("a json body") }
        #expect(try body.render(in: loaded.makeScope()).jsonText == #"{"a":"5","b":"true","c":"null","e":7,"f":"42","g":1}"#)
    }

    @Test func commandLineVariablesSatisfyTheNameCheck() throws {
        let text = "requests:\n  - name: r\n    url: \"{{ base_url }}/x\"\n"
        #expect(throws: DiagnosticsError.self) { try CollectionLoader(options: VariableOptions(processEnvironment: [:])).load(text: text, file: "c.yaml") }
        let loaded = try CollectionLoader(options: VariableOptions(assignments: ["base_url=http://h"])).load(text: text, file: "c.yaml")
        #expect(try loaded.spec.requests[0].url.render(in: loaded.makeScope()) == "http://h/x")
    }
}

struct SpecTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
