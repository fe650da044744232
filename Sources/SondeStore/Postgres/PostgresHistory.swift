import Foundation
import SondeCore

/// The history on a PostgreSQL server, through libpq: one history for a team, written by
/// many `sonde run` processes at once (CI jobs in parallel) and read while they write.
///
/// It keeps what `SQLiteHistory` keeps, in the same tables (`PostgresSchema`), and answers
/// every query as it does: the contract tests run against both, and `TrendBuilder` makes
/// both trends. Writers lose nothing to each other: runs and requests are rows of their
/// own; the rollups of a collection are merged under a lock of that collection's
/// (`pg_advisory_xact_lock`), so that two runs finishing at once never merge into the same
/// row from the same state. Readers read a snapshot (REPEATABLE READ) and never block a
/// writer.
public final class PostgresHistory: RunHistory, BatchRecording, @unchecked Sendable {
    /// The server, with its password masked.
    public let location: String
    let connection: PostgresConnection
    let access: SQLiteHistory.Access
    /// Each run being written, by id: its requests go through its writer thread.
    let writers = WriterRegistry()
    /// How many runs of a collection (and environment) a trend reads one by one, exact (as
    /// `SQLiteHistory.exactTrendRuns`). Tests lower it.
    var exactTrendRuns = 1_000

    /// Connects (libpq reads the URL: `postgres://USER@HOST:PORT/DB?sslmode=…`; a password
    /// from the URL, `PGPASSWORD` or `~/.pgpass`) and brings the schema up to date. A server
    /// that cannot be reached or refuses the login is a usage error (exit 2), as is, to read,
    /// a database that holds no history yet; a database of another application's, or one
    /// written by a newer sonde, is refused. Throws `HistoryError`.
    public init(url: String, access: SQLiteHistory.Access) throws(HistoryError) {
        location = PostgresURL.masked(url)
        self.access = access
        connection = try PostgresConnection(url: url, location: location)
        try migrate()
    }

    private func migrate() throws(HistoryError) {
        // One process migrates at a time; the others find it done.
        try connection.execute("SELECT pg_advisory_lock($1)", [String(PostgresSchema.migrationLock)])
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1)", [String(PostgresSchema.migrationLock)]) }
        let exists = try connection.execute("SELECT to_regclass('sonde_migration') IS NOT NULL").bool(0, 0) ?? false
        if !exists {
            let found = try connection.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND lower(table_name) = ANY ($1::text[]) ORDER BY 1",
                ["{" + PostgresSchema.tables.joined(separator: ",") + "}"])
            if found.count > 0 {
                let names = (0..<found.count).compactMap { found.text($0, 0) }
                throw HistoryError("\(location) is not a sonde history: it holds tables of another application's (\(names.prefix(3).joined(separator: ", "))); give another database, or another schema (?options=-csearch_path%3Dsonde)")
            }
            guard access == .readWrite else {
                throw HistoryError("\(location) holds no sonde history yet: record a run into it first (sonde run --db …)", isUsage: true)
            }
            try connection.execute("CREATE TABLE sonde_migration (identifier text PRIMARY KEY, appliedAt timestamptz NOT NULL DEFAULT now())")
        }
        let rows = try connection.execute("SELECT identifier FROM sonde_migration")
        let applied = Set((0..<rows.count).compactMap { rows.text($0, 0) })
        let known = Set(PostgresSchema.migrations.map(\.identifier))
        if !applied.isSubset(of: known) {
            throw HistoryError("\(location) was written by a newer sonde; upgrade sonde to read it (its runs are untouched)")
        }
        for migration in PostgresSchema.migrations where !applied.contains(migration.identifier) {
            try connection.transaction { () throws(HistoryError) in
                try connection.executeScript(migration.sql)
                try connection.execute("INSERT INTO sonde_migration (identifier) VALUES ($1)", [migration.identifier])
            }
        }
    }

    /// Whether another history is this one, whatever URLs named them (`localhost` and
    /// `127.0.0.1`, parameters in another order): the same database (a lock this connection
    /// takes, the other cannot: PostgreSQL's advisory locks belong to a database) and the same
    /// schema. False when it cannot tell.
    public func isSameHistory(as other: PostgresHistory) -> Bool {
        let key = String(Int64.random(in: 1...Int64.max))
        guard (try? connection.execute("SELECT pg_advisory_lock($1)", [key])) != nil else { return false }
        defer { _ = try? connection.execute("SELECT pg_advisory_unlock($1)", [key]) }
        guard let taken = try? other.connection.execute("SELECT pg_try_advisory_lock($1)", [key]).bool(0, 0) else { return false }
        if taken {
            _ = try? other.connection.execute("SELECT pg_advisory_unlock($1)", [key])
            return false
        }
        let schema = "SELECT current_schema()"
        return (try? connection.execute(schema).text(0, 0)) == (try? other.connection.execute(schema).text(0, 0))
    }

    /// Stores what is pending. The connection closes when the history goes.
    @discardableResult
    public func close() -> Bool {
        flush()
        return true
    }

    /// Runs `body` on one snapshot of the server (REPEATABLE READ, READ ONLY): what it reads
    /// with several statements belongs together, and it blocks no writer.
    func read<T>(_ body: () throws(HistoryError) -> T) throws(HistoryError) -> T {
        try connection.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    func write<T>(_ body: () throws(HistoryError) -> T) throws(HistoryError) -> T {
        try connection.transaction("BEGIN", body)
    }
}

/// A statement's parameters as it is written: `bind` adds one and returns its placeholder
/// (`$3`); a text is stored as `PostgresValue.text` writes it.
struct PostgresParameters {
    var values: [String?] = []

    mutating func bind(_ value: String?) -> String {
        values.append(value)
        return "$\(values.count)"
    }

    mutating func text(_ value: String?) -> String { bind(PostgresValue.text(value)) }
    mutating func int(_ value: Int64?) -> String { bind(PostgresValue.int(value)) }
    mutating func double(_ value: Double?) -> String { bind(PostgresValue.double(value)) }

    /// `collection = $k` on `table`'s column (`run.`), with its MD5, which the indexes hold.
    mutating func collection(_ name: String, table: String = "") -> String {
        let placeholder = text(name)
        return "\(table)collection = \(placeholder) AND md5(\(table)collection) = md5(\(placeholder))"
    }
}
