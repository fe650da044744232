import Foundation
import SondeCore

/// Reading the history on the server: the same answers as `SQLiteHistory+Queries.swift`.
/// Texts are ordered by their bytes (`COLLATE "C"`, as SQLite compares them) and a missing
/// environment comes first (`NULLS FIRST`, SQLite's order).
extension PostgresHistory {
    static let runColumns = """
        id, collection, file, collectionPath, contentHash, environment, startedAt, finishedAt, toolVersion, gitCommit, outcome, plannedRequests, \
        passed, failed, errored, skipped, selection, uuid, host, "user", ciProvider, ciJobUrl, ciBranch, ciCommit
        """

    static func run(_ rows: PostgresRows, _ row: Int) throws(HistoryError) -> RunRecord {
        var record = RunRecord(
            id: rows.int64(row, 0) ?? 0, collection: rows.text(row, 1) ?? "", file: rows.text(row, 2) ?? "", collectionPath: rows.text(row, 3),
            contentHash: rows.text(row, 4) ?? "", environment: rows.text(row, 5), started: Date(timeIntervalSince1970: rows.double(row, 6) ?? 0),
            finished: rows.double(row, 7).map(Date.init(timeIntervalSince1970:)), toolVersion: rows.text(row, 8) ?? "", gitCommit: rows.text(row, 9),
            outcome: try rows.text(row, 10).map { text throws(HistoryError) in try outcome(text) }, plannedRequests: rows.int(row, 11) ?? 0,
            passed: rows.int(row, 12) ?? 0, failed: rows.int(row, 13) ?? 0, errored: rows.int(row, 14) ?? 0, skipped: rows.int(row, 15) ?? 0)
        record.selection = rows.text(row, 16)
        record.uuid = rows.text(row, 17)
        record.origin = RunOrigin(
            host: rows.text(row, 18), user: rows.text(row, 19),
            ci: rows.text(row, 20).map { RunOrigin.CIJob(provider: $0, jobURL: rows.text(row, 21), branch: rows.text(row, 22), commit: rows.text(row, 23)) })
        return record
    }

    /// Every collection recorded, by path and name.
    func identities() throws(HistoryError) -> [CollectionIdentity] {
        let rows = try connection.execute(
            """
            SELECT * FROM (SELECT collection, collectionPath FROM trendGroup UNION SELECT collection, collectionPath FROM run WHERE finishedAt IS NULL) known
            ORDER BY collectionPath COLLATE "C", collection COLLATE "C"
            """)
        return (0..<rows.count).map { CollectionIdentity(name: rows.text($0, 0) ?? "", path: rows.text($0, 1) ?? "") }
    }

    /// The conditions of a filter on `run`; nil when its collection matches no run.
    func conditions(_ filter: RunFilter, _ p: inout PostgresParameters) throws(HistoryError) -> [String]? {
        var conditions: [String] = []
        if let collection = filter.collection {
            let matched = try CollectionIdentity.matching(collection, among: try identities())
            guard !matched.isEmpty else { return nil }
            conditions.append("(" + matched.map { "(\(p.collection($0.name)) AND collectionPath = \(p.text($0.path)))" }.joined(separator: " OR ") + ")")
        }
        if let environment = filter.environment { conditions.append("environment = \(p.text(environment))") }
        if let since = filter.since { conditions.append("startedAt >= \(p.double(since.timeIntervalSince1970))") }
        return conditions
    }

    static func whereClause(_ conditions: [String]) -> String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }

    public func runs(_ filter: RunFilter) throws(HistoryError) -> [RunRecord] {
        try read { () throws(HistoryError) -> [RunRecord] in
            var p = PostgresParameters()
            guard let conditions = try conditions(filter, &p) else { return [] }
            let limit = filter.last.map { " LIMIT \($0)" } ?? ""
            let rows = try connection.execute(
                "SELECT \(Self.runColumns) FROM run \(Self.whereClause(conditions)) ORDER BY startedAt DESC, id DESC\(limit)", p.values)
            var runs: [RunRecord] = []
            for row in 0..<rows.count { runs.append(try Self.run(rows, row)) }
            return runs
        }
    }

    public func run(id: Int64) throws(HistoryError) -> RunRecord? {
        try read { () throws(HistoryError) -> RunRecord? in try fullRun(id: id) }
    }

    public func runID(uuid: String) throws(HistoryError) -> Int64? {
        try connection.execute("SELECT id FROM run WHERE uuid = $1", [PostgresValue.text(uuid)]).int64(0, 0)
    }

    public func collections() throws(HistoryError) -> [CollectionIdentity] {
        try read { () throws(HistoryError) -> [CollectionIdentity] in try identities() }
    }

    func fullRun(id: Int64) throws(HistoryError) -> RunRecord? {
        let found = try connection.execute("SELECT \(Self.runColumns) FROM run WHERE id = $1", [String(id)])
        guard found.count > 0 else { return nil }
        var run = try Self.run(found, 0)
        var checks: [Int: [CheckResult]] = [:]
        let checkRows = try connection.execute(
            """
            SELECT requestPosition, subject, expected, actual, passed, message, file, line, "column" FROM expectation WHERE runId = $1
            ORDER BY requestPosition, position
            """, [String(id)])
        for row in 0..<checkRows.count {
            checks[checkRows.int(row, 0) ?? 0, default: []].append(
                CheckResult(
                    subject: checkRows.text(row, 1) ?? "", expected: checkRows.text(row, 2) ?? "", actual: checkRows.text(row, 3) ?? "",
                    passed: checkRows.bool(row, 4) ?? false, message: checkRows.text(row, 5),
                    location: SourceLocation(file: checkRows.text(row, 6) ?? run.file, line: checkRows.int(row, 7) ?? 0, column: checkRows.int(row, 8) ?? 0)))
        }
        let rows = try connection.execute(
            """
            SELECT r.position, r.step, r.name, r.method, r.url, r.file, r.line, r."column", r.outcome, r.status, r.dnsMs, r.connectMs, r.tlsMs, r.firstByteMs,
                r.totalMs, r.attempts, r.responseSize, r.bodyHash, r.error, r.errorKind, r.skipReason, r.skipKind, r.startMs, r.responseExcerpt, r.finalUrl,
                r.redirects, r.phase, s.paths
            FROM request r LEFT JOIN shape s ON s.hash = r.shapeHash WHERE r.runId = $1 ORDER BY r.position
            """, [String(id)])
        for row in 0..<rows.count {
            func duration(_ column: Int) -> Duration? { rows.double(row, column).map(Duration.fromMilliseconds) }
            let timings = duration(14).map { total in
                RequestTimings(dns: duration(10) ?? .zero, connect: duration(11) ?? .zero, tls: duration(12) ?? .zero, firstByte: duration(13) ?? .zero, total: total)
            }
            let name = rows.text(row, 2) ?? ""
            let position = rows.int(row, 0) ?? 0
            let problem = rows.text(row, 18).map { message in
                RequestProblem(rows.text(row, 19).flatMap(RequestProblem.Kind.init(rawValue:)) ?? RequestProblem.guessedKind(of: message), message)
            }
            let skip = rows.text(row, 20).map { message in
                SkipReason(rows.text(row, 21).flatMap(SkipReason.Kind.init(rawValue:)) ?? SkipReason.guessedKind(of: message), message)
            }
            var result = RequestResult(
                step: rows.text(row, 1) ?? name, position: position, name: name, method: rows.text(row, 3) ?? "", url: rows.text(row, 4) ?? "",
                location: rows.int(row, 6).map { SourceLocation(file: rows.text(row, 5) ?? run.file, line: $0, column: rows.int(row, 7) ?? 1) },
                startOffset: duration(22), outcome: try Self.outcome(rows.text(row, 8)), status: rows.int(row, 9), timings: timings,
                attempts: rows.int(row, 15) ?? 0, responseSize: rows.int(row, 16) ?? 0, bodyHash: rows.text(row, 17),
                shape: rows.text(row, 27).map(JSONShape.init(text:)), problem: problem, skip: skip, responseExcerpt: rows.text(row, 23),
                finalURL: rows.text(row, 24), redirects: SQLiteHistory.redirects(fromJSON: rows.text(row, 25)), checks: checks[position] ?? [])
            result.phase = rows.text(row, 26).flatMap(Phase.init(rawValue:)) ?? .main
            run.requests.append(result)
        }
        return run
    }

    public func previousRun(before run: RunRecord) throws(HistoryError) -> RunRecord? {
        try read { () throws(HistoryError) -> RunRecord? in
            guard let id = try previousID(before: run) else { return nil }
            return try fullRun(id: id)
        }
    }

    /// The last complete run of the same collection and environment before `run`; the last
    /// whole one when `run` is whole (as SQLite's).
    func previousID(before run: RunRecord) throws(HistoryError) -> Int64? {
        var p = PostgresParameters()
        let id = p.int(run.id)
        let started = p.double(run.started.timeIntervalSince1970)
        let sql = """
            SELECT id FROM run WHERE \(p.collection(run.collection)) AND collectionPath = \(p.text(run.collectionPath))
                AND environment IS NOT DISTINCT FROM \(p.text(run.environment)) AND finishedAt IS NOT NULL AND id != \(id)
                AND (startedAt < \(started) OR (startedAt = \(started) AND id < \(id)))
            ORDER BY (\(p.bind(PostgresValue.bool(run.selection == nil)))::boolean AND selection IS NOT NULL), startedAt DESC, id DESC LIMIT 1
            """
        return try connection.execute(sql, p.values).int64(0, 0)
    }

    public func latestRuns(_ filter: RunFilter) throws(HistoryError) -> [[RunRecord]] {
        try read { () throws(HistoryError) -> [[RunRecord]] in
            var p = PostgresParameters()
            guard let conditions = try conditions(filter, &p) else { return [] }
            let groups = try connection.execute(
                """
                SELECT * FROM (SELECT DISTINCT collection, collectionPath, environment FROM run \(Self.whereClause(conditions))) matched
                ORDER BY collection COLLATE "C", collectionPath COLLATE "C", environment COLLATE "C" NULLS FIRST
                """, p.values)
            var latest: [[RunRecord]] = []
            for row in 0..<groups.count {
                let newestID = try connection.execute(
                    """
                    SELECT id FROM run WHERE collection = $1 AND md5(collection) = md5($1) AND collectionPath = $2 AND environment IS NOT DISTINCT FROM $3
                        AND finishedAt IS NOT NULL
                    ORDER BY startedAt DESC, id DESC LIMIT 1
                    """, [PostgresValue.text(groups.text(row, 0)), PostgresValue.text(groups.text(row, 1)), PostgresValue.text(groups.text(row, 2))]
                ).int64(0, 0)
                guard let newestID, let newest = try fullRun(id: newestID) else { continue }
                if let previousID = try previousID(before: newest), let previous = try fullRun(id: previousID) {
                    latest.append([previous, newest])
                } else {
                    latest.append([newest])
                }
            }
            return latest
        }
    }

    public func trends(_ filter: RunFilter) throws(HistoryError) -> [Trend] {
        let exactRuns = exactTrendRuns
        return try read { () throws(HistoryError) -> [Trend] in
            var identities: Set<CollectionIdentity>?
            if let collection = filter.collection {
                identities = Set(try CollectionIdentity.matching(collection, among: try self.identities()))
                guard identities?.isEmpty == false else { return [] }
            }
            let reader = PostgresTrendReader(history: self)
            do {
                return try TrendBuilder.groups(reader, among: identities, environment: filter.environment, since: filter.since).map { group in
                    try TrendBuilder.trend(reader, group, since: filter.since, last: filter.last, exactRuns: exactRuns)
                }
            } catch let error as HistoryError {
                throw error
            } catch {
                throw HistoryError("\(location): \(error)")
            }
        }
    }

    public func wasPruned(uuid: String) throws(HistoryError) -> Bool {
        try connection.execute("SELECT EXISTS (SELECT 1 FROM prunedRun WHERE uuid = $1)", [PostgresValue.text(uuid)]).bool(0, 0) ?? false
    }

    /// A session lock on the UUID's hash (`pg_advisory_lock`), in a class of its own.
    public func lockImport(uuid: String) throws(HistoryError) -> @Sendable () -> Void {
        let key = [String(PostgresSchema.importLockClass), PostgresValue.text(uuid)]
        try connection.execute("SELECT pg_advisory_lock($1::int4, hashtext($2))", key)
        let connection = connection
        return { _ = try? connection.execute("SELECT pg_advisory_unlock($1::int4, hashtext($2))", key) }
    }

    public func isIncomplete(run: Int64) throws(HistoryError) -> Bool {
        try connection.execute("SELECT finishedAt IS NULL FROM run WHERE id = $1", [String(run)]).bool(0, 0) ?? false
    }

    public func removeIncomplete(run: Int64) throws(HistoryError) -> Bool {
        try connection.execute("DELETE FROM run WHERE id = $1 AND finishedAt IS NULL RETURNING 1", [String(run)]).count > 0
    }

    public func prune(startedBefore cutoff: Date, _ filter: RunFilter) throws(HistoryError) -> Int {
        let limit = Double(RequestRollup.hour(of: cutoff)) * 3600
        return try write { () throws(HistoryError) -> Int in
            var p = PostgresParameters()
            guard var conditions = try conditions(RunFilter(collection: filter.collection, environment: filter.environment), &p) else { return 0 }
            // Finished runs only: they are in the rollups. A run that never finished may be one
            // an import or a push is writing at this moment, or one a later push completes.
            // The runs' rows are locked first, their groups' after, as a run finishing at this
            // moment locks them (its row, then its group's rollups): neither waits for the
            // other in a circle. The rollups themselves are not touched.
            let before = p.double(limit)
            conditions.append("startedAt < \(before) AND finishedAt IS NOT NULL")
            let removed = try connection.execute(
                """
                WITH gone AS (DELETE FROM run \(Self.whereClause(conditions)) RETURNING uuid, collection, collectionPath, environment),
                    kept AS (INSERT INTO prunedRun (uuid) SELECT uuid FROM gone WHERE uuid IS NOT NULL ON CONFLICT DO NOTHING),
                    marked AS (
                        UPDATE trendGroup g SET prunedBefore = greatest(coalesce(g.prunedBefore, 0), \(before))
                        FROM (SELECT DISTINCT collection, collectionPath, environment FROM gone) run WHERE \(Self.sameGroup))
                SELECT count(*) FROM gone
                """, p.values
            ).int(0, 0) ?? 0
            try connection.execute("SELECT pg_advisory_xact_lock($1)", [String(PostgresSchema.shapeLock)])
            try connection.execute("DELETE FROM shape s WHERE NOT EXISTS (SELECT 1 FROM request r WHERE r.shapeHash = s.hash)")
            return removed
        }
    }
}

/// The queries of a trend, on the server (`TrendReader`).
struct PostgresTrendReader: TrendReader {
    let history: PostgresHistory
    var connection: PostgresConnection { history.connection }

    /// The group's runs; `run`: the columns' table prefix (`run.`), where a query joins another.
    private func group(_ group: RunGroup, _ p: inout PostgresParameters, run: String = "") -> String {
        """
        \(p.collection(group.identity.name, table: run)) AND \(run)collectionPath = \(p.text(group.identity.path)) \
        AND \(run)environment IS NOT DISTINCT FROM \(p.text(group.environment))
        """
    }

    private func window(_ group: RunGroup, since: Date?, _ p: inout PostgresParameters) -> String {
        self.group(group, &p) + (since.map { " AND startedAt >= \(p.double($0.timeIntervalSince1970))" } ?? "")
    }

    private func fromOldest(_ group: RunGroup, _ oldest: Trend.RunPoint, _ p: inout PostgresParameters, run: String = "") -> String {
        let started = p.double(oldest.started.timeIntervalSince1970)
        return self.group(group, &p, run: run) + " AND \(run)startedAt >= \(started) AND (\(run)startedAt > \(started) OR \(run)id >= \(p.int(oldest.id)))"
    }

    func candidateGroups() throws -> [RunGroup] {
        let rows = try connection.execute(
            """
            SELECT * FROM (SELECT collection, collectionPath, environment FROM trendGroup
                UNION SELECT collection, collectionPath, environment FROM run WHERE finishedAt IS NULL) known
            ORDER BY collection COLLATE "C", collectionPath COLLATE "C", environment COLLATE "C" NULLS FIRST
            """)
        return (0..<rows.count).map {
            RunGroup(identity: CollectionIdentity(name: rows.text($0, 0) ?? "", path: rows.text($0, 1) ?? ""), environment: rows.text($0, 2))
        }
    }

    func hasRuns(_ group: RunGroup, since: Date?) throws -> Bool {
        var p = PostgresParameters()
        return try connection.execute("SELECT EXISTS (SELECT 1 FROM run WHERE \(window(group, since: since, &p)))", p.values).bool(0, 0) ?? false
    }

    func runs(_ group: RunGroup, since: Date?, oldestFirst: Bool, limit: Int, offset: Int) throws -> [Trend.RunPoint] {
        var p = PostgresParameters()
        let order = oldestFirst ? "startedAt, id" : "startedAt DESC, id DESC"
        let rows = try connection.execute(
            "SELECT id, startedAt, outcome, coalesce(ciProvider, host) FROM run WHERE \(window(group, since: since, &p)) ORDER BY \(order) LIMIT \(limit) OFFSET \(offset)",
            p.values)
        return try (0..<rows.count).map { row in
            Trend.RunPoint(
                id: rows.int64(row, 0) ?? 0, started: Date(timeIntervalSince1970: rows.double(row, 1) ?? 0),
                outcome: try rows.text(row, 2).map { text throws(HistoryError) in try PostgresHistory.outcome(text) }, place: rows.text(row, 3))
        }
    }

    func samples(ofRuns runs: [Int64]) throws -> (names: [String], samples: [[Trend.Sample]]) {
        guard !runs.isEmpty else { return ([], []) }
        let rows = try connection.execute(
            "SELECT runId, position, step, outcome, totalMs, name FROM request WHERE runId = ANY ($1::bigint[])", ["{" + runs.map(String.init).joined(separator: ",") + "}"])
        var names: [String] = []
        var samples: [[Trend.Sample]] = []
        var latestPosition: [(run: Int64, position: Int)] = []
        var stepIndex: [ExactString: Int] = [:]
        for row in 0..<rows.count {
            let runID = rows.int64(row, 0) ?? 0
            let position = rows.int(row, 1) ?? 0
            let step = ExactString(rows.text(row, 2) ?? "")
            let index: Int
            if let known = stepIndex[step] {
                index = known
            } else {
                index = names.count
                stepIndex[step] = index
                names.append(rows.text(row, 5) ?? "")
                samples.append([])
                latestPosition.append((runID, position))
            }
            samples[index].append(Trend.Sample(runID: runID, outcome: try PostgresHistory.outcome(rows.text(row, 3)), duration: rows.double(row, 4).map(Duration.fromMilliseconds)))
            if runID >= latestPosition[index].run {
                if runID > latestPosition[index].run { names[index] = rows.text(row, 5) ?? "" }
                latestPosition[index] = (runID, position)
            }
        }
        let order = names.indices.sorted {
            (latestPosition[$0].run, -latestPosition[$0].position) > (latestPosition[$1].run, -latestPosition[$1].position)
        }
        return (order.map { names[$0] }, order.map { samples[$0] })
    }

    func sumRuns(_ group: RunGroup, from oldest: Trend.RunPoint, before: Double, keep: (Date) -> Bool, into sums: inout RollupSums) throws {
        var p = PostgresParameters()
        let condition = fromOldest(group, oldest, &p, run: "run.")
        try history.sum(runsWhere: "\(condition) AND run.startedAt < \(p.double(before))", p.values, group: 0, keep: keep, into: &sums)
    }

    func rollupGroup(_ group: RunGroup) throws(HistoryError) -> (id: Int64, prunedBefore: Date?)? {
        var p = PostgresParameters()
        let rows = try connection.execute("SELECT id, prunedBefore FROM trendGroup WHERE \(self.group(group, &p))", p.values)
        guard let id = rows.int64(0, 0) else { return nil }
        return (id, rows.double(0, 1).map(Date.init(timeIntervalSince1970:)))
    }

    func runRollups(group: Int64, fromQuarter: Int) throws -> [RunRollup] {
        let rows = try connection.execute(
            "SELECT quarter, passed, failed, errored, skipped FROM runRollup WHERE groupId = $1 AND quarter >= $2 ORDER BY quarter", [String(group), String(fromQuarter)])
        return (0..<rows.count).map { row in
            RunRollup(
                quarter: rows.int(row, 0) ?? 0,
                outcomes: OutcomeCounts(passed: rows.int(row, 1) ?? 0, failed: rows.int(row, 2) ?? 0, errored: rows.int(row, 3) ?? 0, skipped: rows.int(row, 4) ?? 0))
        }
    }

    func addRequestRollups(group: Int64, fromHour: Int, _ hours: HourPoints, into requests: inout RequestWindows) throws {
        let rows = try connection.execute(
            "SELECT \(PostgresHistory.requestRollupColumns.dropFirst().joined(separator: ", ")) FROM requestRollup WHERE groupId = $1 AND hour >= $2",
            [String(group), String(fromHour)])
        for row in 0..<rows.count {
            let rollup = try PostgresHistory.requestRollup(rows, row)
            requests.all[requests.index(of: rollup.step)].add(rollup, at: hours.point(ofHour: rollup.hour))
        }
    }

    func rollupHours(group: Int64, fromHour: Int) throws -> (first: Int, last: Int)? {
        let from = max(fromHour, Int(Int32.min) / 4)
        let rows = try connection.execute(
            """
            SELECT min(hour), max(hour) FROM (SELECT quarter / 4 AS hour FROM runRollup WHERE groupId = $1 AND quarter >= $2::bigint * 4
                UNION ALL SELECT hour FROM requestRollup WHERE groupId = $1 AND hour >= $2) hours
            """, [String(group), String(from)])
        guard let first = rows.int(0, 0), let last = rows.int(0, 1) else { return nil }
        return (first, last)
    }

    func unfinishedRuns(_ group: RunGroup, from oldest: Trend.RunPoint?, since: Date?) throws -> Int {
        var p = PostgresParameters()
        let condition = oldest.map { fromOldest(group, $0, &p) } ?? window(group, since: since, &p)
        return try connection.execute("SELECT count(*) FROM run WHERE \(condition) AND finishedAt IS NULL", p.values).int(0, 0) ?? 0
    }

    func recentRequests(runs: [Int64]) throws -> [(step: String, name: String, position: Int, sample: Trend.Sample)] {
        guard !runs.isEmpty else { return [] }
        let rows = try connection.execute(
            "SELECT runId, position, step, name, outcome, totalMs FROM request WHERE runId = ANY ($1::bigint[])", ["{" + runs.map(String.init).joined(separator: ",") + "}"])
        return try (0..<rows.count).map { row in
            let sample = Trend.Sample(runID: rows.int64(row, 0) ?? 0, outcome: try PostgresHistory.outcome(rows.text(row, 4)), duration: rows.double(row, 5).map(Duration.fromMilliseconds))
            return (rows.text(row, 2) ?? "", rows.text(row, 3) ?? "", rows.int(row, 1) ?? 0, sample)
        }
    }
}
