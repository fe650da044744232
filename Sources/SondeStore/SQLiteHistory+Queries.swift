import Foundation
import GRDB
import SondeCore

extension SQLiteHistory {
    static let runColumns = RunTable.selection()

    static func text(_ row: Row, _ column: String) -> String? { row.text(RawColumn(rawValue: column)) }

    static func run(_ row: Row) throws -> RunRecord {
        typealias C = RunTable.Columns
        var record = RunRecord(
            id: row[C.id], collection: row.text(C.collection) ?? "", file: row.text(C.file) ?? "", collectionPath: row.text(C.collectionPath),
            contentHash: row[C.contentHash], environment: row.text(C.environment),
            started: Date(timeIntervalSince1970: row[C.startedAt]), finished: (row[C.finishedAt] as Double?).map(Date.init(timeIntervalSince1970:)),
            toolVersion: row[C.toolVersion], gitCommit: row[C.gitCommit], outcome: try (row[C.outcome] as String?).map(Outcome.stored),
            plannedRequests: row[C.plannedRequests], passed: row[C.passed], failed: row[C.failed], errored: row[C.errored], skipped: row[C.skipped])
        record.selection = row.text(C.selection)
        record.uuid = row[C.uuid]
        record.origin = RunOrigin(
            host: row.text(C.host), user: row.text(C.user),
            ci: row.text(C.ciProvider).map { RunOrigin.CIJob(provider: $0, jobURL: row.text(C.ciJobUrl), branch: row.text(C.ciBranch), commit: row.text(C.ciCommit)) })
        return record
    }

    /// The collections (name and path) a filter's `collection` stands for (`CollectionIdentity.matching`).
    func collections(_ db: Database, matching text: String) throws -> [CollectionIdentity] {
        try CollectionIdentity.matching(text, among: try Self.identities(db))
    }

    /// Every collection recorded, by path and name. A run is finished (its collection is in the
    /// trend rollups' `trendGroup`) or not (in the index `run_unfinished`): no need to read every run.
    static func identities(_ db: Database) throws -> [CollectionIdentity] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT CAST(collection AS BLOB) AS collection, CAST(collectionPath AS BLOB) AS collectionPath FROM trendGroup
                UNION SELECT CAST(collection AS BLOB), CAST(collectionPath AS BLOB) FROM run WHERE finishedAt IS NULL
                ORDER BY 2, 1
                """
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

    public func runID(uuid: String) throws(HistoryError) -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT id FROM run WHERE uuid = ?", arguments: [uuid]) }
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
            var result = RequestResult(
                step: row.text(R.step) ?? name, position: row[R.position], name: name, method: row[R.method], url: row.text(R.url) ?? "",
                location: line.map { SourceLocation(file: row.text(R.file) ?? run.file, line: $0, column: column ?? 1) },
                startOffset: duration(.startMs), outcome: try Outcome.stored(row[R.outcome]), status: row[R.status], timings: timings,
                attempts: row[R.attempts], responseSize: row[R.responseSize], bodyHash: row[R.bodyHash],
                shape: Self.text(row, "paths").map(JSONShape.init(text:)), problem: problem, skip: skip, responseExcerpt: row.text(R.responseExcerpt),
                finalURL: row.text(R.finalUrl), redirects: Self.redirects(fromJSON: row.text(R.redirects)), checks: checks[row[R.id]] ?? [])
            result.phase = (row[R.phase] as String?).flatMap(Phase.init(rawValue:)) ?? .main
            return result
        }
        return run
    }

    /// The redirects column: a JSON array of `{ url, status, location }`.
    static func redirects(fromJSON text: String?) -> [RedirectHop] {
        guard let text, case .array(let hops)? = try? JSONValue.parse(text) else { return [] }
        return hops.compactMap(RedirectHop.init(json:))
    }

    /// The last complete run of the same collection and environment before `run`; when
    /// `run` ran the whole collection, the last that did too, if there is one (a run of a
    /// selection would leave its other steps uncompared).
    public func previousRun(before run: RunRecord) throws(HistoryError) -> RunRecord? {
        try read { db in
            guard let id = try Self.previousID(db, before: run) else { return nil }
            return try Self.fullRun(db, id: id)
        }
    }

    static func previousID(_ db: Database, before run: RunRecord) throws -> Int64? {
        try Int64.fetchOne(
            db,
            sql: """
                SELECT id FROM run WHERE collection = ? AND collectionPath = ? AND environment IS ? AND finishedAt IS NOT NULL AND id != ?
                    AND (startedAt < ? OR (startedAt = ? AND id < ?))
                ORDER BY (? AND selection IS NOT NULL), startedAt DESC, id DESC LIMIT 1
                """,
            arguments: [
                run.collection, run.collectionPath, run.environment, run.id, run.started.timeIntervalSince1970, run.started.timeIntervalSince1970, run.id,
                run.selection == nil,
            ])
    }

    /// Per collection and environment the filter matches, its last complete run and the one
    /// `previousRun` compares it with, oldest first. A collection run only once comes with one run.
    public func latestRuns(_ filter: RunFilter) throws(HistoryError) -> [[RunRecord]] {
        try read { db in
            guard let (clause, arguments) = try whereClause(db, filter) else { return [] }
            return try Self.groups(db, clause, arguments).map { group -> [RunRecord] in
                guard
                    let newestID = try Int64.fetchOne(
                        db,
                        sql: """
                            SELECT id FROM run WHERE collection = ? AND collectionPath = ? AND environment IS ? AND finishedAt IS NOT NULL
                            ORDER BY startedAt DESC, id DESC LIMIT 1
                            """, arguments: [group.identity.name, group.identity.path, group.environment]),
                    let newest = try Self.fullRun(db, id: newestID)
                else { return [] }
                guard let previousID = try Self.previousID(db, before: newest), let previous = try Self.fullRun(db, id: previousID) else { return [newest] }
                return [previous, newest]
            }.filter { !$0.isEmpty }
        }
    }
}

extension SQLiteHistory {
    /// Every collection recorded, for messages that list what there is.
    public func collections() throws(HistoryError) -> [CollectionIdentity] {
        try read { db in try Self.identities(db) }
    }
}
