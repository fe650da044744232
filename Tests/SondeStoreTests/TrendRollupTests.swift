import Foundation
import GRDB
import SondeCore
@testable import SondeStore
import SondeTestSupport
import Testing

/// The trend rollups on a real SQLite file in a temporary folder: they always equal a sum of
/// the recorded rows made here without the code that keeps them (after failures, skips,
/// several environments, runs left unfinished, a secret masked after a run finished, an
/// upgrade of an older file, several writers at once), and a trend read from them says what
/// the same trend read run by run says, its percentiles within the histogram's error.
@Suite(.serialized)
struct TrendRollupTests {
    typealias Contract = RunHistoryContractTests

    static func temporaryDatabase() throws -> String { try SQLiteHistoryTests.temporaryDatabase() }

    /// Records `count` runs of two collections over three days, in three environments (none
    /// among them): requests that pass, fail, err and are skipped, latencies from 0.2 ms to 2 s,
    /// some runs starting on the second of an hour, every 17th left unfinished; each run's
    /// UUID from its seed and index, so that two histories given the same runs hold the same; a
    /// failed request's excerpt holds a NUL and U+FFFF (which PostgreSQL's text cannot hold
    /// as such).
    static func recordHistory(_ history: any RunHistory, runs count: Int, seed: UInt64 = 7) throws {
        var random = SteppingGenerator(seed: seed)
        let outcomes: [Outcome] = [.passed, .passed, .passed, .passed, .passed, .passed, .failed, .error, .skipped]
        for index in 0..<count {
            // Every 10th run starts on an hour's first second or just before it.
            let offset = index % 10 == 0 ? Double(index / 10 % 72) * 3600 - (index % 20 == 0 ? 0 : 0.000_1) : Double.random(in: 0..<(3 * 86_400), using: &random)
            let collection = index % 3 == 0 ? "b" : "a"
            let environment = [nil, "staging", "prod"][index % 7 % 3]
            var start = Contract.start(collection, path: "api/\(collection).yaml", environment: environment, at: offset, planned: 4)
            start.uuid = String(format: "%08x-0000-4000-8000-%012d", UInt32(truncatingIfNeeded: seed), index)
            let results = (0..<4).map { position in
                let outcome = outcomes.randomElement(using: &random) ?? .passed
                let milliseconds = outcome == .skipped ? nil : exp(Double.random(in: log(0.2)...log(2000), using: &random))
                // The step of position 3 is renamed in the newer half: one step, two names.
                let name = position == 3 && index >= count / 2 ? "renamed" : nil
                var result = Contract.result(
                    "step \(position)", position: position, outcome, name: name, milliseconds: milliseconds, body: outcome == .skipped ? nil : "b")
                if outcome == .failed { result.responseExcerpt = "nul \u{0} and \u{FFFF}0 here" }
                return result
            }
            if index % 17 == 5 {
                let id = try history.begin(start)
                for result in results.prefix(2) { history.append(result, to: id) }
                try history.leaveIncomplete(run: id)
            } else {
                try Contract.record(history, start, results)
            }
        }
    }

    /// A collection and environment, from a row of `run` or `trendGroup`.
    static func groupKey(_ row: Row) -> String {
        "\(row["collection"] as String)|\(row["collectionPath"] as String)|\(row["environment"] as String? ?? "-")"
    }

    /// Rollups by group (`groupKey`) and quarter, or hour and step.
    struct Rollups: Equatable {
        var runs: [String: RunRollup] = [:]
        var requests: [String: RequestRollup] = [:]
    }

    /// Per group (collection, path, environment), its rollups as stored.
    static func stored(_ history: SQLiteHistory) throws -> Rollups {
        try history.read { db in
            var rollups = Rollups()
            for group in try Row.fetchAll(db, sql: "SELECT id, collection, collectionPath, environment FROM trendGroup") {
                let key = groupKey(group)
                for row in try Row.fetchAll(db, sql: "SELECT * FROM runRollup WHERE groupId = ?", arguments: [group["id"] as Int64]) {
                    let counts = OutcomeCounts(passed: row["passed"], failed: row["failed"], errored: row["errored"], skipped: row["skipped"])
                    #expect(row["runs"] as Int == counts.total)
                    rollups.runs["\(key)|\(row["quarter"] as Int)"] = RunRollup(quarter: row["quarter"], outcomes: counts)
                }
                for rollup in try SQLiteHistory.requestRollups(
                    db, "SELECT \(SQLiteHistory.requestRollupColumns) FROM requestRollup WHERE groupId = ?", [group["id"] as Int64])
                {
                    rollups.requests["\(key)|\(rollup.hour)|\(Self.exact(rollup.step))"] = rollup
                }
            }
            return rollups
        }
    }

    /// The rollups summed here from the recorded rows: finished runs only, hours and quarters
    /// of their start, the newest run's name.
    static func recomputed(_ history: SQLiteHistory) throws -> Rollups {
        try history.read { db in
            var sums = Rollups()
            for run in try Row.fetchAll(db, sql: "SELECT * FROM run WHERE finishedAt IS NOT NULL") {
                let key = groupKey(run)
                let quarter = Int((run["startedAt"] as Double / 900).rounded(.down))
                let hour = Int((Double(quarter) / 4).rounded(.down))
                var counts = sums.runs["\(key)|\(quarter)"]?.outcomes ?? OutcomeCounts()
                switch Outcome(rawValue: run["outcome"]) {
                case .passed: counts.passed += 1
                case .failed: counts.failed += 1
                case .error: counts.errored += 1
                case .skipped: counts.skipped += 1
                case nil: Issue.record("a finished run without an outcome")
                }
                sums.runs["\(key)|\(quarter)"] = RunRollup(quarter: quarter, outcomes: counts)
                for request in try Row.fetchAll(db, sql: "SELECT * FROM request WHERE runId = ?", arguments: [run["id"] as Int64]) {
                    let step: String = request["step"]
                    let runID: Int64 = run["id"], position: Int = request["position"]
                    var rollup = sums.requests["\(key)|\(hour)|\(Self.exact(step))"] ?? RequestRollup(hour: hour, step: step, name: request["name"], newestRun: runID, position: position)
                    switch Outcome(rawValue: request["outcome"]) {
                    case .passed: rollup.outcomes.passed += 1
                    case .failed: rollup.outcomes.failed += 1
                    case .error: rollup.outcomes.errored += 1
                    case .skipped: rollup.outcomes.skipped += 1
                    case nil: Issue.record("a request without an outcome")
                    }
                    if request["outcome"] != "skipped", let milliseconds = request["totalMs"] as Double? { rollup.latencies.add(.fromMilliseconds(milliseconds)) }
                    if (runID, position) > (rollup.newestRun, rollup.position) {
                        (rollup.name, rollup.newestRun, rollup.position) = (request["name"], runID, position)
                    }
                    sums.requests["\(key)|\(hour)|\(Self.exact(step))"] = rollup
                }
            }
            return sums
        }
    }

    static func expectRollupsMatchTheRows(_ history: SQLiteHistory, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        let stored = try stored(history)
        let recomputed = try recomputed(history)
        #expect(stored.runs == recomputed.runs, sourceLocation: sourceLocation)
        #expect(!recomputed.requests.isEmpty, sourceLocation: sourceLocation)
        let only = (stored: Set(stored.requests.keys).subtracting(recomputed.requests.keys), rows: Set(recomputed.requests.keys).subtracting(stored.requests.keys))
        #expect(only.stored.isEmpty && only.rows.isEmpty, "rollups of no rows: \(only.stored.sorted()); rows without rollups: \(only.rows.sorted())", sourceLocation: sourceLocation)
        for (key, rollup) in recomputed.requests where stored.requests[key].map({ $0 != rollup }) == true {
            Issue.record("\(key): stored \(String(describing: stored.requests[key])), summed from the rows \(rollup)", sourceLocation: sourceLocation)
        }
    }

    /// The same trend read run by run and from the rollups agree: counts, days, names, order,
    /// the newest runs and the longest latency exactly; p50 and p95 within the histogram's error.
    static func expectSameTrends(_ history: SQLiteHistory, _ filter: RunFilter, sourceLocation: Testing.SourceLocation = #_sourceLocation) throws {
        history.exactTrendRuns = 1_000_000
        let exact = try history.trends(filter)
        history.exactTrendRuns = 0
        let rolled = try history.trends(filter)
        history.exactTrendRuns = 1_000
        #expect(exact.count == rolled.count && !exact.isEmpty, sourceLocation: sourceLocation)
        for (exact, rolled) in zip(exact, rolled) {
            #expect(exact.percentiles == .exact && rolled.percentiles == .estimated, sourceLocation: sourceLocation)
            #expect((exact.collection, exact.collectionPath, exact.environment) == (rolled.collection, rolled.collectionPath, rolled.environment))
            #expect(
                (exact.runCount, exact.finishedRuns, exact.passedRuns, exact.incompleteRuns) == (rolled.runCount, rolled.finishedRuns, rolled.passedRuns, rolled.incompleteRuns),
                sourceLocation: sourceLocation)
            #expect(exact.first == rolled.first && exact.last == rolled.last && exact.recentRuns == rolled.recentRuns, sourceLocation: sourceLocation)
            #expect(exact.days == rolled.days, sourceLocation: sourceLocation)
            #expect(exact.requests.map(\.name) == rolled.requests.map(\.name), sourceLocation: sourceLocation)
            for (a, b) in zip(exact.requests, rolled.requests) {
                #expect((a.runs, a.passed, a.failed, a.errored, a.skipped) == (b.runs, b.passed, b.failed, b.errored, b.skipped), sourceLocation: sourceLocation)
                #expect(a.max == b.max && a.recentOutcomes == b.recentOutcomes, sourceLocation: sourceLocation)
                for (x, y) in [(a.p50, b.p50), (a.p95, b.p95), (a.mean, b.mean)] {
                    guard let x, let y else {
                        #expect(x == nil && y == nil, sourceLocation: sourceLocation)
                        continue
                    }
                    #expect(abs(y.inSeconds - x.inSeconds) <= x.inSeconds * LatencyHistogram.relativeError + 1e-9, "\(x) and \(y)", sourceLocation: sourceLocation)
                }
            }
            if let x = exact.latencyP95, let y = rolled.latencyP95 {
                #expect(abs(y.inSeconds - x.inSeconds) <= x.inSeconds * LatencyHistogram.relativeError + 1e-9, sourceLocation: sourceLocation)
            }
        }
    }

    @Test func rollupsEqualASumOfTheRecordedRows() throws {
        // Given 300 runs in two collections, three environments, with failures, errors, skips
        // and runs left unfinished
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        try Self.recordHistory(history, runs: 300)
        // Then the rollups are the rows summed
        try Self.expectRollupsMatchTheRows(history)
        let unfinished = try history.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM run WHERE finishedAt IS NULL") }
        #expect(unfinished == 18)
        // and every collection and environment has its group, the unfinished runs' too.
        #expect(try history.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM trendGroup") } == 6)
        #expect(try history.collections() == [CollectionIdentity(name: "a", path: "api/a.yaml"), CollectionIdentity(name: "b", path: "api/b.yaml")])
    }

    @Test func aTrendReadFromRollupsSaysWhatTheRunsSay() throws {
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        try Self.recordHistory(history, runs: 400)
        let epoch = RunHistoryContractTests.epoch
        // Every window: all, since a moment within an hour, since an hour's first second,
        // the last N (whose oldest run starts within an hour), a collection, an environment.
        for filter in [
            RunFilter(), RunFilter(since: epoch.addingTimeInterval(86_400 + 1_234.5)), RunFilter(since: epoch.addingTimeInterval(7_200)),
            RunFilter(last: 37), RunFilter(since: epoch.addingTimeInterval(40_000), last: 25), RunFilter(collection: "b"),
            RunFilter(collection: "api/a.yaml", environment: "staging"), RunFilter(environment: "prod", last: 300),
        ] {
            try Self.expectSameTrends(history, filter)
        }
    }

    @Test func aSecretMaskedAfterTheRunFinishedLeavesNoTraceInTheRollups() throws {
        // Given a finished run with a step named after a value not yet known to be secret
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        try Self.recordHistory(history, runs: 40)
        var leaked = Contract.result("login s3cr3t-t0ken-value", position: 0)
        leaked.name = leaked.step
        let id = try Contract.record(history, Contract.start("a", path: "api/a.yaml", at: 3_600 * 5 + 10), [leaked, Contract.result("list", position: 1)])
        #expect(try Self.rollupBytes(history).contains("s3cr3t-t0ken-value"), "the search finds what is there")
        // When another collection of the session learns the secret after the run finished
        var redactor = Redactor()
        redactor.add(leavesOf: .string("s3cr3t-t0ken-value"))
        try history.redact(run: id, positionsBelow: Int.max, with: redactor, bodyHashes: [:])
        // Then the rollups hold the masked step, and still equal the rows
        #expect(!(try Self.rollupBytes(history).contains("s3cr3t-t0ken-value")))
        try Self.expectRollupsMatchTheRows(history)
        history.exactTrendRuns = 0
        let trend = try #require(try history.trends(RunFilter(collection: "a", environment: nil)).first { $0.environment == nil })
        #expect(trend.requests.contains { $0.name == "login ••••••" })
        #expect(!trend.requests.contains { $0.name.contains("s3cr3t") })
    }

    /// A step in a key, by its code points: `é` and `e` + U+0301 are two steps.
    static func exact(_ step: String) -> String {
        step.unicodeScalars.allSatisfy(\.isASCII) ? step : step.unicodeScalars.map { "U+" + String($0.value, radix: 16) }.joined(separator: " ")
    }

    /// Every text of the rollup tables, as stored.
    static func rollupBytes(_ history: SQLiteHistory) throws -> String {
        try history.read { db in
            try String.fetchAll(db, sql: "SELECT CAST(step AS BLOB) || CAST(name AS BLOB) FROM requestRollup").joined(separator: "\n")
        }
    }

    /// Two steps whose names differ only by Unicode normalization are two rollups, as they
    /// are two requests.
    @Test func stepsAreRolledUpByTheirExactText() throws {
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        let start = Contract.start("a", path: "api/a.yaml", at: 100)
        _ = try Contract.record(history, start, [Contract.result("caf\u{E9}", position: 0), Contract.result("cafe\u{301}", position: 1, .failed)])
        try Self.expectRollupsMatchTheRows(history)
        #expect(try history.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM requestRollup") } == 2)
    }

    @Test func aRunFinishedTwiceIsCountedOnce() throws {
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        let start = Contract.start("a", path: "api/a.yaml", at: 100)
        let id = try Contract.record(history, start, [Contract.result("r", position: 0, .failed)])
        try history.finish(run: id, outcome: .passed, at: start.started.addingTimeInterval(2))
        try Self.expectRollupsMatchTheRows(history)
        #expect(try Self.stored(history).runs.values.map(\.outcomes) == [OutcomeCounts(passed: 1)])
    }

    @Test func anOlderHistoryIsSummedWhenUpgraded() throws {
        // Given a history as v6 left it: runs recorded, no rollups
        let path = try Self.temporaryDatabase()
        do {
            let history = try SQLiteHistory(path: path)
            try Self.recordHistory(history, runs: 200, seed: 11)
            history.close()
            let queue = try DatabaseQueue(path: path)
            try queue.write { db in
                try db.execute(sql: """
                    DROP TABLE requestRollup; DROP TABLE runRollup; DROP TABLE trendGroup; DROP INDEX run_unfinished; DROP TABLE prunedRun;
                    DELETE FROM grdb_migrations WHERE identifier IN ('v7 trend rollups', 'v10 pruning');
                    """)
            }
            try queue.close()
        }
        // When the current sonde opens it to read
        let reader = try SQLiteHistory(path: path, access: .readOnly)
        let trends = try reader.trends(RunFilter())
        reader.close()
        // Then it was upgraded first, its rollups are the rows summed, and trends read from them
        // say what the runs say
        let history = try SQLiteHistory(path: path)
        defer { history.close() }
        try Self.expectRollupsMatchTheRows(history)
        #expect(trends.map(\.runCount) == (try history.trends(RunFilter())).map(\.runCount))
        try Self.expectSameTrends(history, RunFilter())
    }

    @Test func severalWritersAtOnceLoseNoCount() async throws {
        // Four connections, as four `sonde run` processes would have, each recording 30 runs at once.
        let path = try Self.temporaryDatabase()
        try SQLiteHistory(path: path).close()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                group.addTask {
                    try await offPool {
                        let history = try SQLiteHistory(path: path)
                        defer { history.close() }
                        try Self.recordHistory(history, runs: 30, seed: UInt64(writer))
                    }
                }
            }
            try await group.waitForAll()
        }
        let history = try SQLiteHistory(path: path)
        defer { history.close() }
        try Self.expectRollupsMatchTheRows(history)
        #expect(try Self.stored(history).runs.values.reduce(0) { $0 + $1.runs } == 4 * (30 - 2))
    }

    @Test func rebuildingGivesWhatRecordingKept() throws {
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        try Self.recordHistory(history, runs: 120)
        let kept = try Self.stored(history)
        try history.rebuildRollups()
        let rebuilt = try Self.stored(history)
        #expect(kept == rebuilt)
    }

    /// A run's steps are merged into the rollups a slice at a time (a run of 20,000 steps
    /// would sum megabytes at once): two runs in one hour, each of two slices and more, and a
    /// rebuild, all come to what the rows say.
    @Test func aRunOfMoreStepsThanASliceIsRolledUpWhole() throws {
        let history = try SQLiteHistory(path: try Self.temporaryDatabase())
        defer { history.close() }
        let steps = 2 * RollupSums.slice + 5
        for (index, offset) in [100.0, 1_900.0].enumerated() {
            let start = Contract.start("long", path: "long.yaml", at: offset, planned: steps)
            let results = (0..<steps).map { position in
                Contract.result("step \(position)", position: position, position % 7 == index ? .failed : .passed, milliseconds: Double(1 + position % 50), body: "b")
            }
            try Contract.record(history, start, results)
        }
        try Self.expectRollupsMatchTheRows(history)
        let rows = try history.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM requestRollup") }
        #expect(rows == steps)
        let kept = try Self.stored(history)
        try history.rebuildRollups()
        #expect(try Self.stored(history) == kept)
    }

    @Test func aHistogramIsStoredWhole() {
        var histogram = LatencyHistogram()
        for milliseconds in [0.0, 0.0005, 0.3, 0.3, 12.5, 1_999.9, 90_000_000_000] { histogram.add(.fromMilliseconds(milliseconds)) }
        let data = HistogramCoding.data(histogram)
        let read = data.withUnsafeBytes { HistogramCoding.counts($0) }
        #expect(read.map { LatencyHistogram(offset: $0.offset, counts: $0.counts, sum: histogram.sum, min: histogram.min, max: histogram.max) } == histogram)
        #expect(Data([0xFF]).withUnsafeBytes { HistogramCoding.counts($0) } == nil, "a varint cut short")
        #expect(Data([0x80, 0x40, 1]).withUnsafeBytes { HistogramCoding.counts($0) } == nil, "a bucket beyond the last")
    }
}
