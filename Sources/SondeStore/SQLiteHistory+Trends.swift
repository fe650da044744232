import Foundation
import GRDB
import GRDBSQLite
import SondeCore

/// `trends(_:)`: `TrendBuilder`'s algorithm over SQLite's tables (`SQLiteTrendReader`).
extension SQLiteHistory {
    /// Per collection and environment the filter matches, its trend over the filter's window.
    public func trends(_ filter: RunFilter) throws(HistoryError) -> [Trend] {
        let exactRuns = exactTrendRuns
        return try read { db in
            var identities: Set<CollectionIdentity>?
            if let collection = filter.collection {
                identities = Set(try collections(db, matching: collection))
                guard identities?.isEmpty == false else { return [] }
            }
            let reader = SQLiteTrendReader(db: db)
            return try TrendBuilder.groups(reader, among: identities, environment: filter.environment, since: filter.since).map { group in
                try TrendBuilder.trend(reader, group, since: filter.since, last: filter.last, exactRuns: exactRuns)
            }
        }
    }
}

extension RunGroup {
    /// How SQL picks the group's runs (or its rollup group). Texts are bound as bytes, cast:
    /// GRDB binds a String as a C string, which a NUL would cut.
    static let condition = "collection = CAST(? AS TEXT) AND collectionPath = CAST(? AS TEXT) AND environment IS CAST(? AS TEXT)"
    var arguments: StatementArguments { [Data(identity.name.utf8), Data(identity.path.utf8), environment.map { Data($0.utf8) }] }
}

/// The queries of a trend, on SQLite (`TrendReader`).
struct SQLiteTrendReader: TrendReader {
    let db: Database

    func candidateGroups() throws -> [RunGroup] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT CAST(collection AS BLOB) AS collection, CAST(collectionPath AS BLOB) AS collectionPath, CAST(environment AS BLOB) AS environment
                FROM trendGroup
                UNION SELECT CAST(collection AS BLOB), CAST(collectionPath AS BLOB), CAST(environment AS BLOB) FROM run WHERE finishedAt IS NULL
                ORDER BY 1, 2, 3
                """
        ).map {
            RunGroup(
                identity: CollectionIdentity(name: SQLiteHistory.text($0, "collection") ?? "", path: SQLiteHistory.text($0, "collectionPath") ?? ""),
                environment: SQLiteHistory.text($0, "environment"))
        }
    }

    private func window(_ group: RunGroup, since: Date?) -> (sql: String, arguments: StatementArguments) {
        var arguments = group.arguments
        guard let since else { return (RunGroup.condition, arguments) }
        _ = arguments.append(contentsOf: [since.timeIntervalSince1970])
        return (RunGroup.condition + " AND startedAt >= ?", arguments)
    }

    func hasRuns(_ group: RunGroup, since: Date?) throws -> Bool {
        let (condition, arguments) = window(group, since: since)
        return try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM run WHERE \(condition))", arguments: arguments) ?? false
    }

    func runs(_ group: RunGroup, since: Date?, oldestFirst: Bool, limit: Int, offset: Int) throws -> [Trend.RunPoint] {
        let (condition, arguments) = window(group, since: since)
        let order = oldestFirst ? "startedAt, id" : "startedAt DESC, id DESC"
        return try SQLiteHistory.runPoints(
            db, "SELECT id, startedAt, outcome, coalesce(ciProvider, host) FROM run WHERE \(condition) ORDER BY \(order) LIMIT \(limit) OFFSET \(offset)", arguments)
    }

    func samples(ofRuns runs: [Int64]) throws -> (names: [String], samples: [[Trend.Sample]]) {
        try SQLiteHistory.samples(db, runs: runs)
    }

    /// (The bound on startedAt alone, too, for the index.)
    private func fromOldest(_ group: RunGroup, _ oldest: Trend.RunPoint) -> (sql: String, arguments: StatementArguments) {
        var arguments = group.arguments
        _ = arguments.append(contentsOf: [oldest.started.timeIntervalSince1970, oldest.started.timeIntervalSince1970, oldest.id])
        return ("\(RunGroup.condition) AND startedAt >= ? AND (startedAt > ? OR id >= ?)", arguments)
    }

    func sumRuns(_ group: RunGroup, from oldest: Trend.RunPoint, before: Double, keep: (Date) -> Bool, into sums: inout RollupSums) throws {
        var (condition, arguments) = fromOldest(group, oldest)
        _ = arguments.append(contentsOf: [before])
        try SQLiteHistory.sum(
            db, runs: "SELECT 0 AS groupId, id, startedAt, outcome FROM run WHERE \(condition) AND finishedAt IS NOT NULL AND startedAt < ?", arguments,
            keep: keep, into: &sums)
    }

    func rollupGroup(_ group: RunGroup) throws -> (id: Int64, prunedBefore: Date?)? {
        guard let row = try Row.fetchOne(db, sql: "SELECT id, prunedBefore FROM trendGroup WHERE \(RunGroup.condition)", arguments: group.arguments) else {
            return nil
        }
        return (row["id"], (row["prunedBefore"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    func runRollups(group: Int64, fromQuarter: Int) throws -> [RunRollup] {
        try SQLiteHistory.runRollups(
            db, "SELECT \(RunRollupTable.list([.quarter, .passed, .failed, .errored, .skipped])) FROM runRollup WHERE groupId = ? AND quarter >= ? ORDER BY quarter",
            [group, fromQuarter])
    }

    func addRequestRollups(group: Int64, fromHour: Int, _ hours: HourPoints, into requests: inout RequestWindows) throws {
        try SQLiteHistory.addRequestRollups(db, group: group, fromHour: fromHour, hours, into: &requests)
    }

    func rollupHours(group: Int64, fromHour: Int) throws -> (first: Int, last: Int)? {
        let row = try Row.fetchOne(
            db,
            sql: """
                SELECT min(hour), max(hour) FROM (SELECT quarter >> 2 AS hour FROM runRollup WHERE groupId = ? AND quarter >= ?
                    UNION ALL SELECT hour FROM requestRollup WHERE groupId = ? AND hour >= ?)
                """, arguments: [group, Int64(clamping: fromHour) &* 4, group, fromHour])
        guard let first = row?[0] as Int?, let last = row?[1] as Int? else { return nil }
        return (first, last)
    }

    func unfinishedRuns(_ group: RunGroup, from oldest: Trend.RunPoint?, since: Date?) throws -> Int {
        let (condition, arguments) = oldest.map { fromOldest(group, $0) } ?? window(group, since: since)
        return try Int.fetchOne(db, sql: "SELECT count(*) FROM run WHERE \(condition) AND finishedAt IS NULL", arguments: arguments) ?? 0
    }

    func recentRequests(runs: [Int64]) throws -> [(step: String, name: String, position: Int, sample: Trend.Sample)] {
        try SQLiteHistory.recentRequests(db, runs: runs)
    }
}

extension SQLiteHistory {
    /// Adds a group's request rollups of the hours from `fromHour` on to `requests`. A month is
    /// thousands of rows: this loop reads SQLite's columns and merges each histogram's buckets
    /// into its point as it decodes them, making no rollup, no string and no array a row.
    static func addRequestRollups(_ db: Database, group: Int64, fromHour: Int, _ hours: HourPoints, into requests: inout RequestWindows) throws {
        var counts: [Int] = []
        try forEachRow(db, "SELECT \(requestRollupColumns) FROM requestRollup WHERE groupId = ? AND hour >= ?", [group, fromHour]) { sqlite in
            func integer(_ column: Int32) -> Int { Int(sqlite3_column_int64(sqlite, column)) }
            func nanoseconds(_ column: Int32) -> Duration? {
                sqlite3_column_type(sqlite, column) == SQLITE_NULL ? nil : .nanoseconds(sqlite3_column_int64(sqlite, column))
            }
            let index = requests.index(of: bytes(sqlite, column: 1))
            let blob = UnsafeRawBufferPointer(start: sqlite3_column_blob(sqlite, 12), count: Int(sqlite3_column_bytes(sqlite, 12)))
            guard let offset = HistogramCoding.decode(blob, into: &counts) else {
                throw HistoryError("the history holds a damaged latency histogram (hour \(integer(0)))")
            }
            requests.all[index].outcomes.merge(OutcomeCounts(passed: integer(5), failed: integer(6), errored: integer(7), skipped: integer(8)))
            requests.all[index].points[hours.point(ofHour: integer(0))].merge(
                offset: offset, counts: counts, sum: .nanoseconds(sqlite3_column_int64(sqlite, 9)), min: nanoseconds(10), max: nanoseconds(11))
            requests.all[index].see(name: text(sqlite, column: 2), run: sqlite3_column_int64(sqlite, 3), position: integer(4))
        }
    }

    /// Runs as a trend needs them, from a query of id, startedAt and outcome.
    static func runPoints(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [Trend.RunPoint] {
        var runs: [Trend.RunPoint] = []
        try forEachRow(db, sql, arguments) { sqlite in
            let outcome = sqlite3_column_type(sqlite, 2) == SQLITE_NULL ? nil : try Self.outcome(sqlite, column: 2)
            // Where it ran, when the query asks for it (a fourth column).
            let place = sqlite3_column_count(sqlite) > 3 ? Self.text(sqlite, column: 3) : nil
            runs.append(
                Trend.RunPoint(id: sqlite3_column_int64(sqlite, 0), started: Date(timeIntervalSince1970: sqlite3_column_double(sqlite, 1)), outcome: outcome, place: place))
        }
        return runs
    }

    /// The requests of a few runs, as a trend's strips of outcomes need them.
    static func recentRequests(_ db: Database, runs: [Int64]) throws -> [(step: String, name: String, position: Int, sample: Trend.Sample)] {
        guard !runs.isEmpty else { return [] }
        var requests: [(step: String, name: String, position: Int, sample: Trend.Sample)] = []
        let sql = """
            SELECT \(RequestTable.list([.runId, .position, .step, .name, .outcome, .totalMs])) FROM request
            WHERE runId IN (\(runs.map(String.init).joined(separator: ",")))
            """
        try forEachRow(db, sql, []) { sqlite in
            let latency: Duration? = sqlite3_column_type(sqlite, 5) == SQLITE_NULL ? nil : .fromMilliseconds(sqlite3_column_double(sqlite, 5))
            let sample = Trend.Sample(runID: sqlite3_column_int64(sqlite, 0), outcome: try outcome(sqlite, column: 4), duration: latency)
            requests.append((text(sqlite, column: 2), text(sqlite, column: 3), Int(sqlite3_column_int64(sqlite, 1)), sample))
        }
        return requests
    }
}

extension SQLiteHistory {
    /// The requests of these runs, per plan step, in the order the latest run
    /// lists them, each named as the latest run names it. A thousand runs of a large collection
    /// are tens of thousands of rows, so this loop reads SQLite's columns directly: a String
    /// for each step and outcome would cost more than the query.
    static func samples(_ db: Database, runs: [Int64]) throws -> ([String], [[Trend.Sample]]) {
        guard !runs.isEmpty else { return ([], []) }
        var names: [String] = []
        var samples: [[Trend.Sample]] = []
        var latestPosition: [(run: Int64, position: Int)] = []
        var stepIndex: [String: Int] = [:]
        // Per position, the last step seen there and its index: steps rarely change between runs.
        var byPosition: [Int: (bytes: [UInt8], index: Int)] = [:]
        let sql = "SELECT \(RequestTable.list([.runId, .position, .step, .outcome, .totalMs, .name])) FROM request WHERE runId IN (\(runs.map(String.init).joined(separator: ",")))"
        try forEachRow(db, sql, []) { sqlite in
            let runID = sqlite3_column_int64(sqlite, 0)
            let position = Int(sqlite3_column_int64(sqlite, 1))
            let length = Int(sqlite3_column_bytes(sqlite, 2))
            let text = sqlite3_column_text(sqlite, 2)
            let index: Int
            if let cached = byPosition[position], cached.bytes.count == length,
                let text, cached.bytes.withUnsafeBufferPointer({ $0.baseAddress.map { memcmp($0, text, length) == 0 } ?? (length == 0) })
            {
                index = cached.index
            } else {
                let bytes = text.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
                let step = String(decoding: bytes, as: UTF8.self)
                if let known = stepIndex[step] {
                    index = known
                } else {
                    index = names.count
                    stepIndex[step] = index
                    names.append(Self.text(sqlite, column: 5))
                    samples.append([])
                    latestPosition.append((runID, position))
                }
                byPosition[position] = (bytes, index)
            }
            let outcome = try Self.outcome(sqlite, column: 3)
            let duration: Duration? = sqlite3_column_type(sqlite, 4) == SQLITE_NULL ? nil : .fromMilliseconds(sqlite3_column_double(sqlite, 4))
            samples[index].append(Trend.Sample(runID: runID, outcome: outcome, duration: duration))
            if runID >= latestPosition[index].run {
                if runID > latestPosition[index].run { names[index] = Self.text(sqlite, column: 5) }
                latestPosition[index] = (runID, position)
            }
        }
        // Newest runs first, then by position: the order of the collection as it is now.
        let order = names.indices.sorted {
            (latestPosition[$0].run, -latestPosition[$0].position) > (latestPosition[$1].run, -latestPosition[$1].position)
        }
        return (order.map { names[$0] }, order.map { samples[$0] })
    }

    /// Calls `body` with SQLite's statement at each row of a query, for queries of thousands
    /// of rows: reading its columns costs less than a GRDB `Row` each.
    static func forEachRow(_ db: Database, _ sql: String, _ arguments: StatementArguments, _ body: (OpaquePointer) throws -> Void) throws {
        // Cached: finishing a run reads each of its steps' rollups with the same query, and
        // preparing it each time cost three times as much as recording the run's requests.
        let statement = try db.cachedStatement(sql: sql)
        statement.arguments = arguments
        let sqlite = statement.sqliteStatement
        let cursor = try Row.fetchCursor(statement)
        while try cursor.next() != nil { try body(sqlite) }
    }

    /// A text column of the current row, as SQLite holds it (valid until the next row).
    static func bytes(_ statement: OpaquePointer, column: Int32) -> UnsafeBufferPointer<UInt8> {
        let text = sqlite3_column_text(statement, column)
        return UnsafeBufferPointer(start: text, count: text == nil ? 0 : Int(sqlite3_column_bytes(statement, column)))
    }

    /// A text column of the current row, read by length.
    static func text(_ statement: OpaquePointer, column: Int32) -> String {
        let length = Int(sqlite3_column_bytes(statement, column))
        return sqlite3_column_text(statement, column).map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    }

    /// An outcome column of the current row, read whole from SQLite's bytes.
    static func outcome(_ statement: OpaquePointer, column: Int32) throws -> Outcome {
        guard let text = sqlite3_column_text(statement, column) else { throw HistoryError("the history holds a request with no outcome") }
        let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column)))
        for outcome in Outcome.allCases where outcome.rawValue.utf8.elementsEqual(bytes) { return outcome }
        throw HistoryError("the history holds an outcome that is none of passed, failed, error, skipped: \(JSONValue.quoted(String(decoding: bytes, as: UTF8.self)))")
    }
}

/// The requests of a long trend by step, as their rollups are read: rollups come hour by hour,
/// each hour's steps in one order, so the step after the last one found is tried first.
struct RequestWindows {
    let points: Int
    var all: [RequestWindow] = []
    /// Per step, its samples in the window's newest runs.
    var recent: [[Trend.Sample]] = []
    private var steps: [[UInt8]] = []
    private var indexes: [[UInt8]: Int] = [:]
    private var last = -1

    init(points: Int) {
        self.points = points
    }

    mutating func index(of step: String) -> Int { Array(step.utf8).withUnsafeBufferPointer { index(of: $0) } }

    mutating func index(of step: UnsafeBufferPointer<UInt8>) -> Int {
        let next = last + 1 < steps.count ? last + 1 : 0
        if next < steps.count, steps[next].elementsEqual(step) {
            last = next
            return next
        }
        let key = Array(step)
        if let known = indexes[key] {
            last = known
            return known
        }
        indexes[key] = steps.count
        steps.append(key)
        all.append(RequestWindow(points: points))
        recent.append([])
        last = steps.count - 1
        return last
    }
}
