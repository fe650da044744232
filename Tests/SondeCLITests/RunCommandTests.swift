import Foundation
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// `sonde run` and `sonde demo` through the binary, against the mock on loopback.
@Suite(.serialized)
struct RunCommandTests {
    static func write(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: folder.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return folder
    }

    @Test func theSeedFlowPassesAndNoSecretIsPrinted() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        for verbosity in [[], ["-v"], ["-vv"]] {
            let result = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)"] + verbosity)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("PASSED kubesphere-smoke: 2 passed, 0 failed, 0 errors, 0 skipped"))
            let tokens = server.state.issuedTokens
            #expect(!tokens.isEmpty)
            for secret in tokens.union(["P@88w0rd", "P%4088w0rd"]) {
                #expect(!result.stdout.contains(secret), "secret in stdout with \(verbosity)")
                #expect(!result.stderr.contains(secret), "secret in stderr with \(verbosity)")
            }
            if verbosity == ["-vv"] {
                #expect(result.stdout.contains("> Authorization: Bearer ••••••"))
                #expect(result.stdout.contains(#""password":"••••••""#))
            }
        }
    }

    /// `--netrc-file` gives credentials to the requests without an auth of their own, and
    /// `--curl` writes the transfer options and auth as curl's own, the password masked.
    @Test func netrcFileAndTransferOptionsOnTheCommandLine() async throws {
        let server = try await MockServer.start(.init(username: "ci", password: "netrc-secret-77"))
        defer { server.stop() }
        let folder = try Self.write([
            "c.yaml": """
                base_url: "\(server.baseURL)"
                vars: { pw: netrc-secret-77 }
                secrets: [pw]
                requests:
                  - name: from the netrc file
                    url: /basic
                    http_version: 1.1
                    path_as_is: true
                    connect_timeout: 1500ms
                    expect: { jsonpath: { $.user: ci } }
                  - name: digest, its own auth
                    url: /digest
                    auth: { digest: { username: ci, password: "{{ pw }}" } }
                """,
            "ci.netrc": "machine 127.0.0.1 login ci password netrc-secret-77\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let curl = folder.appendingPathComponent("sent.sh").path
        let result = try await Sonde.runAsync(["run", folder.appendingPathComponent("c.yaml").path, "--no-save", "--netrc-file", folder.appendingPathComponent("ci.netrc").path, "--curl", curl])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let lines = try String(contentsOfFile: curl, encoding: .utf8)
        #expect(lines.contains("--http1.1") && lines.contains("--path-as-is") && lines.contains("--netrc-file") && lines.contains("--connect-timeout 1.5"), "\(lines)")
        #expect(lines.contains("--digest -u ") && lines.contains("••••••"), "\(lines)")
        #expect(!lines.contains("netrc-secret-77") && !result.stdout.contains("netrc-secret-77"))
        let missing = try await Sonde.runAsync(["run", folder.appendingPathComponent("c.yaml").path, "--no-save", "--netrc-file", "/nonexistent/netrc"])
        #expect(missing.status == 2 && missing.stderr.contains("--netrc-file /nonexistent/netrc: the file cannot be read"), "\(missing.stderr)")
    }

    @Test func aFailedCheckExitsOneAndSaysWhy() async throws {
        let server = try await MockServer.start(.init(unhealthy: ["scheduler"]))
        defer { server.stop() }
        let result = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("✗ component statuses"))
        #expect(result.stdout.contains("collections/kubesphere.yaml:44:9  $.items[*].conditions[?@.type == 'Healthy'].status"))
        #expect(result.stdout.contains(#"at $['items'][0]['conditions'][0]['status']: expected "True", got "False""#))
        #expect(result.stdout.contains("FAILED kubesphere-smoke: 1 passed, 1 failed"))
    }

    @Test func aWrongPasswordSkipsWithTheReason() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--var", "password=wrong"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("skipped: needs 'token', captured by request 'login', which did not pass"))
        #expect(!result.stdout.contains("wrong\""))
    }

    @Test func anInvalidCollectionExitsTwoAndSendsNothing() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.write(["bad.yaml": "requests:\n  - name: a\n    url: \"\(server.baseURL)/echo\"\n    expcet: {}\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        let before = server.state.totalRequests
        let result = try await Sonde.runAsync(["run", folder.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("unknown key 'expcet'"))
        #expect(result.stderr.contains("nothing was sent"))
        #expect(server.state.totalRequests == before)
    }

    @Test func jobsRunCollectionsSideBySideEachInOrder() async throws {
        // Sequentially, the mock never sees two requests at once.
        let sequential = try await MockServer.start()
        defer { sequential.stop() }
        _ = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(sequential.baseURL)"])
        #expect(sequential.state.maxConcurrentRequests == 1)

        let server = try await MockServer.start()
        defer { server.stop() }
        var files: [String: String] = [:]
        for i in 0..<4 {
            files["c\(i).yaml"] = """
                name: c\(i)
                requests:
                  - name: first
                    url: "\(server.baseURL)/slow?ms=300"
                    capture: { slept: $.slept_ms }
                  - name: second
                    url: "\(server.baseURL)/echo?after={{ slept }}"
                    expect: { jsonpath: { $.query.after: "300" } }
                """
        }
        let folder = try Self.write(files)
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try await Sonde.runAsync(["run", folder.path, "--jobs", "4"])
        #expect(result.status == 0, "\(result.stdout)")
        for i in 0..<4 { #expect(result.stdout.contains("PASSED c\(i): 2 passed")) }
        // Each collection's lines stay together, in order.
        #expect(result.stdout.components(separatedBy: "✓ first").count == 5)
        #expect(server.state.maxConcurrentRequests >= 2)
    }

    @Test func theDemoRunsOnItsOwn() async throws {
        let result = try await Sonde.runAsync(["demo"])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("mock KubeSphere API listening on http://127.0.0.1:"))
        #expect(result.stdout.contains("PASSED kubesphere-smoke: 2 passed"))
        #expect(result.stdout.contains("Try next:"))
        // With a report on standard output, that output is the report alone.
        let tap = try await Sonde.runAsync(["demo", "--report", "tap"])
        #expect(tap.status == 0)
        #expect(tap.stdout.hasPrefix("TAP version 14\n1..2\n"), "\(tap.stdout)")
        #expect(!tap.stdout.contains("Try next") && !tap.stdout.contains("listening"))
        #expect(tap.stderr.contains("Try next:") && tap.stderr.contains("PASSED kubesphere-smoke"))
    }

    /// `--compare` gates like `sonde diff`: a run whose checks pass but whose body lost a
    /// field exits 1; several collections end with one summary of them all.
    @Test func compareExitsOneWhenSomethingGotWorseAndSeveralCollectionsAreSummed() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.write([
            "shape.yaml": """
                name: shape
                requests:
                  - name: item
                    url: "{{ base }}/respond?content_type=application/json&body={{ body | urlencode }}"
                    expect: { status: 200 }
                """,
            "other.yaml": "name: other\nrequests:\n  - { name: ping, url: \"{{ base }}/echo\" }\n",
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("h.sqlite").path
        let shape = folder.appendingPathComponent("shape.yaml").path
        let first = try await Sonde.runAsync(["run", shape, "--db", db, "--compare", "--latency-floor", "10s", "--var", "base=\(server.baseURL)", "--var", #"body={"a":1,"b":2}"#])
        #expect(first.status == 0, "\(first.stdout)\(first.stderr)")
        let worse = try await Sonde.runAsync(["run", shape, "--db", db, "--compare", "--latency-floor", "10s", "--var", "base=\(server.baseURL)", "--var", #"body={"a":1}"#])
        #expect(worse.status == 1, "\(worse.stdout)\(worse.stderr)")
        #expect(worse.stdout.contains("PASSED shape") && worse.stdout.contains("- $.b"), "\(worse.stdout)")
        let same = try await Sonde.runAsync(["run", shape, "--db", db, "--compare", "--latency-floor", "10s", "--var", "base=\(server.baseURL)", "--var", #"body={"a":1}"#])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        let both = try await Sonde.runAsync(["run", folder.path, "--no-save", "--var", "base=\(server.baseURL)", "--var", #"body={"a":1}"#])
        #expect(both.status == 0, "\(both.stderr)")
        #expect(both.stdout.contains("2 collections: 2 passed, 0 failed\n2 requests: 2 passed, 0 failed, 0 errors, 0 skipped in "), "\(both.stdout)")
        let single = try await Sonde.runAsync(["run", shape, "--no-save", "--var", "base=\(server.baseURL)", "--var", #"body={"a":1}"#])
        #expect(!single.stdout.contains("collections:"), "one collection has its own summary only")
    }

    /// `--curl FILE`: each request as a curl command line that, run by a shell, sends what Sonde
    /// sent (method, target, fields, body, the jar's cookies), secrets masked; -v shows the lines.
    @Test func curlCommandsReplayWhatWasSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.write([
            "c.yaml": #"""
                name: replay
                base_url: "{{ base }}"
                vars: { token: "k9Zr2mQx7Lw4" }
                secrets: [token]
                requests:
                  - name: set a cookie
                    url: /cookies/set?flavour=ginger
                  - name: odd put
                    method: PUT
                    url: /echo/a b?q=x y&e=é
                    headers: { X-Empty: "", X-Quote: "it's \"quoted\"", Authorization: "Bearer {{ token }}" }
                    body: "bell\u0007, tab\t, 'single' and $HOME `id`\nline two"
                    expect:
                      jsonpath:
                        $.body: "bell\u0007, tab\t, 'single' and $HOME `id`\nline two"
                        $.headers.Cookie: flavour=ginger
                  - name: form
                    method: POST
                    url: /echo
                    form: { a: "1 & 2", b: "@file" }
                  - name: a body that names a file
                    method: POST
                    url: /echo
                    headers: { X-Blank: "   " }
                    body: "@/etc/hostname"
                  - name: typed part
                    method: POST
                    url: /echo
                    multipart:
                      typed: { value: "a;b,c=d", content_type: text/plain }
                      plain: "<not a file"
                """#,
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let collection = folder.appendingPathComponent("c.yaml").path
        let script = folder.appendingPathComponent("out/replay.sh")
        let missing = try await Sonde.runAsync(["run", collection, "--no-save", "--curl", script.path])
        #expect(missing.status == 2 && missing.stderr.contains("--curl \(script.path): the folder \(folder.path)/out does not exist"), "\(missing.stderr)")
        try FileManager.default.createDirectory(at: script.deletingLastPathComponent(), withIntermediateDirectories: true)
        let run = try await Sonde.runAsync(["run", collection, "--no-save", "--curl", script.path, "--var", "base=\(server.baseURL)"])
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let text = try String(contentsOf: script, encoding: .utf8)
        #expect(!text.contains("k9Zr2mQx7Lw4") && text.contains("Authorization: Bearer ••••••"), "\(text)")
        let commands = text.split(separator: "\n").filter { $0.hasPrefix("curl ") }.map(String.init)
        #expect(commands.count == 5, "\(text)")
        #expect(text.hasPrefix("#!/usr/bin/env bash\n"), "\(text)")
        #expect(text.contains("# replay: odd put (\(collection):"), "\(text)")
        guard commands.count == 5 else { return }
        // Replayed by bash (for $'…'), with the masked token as it is: the echo shows what arrived.
        func replay(_ command: String) throws -> JSONValue {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", command + " -s"]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return try JSONValue.parse(Array(data))
        }
        let put = try replay(commands[1])
        #expect(put["method"] == "PUT")
        #expect(put["target"] == "/echo/a%20b?q=x%20y&e=%C3%A9")
        #expect(put["body"] == .string("bell\u{07}, tab\t, 'single' and $HOME `id`\nline two"))
        #expect(put["headers"]?["X-Empty"] == "")
        #expect(put["headers"]?["X-Quote"] == #"it's "quoted""#)
        #expect(put["headers"]?["Cookie"] == "flavour=ginger")
        #expect(put["headers"]?["Content-Type"] == nil, "sonde sends no Content-Type for body:, nor does the replay")
        let form = try replay(commands[2])
        #expect(form["body"] == "a=1%20%26%202&b=%40file")
        #expect(form["headers"]?["Content-Type"] == "application/x-www-form-urlencoded")
        // A body that starts with @ is text, never a file curl reads; a blank field stays, empty.
        let at = try replay(commands[3])
        #expect(at["body"] == "@/etc/hostname")
        #expect(at["headers"]?["X-Blank"] == "")
        let typed = try replay(commands[4])
        let multipart = typed["body"]?.stringValue ?? ""
        #expect(multipart.contains("name=\"typed\"\r\nContent-Type: text/plain\r\n\r\na;b,c=d\r\n"), "\(multipart)")
        #expect(multipart.contains("name=\"plain\"\r\n\r\n<not a file\r\n"), "\(multipart)")
        let verbose = try await Sonde.runAsync(["run", collection, "--no-save", "-v", "--var", "base=\(server.baseURL)"])
        #expect(verbose.stdout.contains("      $ curl -X PUT "), "\(verbose.stdout)")
        #expect(verbose.stdout.contains(#"$'bell\x07, tab\t"#), "control characters are escaped: \(verbose.stdout)")
    }

    /// `sonde demo` from a folder that is not a clone: the collection inside the binary is
    /// written out (the same bytes as collections/kubesphere.yaml), and every "Try next" line,
    /// pasted into a shell there as printed, runs and succeeds.
    @Test func theDemoWorksFromAnyFolderAndEveryTryNextLineRuns() async throws {
        let folder = try Self.write([:])
        defer { try? FileManager.default.removeItem(at: folder) }
        let environment = ["SONDE_DB": ""]
        let demo = try await Sonde.runAsync(["demo"], environment: environment, directory: folder)
        #expect(demo.status == 0, "\(demo.stdout)\(demo.stderr)")
        let written = try String(contentsOf: folder.appendingPathComponent(".sonde/demo/kubesphere.yaml"), encoding: .utf8)
        let original = try String(contentsOf: Sonde.packageRoot.appendingPathComponent("collections/kubesphere.yaml"), encoding: .utf8)
        #expect(written == original, "the demo's built-in collection differs from collections/kubesphere.yaml")
        let lines = demo.stdout.components(separatedBy: "Try next:\n").last?.components(separatedBy: "\n\n").first?.split(separator: "\n").map(String.init) ?? []
        #expect(lines.count >= 5, "\(demo.stdout)")
        #expect(!demo.stdout.contains("127.0.0.1:") || !lines.joined().contains("127.0.0.1"), "no line points at the mock, which is gone")
        for line in lines {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", line]
            process.currentDirectoryURL = folder
            var env = ProcessInfo.processInfo.environment
            env["PATH"] = Sonde.executable.deletingLastPathComponent().path + ":" + (env["PATH"] ?? "/usr/bin:/bin")
            env["SONDE_DB"] = nil
            process.environment = env
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let printed = try await offPool { () throws -> String in
                let data = output.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                return String(decoding: data, as: UTF8.self)
            }
            // `sonde diff` exits 1 on a slowdown, and two runs on a loaded machine may be 50 ms
            // apart: a gate that saw only a latency change did its job.
            let onlyLatencyWorse = process.terminationStatus == 1 && line.contains("sonde diff")
                && printed.contains("WORSE")
                && !printed.split(separator: "\n").contains { $0.hasPrefix("      ") && !$0.contains("latency") }
            #expect(process.terminationStatus == 0 || onlyLatencyWorse, "a Try next line failed: \(line)\n\(printed)")
        }
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("health.html").path))
    }
}
