import Foundation
import GRDB
import SondeCore
import SondeStore
import SondeTestSupport
import Testing

/// What every `RunHistory` must do, run against each implementation: the SQLite history on a
/// file, on an in-memory GRDB database, and the in-memory history. A new implementation
/// (a server's) joins the list and must pass the same.
@Suite(.serialized)
@BlockingTests
struct RunHistoryContractTests {
    enum Kind: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case sqliteFile, sqliteMemory, memory, postgres

        var testDescription: String { rawValue }

        func make() throws -> any RunHistory {
            switch self {
            case .postgres:
                return try PostgresHistory(url: try PostgresCluster.sharedDatabase(), access: .readWrite)
            case .sqliteFile:
                let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-contract-\(UUID().uuidString)")
                return try SQLiteHistory(path: folder.appendingPathComponent("history.sqlite").path)
            case .sqliteMemory:
                return try SQLiteHistory(database: try DatabaseQueue())
            case .memory:
                return InMemoryHistory()
            }
        }
    }

    nonisolated static let epoch = Date(timeIntervalSince1970: 1_780_000_000)

    nonisolated static func start(_ name: String, path: String, environment: String? = nil, at offset: Double, planned: Int = 2) -> RunStart {
        RunStart(
            collection: name, file: path, collectionPath: path, contentHash: "hash-\(name)", environment: environment,
            started: epoch.addingTimeInterval(offset), toolVersion: "test", gitCommit: "abc", plannedRequests: planned)
    }

    nonisolated static func result(
        _ step: String, position: Int, _ outcome: Outcome = .passed, name: String? = nil, milliseconds: Double? = 10, body: String? = "body"
    ) -> RequestResult {
        var result = RequestResult(
            step: step, position: position, name: name ?? step, method: "GET", url: "http://x/\(step)",
            location: SourceLocation(file: "api/a.yaml", line: 3 + position * 5, column: 5), startOffset: .milliseconds(position * 20), outcome: outcome,
            status: outcome == .skipped ? nil : (outcome == .passed ? 200 : 500),
            timings: milliseconds.map { RequestTimings(dns: .microseconds(100), firstByte: .fromMilliseconds($0 / 2), total: .fromMilliseconds($0)) },
            attempts: outcome == .skipped ? 0 : 1, responseSize: body?.utf8.count ?? 0,
            // One body, one shape (a history may store a shape once per body).
            bodyHash: body.map { Digest.sha256("\($0) of \(step)") },
            shape: body == nil ? nil : JSONShape(types: ["$": "object", "$.\(step)": "string"]),
            checks: [
                CheckResult(
                    subject: "status", expected: "200", actual: outcome == .passed ? "200" : "500", passed: outcome == .passed,
                    message: outcome == .passed ? nil : "expected 200, got 500", location: SourceLocation(file: "api/a.yaml", line: 4 + position * 5, column: 7))
            ])
        switch outcome {
        case .skipped:
            result.skip = .failedCapture("token", capturedBy: "login")
            result.checks = []
        case .error:
            result.problem = RequestProblem(.timeout, "Operation timed out after 100 milliseconds")
            result.checks = []
        case .failed:
            result.responseExcerpt = "{\"error\":\"down\"}"
        case .passed:
            break
        }
        // What -v keeps is never recorded.
        result.requestHeaders = [("Authorization", "Bearer ••••••")]
        result.responseBody = "not recorded"
        return result
    }

    /// Records a whole run.
    @discardableResult
    nonisolated static func record(_ history: any RunHistory, _ start: RunStart, _ results: [RequestResult], outcome: Outcome? = nil) throws -> Int64 {
        let id = try history.begin(start)
        for result in results { history.append(result, to: id) }
        let worst = results.map(\.outcome).filter { $0 != .skipped }.max() ?? .passed
        try history.finish(run: id, outcome: outcome ?? worst, at: start.started.addingTimeInterval(1))
        return id
    }

    @Test(arguments: Kind.allCases)
    func aRunReadsBackAsItWasAppended(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        let results = [Self.result("login", position: 0), Self.result("list", position: 1, .failed), Self.result("me", position: 2, .skipped, body: nil)]
        let id = try Self.record(history, Self.start("a", path: "api/a.yaml", environment: "staging", at: 0, planned: 3), results)
        let run = try #require(try history.run(id: id))
        #expect(run.collection == "a" && run.collectionPath == "api/a.yaml" && run.environment == "staging" && run.contentHash == "hash-a")
        #expect(run.started == Self.epoch && run.finished == Self.epoch.addingTimeInterval(1) && run.outcome == .failed)
        #expect((run.passed, run.failed, run.errored, run.skipped, run.plannedRequests) == (1, 1, 0, 1, 3))
        #expect(run.requests.count == 3)
        for (read, written) in zip(run.requests, results) {
            #expect(read.step == written.step && read.position == written.position && read.name == written.name && read.url == written.url)
            #expect(read.location == written.location && read.startOffset == written.startOffset && read.outcome == written.outcome)
            #expect(read.status == written.status && read.timings == written.timings && read.attempts == written.attempts)
            #expect(read.bodyHash == written.bodyHash && read.shape == written.shape && read.checks == written.checks)
            #expect(read.problem == written.problem && read.skip == written.skip && read.responseExcerpt == written.responseExcerpt)
            // Headers and bodies shown with -v are never kept.
            #expect(read.requestHeaders.isEmpty && read.responseBody == nil)
        }
        #expect(try history.run(id: id + 100) == nil)
    }

    @Test(arguments: Kind.allCases)
    func aRunNeverFinishedStaysIncompleteAndOutOfComparisons(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        let complete = try Self.record(history, Self.start("a", path: "api/a.yaml", at: 0), [Self.result("login", position: 0)])
        let interrupted = try history.begin(Self.start("a", path: "api/a.yaml", at: 10))
        history.append(Self.result("login", position: 0), to: interrupted)
        try history.leaveIncomplete(run: interrupted)
        let listed = try history.runs(RunFilter())
        #expect(listed.map(\.id) == [interrupted, complete])
        #expect(listed[0].outcome == nil && listed[0].finished == nil && listed[0].status == "incomplete" && listed[0].passed == 1)
        let bare = listed.allSatisfy { $0.requests.isEmpty }
        #expect(bare, "listings come without requests")
        #expect(try history.run(id: interrupted)?.requests.count == 1, "what it finished is kept")
        #expect(try history.latestRuns(RunFilter()).map { $0.map(\.id) } == [[complete]])
        let newest = try #require(try history.run(id: interrupted))
        #expect(try history.previousRun(before: newest)?.id == complete)
        // A trend counts it among the runs and shows its requests, but counts only what finished runs sent.
        let trend = try #require(try history.trends(RunFilter()).first)
        #expect((trend.runCount, trend.finishedRuns, trend.incompleteRuns) == (2, 1, 1))
        #expect(trend.requests.map(\.runs) == [1] && trend.requests[0].recentOutcomes == [.passed, .passed])
    }

    @Test(arguments: Kind.allCases)
    func listingsFilterByCollectionEnvironmentAndWindow(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        let a1 = try Self.record(history, Self.start("a", path: "api/a.yaml", at: 0), [Self.result("r", position: 0)])
        let b1 = try Self.record(history, Self.start("b", path: "api/b.yaml", environment: "prod", at: 10), [Self.result("r", position: 0)])
        let a2 = try Self.record(history, Self.start("a", path: "api/a.yaml", environment: "prod", at: 20), [Self.result("r", position: 0)])
        // Another collection named "a", from another file: a second collection, its own history.
        let other = try Self.record(history, Self.start("a", path: "other/a.yaml", at: 30), [Self.result("r", position: 0)])
        #expect(try history.runs(RunFilter()).map(\.id) == [other, a2, b1, a1])
        #expect(try history.runs(RunFilter(last: 2)).map(\.id) == [other, a2])
        #expect(try history.runs(RunFilter(collection: "api/a.yaml")).map(\.id) == [a2, a1])
        #expect(try history.runs(RunFilter(collection: "b")).map(\.id) == [b1])
        #expect(try history.runs(RunFilter(environment: "prod")).map(\.id) == [a2, b1])
        #expect(try history.runs(RunFilter(since: Self.epoch.addingTimeInterval(15))).map(\.id) == [other, a2])
        #expect(try history.runs(RunFilter(collection: "nope")).isEmpty)
        #expect(try history.runs(RunFilter(collection: "api/nope.yaml")).isEmpty)
        // A name two files share is a question asked wrong, answered with the files.
        #expect {
            try history.runs(RunFilter(collection: "a"))
        } throws: { error in
            guard let error = error as? HistoryError else { return false }
            return error.isUsage && error.description.contains("api/a.yaml") && error.description.contains("other/a.yaml")
        }
        #expect(try history.collections() == [
            CollectionIdentity(name: "a", path: "api/a.yaml"), CollectionIdentity(name: "b", path: "api/b.yaml"), CollectionIdentity(name: "a", path: "other/a.yaml"),
        ])
    }

    @Test(arguments: Kind.allCases)
    func previousAndLatestRunsPairByCollectionAndEnvironment(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        let first = try Self.record(history, Self.start("a", path: "api/a.yaml", at: 0), [Self.result("r", position: 0)])
        let prod = try Self.record(history, Self.start("a", path: "api/a.yaml", environment: "prod", at: 5), [Self.result("r", position: 0)])
        let second = try Self.record(history, Self.start("a", path: "api/a.yaml", at: 10), [Self.result("r", position: 0, .failed)])
        let third = try Self.record(history, Self.start("a", path: "api/a.yaml", at: 20), [Self.result("r", position: 0)])
        let once = try Self.record(history, Self.start("b", path: "api/b.yaml", at: 30), [Self.result("r", position: 0)])
        let newest = try #require(try history.run(id: third))
        #expect(try history.previousRun(before: newest)?.id == second)
        let oldest = try #require(try history.run(id: first))
        #expect(try history.previousRun(before: oldest) == nil)
        // Per collection and environment (no environment first), oldest first within each.
        #expect(try history.latestRuns(RunFilter()).map { $0.map(\.id) } == [[second, third], [prod], [once]])
        let pairs = try history.latestRuns(RunFilter(collection: "api/a.yaml"))
        #expect(pairs.map { $0.map(\.id) }.contains([second, third]))
        let whole = pairs.allSatisfy { $0.allSatisfy { !$0.requests.isEmpty } }
        #expect(whole, "paired runs come whole, to be compared")
        #expect(try history.latestRuns(RunFilter(collection: "b")).map { $0.map(\.id) } == [[once]])
    }

    @Test(arguments: Kind.allCases)
    func trendsSampleEachStepOverTheWindow(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        try Self.record(history, Self.start("a", path: "api/a.yaml", at: 0), [Self.result("login", position: 0, milliseconds: 10), Self.result("list", position: 1)])
        try Self.record(
            history, Self.start("a", path: "api/a.yaml", at: 10),
            [Self.result("login", position: 0, .failed, milliseconds: 30), Self.result("list", position: 1, .skipped, milliseconds: nil, body: nil)])
        // The step keeps its id when its name changes; a new step comes first in the newest order.
        try Self.record(
            history, Self.start("a", path: "api/a.yaml", at: 20),
            [Self.result("health", position: 0), Self.result("login", position: 1, name: "sign in", milliseconds: 20)])
        let trend = try #require(try history.trends(RunFilter()).first)
        #expect(trend.runCount == 3 && trend.passRate.map { abs($0 - 2.0 / 3) < 1e-9 } == true)
        #expect(trend.percentiles == .exact)
        #expect(trend.requests.map(\.name) == ["health", "sign in", "list"])
        let login = trend.requests[1]
        #expect((login.runs, login.passed, login.failed, login.skipped) == (3, 2, 1, 0))
        #expect(login.latency.map(\.p50) == [.milliseconds(10), .milliseconds(30), .milliseconds(20)])
        #expect(login.p50 == .milliseconds(20) && login.max == .milliseconds(30) && login.mean == .milliseconds(20))
        #expect(login.recentOutcomes == [.passed, .failed, .passed])
        let list = trend.requests[2]
        #expect((list.runs, list.skipped) == (1, 1) && list.latency.map(\.p50) == [.milliseconds(10), nil, nil])
        let recent = try #require(try history.trends(RunFilter(last: 2)).first)
        #expect(recent.runCount == 2)
    }

    @Test(arguments: Kind.allCases)
    func redactionMasksWhatCameBeforeAndSetsBodyHashes(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        let id = try history.begin(Self.start("a", path: "api/a.yaml", at: 0))
        var leaked = Self.result("login", position: 0, .failed)
        // A request named with a value that turns out to be secret: its step and name too.
        leaked.step = "login s3cr3t-t0ken-value"
        leaked.name = leaked.step
        leaked.responseExcerpt = "{\"token\":\"s3cr3t-t0ken-value\"}"
        leaked.checks[0].actual = "s3cr3t-t0ken-value"
        var later = Self.result("list", position: 1, .failed)
        later.responseExcerpt = "s3cr3t-t0ken-value again"
        history.append(leaked, to: id)
        history.append(later, to: id)
        var redactor = Redactor()
        redactor.add(leavesOf: .string("s3cr3t-t0ken-value"))
        try history.redact(run: id, positionsBelow: 1, with: redactor, bodyHashes: [0: "masked-hash"])
        try history.finish(run: id, outcome: .failed, at: Self.epoch.addingTimeInterval(1))
        let run = try #require(try history.run(id: id))
        #expect(run.requests[0].responseExcerpt == "{\"token\":\"••••••\"}")
        // A masked step keeps its place: two steps that differ by a secret stay two.
        #expect(run.requests[0].step == "login •••••• #1" && run.requests[0].name == "login ••••••")
        #expect(run.requests[0].checks[0].actual == "••••••")
        #expect(run.requests[0].bodyHash == "masked-hash")
        #expect(run.requests[1].responseExcerpt == "s3cr3t-t0ken-value again", "only the positions below the limit")
        // After the run has finished too (a secret another collection learned later).
        try history.redact(run: id, positionsBelow: Int.max, with: redactor, bodyHashes: [1: nil])
        let again = try #require(try history.run(id: id))
        #expect(again.requests[1].responseExcerpt == "•••••• again" && again.requests[1].bodyHash == nil)
    }

    /// An import is idempotent by UUID; it replaces a copy that never finished with the run
    /// that did; it does not bring back a run older than the history's pruning (its hours are
    /// counted already); a second begin of one UUID (two imports at once) is a duplicate.
    @Test(arguments: Kind.allCases)
    func importsReplaceIncompleteCopiesAndSkipPrunedRuns(kind: Kind) throws {
        let history = try kind.make()
        defer { history.close() }
        var start = Self.start("a", path: "api/a.yaml", at: 0, planned: 2)
        start.uuid = "6c1b0a8e-0000-4000-8000-000000000001"
        let results = [Self.result("login", position: 0), Self.result("list", position: 1)]
        var finished = start.record(
            of: RunResult(collection: "a", file: "api/a.yaml", environment: nil, started: start.started, finished: start.started.addingTimeInterval(1), requests: results))
        finished.uuid = start.uuid
        var incomplete = finished
        incomplete.requests = [results[0]]
        incomplete.finished = nil
        incomplete.outcome = nil
        // A copy taken while the run was going, then the finished run.
        #expect(try history.importRun(incomplete) == .imported)
        #expect(try history.importRun(incomplete) == .present)
        // (A run of that identity that is not a copy of it replaces nothing.)
        var impostor = finished
        impostor.started = finished.started.addingTimeInterval(60)
        impostor.finished = impostor.started.addingTimeInterval(1)
        #expect(try history.importRun(impostor) == .present)
        #expect(try history.importRun(finished) == .replaced)
        #expect(try history.importRun(finished) == .present)
        #expect(try history.importRun(incomplete) == .present, "a finished run is never replaced")
        let runs = try history.runs(RunFilter())
        #expect(runs.count == 1 && runs[0].finished != nil && runs[0].passed == 2)
        #expect(try history.trends(RunFilter()).map(\.finishedRuns) == [1])
        // Two begins of one identity: the second is a duplicate, not a second run.
        #expect { _ = try history.begin(start) } throws: { ($0 as? HistoryError)?.isDuplicateRun == true }
        // Pruned: not recorded again.
        #expect(try history.prune(startedBefore: Self.epoch.addingTimeInterval(7_200), RunFilter()) == 1)
        #expect(try history.wasPruned(uuid: start.uuid))
        #expect(try history.importRun(finished) == .pruned)
        #expect(try history.runs(RunFilter()).isEmpty)
        // A run of those hours the history never had is recorded (and counted): it was not pruned.
        var elsewhere = finished
        elsewhere.uuid = "6c1b0a8e-0000-4000-8000-000000000003"
        #expect(try history.importRun(elsewhere) == .imported)
        #expect(try history.runs(RunFilter()).count == 1)
        // A run after the pruning is imported.
        var later = finished
        later.uuid = "6c1b0a8e-0000-4000-8000-000000000002"
        later.started = Self.epoch.addingTimeInterval(86_400)
        later.finished = later.started.addingTimeInterval(1)
        #expect(try history.importRun(later) == .imported)
    }
}
