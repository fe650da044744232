import Foundation
import GRDB
import SondeCore
import SondeHTTP
import SondeMock
import SondeReport
import SondeRunner
import SondeSpec
@testable import SondeStore
import SondeTestSupport
import Testing

/// The SQLite history on a real SQLite file in a temporary folder, fed by real runs against the mock.
@Suite(.serialized)
struct SQLiteHistoryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let kubesphere = root.appendingPathComponent("collections/kubesphere.yaml").path

    static func temporaryDatabase() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("history.sqlite").path
    }

    /// Runs a collection on libcurl against the mock, recording each request as it finishes, as `sonde run` does.
    static func recordRun(_ store: SQLiteHistory, file: String = kubesphere, baseURL: String) async throws -> Int64 {
        try await offPool {
            let loaded = try CollectionLoader(options: VariableOptions(assignments: ["base_url=\(baseURL)"], processEnvironment: [:])).load(file: file)
            let runID = try store.begin(
                RunStart(
                    collection: loaded.spec.name, file: file, collectionPath: CollectionPath.of(file: file), contentHash: Digest.sha256(loaded.text),
                    environment: nil, started: Date(), toolVersion: "test", gitCommit: GitCommit.head(containing: file),
                    plannedRequests: loaded.spec.requests.count))
            let runner = Runner(plan: RunPlan(loaded.spec), scope: loaded.makeScope(), secrets: loaded.secrets, transport: try CurlTransport())
            let result = runner.run { event in
                if case .requestFinished(let request) = event { store.append(request, to: runID) }
            }
            try store.finish(run: runID, outcome: result.outcome, at: result.finished)
            return runID
        }
    }

    static func start(_ collection: String, file: String, environment: String? = nil, planned: Int) -> RunStart {
        RunStart(
            collection: collection, file: file, collectionPath: file, contentHash: "h", environment: environment, started: Date(), toolVersion: "t",
            gitCommit: nil, plannedRequests: planned)
    }

    static func check(_ subject: String, _ expected: String, _ actual: String, passed: Bool, message: String?, line: Int, column: Int) -> CheckResult {
        CheckResult(
            subject: subject, expected: expected, actual: actual, passed: passed, message: message, location: SourceLocation(file: "c.yaml", line: line, column: column))
    }

    // MARK: migrations

    @Test func migrationsApplyToAnEmptyFile() throws {
        // Given a path where nothing exists yet, in a folder that does not exist either
        let path = try Self.temporaryDatabase().replacingOccurrences(of: "history.sqlite", with: "new/folder/history.sqlite")
        // When
        let store = try SQLiteHistory(path: path)
        // Then
        let applied = try store.read { try Schema.migrator(filesRelativeTo: "").appliedIdentifiers($0) }
        #expect(applied == [
            "v1 runs, requests, expectations", "v2 shapes, history indexes", "v3 request start, response excerpt", "v4 final url, redirects",
            "v5 collection identity", "v6 plan steps, problem kinds, check files", "v7 trend rollups", "v8 phases, selections",
            "v9 run identity and origin", "v10 pruning",
        ])
        #expect(try store.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try store.runs(RunFilter()).isEmpty)
    }

    @Test func migrationsApplyToAFileFromTheFirstSchema() throws {
        // Given a file as the first release left it, with a run in it
        let path = try Self.temporaryDatabase()
        do {
            let queue = try DatabaseQueue(path: path)
            try Schema.migrator(filesRelativeTo: "").migrate(queue, upTo: Schema.first)
            try queue.write { db in
                try db.execute(sql: """
                    INSERT INTO run (id, collection, file, contentHash, environment, startedAt, finishedAt, toolVersion, outcome, plannedRequests, passed)
                    VALUES (1, 'old', 'old.yaml', 'abc', 'staging', 1000, 1001, '0.0.1', 'passed', 1, 1);
                    INSERT INTO request (id, runId, position, name, method, url, outcome, status, totalMs, attempts, responseSize, bodyHash)
                    VALUES (1, 1, 0, 'ping', 'GET', 'http://x/ping', 'passed', 200, 12.5, 1, 2, 'ff');
                    INSERT INTO expectation (requestId, position, subject, expected, actual, passed, line, "column")
                    VALUES (1, 0, 'status', '200', '200', 1, 3, 7);
                    """)
            }
        }
        // When the current sonde opens it
        let store = try SQLiteHistory(path: path)
        // Then the schema is current and the old run reads back whole
        #expect(try store.read { try Schema.migrator(filesRelativeTo: "").hasCompletedMigrations($0) })
        let run = try #require(try store.run(id: 1))
        #expect(run.collection == "old" && run.environment == "staging" && run.outcome == .passed)
        // Its file, given relative to the folder that holds the database's, is found from there.
        #expect(run.collectionPath == CollectionPath.of(file: "old.yaml", workingDirectory: FileManager.default.currentDirectoryPath))
        #expect(run.requests.count == 1)
        #expect(run.requests[0].duration == .microseconds(12_500))
        #expect(run.requests[0].shape == nil)
        // Recorded before steps and files were: the step is the name, the check's file the run's.
        #expect(run.requests[0].step == "ping")
        #expect(run.requests[0].checks == [CheckResult(
            subject: "status", expected: "200", actual: "200", passed: true, message: nil, location: SourceLocation(file: "old.yaml", line: 3, column: 7))])
    }

    @Test func aFileFromANewerSondeIsRefusedAndLeftAlone() throws {
        let path = try Self.temporaryDatabase()
        _ = try SQLiteHistory(path: path)
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99 from the future')") }
        #expect {
            _ = try SQLiteHistory(path: path)
        } throws: { error in
            "\(error)".contains("was written by a newer sonde")
        }
        #expect(try queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM grdb_migrations") } == 11)
    }

    /// Runs recorded before v9 get an identity each, the same in every copy of the file; a run
    /// begun now keeps its own, with where it ran.
    @Test func runsHaveAnIdentityAndAnOrigin() throws {
        let path = try Self.temporaryDatabase()
        let queue = try DatabaseQueue(path: path)
        var migrator = Schema.migrator(filesRelativeTo: "")
        try migrator.migrate(queue, upTo: "v8 phases, selections")
        try queue.write { db in
            for id in 1...3 {
                try db.execute(
                    sql: "INSERT INTO run (id, collection, file, contentHash, startedAt, toolVersion, plannedRequests, passed, failed, errored, skipped, collectionPath) VALUES (?, 'c', 'c.yaml', 'h', ?, 'old', 1, 0, 0, 0, 0, 'c.yaml')",
                    arguments: [id, Double(id)])
            }
        }
        // (A copy of the old file, as a CI cache restored by two jobs holds it.)
        let copy = path + "-copy.sqlite"
        try FileManager.default.copyItem(atPath: path, toPath: copy)
        let store = try SQLiteHistory(path: path)
        let uuids = try store.runs(RunFilter()).compactMap(\.uuid)
        #expect(uuids.count == 3 && Set(uuids).count == 3)
        #expect(uuids.allSatisfy { UUID(uuidString: $0) != nil && Array($0)[14] == "8" }, "\(uuids)")
        // Both copies give their runs the same identities: an import recognises them.
        let other = try SQLiteHistory(path: copy)
        #expect(try other.runs(RunFilter()).compactMap(\.uuid) == uuids)
        other.close()
        var start = RunStart(collection: "c", file: "c.yaml", collectionPath: "c.yaml", contentHash: "h", environment: nil, started: Date(), toolVersion: "t", gitCommit: nil, plannedRequests: 1)
        start.origin = RunOrigin(host: "build-7", user: "ci", ci: .init(provider: "gitlab-ci", jobURL: "https://gitlab/j/1", branch: "main", commit: "abc"))
        let id = try store.begin(start)
        let run = try #require(try store.run(id: id))
        #expect(run.uuid == start.uuid)
        #expect(run.origin == start.origin)
        // The identity is unique in a history.
        #expect(throws: (any Error).self) {
            try queue.write { try $0.execute(sql: "UPDATE run SET uuid = ? WHERE id = 1", arguments: [start.uuid]) }
        }
    }

    @Test func aFileThatIsNotADatabaseGivesAClearError() throws {
        let path = try Self.temporaryDatabase()
        try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try SQLiteHistory(path: path)
        } throws: { error in
            "\(error)".contains("\(path) is not a sonde history database")
        }
    }

    @Test func readingNeverTurnsAnotherFileIntoAHistory() throws {
        // An empty file stays empty.
        let empty = try Self.temporaryDatabase()
        FileManager.default.createFile(atPath: empty, contents: Data())
        #expect { _ = try SQLiteHistory(path: empty, access: .readOnly) } throws: { "\($0)".contains("is empty: it holds no history") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: empty)).isEmpty)
        // Another application's database gets no sonde tables.
        let other = try Self.temporaryDatabase()
        let queue = try DatabaseQueue(path: other)
        try queue.write { try $0.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)") }
        try queue.close()
        #expect { _ = try SQLiteHistory(path: other, access: .readOnly) } throws: { "\($0)".contains("is not a sonde history database") }
        let tables = try DatabaseQueue(path: other).read { try String.fetchAll($0, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        #expect(tables == ["customers"])
    }

    @Test func readingCommandsDoNotCreateAFile() throws {
        let path = try Self.temporaryDatabase()
        #expect(throws: HistoryError.self) { _ = try SQLiteHistory(path: path, access: .readOnly) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    // MARK: recording

    @Test func aRunIsRecordedWholeAndReadsBack() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let store = try SQLiteHistory(path: try Self.temporaryDatabase())
        let id = try await Self.recordRun(store, baseURL: server.baseURL)
        let run = try #require(try store.run(id: id))
        #expect(run.collection == "kubesphere-smoke")
        #expect(run.outcome == .passed && run.isComplete)
        #expect((run.passed, run.failed, run.errored, run.skipped, run.plannedRequests) == (2, 0, 0, 0, 2))
        #expect(run.contentHash == Digest.sha256(try String(contentsOfFile: Self.kubesphere, encoding: .utf8)))
        #expect(run.gitCommit == nil || run.gitCommit?.count == 40)
        #expect(run.requests.map(\.name) == ["login", "component statuses"])
        let statuses = run.requests[1]
        #expect(statuses.status == 200)
        #expect(statuses.responseSize > 0)
        #expect(statuses.bodyHash?.count == 64)
        #expect(statuses.shape?.types["$.items[*].conditions[*].status"] == "string")
        #expect(statuses.checks.count == 7)
        #expect(statuses.checks.allSatisfy { $0.passed })
        let timings = try #require(statuses.timings)
        #expect(timings.total > .zero && timings.firstByte <= timings.total)
        // Each check keeps where it is written, file included.
        #expect(statuses.checks.allSatisfy { $0.location.file == Self.kubesphere })
        #expect(statuses.location?.file == Self.kubesphere && statuses.step == "component statuses")
    }

    @Test func twoRunsWithAChangedResponseGiveTheExpectedDiff() async throws {
        // Given a healthy run, then a run where the scheduler is down and the API answers 400 ms later
        let server = try await MockServer.start()
        defer { server.stop() }
        let database = try Self.temporaryDatabase()
        let store = try SQLiteHistory(path: database)
        // The collection without its 2 s limit on the latency, which a machine busy with other
        // tests can exceed, and which would fail the first run.
        let file = URL(fileURLWithPath: database).deletingLastPathComponent().appendingPathComponent("kubesphere.yaml").path
        try String(contentsOfFile: Self.kubesphere, encoding: .utf8).replacingOccurrences(of: #"duration: { "<": 2s }"#, with: #"duration: { "<": 60s }"#)
            .write(toFile: file, atomically: true, encoding: .utf8)
        let first = try await Self.recordRun(store, file: file, baseURL: server.baseURL)
        server.state.setUnhealthy(["scheduler"])
        server.state.setComponentsDelay(milliseconds: 1_500)
        let second = try await Self.recordRun(store, file: file, baseURL: server.baseURL)

        // When the last two runs are compared
        let pairs = try store.latestRuns(RunFilter(collection: "kubesphere-smoke"))
        #expect(pairs.map { $0.map(\.id) } == [[first, second]])
        // A 1 s floor: the 1.5 s slowdown counts, a busy machine's jitter on the login does not.
        let diff = RunDiff(old: pairs[0][0], new: pairs[0][1], thresholds: RunDiff.Thresholds(latencyRatio: 0.5, latencyFloor: .seconds(1)))
        let text = HistoryText(colors: false).diff(diff)

        // Then
        #expect(diff.isWorse)
        let statuses = try #require(diff.requests.first { $0.name == "component statuses" })
        #expect(statuses.changes.contains(.outcome(old: .passed, new: .failed)))
        #expect(statuses.changes.contains(.shape(ShapeChanges(added: ["$.items[*].conditions[*].error"]))))
        #expect(text.contains("  ✗ component statuses\n      outcome passed → failed\n"), "\(text)")
        #expect(text.contains("      JSON shape changed:\n        + $.items[*].conditions[*].error\n"), "\(text)")
        #expect(text.range(of: #"      latency [\d.]+ m?s → [\d.]+ m?s \(\+\d+%\)\n"#, options: .regularExpression) != nil, "\(text)")
        #expect(text.contains("      body changed (sha256 "))
        #expect(text.hasSuffix("WORSE 1 worse, 0 better, 1 unchanged\n"), "\(text)")
        // The login's tokens are new on every run, and the collection ignores them (diff: ignore).
        #expect(!text.contains("login"), "\(text)")
    }

    @Test func noSecretReachesTheFile() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let path = try Self.temporaryDatabase()
        let store = try SQLiteHistory(path: path)
        _ = try await Self.recordRun(store, baseURL: server.baseURL)
        server.state.setUnhealthy(["etcd-1"])
        _ = try await Self.recordRun(store, baseURL: server.baseURL)
        let tokens = server.state.issuedTokens
        #expect(tokens.count == 2)
        var bytes = Data()
        for suffix in ["", "-wal", "-shm"] {
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: path + suffix))) ?? Data()
        }
        #expect(bytes.count > 10_000)
        #expect(bytes.range(of: Data("kubesphere-smoke".utf8)) != nil, "the search finds what is there")
        for secret in tokens.union(["P@88w0rd", "P%4088w0rd"]) {
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "\(secret) is in the database file")
        }
    }

    @Test func concurrentWritersLoseNothing() async throws {
        // Four connections, as four `sonde run` processes would have, each recording 25 runs at once.
        let server = try await MockServer.start()
        defer { server.stop() }
        let path = try Self.temporaryDatabase()
        let baseURL = server.baseURL
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let store = try SQLiteHistory(path: path)
                    for _ in 0..<25 { _ = try await Self.recordRun(store, baseURL: baseURL) }
                }
            }
            try await group.waitForAll()
        }
        let store = try SQLiteHistory(path: path)
        let runs = try store.runs(RunFilter())
        #expect(runs.count == 100)
        #expect(runs.allSatisfy { $0.isComplete && $0.passed == 2 })
        #expect(try store.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM request") } == 200)
        #expect(try store.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") } == "ok")
    }

    @Test func historyFiltersByCollectionFileAndEnvironment() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let store = try SQLiteHistory(path: try Self.temporaryDatabase())
        let first = try await Self.recordRun(store, baseURL: server.baseURL)
        let second = try await Self.recordRun(store, baseURL: server.baseURL)
        #expect(try store.runs(RunFilter()).map(\.id) == [second, first])
        #expect(try store.runs(RunFilter(last: 1)).map(\.id) == [second])
        #expect(try store.runs(RunFilter(collection: Self.kubesphere)).count == 2)
        #expect(try store.runs(RunFilter(collection: "kubesphere-smoke", environment: "prod")).isEmpty)
        #expect(try store.runs(RunFilter(collection: "nope")).isEmpty)
        let trend = try #require(try store.trends(RunFilter()).first)
        #expect(trend.recentRuns.map(\.id) == [first, second])
        #expect(trend.requests.map(\.name) == ["login", "component statuses"])
        #expect(trend.requests.allSatisfy { $0.successRate == 1 && $0.latency.count == 2 })
    }

    @Test func theWriterCommitsEverythingItIsHanded() throws {
        // Given a history handed 500 requests faster than one commit each
        let store = try SQLiteHistory(path: try Self.temporaryDatabase())
        let runID = try store.begin(Self.start("q", file: "q.yaml", planned: 500))
        for position in 0..<500 {
            store.append(
                RequestResult(
                    step: "r\(position)", position: position, name: "r\(position)", method: "GET", url: "http://x", outcome: position % 10 == 0 ? .failed : .passed,
                    status: 200, timings: RequestTimings(total: .milliseconds(1)), attempts: 1, responseSize: 2, bodyHash: "b",
                    shape: JSONShape(types: ["$": "object"]), checks: [Self.check("status", "200", "200", passed: true, message: nil, line: 1, column: 1)]),
                to: runID)
        }
        // When it finishes
        try store.finish(run: runID, outcome: .failed, at: Date())
        // Then every request is there once, in order, with the counts
        let run = try #require(try store.run(id: runID))
        #expect(run.requests.map(\.position) == Array(0..<500))
        #expect((run.passed, run.failed) == (450, 50))
        #expect(run.requests.allSatisfy { $0.checks.count == 1 && $0.shape == JSONShape(types: ["$": "object"]) })
        #expect(run.outcome == .failed)
    }
}

extension SQLiteHistoryTests {
    @Test func everyValueRoundTripsThroughTheRecorder() throws {
        // Empty strings stay empty (not NULL), nils stay nil, Unicode and quotes survive.
        let store = try SQLiteHistory(path: try Self.temporaryDatabase())
        let runID = try store.begin(Self.start("c", file: "c.yaml", planned: 2))
        let records = [
            RequestResult(
                step: "step 'one'", position: 0, name: "é 'quoted' \"x\" 🚀", method: "GET", url: "", location: SourceLocation(file: "inc/c.yaml", line: 4, column: 5),
                startOffset: .milliseconds(250), outcome: .failed, status: 500,
                timings: RequestTimings(dns: .milliseconds(1), connect: .milliseconds(2), tls: .milliseconds(3), firstByte: .milliseconds(4), total: .milliseconds(5)),
                attempts: 3, responseSize: 12, bodyHash: "ab", problem: RequestProblem(.capture, ""), responseExcerpt: "{\"e\":1}",
                checks: [Self.check("body", "", "x\ty\n", passed: false, message: "", line: 3, column: 4)]),
            RequestResult(step: "s", position: 1, name: "s", method: "GET", url: "u", outcome: .skipped, skip: SkipReason(.condition, "why")),
        ]
        for record in records { store.append(record, to: runID) }
        store.flush()
        let read = try #require(try store.run(id: runID)).requests
        #expect(read[0].name == records[0].name && read[0].url == "" && read[0].problem == RequestProblem(.capture, "") && read[0].status == 500)
        #expect(read[0].step == "step 'one'" && read[0].location == records[0].location)
        #expect(read[0].startOffset == .milliseconds(250) && read[0].attempts == 3 && read[0].responseExcerpt == "{\"e\":1}")
        #expect(read[0].timings == records[0].timings)
        #expect(read[0].checks == records[0].checks)
        #expect(read[1].status == nil && read[1].timings == nil && read[1].bodyHash == nil && read[1].skip == SkipReason(.condition, "why"))
        #expect(read[1].startOffset == nil && read[1].location == nil)
    }

    @Test func textWithANULIsRecordedAndReadWhole() throws {
        // A value a server sent may hold a NUL: what follows it is kept, not cut off.
        let store = try SQLiteHistory(path: try Self.temporaryDatabase())
        let runID = try store.begin(Self.start("c\u{0}d", file: "c.yaml", environment: "e\u{0}f", planned: 1))
        let record = RequestResult(
            step: "n\u{0}m", position: 0, name: "n\u{0}m", method: "GET", url: "http://h/\u{0}x", outcome: .failed, status: 200, attempts: 1, responseSize: 3,
            bodyHash: "ab", shape: JSONShape(types: ["$['a\u{0}b']": "number"]), problem: RequestProblem(.transport, "e\u{0}rror"),
            responseExcerpt: "{\"a\u{0}b\":1}", finalURL: "http://h/\u{0}y", redirects: [RedirectHop(url: "http://h/\u{0}1", status: 302, location: "http://h/\u{0}2")],
            checks: [Self.check("s\u{0}t", "\"a\u{0}b\"", "x\u{0}y", passed: false, message: "m\u{0}n", line: 1, column: 1)])
        store.append(record, to: runID)
        store.flush()
        let run = try #require(try store.run(id: runID))
        #expect(run.collection == "c\u{0}d" && run.environment == "e\u{0}f")
        let read = try #require(run.requests.first)
        #expect(read.name == record.name && read.url == record.url && read.problem == record.problem && read.responseExcerpt == record.responseExcerpt)
        #expect(read.step == record.step)
        #expect(read.finalURL == record.finalURL && read.redirects == record.redirects)
        #expect(read.checks == record.checks)
        #expect(read.shape == record.shape)
    }
}

struct GitCommitTests {
    /// A real repository in a temporary folder: HEAD on a branch, then packed refs, then detached.
    @Test func theCommitIsReadFromTheRepositoryThatHoldsTheFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-git-\(UUID().uuidString)")
        let nested = folder.appendingPathComponent("collections/deep")
        try FileManager.default.createDirectory(at: nested, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = nested.appendingPathComponent("c.yaml")
        try "name: c\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(GitCommit.head(containing: file.path) == nil, "no repository yet")
        func git(_ arguments: String...) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["git", "-C", folder.path, "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"] + arguments
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            try process.run()
            let output = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        _ = try git("init", "-q", "-b", "main")
        _ = try git("add", ".")
        _ = try git("commit", "-q", "-m", "first")
        let head = try git("rev-parse", "HEAD")
        #expect(head.count == 40)
        #expect(GitCommit.head(containing: file.path) == head)
        _ = try git("pack-refs", "--all")
        #expect(GitCommit.head(containing: file.path) == head, "from packed-refs")
        _ = try git("checkout", "-q", "--detach")
        #expect(GitCommit.head(containing: file.path) == head, "detached HEAD")
    }
}
