import Foundation
import GRDB
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// `sonde run` recording, and `sonde history`, `diff`, `trend` reading, through the binary.
@Suite(.serialized)
struct HistoryCommandTests {
    static func database() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-history-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("h.sqlite").path
    }

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func runsAreRecordedListedComparedAndTrended() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        let run = ["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", db]

        let first = try await Sonde.runAsync(run)
        #expect(first.status == 0)
        #expect(first.stdout.contains("recorded as run #1 in \(db)"))
        let unsaved = try await Sonde.runAsync(run + ["--no-save"])
        #expect(unsaved.status == 0 && !unsaved.stdout.contains("recorded as"))

        // The same API, unchanged: diff finds nothing worse and exits 0. (A busy test machine
        // can slow one request by more than the default 10 ms floor: latency is not the point here.)
        let second = try await Sonde.runAsync(run + ["--compare", "--latency-floor", "10s"])
        #expect(second.stdout.contains("recorded as run #2"))
        #expect(second.stdout.contains("kubesphere-smoke  collections/kubesphere.yaml  run #1 ("))
        #expect(second.stdout.contains("NOT WORSE 0 worse, 0 better, 2 unchanged"), "the login's fresh tokens are ignored (diff: ignore): \(second.stdout)")
        #expect(try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "10s"]).status == 0)

        // The scheduler goes down: the run fails, diff says what changed and exits 1.
        server.state.setUnhealthy(["scheduler"])
        let third = try await Sonde.runAsync(run)
        #expect(third.status == 1)
        let diff = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "10s"])
        #expect(diff.status == 1, "\(diff.stdout)\(diff.stderr)")
        #expect(diff.stdout.contains("run #2 ("))
        #expect(diff.stdout.contains("  ✗ component statuses\n      outcome passed → failed\n"), "\(diff.stdout)")
        #expect(diff.stdout.contains("+ $.items[*].conditions[*].error"))
        #expect(diff.stdout.contains("WORSE 1 worse, 0 better, 1 unchanged"))
        // Explicit runs, either order; JSON for machines.
        #expect(try await Sonde.runAsync(["diff", "3", "#1", "--db", db]).stdout.contains("✓ component statuses\n      outcome failed → passed"))
        let diffJSON = try Self.json(try await Sonde.runAsync(["diff", "--json", "--db", db]).stdout)
        #expect(diffJSON["format"] == "sonde.diff/1")
        #expect(diffJSON["worse"] == true)
        #expect(diffJSON["diffs"]?[0]?["requests"]?[1]?["changes"]?[0]?["kind"] == "outcome")

        let history = try await Sonde.runAsync(["history", "--db", db])
        #expect(history.status == 0)
        let lines = history.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("RUN  STARTED"))
        #expect(lines[1].hasPrefix("#3 ") && lines[1].contains("kubesphere-smoke  -    test-host  failed") && lines[1].contains("1       1       0        0"))
        #expect(lines[3].hasPrefix("#1 ") && lines[3].contains("passed"))
        let historyJSON = try Self.json(try await Sonde.runAsync(["history", "kubesphere-smoke", "--last", "2", "--json", "--db", db]).stdout)
        #expect(historyJSON["runs"]?.arrayValue?.compactMap { $0["id"]?.numberValue?.integer } == [3, 2])

        let trend = try await Sonde.runAsync(["trend", "collections/kubesphere.yaml", "--db", db])
        #expect(trend.status == 0)
        #expect(trend.stdout.contains("pass rate 66.7% (2 of 3 runs passed)"), "\(trend.stdout)")
        #expect(trend.stdout.contains("outcomes  ✓✓✗"))
        // (A p50 on a loaded machine may reach a second: `1.02 s`.)
        #expect(trend.stdout.range(of: #"  login +100% +\d+\.\d+ m?s"#, options: .regularExpression) != nil, "\(trend.stdout)")
        #expect(trend.stdout.range(of: #"  component statuses +66\.7% "#, options: .regularExpression) != nil)
        let trendJSON = try Self.json(try await Sonde.runAsync(["trend", "--json", "--last", "2", "--db", db]).stdout)
        #expect(trendJSON["trends"]?[0]?["runs"] == 2)
    }

    @Test func readingCommandsExplainWhatIsMissing() async throws {
        let db = try Self.database()
        let missing = try await Sonde.runAsync(["history", "--db", db])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("error: no history at \(db)"))
        #expect(!FileManager.default.fileExists(atPath: db))

        let server = try await MockServer.start()
        defer { server.stop() }
        _ = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", db])
        let unknown = try await Sonde.runAsync(["trend", "kubesphere-smok", "--db", db])
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no runs of 'kubesphere-smok' in \(db); did you mean 'kubesphere-smoke'?"))
        let one = try await Sonde.runAsync(["diff", "--db", db])
        #expect(one.status == 0)
        #expect(one.stdout.contains("only one complete run of kubesphere-smoke is recorded (#1); nothing to compare"))
        let noRun = try await Sonde.runAsync(["diff", "42", "--db", db])
        #expect(noRun.status == 2 && noRun.stderr.contains("no run #42"))
        let badID = try await Sonde.runAsync(["diff", "yesterday", "--db", db])
        #expect(badID.status == 2 && badID.stderr.contains("'yesterday' is not a run id"))
    }

    @Test func aDatabaseThatCannotBeUsedStopsTheRunBeforeAnythingIsSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        try Data("not a database, just text that is long enough to be read as a header".utf8).write(to: URL(fileURLWithPath: db))
        let result = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", db])
        #expect(result.status == 3)
        #expect(result.stderr.contains("\(db) is not a sonde history database"), "\(result.stderr)")
        #expect(!result.stderr.contains("Fatal") && !result.stderr.contains("Stack"))
        #expect(server.state.totalRequests == 0)
    }

    @Test func concurrentProcessesIntoOneFileLoseNothing() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        let requests = (0..<30).map { "  - name: r\($0)\n    url: \(server.baseURL)/echo?n=\($0)\n    expect: { status: 200 }\n" }.joined()
        let folder = try RunCommandTests.write(["many.yaml": "name: many\nrequests:\n" + requests])
        defer { try? FileManager.default.removeItem(at: folder) }
        let results = try await withThrowingTaskGroup(of: Sonde.Result.self) { group in
            for _ in 0..<4 {
                group.addTask { try await Sonde.runAsync(["run", folder.appendingPathComponent("many.yaml").path, "--db", db]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        let history = try Self.json(try await Sonde.runAsync(["history", "--json", "--db", db]).stdout)
        let runs = history["runs"]?.arrayValue ?? []
        #expect(runs.count == 4)
        #expect(runs.allSatisfy { $0["passed"] == 30 && $0["outcome"] == "passed" })
        // and the trend rollups, which each process adds its run to as it finishes, lost no count.
        let rollups = try await DatabaseQueue(path: db).read { db in
            (try Int.fetchOne(db, sql: "SELECT sum(runs) FROM runRollup"), try Int.fetchOne(db, sql: "SELECT sum(passed) FROM requestRollup"))
        }
        #expect(rollups.0 == 4 && rollups.1 == 120, "runs \(String(describing: rollups.0)), requests \(String(describing: rollups.1))")
    }

    /// Six processes creating one new file at once: none takes the file another is creating for
    /// a foreign database (its first migration committed between two reads of a check).
    @Test func processesCreatingOneNewFileAtOnceAllRecord() async throws {
        let folder = try RunCommandTests.write(["one.yaml": "name: one\nrequests:\n  - { name: a, url: \"http://127.0.0.1:1/\" }\n"])
        defer { try? FileManager.default.removeItem(at: folder) }
        for round in 0..<8 {
            let db = folder.appendingPathComponent("h\(round).sqlite").path
            let results = try await withThrowingTaskGroup(of: Sonde.Result.self) { group in
                for _ in 0..<6 { group.addTask { try await Sonde.runAsync(["run", folder.appendingPathComponent("one.yaml").path, "--db", db]) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0.status == 1 && !$0.stderr.contains("not a sonde history") }, "round \(round): \(results.map(\.stderr))")
        }
    }

    @Test func aRunKilledHalfWayIsRecordedIncomplete() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        let folder = try RunCommandTests.write([
            "slow.yaml": """
                name: slow
                requests:
                  - name: quick
                    url: \(server.baseURL)/echo
                  - name: stuck
                    url: \(server.baseURL)/slow?ms=20000
                    timeout: 30s
                  - name: never
                    url: \(server.baseURL)/echo
                """
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        let process = Process()
        process.executableURL = Sonde.executable
        process.arguments = ["run", folder.appendingPathComponent("slow.yaml").path, "--db", db]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until the slow request is in flight (and the first one's record committed, which
        // takes well under a millisecond off the runner's thread), then kill without warning.
        try await offPool {
            let deadline = Date().addingTimeInterval(20)
            while server.state.totalRequests < 2 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
            Thread.sleep(forTimeInterval: 0.2)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        #expect(process.terminationReason == .uncaughtSignal)
        let history = try await Sonde.runAsync(["history", "--db", db])
        #expect(history.stdout.contains("slow        -    ") && history.stdout.contains("incomplete       1       0       0        0  -"), "\(history.stdout)")
        let runs = try Self.json(try await Sonde.runAsync(["history", "--json", "--db", db]).stdout)["runs"]
        #expect(runs?[0]?["outcome"] == "incomplete")
        #expect(runs?[0]?["finished"] == .null)
        #expect(runs?[0]?["plannedRequests"] == 3)
        // An incomplete run is never one side of the default diff.
        #expect(try await Sonde.runAsync(["diff", "--db", db]).stdout.contains("only one complete run") == false)
        // A trend counts it, incomplete, and nothing it sent.
        let trend = try Self.json(try await Sonde.runAsync(["trend", "--json", "--db", db]).stdout)["trends"]?[0]
        #expect(trend?["runs"] == 1 && trend?["incompleteRuns"] == 1 && trend?["finishedRuns"] == 0 && trend?["requests"]?[0]?["sent"] == 0)
    }

    @Test func ctrlCKeepsEveryFinishedRequest() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        let quick = (0..<20).map { "  - name: quick \($0)\n    url: \(server.baseURL)/echo?n=\($0)\n" }.joined()
        let folder = try RunCommandTests.write([
            "interrupted.yaml": "name: interrupted\nrequests:\n" + quick + "  - name: stuck\n    url: \(server.baseURL)/slow?ms=20000\n    timeout: 30s\n"
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        // SIGINT the moment the slow request arrives: no pause for the writer this time.
        let (process, waited, stderr) = try await Self.interrupt(
            ["run", folder.appendingPathComponent("interrupted.yaml").path, "--db", db], with: SIGINT, when: { server.state.totalRequests >= 21 })
        #expect(process.terminationStatus == 130)
        // The request on the wire is stopped, not waited for (it would take 20 s).
        #expect(waited < 10, "sonde took \(waited) s to stop")
        #expect(stderr.contains("interrupted: run #1 is recorded as incomplete, with the requests it finished"))
        let runs = try Self.json(try await Sonde.runAsync(["history", "--json", "--db", db]).stdout)["runs"]
        #expect(runs?[0]?["outcome"] == "incomplete")
        #expect(runs?[0]?["passed"] == 20)
    }

    /// Runs `sonde` with `arguments`, sends `signal` once `when` holds (and `settle` seconds
    /// more), and waits for it to end: the process, how long it took to stop after the
    /// signal, and its standard error.
    static func interrupt(
        _ arguments: [String], with signal: Int32, settle: TimeInterval = 0, when ready: @escaping @Sendable () -> Bool
    ) async throws -> (process: Process, waited: TimeInterval, stderr: String) {
        let process = Process()
        process.executableURL = Sonde.executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let waited = try await offPool {
            let deadline = Date().addingTimeInterval(20)
            while !ready() && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
            if settle > 0 { Thread.sleep(forTimeInterval: settle) }
            kill(process.processIdentifier, signal)
            let sent = Date()
            process.waitUntilExit()
            return Date().timeIntervalSince(sent)
        }
        return (process, waited, String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
    }

    /// A request waiting out its `delay:` stops waiting on Ctrl-C.
    @Test func ctrlCEndsADelay() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        let folder = try RunCommandTests.write([
            "delayed.yaml": "name: delayed\nrequests:\n  - name: first\n    url: \(server.baseURL)/echo\n  - name: later\n    url: \(server.baseURL)/echo\n    delay: 1h\n"
        ])
        defer { try? FileManager.default.removeItem(at: folder) }
        // SIGTERM a moment after the first request, while the second waits out its delay.
        let (process, waited, stderr) = try await Self.interrupt(
            ["run", folder.appendingPathComponent("delayed.yaml").path, "--db", db], with: SIGTERM, settle: 0.2,
            when: { server.state.totalRequests >= 1 })
        #expect(process.terminationStatus == 143)
        #expect(waited < 10, "sonde took \(waited) s to stop")
        #expect(stderr.contains("interrupted: run #1 is recorded as incomplete, with the requests it finished"))
        let runs = try Self.json(try await Sonde.runAsync(["history", "--json", "--db", db]).stdout)["runs"]
        #expect(runs?[0]?["outcome"] == "incomplete" && runs?[0]?["passed"] == 1)
    }

    /// `--db` takes a path, a sqlite: URL or a postgres:// URL; a server that cannot be
    /// reached, and a URL of another kind, are refused before anything is sent, and a
    /// password in the URL is never printed.
    @Test func theDatabaseIsAPathOrASQLiteURL() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let db = try Self.database()
        let run = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", "sqlite:" + db])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("in \(db)"), "\(run.stdout)")
        let listed = try await Sonde.runAsync(["history", "--db", "sqlite://" + db])
        #expect(listed.status == 0 && listed.stdout.contains("kubesphere-smoke"), "\(listed.stderr)")
        #expect(try await Sonde.runAsync(["history", "--db", db]).stdout == listed.stdout)
        let before = server.state.totalRequests
        let refused = try await Sonde.runAsync([
            "run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", "postgres://sonde:hunter2@db.invalid/history",
        ])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("cannot connect to postgres://sonde:***@db.invalid/history"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("hunter2"))
        #expect(server.state.totalRequests == before)
        // However the URL carries its password, and whatever the case of its scheme.
        for (url, message) in [
            ("postgresql:///db?user=u&password=hunter2", "cannot connect to postgresql:///db?user=u&password=***"),
            ("POSTGRES://h.invalid/db?password=hunter2", "cannot connect to POSTGRES://h.invalid/db?password=***"),
            ("postgres:u:hunter2@h/db", "write a PostgreSQL server as postgres://"), ("mysql://u:hunter2@h/db", "a history at a mysql: URL is not supported"),
        ] {
            let result = try await Sonde.runAsync(["history", "--db", url])
            #expect(result.status == 2 && result.stderr.contains(message) && !result.stderr.contains("hunter2"), "\(url): \(result.stderr)")
        }
        #expect(try await Sonde.runAsync(["history", "--db", "SQLITE:" + db]).stdout == listed.stdout)
    }

    /// `--db` as users write it: a one-letter name, a folder, another application's database.
    @Test func theDatabaseArgumentIsCheckedBeforeAnythingIsSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try RunCommandTests.write([:])
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = ["run", Sonde.packageRoot.appendingPathComponent("collections/kubesphere.yaml").path, "--var", "base_url=\(server.baseURL)"]
        let short = try await Sonde.runAsync(run + ["--db", "h"], directory: folder)
        #expect(short.status == 0, "\(short.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("h").path))
        let asFolder = try await Sonde.runAsync(run + ["--db", folder.path])
        #expect(asFolder.status == 2 && asFolder.stderr.contains("is a folder, not a history file"), "\(asFolder.stderr)")
        let other = folder.appendingPathComponent("app.sqlite").path
        let queue = try DatabaseQueue(path: other)
        try await queue.write { try $0.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY)") }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: other))
        let sent = server.state.totalRequests
        let refused = try await Sonde.runAsync(run + ["--db", other])
        #expect(refused.status == 3 && refused.stderr.contains("is not a sonde history database: it holds other tables (customers)"), "\(refused.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: other)) == before)
        #expect(server.state.totalRequests == sent)
    }

    /// `diff: { ignore: … }`: values that change on every call (a token, a resource version,
    /// an item's timestamp) are no body or shape change; anything else still is.
    @Test func diffIgnoresTheNodesACollectionNames() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-ignore-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let collection = folder.appendingPathComponent("c.yaml")
        func write(ignore: String) throws {
            try """
                name: ignoring
                requests:
                  - name: item
                    url: "{{ base }}/respond?content_type=application/json&body={{ body | urlencode }}"
                    diff: { ignore: \(ignore) }
                """.write(to: collection, atomically: true, encoding: .utf8)
        }
        let db = folder.appendingPathComponent("h.sqlite").path
        func run(_ body: String) async throws {
            let result = try await Sonde.runAsync(["run", collection.path, "--db", db, "--var", "base=\(server.baseURL)", "--var", "body=\(body)"])
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        }
        // A run before `ignore` was written, then one with it: the ignored paths left the shape,
        // which is not a removal (the body's hash changes this once). (Latencies are not what
        // is compared here: a machine busy with other tests must not make them worse.)
        try write(ignore: "[]")
        try await run(#"{"token": "a0", "metadata": {"resourceVersion": "6", "name": "x"}, "items": [{"id": 1, "seen": 0}, {"id": 2, "seen": 0}]}"#)
        try write(ignore: #"[$.token, $.metadata.resourceVersion, "$.items[*].seen"]"#)
        try await run(#"{"token": "a1", "metadata": {"resourceVersion": "7", "name": "x"}, "items": [{"id": 1, "seen": 1}, {"id": 2, "seen": 2}]}"#)
        let added = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "60s"])
        #expect(added.status == 0, "\(added.stdout)")
        #expect(!added.stdout.contains("$."), "adding ignore is no change of shape: \(added.stdout)")
        try await run(#"{"token": {"new": "shape"}, "metadata": {"resourceVersion": "8", "name": "x"}, "items": [{"id": 1, "seen": "now"}, {"id": 2}]}"#)
        let quiet = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "60s"])
        #expect(quiet.status == 0)
        #expect(!quiet.stdout.contains("body changed") && !quiet.stdout.contains("$."), "\(quiet.stdout)")
        // A value not named is still a change.
        try await run(#"{"token": "b2", "metadata": {"resourceVersion": "9", "name": "y"}, "items": [{"id": 1, "seen": 3}, {"id": 2, "seen": 4}]}"#)
        let changed = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "60s"])
        #expect(changed.stdout.contains("body changed"), "\(changed.stdout)")
        // Without ignore, the token's new type is a shape change, once the runs on both sides have it.
        try write(ignore: "[]")
        try await run(#"{"token": "b3", "metadata": {"resourceVersion": "9", "name": "y"}, "items": [{"id": 1, "seen": 3}, {"id": 2, "seen": 4}]}"#)
        try await run(#"{"token": 5, "metadata": {"resourceVersion": "9", "name": "y"}, "items": [{"id": 1, "seen": 3}, {"id": 2, "seen": 4}]}"#)
        let shape = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "60s"])
        #expect(shape.stdout.contains("$.token: string → number"), "\(shape.stdout)")
    }
}
