import Foundation
import GRDB
import GRDBSQLite
import SondeCore

/// The trend rollups: per collection and environment (`trendGroup`), its finished runs per
/// quarter hour (`runRollup`, `RunRollup`) and each step's requests per hour
/// (`requestRollup`, `RequestRollup`), so that a trend over a month reads a few thousand rows
/// instead of every request (`SQLiteHistory+Trends.swift`).
///
/// They are a function of the recorded rows, and kept so on every path, each in the
/// transaction that changes the rows:
/// 1. a run is added when it finishes (`rollUp(run:)`, from `finish`);
/// 2. an hour whose runs changed after they were added (a secret masked later in a step's
///    name, a run finished twice) is summed again from its rows (`resumRollups(ofRun:)`);
/// 3. the migration that made them, and `rebuildRollups()` after rows were written in bulk,
///    sum every run (`sumAllRollups`).
/// Each path sums rows into a `RollupSums` and merges it into the tables, adding to what is
/// there. A write transaction holds the file's write lock from its start (GRDB begins it
/// IMMEDIATE), so several processes recording into one file never merge into the same row at
/// once, and no count is lost between reading a row and writing it back.
///
/// Runs that never finished (stopped, killed, or still going) are not in the rollups; a run
/// is counted once, when it finishes. Pruning (`prune`) deletes runs and keeps their hours in
/// the rollups: from then on, the group's hours before `trendGroup.prunedBefore` are the
/// rollups' alone.
extension SQLiteHistory {
    /// Sums every run recorded into the rollups anew. For rows written straight into the
    /// database, as `sonde-bench` writes its history; `sonde run` keeps them as it records.
    /// Refused on a pruned history: the hours pruned live in the rollups only.
    public func rebuildRollups() throws(HistoryError) {
        try write { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM trendGroup WHERE prunedBefore IS NOT NULL)") == true {
                throw HistoryError("\(path) was pruned: summing its runs anew would lose the hours pruned, which only the rollups hold")
            }
            try Self.sumAllRollups(db)
        }
    }

    public func wasPruned(uuid: String) throws(HistoryError) -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM prunedRun WHERE uuid = ?)", arguments: [uuid]) ?? false }
    }

    public func isIncomplete(run: Int64) throws(HistoryError) -> Bool {
        try read { db in try Bool.fetchOne(db, sql: "SELECT finishedAt IS NULL FROM run WHERE id = ?", arguments: [run]) ?? false }
    }

    public func removeIncomplete(run: Int64) throws(HistoryError) -> Bool {
        try write { db in
            try db.execute(sql: "DELETE FROM run WHERE id = ? AND finishedAt IS NULL", arguments: [run])
            return db.changesCount > 0
        }
    }

    public func prune(startedBefore cutoff: Date, _ filter: RunFilter) throws(HistoryError) -> Int {
        let limit = Double(RequestRollup.hour(of: cutoff)) * 3600
        return try write { db in
            guard let (clause, arguments) = try whereClause(db, RunFilter(collection: filter.collection, environment: filter.environment)) else { return 0 }
            // Finished runs only: they are in the rollups. A run that never finished may be one
            // an import or a push is writing at this moment, or one a later push completes.
            let condition = (clause.isEmpty ? "WHERE " : clause + " AND ") + "startedAt < ? AND finishedAt IS NOT NULL"
            var all = arguments
            _ = all.append(contentsOf: [limit])
            // Unqualified columns in the subquery are the run's (the nearest table).
            var groupArguments: StatementArguments = [limit]
            _ = groupArguments.append(contentsOf: all)
            try db.execute(
                sql: """
                    UPDATE trendGroup SET prunedBefore = max(coalesce(prunedBefore, 0), ?)
                    WHERE id IN (SELECT g.id FROM trendGroup g WHERE EXISTS (SELECT 1 FROM run \(condition) AND \(Self.sameGroup)))
                    """, arguments: groupArguments)
            try db.execute(sql: "INSERT OR IGNORE INTO prunedRun (uuid) SELECT uuid FROM run \(condition) AND uuid IS NOT NULL", arguments: all)
            try db.execute(sql: "DELETE FROM run \(condition)", arguments: all)
            let removed = db.changesCount
            // A shape no request points at any more goes too.
            try db.execute(sql: "DELETE FROM shape WHERE hash NOT IN (SELECT shapeHash FROM request WHERE shapeHash IS NOT NULL)")
            return removed
        }
    }

    /// Adds a run that has just finished to the rollups.
    static func rollUp(run id: Int64, _ db: Database) throws {
        try makeGroups(db, forRunsWhere: "id = ?", [id])
        var sums = RollupSums()
        try sum(db, runs: groupedRuns(where: "run.id = ?"), [id], into: &sums, mergingSlices: true)
        try sums.merge(into: db)
    }

    /// Sums anew the hour of a finished run, after its rows changed (a step or a name masked,
    /// an outcome written again): a histogram cannot take back what it was given.
    static func resumRollups(ofRun id: Int64, _ db: Database) throws {
        guard
            let row = try Row.fetchOne(
                db, sql: "SELECT g.id AS groupId, run.startedAt FROM run JOIN trendGroup g ON \(sameGroup) WHERE run.id = ? AND run.finishedAt IS NOT NULL",
                arguments: [id])
        else { return }
        let group: Int64 = row["groupId"]
        let hour = RequestRollup.hour(of: Date(timeIntervalSince1970: row["startedAt"]))
        try db.execute(sql: "DELETE FROM requestRollup WHERE groupId = ? AND hour = ?", arguments: [group, hour])
        try db.execute(sql: "DELETE FROM runRollup WHERE groupId = ? AND quarter BETWEEN ? AND ?", arguments: [group, hour * 4, hour * 4 + 3])
        var sums = RollupSums()
        let (from, to) = TrendBuilder.bounds(ofHour: hour)
        try sum(
            db, runs: groupedRuns(where: "g.id = ? AND run.startedAt >= ? AND run.startedAt < ?"), [group, from, to],
            keep: { RequestRollup.hour(of: $0) == hour }, into: &sums, mergingSlices: true)
        try sums.merge(into: db)
    }

    /// Empties the rollups and sums every finished run into them, a slice of runs at a time
    /// (so that a year of history does not sit in memory at once).
    static func sumAllRollups(_ db: Database) throws {
        try db.execute(sql: "DELETE FROM requestRollup; DELETE FROM runRollup; DELETE FROM trendGroup")
        guard let last = try Int64.fetchOne(db, sql: "SELECT max(id) FROM run") else { return }
        let slice: Int64 = 10_000
        var start = try Int64.fetchOne(db, sql: "SELECT min(id) FROM run") ?? 1
        while start <= last {
            let range: StatementArguments = [start, start + slice - 1]
            try makeGroups(db, forRunsWhere: "id BETWEEN ? AND ?", range)
            var sums = RollupSums()
            try sum(db, runs: groupedRuns(where: "run.id BETWEEN ? AND ?"), range, into: &sums, mergingSlices: true)
            try sums.merge(into: db)
            start += slice
        }
    }

    /// A run (`run`) and its group (`g`) are of one collection and environment.
    static let sameGroup = "g.collection = run.collection AND g.collectionPath = run.collectionPath AND g.environment IS run.environment"

    /// The finished runs a condition picks, with their group: the selection `sum` reads.
    static func groupedRuns(where condition: String) -> String {
        "SELECT g.id AS groupId, run.id, run.startedAt, run.outcome FROM run JOIN trendGroup g ON \(sameGroup) WHERE run.finishedAt IS NOT NULL AND \(condition)"
    }

    /// Gives the finished runs a condition picks a group, where theirs is missing.
    private static func makeGroups(_ db: Database, forRunsWhere condition: String, _ arguments: StatementArguments) throws {
        try db.execute(
            sql: """
                INSERT OR IGNORE INTO trendGroup (collection, collectionPath, environment)
                SELECT DISTINCT collection, collectionPath, environment FROM run WHERE finishedAt IS NOT NULL AND \(condition)
                """, arguments: arguments)
    }

    /// Adds to `sums` the runs a selection picks (its columns: a group, a run's id, start and
    /// outcome; finished runs only) and their requests, those whose start `keep` accepts.
    /// `mergingSlices`: the request sums are merged into the tables each `RollupSums.slice`
    /// (for writers, whose sums all go there; a reader keeps them).
    static func sum(
        _ db: Database, runs selection: String, _ arguments: StatementArguments, keep: (Date) -> Bool = { _ in true }, into sums: inout RollupSums,
        mergingSlices: Bool = false
    ) throws {
        let sql = """
            SELECT s.groupId, s.id, s.startedAt, s.outcome, r.step, r.name, r.position, r.outcome, r.totalMs
            FROM (\(selection)) s LEFT JOIN request r ON r.runId = s.id
            """
        try forEachRow(db, sql, arguments) { sqlite in
            // A slice at a time: the sums of a run of 20,000 steps would be megabytes at once.
            if mergingSlices, sums.requests.count >= RollupSums.slice { try sums.mergeRequests(into: db) }
            let started = Date(timeIntervalSince1970: sqlite3_column_double(sqlite, 2))
            guard keep(started) else { return }
            let group = sqlite3_column_int64(sqlite, 0)
            let run = sqlite3_column_int64(sqlite, 1)
            sums.add(run: run, group: group, started: started, outcome: try outcome(sqlite, column: 3))
            // A run that sent nothing has no request to join.
            guard sqlite3_column_type(sqlite, 4) != SQLITE_NULL else { return }
            sums.add(
                step: text(sqlite, column: 4), name: text(sqlite, column: 5), position: Int(sqlite3_column_int64(sqlite, 6)),
                outcome: try outcome(sqlite, column: 7), latency: sqlite3_column_type(sqlite, 8) == SQLITE_NULL ? nil : .fromMilliseconds(sqlite3_column_double(sqlite, 8)),
                run: run, group: group, started: started)
        }
    }

    /// The rollups of runs of a query of `quarter`, `passed`, `failed`, `errored`, `skipped`.
    static func runRollups(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [RunRollup] {
        var rollups: [RunRollup] = []
        try forEachRow(db, sql, arguments) { sqlite in
            func integer(_ column: Int32) -> Int { Int(sqlite3_column_int64(sqlite, column)) }
            rollups.append(RunRollup(quarter: integer(0), outcomes: OutcomeCounts(passed: integer(1), failed: integer(2), errored: integer(3), skipped: integer(4))))
        }
        return rollups
    }

    /// The columns of `requestRollup` that `requestRollups(_:_:_:)` reads, in its order.
    static let requestRollupColumns = RequestRollupTable.selection([
        .hour, .step, .name, .newestRun, .position, .passed, .failed, .errored, .skipped, .latencySumNs, .latencyMinNs, .latencyMaxNs, .histogram,
    ])

    /// The rollups a query of `requestRollupColumns` finds, read from SQLite's columns (a
    /// month of a collection is thousands of rows).
    /// With `steps`, only the rows of those steps are read whole (a run of 20,000 steps merges
    /// a slice at a time, and an hour's other rows are passed over).
    static func requestRollups(_ db: Database, _ sql: String, _ arguments: StatementArguments, steps: Set<ExactString>? = nil) throws -> [RequestRollup] {
        var rollups: [RequestRollup] = []
        try forEachRow(db, sql, arguments) { sqlite in
            if let steps, !steps.contains(ExactString(text(sqlite, column: 1))) { return }
            func integer(_ column: Int32) -> Int { Int(sqlite3_column_int64(sqlite, column)) }
            func nanoseconds(_ column: Int32) -> Duration? {
                sqlite3_column_type(sqlite, column) == SQLITE_NULL ? nil : .nanoseconds(sqlite3_column_int64(sqlite, column))
            }
            var rollup = RequestRollup(
                hour: integer(0), step: text(sqlite, column: 1), name: text(sqlite, column: 2), newestRun: sqlite3_column_int64(sqlite, 3),
                position: integer(4))
            rollup.outcomes = OutcomeCounts(passed: integer(5), failed: integer(6), errored: integer(7), skipped: integer(8))
            let bytes = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, 12), count: Int(sqlite3_column_bytes(sqlite, 12)))
            guard let stored = HistogramCoding.counts(bytes) else {
                throw HistoryError("the history holds a damaged latency histogram (step \(JSONValue.quoted(rollup.step)), hour \(rollup.hour))")
            }
            rollup.latencies = LatencyHistogram(
                offset: stored.offset, counts: stored.counts, sum: .nanoseconds(sqlite3_column_int64(sqlite, 9)), min: nanoseconds(10), max: nanoseconds(11))
            rollups.append(rollup)
        }
        return rollups
    }
}

/// Rollups summed from recorded rows, on their way into the tables.
struct RollupSums {
    struct RunKey: Hashable {
        var group: Int64
        var quarter: Int
    }

    /// Steps compare by their exact text, as the request table keeps them: two steps whose
    /// names differ only by Unicode normalization (`é`, `e` + U+0301) are two steps.
    struct RequestKey: Hashable {
        var group: Int64
        var hour: Int
        var step: String

        static func == (lhs: RequestKey, rhs: RequestKey) -> Bool {
            lhs.group == rhs.group && lhs.hour == rhs.hour && lhs.step.isExactly(rhs.step)
        }

        func hash(into hasher: inout Hasher) {
            hasher.combine(group)
            hasher.combine(hour)
            hasher.combine(ExactString(step))
        }
    }

    /// How many request sums are merged into the tables at once.
    static let slice = 2_048

    private(set) var runs: [RunKey: RunRollup] = [:]
    private(set) var requests: [RequestKey: RequestRollup] = [:]
    /// Runs counted already: a run comes once per request.
    private var counted: Set<Int64> = []

    /// Counts a finished run, once.
    mutating func add(run: Int64, group: Int64, started: Date, outcome: Outcome) {
        guard counted.insert(run).inserted else { return }
        let quarter = RunRollup.quarter(of: started)
        runs[RunKey(group: group, quarter: quarter), default: RunRollup(quarter: quarter)].outcomes.add(outcome)
    }

    /// Counts a request of a finished run.
    mutating func add(step: String, name: String, position: Int, outcome: Outcome, latency: Duration?, run: Int64, group: Int64, started: Date) {
        let hour = RequestRollup.hour(of: started)
        requests[RequestKey(group: group, hour: hour, step: step), default: RequestRollup(hour: hour, step: step, name: name, newestRun: run, position: position)]
            .add(outcome, latency: latency, run: run, position: position, name: name)
    }

    /// Adds the sums to the tables' rows (upserts in the caller's write transaction).
    mutating func merge(into db: Database) throws {
        try mergeRequests(into: db)
        let addRuns = try db.cachedStatement(
            sql: """
                INSERT INTO runRollup (groupId, quarter, runs, passed, failed, errored, skipped) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (groupId, quarter) DO UPDATE SET runs = runs + excluded.runs, passed = passed + excluded.passed,
                    failed = failed + excluded.failed, errored = errored + excluded.errored, skipped = skipped + excluded.skipped
                """)
        for (key, rollup) in runs {
            let counts = rollup.outcomes
            try addRuns.execute(arguments: [key.group, key.quarter, rollup.runs, counts.passed, counts.failed, counts.errored, counts.skipped])
        }
        runs = [:]
    }

    /// Adds the request sums to the tables' rows, and lets them go: a step comes once per run,
    /// so a run's requests merged a slice at a time add up to the same rows.
    mutating func mergeRequests(into db: Database) throws {
        guard !requests.isEmpty else { return }
        typealias C = RequestRollupTable.Columns
        let columns: [C] = [
            .groupId, .hour, .step, .name, .newestRun, .position, .passed, .failed, .errored, .skipped, .latencySumNs, .latencyMinNs, .latencyMaxNs, .histogram,
        ]
        // Texts are bound as bytes, cast: GRDB binds a String as a C string, which a NUL would cut.
        let replace = try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO requestRollup (\(RequestRollupTable.list(columns)))
                VALUES (?, ?, CAST(? AS TEXT), CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        // What each hour of each group holds already, read once per hour (a run of 500 steps
        // read them one query each), by the exact text of their steps.
        struct Hour: Hashable {
            var group: Int64
            var hour: Int
        }
        var stored: [Hour: [ExactString: [RequestRollup]]] = [:]
        var steps: [Hour: Set<ExactString>] = [:]
        for key in requests.keys { steps[Hour(group: key.group, hour: key.hour), default: []].insert(ExactString(key.step)) }
        for (hour, wanted) in steps {
            let rows = try SQLiteHistory.requestRollups(
                db, "SELECT \(SQLiteHistory.requestRollupColumns) FROM requestRollup WHERE groupId = ? AND hour = ?", [hour.group, hour.hour],
                steps: wanted)
            stored[hour] = Dictionary(grouping: rows) { ExactString($0.step) }
        }
        for (key, sum) in requests {
            var rollup = sum
            for row in stored[Hour(group: key.group, hour: key.hour)]?[ExactString(key.step)] ?? [] { rollup.merge(row) }
            let counts = rollup.outcomes
            let latencies = rollup.latencies
            try replace.execute(arguments: [
                key.group, key.hour, Data(key.step.utf8), Data(rollup.name.utf8), rollup.newestRun, rollup.position, counts.passed, counts.failed,
                counts.errored, counts.skipped, latencies.sum.nanoseconds, latencies.min?.nanoseconds, latencies.max?.nanoseconds,
                HistogramCoding.data(latencies),
            ])
        }
        requests = [:]
    }
}

/// A histogram as stored in `requestRollup.histogram`: the index of its first bucket, then
/// the count of each bucket up to its last, each a LEB128 varint (an empty bucket is one
/// byte). An hour of one request is a hundred bytes or so.
enum HistogramCoding {
    static func data(_ histogram: LatencyHistogram) -> Data {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(histogram.counts.count + 2)
        append(histogram.offset, to: &bytes)
        for count in histogram.counts { append(count, to: &bytes) }
        return Data(bytes)
    }

    /// The first bucket's index and the counts, or nil for bytes that are not such a list.
    static func counts(_ bytes: UnsafeRawBufferPointer) -> (offset: Int, counts: [Int])? {
        var counts: [Int] = []
        return decode(bytes, into: &counts).map { ($0, counts) }
    }

    /// The counts into `counts` (emptied first, its storage kept), and the first bucket's
    /// index; nil for bytes that are not such a list.
    static func decode(_ bytes: UnsafeRawBufferPointer, into counts: inout [Int]) -> Int? {
        counts.removeAll(keepingCapacity: true)
        var position = 0
        guard !bytes.isEmpty else { return 0 }
        guard let offset = read(bytes, &position) else { return nil }
        while position < bytes.count {
            guard let count = read(bytes, &position) else { return nil }
            counts.append(count)
        }
        return offset + counts.count <= LatencyHistogram.bucketCount ? offset : nil
    }

    private static func append(_ value: Int, to bytes: inout [UInt8]) {
        var value = UInt64(value)
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func read(_ bytes: UnsafeRawBufferPointer, _ position: inout Int) -> Int? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while position < bytes.count, shift < 63 {
            let byte = bytes[position]
            position += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value <= UInt64(Int32.max) ? Int(value) : nil }
            shift += 7
        }
        return nil
    }
}

extension Duration {
    /// Whole nanoseconds, as the rollups store latencies (exact, unlike milliseconds as a REAL).
    /// (Saturating: a sum of latencies beyond 292 years, which only an import of made-up
    /// runs could bring, is stored as the largest value, not a crash.)
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflowAgain) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
        return overflowAgain ? (whole < 0 ? .min : .max) : total
    }
}
