import Foundation
import SondeCore
import SondeMock
import SondeStore
import SondeTestSupport
import Testing

/// What a hostile server can do to a user's terminal and files, through the binary.
@Suite(.serialized)
struct SafetyCommandTests {
    /// A history file's bytes with its write-ahead log's.
    static func bytes(of database: URL) throws -> Data {
        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] { bytes += (try? Data(contentsOf: URL(fileURLWithPath: database.path + suffix))) ?? Data() }
        return bytes
    }

    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-safety-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The control characters a terminal acts on: ESC, CSI, BEL, CR, backspace.
    static func expectNoControls(_ text: String, _ what: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) {
        for scalar in text.unicodeScalars where (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value) {
            Issue.record("\(what) holds U+\(String(scalar.value, radix: 16)) unescaped", sourceLocation: sourceLocation)
            return
        }
    }

    @Test func nothingFromAServerRewritesTheTerminal() async throws {
        let hostile = "\u{1B}[2J\u{1B}]0;owned\u{07}\u{9B}31m\r  ✓ fake line\u{8}"
        let counter = Counter()
        let raw = try RawServer { request in
            let path = String(decoding: request.prefix(40), as: UTF8.self)
            if path.contains("/png") {
                return Array("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 8\r\nConnection: close\r\n\r\n".utf8) + [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0x0D]
            }
            // The second run's body has a new member, named with escapes: the diff shows it.
            let body = counter.next() < 3 ? #"{"a":"\#(hostile)"}"# : #"{"a":1,"\u001b[2Jkey":2}"#
            return Array("HTTP/1.1 500 Oops\r\nContent-Type: application/json\r\nX-Evil: \(hostile)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        }
        defer { raw.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let collection = out.appendingPathComponent("c.yaml")
        try """
            name: "evil\\e[31m"
            requests:
              - name: "json \\e[2J"
                url: \(raw.baseURL)/json
                expect: { jsonpath: { $.a: nope } }
              - name: picture
                url: \(raw.baseURL)/png
                expect: { status: 201 }
            """.write(to: collection, atomically: true, encoding: .utf8)
        let database = out.appendingPathComponent("h.sqlite").path
        var outputs: [(String, String)] = []
        for verbosity in [[], ["-v"], ["-vv"]] {
            let run = try await Sonde.runAsync(["run", collection.path, "--db", database] + verbosity)
            #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
            outputs.append(("run \(verbosity)", run.stdout + run.stderr))
            if verbosity == ["-vv"] { #expect(run.stdout.contains("<binary body, 8 bytes, image/png>"), "\(run.stdout)") }
        }
        for command in [["history"], ["diff"], ["trend"]] {
            let result = try await Sonde.runAsync(command + ["--db", database])
            outputs.append((command[0], result.stdout + result.stderr))
        }
        let diff = outputs.last { $0.0 == "diff" }?.1 ?? ""
        #expect(diff.contains("\\x1b[2Jkey"), "\(diff)")
        for (what, text) in outputs { Self.expectNoControls(text, what) }
    }

    @Test func noFormOfASecretIsInAnyOutputReportOrDatabaseFile() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let password = #"Sw0rd&Fish/42 "q"\é"#
        let styles = Reflection.styles.map { style in
            """
              - name: reflected \(style)
                method: POST
                url: /reflect?style=\(style)
                body: "{{ password }} and {{ creds | base64 }}"
                expect: { body: { equals: nope } }
            """
        }.joined(separator: "\n")
        let collection = out.appendingPathComponent("c.yaml")
        try """
            base_url: "{{ base_url }}"
            vars:
              password: \(yamlQuoted(password))
              creds: "ops:{{ password }}"
            secrets: [password]
            requests:
              - name: echo
                method: POST
                url: /echo?p={{ password | urlencode }}
                headers: { Authorization: "Basic {{ creds | base64 }}", X-Password: "{{ password }}" }
                json: { password: "{{ password }}", derived: "{{ password | upper }}" }
                expect: { jsonpath: { $: { equals: nope } } }
            \(styles)
            """.write(to: collection, atomically: true, encoding: .utf8)
        let database = out.appendingPathComponent("h.sqlite")
        let reports = ["json", "junit", "tap", "html"].map { out.appendingPathComponent("report.\($0)") }
        let run = try await Sonde.runAsync(
            ["run", collection.path, "--var", "base_url=\(server.baseURL)", "--db", database.path, "-vv"]
                + zip(["json", "junit", "tap", "html"], reports).flatMap { ["--report", "\($0):\($1.path)"] })
        #expect(run.status == 1, "\(run.stderr)")
        var files: [(String, Data)] = [("stdout", Data(run.stdout.utf8)), ("stderr", Data(run.stderr.utf8))]
        for url in reports + [database] + ["-wal", "-shm"].map({ URL(fileURLWithPath: database.path + $0) }) {
            if let data = FileManager.default.contents(atPath: url.path) { files.append((url.lastPathComponent, data)) }
        }
        #expect(files.count >= 7)
        let creds = "ops:" + password
        var secrets = [password, creds, Data(creds.utf8).base64EncodedString(), password.uppercased()]
        secrets += secrets.flatMap { secret in Reflection.styles.map { Reflection.write(secret, style: $0) } }
        secrets.append(PercentEncoding.encode(password))
        for (name, data) in files {
            for secret in Set(secrets) where data.range(of: Data(secret.utf8)) != nil {
                Issue.record("\(JSONValue.quoted(secret)) is in \(name)")
            }
        }
    }
}

extension SafetyCommandTests {
    /// One collection's secret, stored by a server and handed to another collection of the
    /// same run, is masked there too; a value captured as a secret by a later request is
    /// masked in what was recorded of the earlier ones.
    @Test func aSecretIsMaskedAcrossCollectionsAndBackwards() async throws {
        let stored = Stored()
        let raw = try RawServer { request in
            let text = String(decoding: request, as: UTF8.self)
            if text.hasPrefix("POST /store") {
                if let start = text.range(of: "\r\n\r\n") { stored.value = String(text[start.upperBound...]) }
                return Array("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".utf8)
            }
            let body = text.hasPrefix("GET /last") ? #"{"last":"\#(stored.value)"}"# : #"{"t":"tok-31337-later"}"#
            return Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        }
        defer { raw.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        try """
            name: a
            vars: { pw: Cross-Coll-S3cret-1 }
            secrets: [pw]
            requests:
              - { name: store, method: POST, url: "\(raw.baseURL)/store", body: "{{ pw }}" }
            """.write(to: out.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try """
            name: b
            requests:
              - { name: read back, url: "\(raw.baseURL)/last", expect: { jsonpath: { $.last: nope } } }
              - { name: before the capture, url: "\(raw.baseURL)/token", expect: { jsonpath: { $.t: nope } } }
              - name: captures
                url: "\(raw.baseURL)/token"
                capture: { t: { jsonpath: $.t, secret: true } }
            """.write(to: out.appendingPathComponent("b.yaml"), atomically: true, encoding: .utf8)
        let database = out.appendingPathComponent("h.sqlite")
        let report = out.appendingPathComponent("report.json")
        let run = try await Sonde.runAsync([
            "run", out.appendingPathComponent("a.yaml").path, out.appendingPathComponent("b.yaml").path, "--db", database.path,
            "--report", "json:\(report.path)",
        ])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("Cross-Coll-S3cret-1"), "\(run.stdout)")
        for url in [report, database] + ["-wal"].map({ URL(fileURLWithPath: database.path + $0) }) {
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            for secret in ["Cross-Coll-S3cret-1", "tok-31337-later"] where data.range(of: Data(secret.utf8)) != nil {
                Issue.record("\(secret) is in \(url.lastPathComponent)")
            }
        }
    }

    /// A secret captured late is masked at once in what was recorded before it, so that a run
    /// interrupted after the capture leaves nothing in clear; an earlier collection of the same
    /// `sonde run` is masked again too: its records, its reports and its body hashes.
    /// A value that becomes secret by its use (a token captured plainly, then sent in
    /// `auth:`) is masked in what was recorded before: in a URL, as a JSON member name (the
    /// recorded shape), and where a verdict was cut short in the middle of it.
    @Test func aValueThatBecomesSecretLateIsMaskedEverywhere() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let token = "tok-Q7w8E9r0T1y2U3"
        let collection = out.appendingPathComponent("late.yaml")
        try """
            name: late
            base_url: "\(server.baseURL)"
            requests:
              - { name: in a url, url: "/echo?note=\(token)" }
              - { name: as a key, url: "/echo?\(token)=1" }
              - name: cut in a verdict
                url: "/echo?note=\(String(repeating: "x", count: 285))\(token)"
                expect: { jsonpath: { $.query.note: nope } }
              - { name: login, url: "/echo?t=\(token)", capture: { token: $.query.t } }
              - { name: me, url: /echo, auth: { bearer: "{{ token }}" } }
            """.write(to: collection, atomically: true, encoding: .utf8)
        let database = out.appendingPathComponent("h.sqlite"), report = out.appendingPathComponent("r.json")
        let run = try await Sonde.runAsync(["run", collection.path, "--db", database.path, "--report", "json:\(report.path)"])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains(token) && !run.stdout.contains(String(token.prefix(8))), "\(run.stdout)")
        let shown = try await Sonde.runAsync(["show", "--db", database.path])
        for (name, data) in [("the history", try Self.bytes(of: database)), ("the report", try Data(contentsOf: report)), ("sonde show", Data(shown.stdout.utf8))] {
            // Whole, or its first characters where a verdict was cut.
            #expect(data.range(of: Data(token.prefix(8).utf8)) == nil, "the token is in \(name)")
        }
    }

    /// Off a terminal the output is held until the run ends: lines written long before a
    /// value became secret (here 600 requests, 60 KB of output, before the capture) cannot be
    /// taken back once written, so none is written early. They were, in blocks of 16 KB.
    @Test func aLongRunsOutputToAPipeIsMaskedWithASecretLearnedAtItsEnd() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let token = "tok-P4o5I6u7Y8t9Rr"
        var text = "name: long\nbase_url: \"\(server.baseURL)\"\nrequests:\n"
        for index in 0..<600 { text += "  - { name: r\(index), url: \"/echo?note=\(token)\", expect: { status: 201 } }\n" }
        text += "  - { name: login, url: \"/echo?t=\(token)\", capture: { token: { jsonpath: $.query.t, secret: true } } }\n"
        let collection = out.appendingPathComponent("long.yaml")
        try text.write(to: collection, atomically: true, encoding: .utf8)
        let run = try await Sonde.runAsync(["run", collection.path, "--no-save"])
        #expect(run.status == 1)
        #expect(run.stdout.utf8.count > 16_384 && run.stdout.contains("r599"))
        #expect(!run.stdout.contains(token) && !run.stderr.contains(token), "the token is printed in clear")
    }

    @Test(arguments: [false, true])
    func aLateSecretIsMaskedInWhatCameBefore(_ interrupted: Bool) async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let token = "tok-Z9x8Y7w6V5u4Qq"
        let first = out.appendingPathComponent("first.yaml"), second = out.appendingPathComponent("second.yaml")
        try """
            name: first
            requests:
              - { name: pre, url: "\(server.baseURL)/echo?note=your%20token%20is%20\(token)", expect: { jsonpath: { $.query.note: nope } } }
            """.write(to: first, atomically: true, encoding: .utf8)
        try ("""
            name: second
            requests:
              - { name: pre too, url: "\(server.baseURL)/echo?note=\(token)", expect: { jsonpath: { $.query.note: nope } } }
              - name: login
                url: "\(server.baseURL)/echo?t=\(token)"
                capture: { token: { jsonpath: $.query.t, secret: true } }

            """ + (interrupted ? "  - { name: stuck, url: \"\(server.baseURL)/slow?ms=20000\", timeout: 30s }\n" : "")).write(to: second, atomically: true, encoding: .utf8)
        let database = out.appendingPathComponent("h.sqlite"), report = out.appendingPathComponent("r.json"), junit = out.appendingPathComponent("r.xml")
        // The hash of the first collection's body as it is, recorded by a run that knows no secret.
        _ = try await Sonde.runAsync(["run", first.path, "--db", out.appendingPathComponent("clear.sqlite").path])
        if interrupted {
            let process = Process()
            process.executableURL = Sonde.executable
            process.arguments = ["run", second.path, "--db", database.path]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let before = server.state.totalRequests
            try process.run()
            try await offPool {
                let deadline = Date().addingTimeInterval(20)
                while server.state.totalRequests < before + 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
                Thread.sleep(forTimeInterval: 0.1)
                kill(process.processIdentifier, SIGINT)
                process.waitUntilExit()
            }
            #expect(process.terminationStatus == 130)
        } else {
            let run = try await Sonde.runAsync(["run", first.path, second.path, "--db", database.path, "--report", "json:\(report.path)", "--report", "junit:\(junit.path)"])
            #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        }
        for url in [database, report, junit] + ["-wal", "-shm"].map({ URL(fileURLWithPath: database.path + $0) }) {
            guard let data = FileManager.default.contents(atPath: url.path) else { continue }
            if data.range(of: Data(token.utf8)) != nil { Issue.record("the token is in \(url.lastPathComponent)") }
        }
        guard !interrupted else { return }
        // The first collection's body held the token: its recorded hash is of its masked text.
        let clearHash = try SQLiteHistory(path: out.appendingPathComponent("clear.sqlite").path, access: .readOnly).run(id: 1)?.requests.first?.bodyHash
        let recorded = try SQLiteHistory(path: database.path, access: .readOnly).run(id: 1)
        #expect(recorded?.collection == "first")
        #expect(clearHash != nil && recorded?.requests.first?.bodyHash != clearHash, "\(String(describing: clearHash))")
    }

    /// A proxy's password is a secret: libcurl sends it in Proxy-Authorization, which -v
    /// shows and a proxy may echo.
    @Test func aProxyPasswordIsASecret() async throws {
        let proxy = try RawServer { request in
            let text = String(decoding: request, as: UTF8.self)
            let header = text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("proxy-authorization:") } ?? ""
            let body = "{\"got\": \"\(header)\", \"decoded\": \"ci:Pr0xy-Passw0rd\"}"
            return Array("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        }
        defer { proxy.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let collection = out.appendingPathComponent("p.yaml"), database = out.appendingPathComponent("p.sqlite")
        try "requests: [{ name: through a proxy, url: http://api.invalid/x, expect: { status: 200 } }]\n".write(to: collection, atomically: true, encoding: .utf8)
        let port = proxy.baseURL.split(separator: ":").last.map(String.init) ?? ""
        let run = try await Sonde.runAsync(["run", collection.path, "-vv", "--proxy", "http://ci:Pr0xy-Passw0rd@127.0.0.1:\(port)", "--db", database.path])
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("Proxy-Authorization"), "\(run.stdout)")
        for secret in ["Pr0xy-Passw0rd", Data("ci:Pr0xy-Passw0rd".utf8).base64EncodedString()] {
            #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret), "\(run.stdout)\(run.stderr)")
            for url in [database] + ["-wal"].map({ URL(fileURLWithPath: database.path + $0) }) {
                if let data = FileManager.default.contents(atPath: url.path), data.range(of: Data(secret.utf8)) != nil {
                    Issue.record("\(secret) is in \(url.lastPathComponent)")
                }
            }
        }
    }

    /// A structured secret capture masks its long leaves; its short ones (`read`, `1`) are not
    /// masked, which would hide every `1` and give them away, and a warning names them.
    @Test func shortLeavesOfAStructuredSecretAreNamedNotMasked() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        defer { try? FileManager.default.removeItem(at: out) }
        let collection = out.appendingPathComponent("s.yaml")
        try """
            name: structured
            requests:
              - name: login
                method: POST
                url: "\(server.baseURL)/echo"
                json: { access_token: Long-Token-Value-123, scope: read, id: 1 }
                capture: { auth: { jsonpath: $.json, secret: true } }
              - name: use
                url: "\(server.baseURL)/echo?n=1"
                headers: { Authorization: "Bearer {{ auth.access_token }}", X-Scope: "{{ auth.scope }}" }
                expect: { jsonpath: { $.headers: nope } }
            """.write(to: collection, atomically: true, encoding: .utf8)
        let run = try await Sonde.runAsync(["run", collection.path, "--no-save"])
        #expect(run.status == 1)
        #expect(run.stdout.contains("capture 'auth' is secret, but 2 of its values are short or a plain word"), "\(run.stdout)")
        #expect(run.stdout.contains("$['scope']") && run.stdout.contains("$['id']"), "\(run.stdout)")
        #expect(!run.stdout.contains("Long-Token-Value-123"), "\(run.stdout)")
        // The server's address and the short values stand as they are.
        #expect(run.stdout.contains("127.0.0.1"), "\(run.stdout)")
        #expect(run.stdout.contains(#""X-Scope":"read""#), "\(run.stdout)")
    }
}

/// A value a raw server keeps between connections.
final class Stored: @unchecked Sendable {
    private let lock = NSLock()
    private var text = ""
    var value: String {
        get { lock.lock(); defer { lock.unlock() }; return text }
        set { lock.lock(); defer { lock.unlock() }; text = newValue }
    }
}

/// Counts the connections a raw server has answered.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock()
        defer { lock.unlock() }
        value += 1
        return value
    }
}
