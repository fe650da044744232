import Foundation
import GRDB
import GRDBSQLite
import SondeCore

/// Which runs a listing, diff or trend looks at.
public struct RunFilter: Sendable {
    /// A collection's file (a path, from the working folder), or its name. A name that two
    /// files share is a usage error that lists them.
    public var collection: String?
    public var environment: String?
    public var since: Date?
    public var last: Int?

    public init(collection: String? = nil, environment: String? = nil, since: Date? = nil, last: Int? = nil) {
        self.collection = collection
        self.environment = environment
        self.since = since
        self.last = last
    }
}

extension HistoryStore {
    /// Text columns are read as their bytes (`CAST … AS BLOB`): GRDB reads TEXT as a C string,
    /// which would cut it at a NUL, and a body or a value with a NUL in it is recorded whole.
    static let runColumns = """
        id, CAST(collection AS BLOB) AS collection, CAST(file AS BLOB) AS file, CAST(collectionPath AS BLOB) AS collectionPath, contentHash,
        CAST(environment AS BLOB) AS environment, startedAt, finishedAt, toolVersion, gitCommit, outcome, plannedRequests, passed, failed, errored,
        skipped
        """

    /// A text column read as bytes (see `runColumns`), whole.
    static func text(_ row: Row, _ column: String) -> String? {
        switch (row[column] as DatabaseValue).storage {
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        case .string(let text): return text
        default: return nil
        }
    }

    static func run(_ row: Row) -> RunRecord {
        RunRecord(
            id: row["id"], collection: text(row, "collection") ?? "", file: text(row, "file") ?? "", collectionPath: text(row, "collectionPath"),
            contentHash: row["contentHash"],
            environment: text(row, "environment"),
            started: Date(timeIntervalSince1970: row["startedAt"]), finished: (row["finishedAt"] as Double?).map(Date.init(timeIntervalSince1970:)),
            toolVersion: row["toolVersion"], gitCommit: row["gitCommit"], outcome: (row["outcome"] as String?).flatMap(Outcome.init(rawValue:)),
            plannedRequests: row["plannedRequests"], passed: row["passed"], failed: row["failed"], errored: row["errored"], skipped: row["skipped"])
    }

    /// The collections (name and path) a filter's `collection` stands for: the file it names,
    /// when it names an existing file or looks like a path (holds `/`, ends in `.yaml` or
    /// `.yml`), else the collections of that name. Empty when no run matches; a name that
    /// two files share is a usage error that lists them.
    func collections(_ db: Database, matching text: String) throws -> [CollectionIdentity] {
        let looksLikePath = text.contains("/") || text.hasSuffix(".yaml") || text.hasSuffix(".yml")
        if looksLikePath || FileManager.default.fileExists(atPath: text) {
            let path = CollectionPath.of(file: text)
            let found = try Self.identities(db, "WHERE collectionPath = ?", [path])
            // A collection may be named like another's file: then the text names both.
            let named = try Self.identities(db, "WHERE collection = ?", [text]).filter { !found.contains($0) }
            if !found.isEmpty, !named.isEmpty {
                let files = (found + named).map { "  \($0.path) (named '\($0.name)')" }.joined(separator: "\n")
                throw StoreError("'\(text)' is the file of one collection and the name of another; give the other's file, or ./ before this one:\n\(files)", isUsage: true)
            }
            if !found.isEmpty || (looksLikePath && named.isEmpty) { return found.isEmpty ? named : found }
        }
        let found = try Self.identities(db, "WHERE collection = ?", [text])
        if found.count > 1 {
            let files = found.map { "  \($0.path)" }.joined(separator: "\n")
            throw StoreError(
                "'\(text)' names \(found.count) collections, recorded from different files; give the file instead:\n\(files)", isUsage: true)
        }
        return found
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
    public func runs(_ filter: RunFilter) throws(StoreError) -> [RunRecord] {
        try read { db in
            guard let (clause, arguments) = try whereClause(db, filter) else { return [] }
            let limit = filter.last.map { " LIMIT \($0)" } ?? ""
            return try Row.fetchAll(db, sql: "SELECT \(Self.runColumns) FROM run \(clause) ORDER BY startedAt DESC, id DESC\(limit)", arguments: arguments)
                .map(Self.run)
        }
    }

    /// One run with its requests, expectations and shapes.
    public func run(id: Int64) throws(StoreError) -> RunRecord? {
        try read { db in try Self.fullRun(db, id: id) }
    }

    static func fullRun(_ db: Database, id: Int64) throws -> RunRecord? {
        guard let row = try Row.fetchOne(db, sql: "SELECT \(runColumns) FROM run WHERE id = ?", arguments: [id]) else { return nil }
        var run = Self.run(row)
        var checks: [Int64: [CheckRecord]] = [:]
        for row in try Row.fetchAll(
            db,
            sql: """
                SELECT e.requestId, CAST(e.subject AS BLOB) AS subject, CAST(e.expected AS BLOB) AS expected, CAST(e.actual AS BLOB) AS actual,
                    e.passed, CAST(e.message AS BLOB) AS message, e.line, e."column"
                FROM expectation e JOIN request r ON r.id = e.requestId WHERE r.runId = ? ORDER BY e.requestId, e.position
                """, arguments: [id])
        {
            checks[row["requestId"], default: []].append(
                CheckRecord(
                    subject: Self.text(row, "subject") ?? "", expected: Self.text(row, "expected") ?? "", actual: Self.text(row, "actual") ?? "",
                    passed: row["passed"], message: Self.text(row, "message"), line: row["line"], column: row["column"]))
        }
        run.requests = try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.position, CAST(r.name AS BLOB) AS name, r.method, CAST(r.url AS BLOB) AS url, r.outcome, r.status, r.dnsMs,
                    r.connectMs, r.tlsMs, r.firstByteMs, r.totalMs, r.attempts, r.responseSize, r.bodyHash, CAST(r.error AS BLOB) AS error,
                    CAST(r.skipReason AS BLOB) AS skipReason, r.startMs, CAST(r.responseExcerpt AS BLOB) AS responseExcerpt,
                    CAST(r.finalUrl AS BLOB) AS finalUrl, CAST(r.redirects AS BLOB) AS redirects, CAST(s.paths AS BLOB) AS paths
                FROM request r LEFT JOIN shape s ON s.hash = r.shapeHash WHERE r.runId = ? ORDER BY r.position
                """, arguments: [id]
        ).map { row in
            let total: Double? = row["totalMs"]
            let timings = total.map { total in
                RequestTimings(
                    dns: (row["dnsMs"] as Double? ?? 0) / 1000, connect: (row["connectMs"] as Double? ?? 0) / 1000, tls: (row["tlsMs"] as Double? ?? 0) / 1000,
                    firstByte: (row["firstByteMs"] as Double? ?? 0) / 1000, total: total / 1000)
            }
            return RequestRecord(
                position: row["position"], name: Self.text(row, "name") ?? "", method: row["method"], url: Self.text(row, "url") ?? "",
                startOffset: (row["startMs"] as Double?).map { $0 / 1000 }, outcome: Outcome(rawValue: row["outcome"]) ?? .error, status: row["status"],
                timings: timings, attempts: row["attempts"], responseSize: row["responseSize"], bodyHash: row["bodyHash"],
                shape: Self.text(row, "paths").map(JSONShape.init(text:)), error: Self.text(row, "error"), skipReason: Self.text(row, "skipReason"),
                responseExcerpt: Self.text(row, "responseExcerpt"), finalURL: Self.text(row, "finalUrl"),
                redirects: Self.redirects(fromJSON: Self.text(row, "redirects")),
                checks: checks[row["id"]] ?? [])
        }
        return run
    }

    /// The redirects column: a JSON array of `{ url, status, location }`.
    static func redirects(fromJSON text: String?) -> [RedirectHop] {
        guard let text, case .array(let hops)? = try? JSONValue.parse(text) else { return [] }
        return hops.compactMap(RedirectHop.init(json:))
    }

    /// The last complete run of the same collection and environment before `run`.
    public func previousRun(before run: RunRecord) throws(StoreError) -> RunRecord? {
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
    public func latestRuns(_ filter: RunFilter) throws(StoreError) -> [[RunRecord]] {
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
    public func trends(_ filter: RunFilter) throws(StoreError) -> [Trend] {
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
                    Trend.RunPoint(id: row["id"], started: Date(timeIntervalSince1970: row["startedAt"]), outcome: (row["outcome"] as String?).flatMap(Outcome.init(rawValue:)))
                }
                guard !runs.isEmpty else { return Trend(collection: identity.name, collectionPath: identity.path, environment: environment, runs: [], samples: []) }
                let (order, samples) = try Self.samples(db, runsSelectedBy: selection, groupArguments)
                return Trend(
                    collection: identity.name, collectionPath: identity.path, environment: environment, runs: runs, samples: Array(zip(order, samples)))
            }
        }
    }
}

/// A collection as the history knows it: its name and its file's path (`CollectionPath`).
public struct CollectionIdentity: Sendable, Hashable {
    public var name: String
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

extension HistoryStore {
    /// Every collection recorded, for messages that list what there is.
    public func collections() throws(StoreError) -> [CollectionIdentity] {
        try read { db in try Self.identities(db, "", []) }
    }
}

extension HistoryStore {
    /// The requests of the runs `selection` picks, per request name, in the order the latest
    /// run lists them. A month of runs is a million rows, so this loop reads SQLite's columns
    /// directly: a String for each name and outcome would cost most of a second.
    static func samples(_ db: Database, runsSelectedBy selection: String, _ arguments: StatementArguments) throws -> ([String], [[Trend.Sample]]) {
        var names: [String] = []
        var samples: [[Trend.Sample]] = []
        var latestPosition: [(run: Int64, position: Int)] = []
        var nameIndex: [String: Int] = [:]
        // Per position, the last name seen there and its index: names rarely change between runs.
        var byPosition: [Int: (bytes: [UInt8], index: Int)] = [:]
        let runIDs = "SELECT id FROM (\(selection))"
        let statement = try db.makeStatement(sql: "SELECT runId, position, name, outcome, totalMs FROM request WHERE runId IN (\(runIDs))")
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
                let name = String(decoding: bytes, as: UTF8.self)
                if let known = nameIndex[name] {
                    index = known
                } else {
                    index = names.count
                    nameIndex[name] = index
                    names.append(name)
                    samples.append([])
                    latestPosition.append((runID, position))
                }
                byPosition[position] = (bytes, index)
            }
            let outcome: Outcome = switch sqlite3_column_text(sqlite, 3)?.pointee {
            case UInt8(ascii: "p"): .passed
            case UInt8(ascii: "f"): .failed
            case UInt8(ascii: "s"): .skipped
            default: .error
            }
            let milliseconds: Double? = sqlite3_column_type(sqlite, 4) == SQLITE_NULL ? nil : sqlite3_column_double(sqlite, 4)
            samples[index].append(Trend.Sample(runID: runID, outcome: outcome, milliseconds: milliseconds))
            if runID >= latestPosition[index].run { latestPosition[index] = (runID, position) }
        }
        // Newest runs first, then by position: the order of the collection as it is now.
        let order = names.indices.sorted {
            (latestPosition[$0].run, -latestPosition[$0].position) > (latestPosition[$1].run, -latestPosition[$1].position)
        }
        return (order.map { names[$0] }, order.map { samples[$0] })
    }
}
