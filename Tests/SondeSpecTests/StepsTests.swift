import Foundation
import SondeCore
import SondeSpec
import Testing

/// Includes, loops, data files and selection as the loader and the plan see them.
struct StepsTests {
    static func folder(_ files: [String: String]) throws -> URL {
        let folder = try Paths.temporaryFolder()
        for (path, text) in files {
            let url = folder.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return folder
    }

    static let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))

    @Test func csvFollowsRFC4180() throws {
        let rows = try DataFile.csv("\u{FEFF}name,note\r\n\"a, b\",\"say \"\"hi\"\"\"\r\n\"two\nlines\",\r\n\nlast,x", file: "t.csv")
        #expect(rows.count == 3)
        #expect(rows[0] == .object(JSONObject([("name", "a, b"), ("note", "say \"hi\"")])))
        #expect(rows[1]["name"] == "two\nlines")
        #expect(rows[1]["note"] == "")
        #expect(rows[2] == .object(JSONObject([("name", "last"), ("note", "x")])))
        #expect(try DataFile.csv("only,header\n", file: "t.csv").isEmpty)
        #expect(throws: DiagnosticsError.self) { try DataFile.csv("", file: "t.csv") }
        for (text, message, line) in [
            ("a,b\n1,2,3\n", "this row has 3 fields, the header row 2", 2), ("a,a\n1,2\n", "names 'a' twice", 1),
            ("a\n\"open\n", "not closed", 2), ("a\nx\"y\n", "a quote inside a field", 2), ("a\n\"x\"y\n", "text after the closing quote", 2),
        ] {
            #expect {
                _ = try DataFile.csv(text, file: "t.csv")
            } throws: { error in
                let diagnostic = (error as? DiagnosticsError)?.diagnostics.first
                return diagnostic?.message.contains(message) == true && diagnostic?.location.line == line
            }
        }
    }

    @Test func pathsAreNormalisedAsText() {
        #expect(PathText.normalized("collections/../common/login.yaml") == "common/login.yaml")
        #expect(PathText.normalized("./a/./b/") == "a/b")
        #expect(PathText.normalized("../x/../../y") == "../../y")
        #expect(PathText.normalized("/a/../../b") == "/b")
        #expect(PathText.lastComponent(of: "data/pods.csv") == "pods.csv")
    }

    /// Devices, folders and fifos are not read: an error at once, never a read without end.
    @Test func onlyRegularFilesAreIncludedOrRead() throws {
        let folder = try Self.folder([
            "c.yaml": """
                base_url: http://127.0.0.1:1
                requests:
                  - include: /dev/zero
                  - include: sub
                  - name: a
                    url: /a
                    for_each: { data: /dev/urandom }
                """,
            "sub/x": "",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect {
            _ = try Self.loader.load(file: folder.appendingPathComponent("c.yaml").path)
        } throws: { error in
            let messages = (error as? DiagnosticsError)?.diagnostics.map(\.message) ?? []
            return messages.filter { $0.contains("not a regular file") }.count == 3
        }
    }

    /// Every file a collection names goes through the same check: a schema, an expected
    /// body, a templated body and an environment file that are devices are errors at once.
    @Test func everyFileACollectionNamesIsARegularFile() throws {
        let folder = try Self.folder([
            "c.yaml": """
                requests:
                  - name: a
                    url: http://127.0.0.1:1/
                    expect: { schema: /dev/zero, bytes: { file: /dev/zero } }
                    body: { file: /dev/zero, templated: true }
                """
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        #expect {
            _ = try Self.loader.load(file: folder.appendingPathComponent("c.yaml").path)
        } throws: { error in
            ((error as? DiagnosticsError)?.diagnostics.filter { $0.message.contains("not a regular file") }.count ?? 0) == 3
        }
        let withDevice = CollectionLoader(options: VariableOptions(environmentFile: "/dev/zero", processEnvironment: [:]))
        #expect(throws: DiagnosticsError.self) { try withDevice.load(file: folder.appendingPathComponent("c.yaml").path) }
    }

    /// An include's steps are named after it; `with:` reads what it needs in the including
    /// collection, so a selection of the include pulls in the step that captures it.
    @Test func aSelectionFollowsWithAndExports() throws {
        let folder = try Self.folder([
            "c/main.yaml": """
                base_url: http://127.0.0.1:1
                requests:
                  - name: tenant
                    url: /tenant
                    capture: { tenant_id: $.id }
                  - name: unrelated
                    url: /other
                  - include: ../common/login.yaml
                    name: admin
                    with: { tenant: "{{ tenant_id }}" }
                  - name: list
                    url: /list
                    headers: { Authorization: "Bearer {{ token }}" }
                    tags: [smoke]
                """,
            "common/login.yaml": """
                exports: [token]
                requests:
                  - include: inner.yaml
                    with: { tenant: "{{ tenant }}" }
                  - name: check
                    url: /check/{{ token }}
                """,
            "common/inner.yaml": """
                exports: [token]
                requests:
                  - name: login
                    url: /login/{{ tenant }}
                    capture: { token: $.token }
                """,
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let loaded = try Self.loader.load(file: folder.appendingPathComponent("c/main.yaml").path)
        let plan = RunPlan(loaded.spec)
        #expect(plan.steps.map(\.id) == ["tenant", "unrelated", "admin/inner/login", "admin/check", "list"])
        #expect(plan.scopes.count == 3)
        #expect(plan.steps[2].includedFrom.count == 2)
        let selected = try #require(plan.selecting(StepSelection(tags: ["smoke"])))
        #expect(selected.steps.map(\.id) == ["tenant", "admin/inner/login", "list"])
        #expect(selected.steps[1].addedBecause == "list needs token")
        #expect(selected.steps[0].addedBecause == "admin/inner/login needs tenant_id")
        #expect(plan.selecting(StepSelection(requests: ["admin"]))?.steps.map(\.id) == ["tenant", "admin/inner/login", "admin/check"])
        #expect(plan.selecting(StepSelection(skipTags: ["smoke"]))?.steps.map(\.id) == ["tenant", "unrelated", "admin/inner/login", "admin/check"])
        #expect(RunPlan.unmatched(StepSelection(requests: ["lsit"]), in: [plan])?.contains("did you mean 'list'?") == true)
    }

    /// Every earlier step that may take a capture comes with a selection, not only the
    /// nearest; a request named with a `/` is not an include.
    @Test func aSelectionTakesEveryProviderAndOnlyRealIncludes() throws {
        let folder = try Self.folder([
            "c.yaml": """
                base_url: http://127.0.0.1:1
                vars: { skip_refresh: true }
                requests:
                  - name: login
                    url: /login
                    capture: { token: $.t }
                  - name: refresh
                    url: /refresh
                    skip: "{{ skip_refresh }}"
                    capture: { token: $.t }
                  - name: get
                    url: /get/{{ token }}
                  - name: get/x
                    url: /write
                """
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let plan = RunPlan(try Self.loader.load(file: folder.appendingPathComponent("c.yaml").path).spec)
        #expect(plan.selecting(StepSelection(requests: ["get"]))?.steps.map(\.id) == ["login", "refresh", "get"])
        #expect(plan.selecting(StepSelection(requests: ["get/x"]))?.steps.map(\.id) == ["get/x"])
        // Everything chosen is the whole collection.
        #expect(plan.selecting(StepSelection(requests: ["*"]))?.selection == [])
    }

    /// A bad `--data` is said once: the other data files and names stay defined.
    @Test func aBadDataFileIsOneError() throws {
        let folder = try Self.folder([
            "c.yaml": """
                base_url: http://127.0.0.1:1
                requests:
                  - name: a
                    for_each: "{{ data }}"
                    url: /a
                  - name: b
                    for_each: "{{ users }}"
                    url: /b
                """,
            "obj.json": "{}",
            "users.csv": "login\nada\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = { (name: String) in folder.appendingPathComponent(name).path }
        let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:], dataFiles: [path("obj.json"), "users=" + path("users.csv"), "1bad=" + path("users.csv")]))
        #expect {
            _ = try loader.load(file: path("c.yaml"))
        } throws: { error in
            let messages = (error as? DiagnosticsError)?.diagnostics.map(\.message) ?? []
            return messages.count == 2 && messages.contains { $0.contains("must hold an array of rows") }
                && messages.contains { $0.contains("'1bad' cannot be used") }
        }
    }
}
