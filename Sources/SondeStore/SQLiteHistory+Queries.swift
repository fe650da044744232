import Foundation
import GRDB
import GRDBSQLite
import SondeCore

extension SQLiteHistory {
    static let runColumns = RunTable.selection()

    static func text(_ row: Row, _ column: String) -> String? { row.text(RawColumn(rawValue: column)) }

    static func run(_ row: Row) throws -> RunRecord {
        typealias C = RunTable.Columns
        return RunRecord(
            id: row[C.id], collection: row.text(C.collection) ?? "", file: row.text(C.file) ?? "", collectionPath: row.text(C.collectionPath),
            contentHash: row[C.contentHash], environment: row.text(C.environment),
            started: Date(timeIntervalSince1970: row[C.startedAt]), finished: (row[C.finishedAt] as Double?).map(Date.init(timeIntervalSince1970:)),
            toolVersion: row[C.toolVersion], gitCommit: row[C.gitCommit], outcome: try (row[C.outcome] as String?).map(Outcome.stored),
            plannedRequests: row[C.plannedRequests], passed: row[C.passed], failed: row[C.failed], errored: row[C.errored], skipped: row[C.skipped])
    }

    /// The collections (name and path) a filter's `collection` stands for (`CollectionIdentity.matching`).
    func collections(_ db: Database, matching text: String) throws -> [CollectionIdentity] {
        try CollectionIdentity.matching(text, among: try Self.identities(db, "", []))
    }

    static func identities(_ db: Database, _ clause: String, _ arguments: StatementArguments) throws -> [CollectionIdentity] {
        try Row.fetchAll(
            db, sql: "SELECT DISTINCT CAST(collection AS BLOB) AS collection, CAST(collectionPath AS BLOB) AS collectionPath FROM run \(clause) ORDER BY 2, 1",
            arguments: arguments
        ).map { CollectionIdentity(name: text($0, "collection") ?? "", path: text($0, "collectionPath") ?? "") }
    }

    /// The WHERE clause and arguments of a filter; nil when its collection matches no run.
    func whereClause(_ db: Database, _ filter: RunFilter) throws -> (sql: String, arguments: StatementArguments)? {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let collection = filter.collection {
            let matched = try collections(db, matching: collection)
            guard !matched.isEmpty else { return nil }
            conditions.append("(" + matched.map { _ in "(collection = ? AND collectionPath = ?)" }.joined(separator: " OR ") + ")")
            for identity in matched { _ = arguments.append(contentsOf: [identity.name, identity.path]) }
        }
        if let environment = filter.environment {
            conditions.append("environment = ?")
            _ = arguments.append(contentsOf: [environment])
        }
        if let since = filter.since {
            conditions.append("startedAt >= ?")
            _ = arguments.append(contentsOf: [since.timeIntervalSince1970])
        }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), arguments)
    }

    /// The collections and environments that runs matching a WHERE clause belong to.
    static func groups(_ db: Database, _ clause: String, _ arguments: StatementArguments) throws -> [(identity: CollectionIdentity, environment: String?)] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT DISTINCT CAST(collection AS BLOB) AS collection, CAST(collectionPath AS BLOB) AS collectionPath, CAST(environment AS BLOB) AS environment
                FROM run \(clause) ORDER BY 1, 2, 3
                """, arguments: arguments
        ).map { (CollectionIdentity(name: text($0, "collection") ?? "", path: text($0, "collectionPath") ?? ""), text($0, "environment")) }
    }

    /// Runs newest first, without their requests.
    public func runs(_ filter: RunFilter) throws(HistoryError) -> [RunRecord] {
        try read { db in
            guard let (clause, arguments) = try whereClause(db, filter) else { return [] }
            let limit = filter.last.map { " LIMIT \($0)" } ?? ""
            return try Row.fetchAll(db, sql: "SELECT \(Self.runColumns) FROM run \(clause) ORDER BY startedAt DESC, id DESC\(limit)", arguments: arguments)
                .map { try Self.run($0) }
        }
    }

    /// One run with its requests, expectations and shapes.
    public func run(id: Int64) throws(HistoryError) -> RunRecord? {
        try read { db in try Self.fullRun(db, id: id) }
    }

    static func fullRun(_ db: Database, id: Int64) throws -> RunRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(runColumns) FROM run WHERE id = ?", arguments: [id]) else { return nil }
        var run = try Self.run(row)
        var checks: [Int64: [CheckResult]] = [:]
        typealias E = CheckTable.Columns
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT \(CheckTable.selection(alias: "e")) FROM expectation e JOIN request r ON r.id = e.requestId
                WHERE r.runId = ? ORDER BY e.requestId, e.position
                """, arguments: [id])
        {
            checks[row[E.requestId], default: []].append(
                CheckResult(
                    subject: row.text(E.subject) ?? "", expected: row.text(E.expected) ?? "", actual: row.text(E.actual) ?? "", passed: row[E.passed],
                    message: row.text(E.message),
                    location: SourceLocation(file: row.text(E.file) ?? run.file, line: row[E.line], column: row[E.column])))
        }
        typealias R = RequestTable.Columns
        run.requests = try Row.fetchAll(
            db,
            sql: """
                SELECT \(RequestTable.selection(alias: "r")), CAST(s.paths AS BLOB) AS paths
                FROM request r LEFT JOIN shape s ON s.hash = r.shapeHash WHERE r.runId = ? ORDER BY r.position
                """, arguments: [id]
        ).map { row in
            func duration(_ column: R) -> Duration? { (row[column] as Double?).map(Duration.fromMilliseconds) }
            let timings = duration(.totalMs).map { total in
                RequestTimings(
                    dns: duration(.dnsMs) ?? .zero, connect: duration(.connectMs) ?? .zero, tls: duration(.tlsMs) ?? .zero,
                    firstByte: duration(.firstByteMs) ?? .zero, total: total)
            }
            let name = row.text(R.name) ?? ""
            let line: Int? = row[R.line]
            let column: Int? = row[R.column]
            let problem = row.text(R.error).map { message in
                RequestProblem((row[R.errorKind] as String?).flatMap(RequestProblem.Kind.init(rawValue:)) ?? RequestProblem.guessedKind(of: message), message)
            }
            let skip = row.text(R.skipReason).map { message in
                SkipReason((row[R.skipKind] as String?).flatMap(SkipReason.Kind.init(rawValue:)) ?? SkipReason.guessedKind(of: message), message)
            }
            return RequestResult(
                step: row.text(R.step) ?? name, position: row[R.position], name: name, method: row[R.method], url: row.text(R.url) ?? "",
                location: line.map { SourceLocation(file: row.text(R.file) ?? run.file, line: $0, column: column ?? 1) },
                startOffset: duration(.startMs), outcome: try Outcome.stored(row[R.outcome]), status: row[R.status], timings: timings,
                attempts: row[R.attempts], responseSize: row[R.responseSize], bodyHash: row[R.bodyHash],
                shape: Self.text(row, "paths").map(JSONShape.init(text:)), problem: problem, skip: skip, responseExcerpt: row.text(R.responseExcerpt),
                finalURL: row.text(R.finalUrl), redirects: Self.redirects(fromJSON: row.text(R.redirects)), checks: checks[row[R.id]] ?? [])
        }
        return run
    }

    /// The redirects column: a JSON array of `{ url, status, location }`.
    static func redirects(fromJSON text: String?) -> [RedirectHop] {
        guard let text, case .array(let hops)? = try? JSONValue.parse(text) else { return [] }
        return hops.compactMap(RedirectHop.init(json:))
    }

    /// The last complete run of the same collection and environment before `run`.
    public func previousRun(before run: RunRecord) throws(HistoryError) -> RunRecord? {
        try read { db in
            guard
                let id = try Int64.fetchOne(
                    db,
                    sql: """
                        SELECT id FROM run WHERE collection = ? AND collectionPath = ? AND environment IS ? AND finishedAt IS NOT NULL AND id != ?
                            AND (startedAt < ? OR (startedAt = ? AND id < ?))
                        ORDER BY startedAt DESC, id DESC LIMIT 1
                        """,
                    arguments: [run.collection, run.collectionPath, run.environment, run.id, run.started.timeIntervalSince1970, run.started.timeIntervalSince1970, run.id])
            else { return nil }
            return try Self.fullRun(db, id: id)
        }
    }

    /// Per collection and environment the filter matches, its last two complete runs, oldest first.
    /// A collection run only once comes with one run.
    public func latestRuns(_ filter: RunFilter) throws(HistoryError) -> [[RunRecord]] {
        try read { db in
            guard let (clause, arguments) = try whereClause(db, filter) else { return [] }
            return try Self.groups(db, clause, arguments).map { group in
                let ids = try Int64.fetchAll(
                    db,
                    sql: """
                        SELECT id FROM run WHERE collection = ? AND collectionPath = ? AND environment IS ? AND finishedAt IS NOT NULL
                        ORDER BY startedAt DESC, id DESC LIMIT 2
                        """, arguments: [group.identity.name, group.identity.path, group.environment])
                return try ids.reversed().compactMap { try Self.fullRun(db, id: $0) }
            }.filter { !$0.isEmpty }
        }
    }

    /// Per collection and environment the filter matches, its trend over the runs in the filter's window.
    public func trends(_ filter: RunFilter) throws(HistoryError) -> [Trend] {
        try read { db in
            guard let (clause, arguments) = try whereClause(db, filter) else { return [] }
            return try Self.groups(db, clause, arguments).map { identity, environment in
                var selection = "SELECT id, startedAt, outcome FROM run WHERE collection = ? AND collectionPath = ? AND environment IS ?"
                var groupArguments: StatementArguments = [identity.name, identity.path, environment]
                if let since = filter.since {
                    selection += " AND startedAt >= ?"
                    _ = groupArguments.append(contentsOf: [since.timeIntervalSince1970])
                }
                selection += " ORDER BY startedAt DESC, id DESC"
                if let last = filter.last { selection += " LIMIT \(last)" }
                let runs = try Row.fetchAll(db, sql: selection, arguments: groupArguments).reversed().map { row in
                    Trend.RunPoint(id: row["id"], started: Date(timeIntervalSince1970: row["startedAt"]), outcome: try (row["outcome"] as String?).map(Outcome.stored))
                }
                guard !runs.isEmpty else { return Trend(collection: identity.name, collectionPath: identity.path, environment: environment, runs: [], samples: []) }
                let (order, samples) = try Self.samples(db, runsSelectedBy: selection, groupArguments)
                return Trend(
                    collection: identity.name, collectionPath: identity.path, environment: environment, runs: runs, samples: Array(zip(order, samples)))
            }
        }
    }
}

extension SQLiteHistory {
    /// Every collection recorded, for messages that list what there is.
    public func collections() throws(HistoryError) -> [CollectionIdentity] {
        try read { db in try Self.identities(db, "", []) }
    }
}

extension SQLiteHistory {
    /// The requests of the runs `selection` picks, per plan step, in the order the latest run
    /// lists them, each named as the latest run names it. A month of runs is a million rows,
    /// so this loop reads SQLite's columns directly: a String for each step and outcome
    /// would cost most of a second.
    static func samples(_ db: Database, runsSelectedBy selection: String, _ arguments: StatementArguments) throws -> ([String], [[Trend.Sample]]) {
        var names: [String] = []
        var samples: [[Trend.Sample]] = []
        var latestPosition: [(run: Int64, position: Int)] = []
        var stepIndex: [String: Int] = [:]
        // Per position, the last step seen there and its index: steps rarely change between runs.
        var byPosition: [Int: (bytes: [UInt8], index: Int)] = [:]
        let runIDs = "SELECT id FROM (\(selection))"
        typealias R = RequestTable.Columns
        let statement = try db.makeStatement(
            sql: "SELECT \(RequestTable.list([.runId, .position, .step, .outcome, .totalMs, .name])) FROM request WHERE runId IN (\(runIDs))")
        statement.arguments = arguments
        let sqlite = statement.sqliteStatement
        let cursor = try Row.fetchCursor(statement)
        while try cursor.next() != nil {
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
            let outcome = try Self.outcome(sqlite3_column_text(sqlite, 3), length: Int(sqlite3_column_bytes(sqlite, 3)))
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

    /// A text column of the current row, read by length.
    private static func text(_ statement: OpaquePointer, column: Int32) -> String {
        let length = Int(sqlite3_column_bytes(statement, column))
        return sqlite3_column_text(statement, column).map { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) } ?? ""
    }

    /// An outcome column read whole from SQLite's bytes.
    private static func outcome(_ text: UnsafePointer<UInt8>?, length: Int) throws -> Outcome {
        guard let text else { throw HistoryError("the history holds a request with no outcome") }
        let bytes = UnsafeBufferPointer(start: text, count: length)
        for outcome in Outcome.allCases where outcome.rawValue.utf8.elementsEqual(bytes) { return outcome }
        throw HistoryError("the history holds an outcome that is none of passed, failed, error, skipped: \(JSONValue.quoted(String(decoding: bytes, as: UTF8.self)))")
    }
}
