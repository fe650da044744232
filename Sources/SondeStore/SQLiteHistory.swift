import Foundation
import GRDB
import SondeCore

extension HistoryError {
    /// A GRDB or SQLite failure on `path`, in words a person can act on.
    init(_ path: String, _ error: Error, writing: Bool = true) {
        if let error = error as? HistoryError {
            self = error
            return
        }
        guard let error = error as? DatabaseError else {
            self.init("\(path): \(error)")
            return
        }
        switch error.resultCode {
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            self.init("\(path) is not a sonde history database (or it is damaged): \(error.message ?? "")")
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            self.init("\(path) stayed locked by another process for \(Int(SQLiteHistory.busyTimeout)) s")
        case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
            self.init("cannot \(writing ? "write" : "read") \(path): \(error.message ?? "permission denied")")
        case .SQLITE_FULL:
            self.init("the disk holding \(path) is full")
        default:
            self.init("\(path): \(error.message ?? "\(error)")")
        }
    }
}

/// The history in SQLite, through GRDB: every run, as it goes (WAL, so that several `sonde
/// run` processes can write one file at once; a busy timeout, so that they wait for each
/// other instead of failing). A file is opened as a `DatabasePool`, so that readers never
/// wait for the writer; the history itself holds `any DatabaseWriter` (an in-memory
/// `DatabaseQueue` in tests).
public final class SQLiteHistory: RunHistory, @unchecked Sendable {
    /// Where runs are recorded unless `--db` or `SONDE_DB` says otherwise.
    public static let defaultPath = ".sonde/history.sqlite"
    static let busyTimeout: TimeInterval = 30

    public let path: String
    public var location: String { path }
    let database: any DatabaseWriter
    public let access: Access
    /// Each run being written, by id: its requests go through its writer thread.
    let writers = WriterRegistry()
    /// How many runs of a collection (and environment) a trend reads one by one, exact; a
    /// longer window is read from the rollups. Tests lower it, to read a few runs that way.
    var exactTrendRuns = 1_000

    /// How a command uses the history: `sonde run` writes it; the commands that only read
    /// (`history`, `diff`, `trend`, `report`) open it read-only, so that they work on a
    /// read-only file or mount and can never change it.
    public enum Access: Sendable {
        case readWrite
        case readOnly
    }

    /// Opens the database; to write, creates it (and its folder) when missing and brings its
    /// schema up to date. To read, the file must exist; a file written by an older sonde is
    /// brought up to date first when it can be written, and refused when it cannot.
    ///
    /// Throws `HistoryError`: a missing file (to read), a file that is not a history database
    /// or is damaged, one written by a newer sonde, a folder or file that cannot be written.
    public init(path: String, access: Access = .readWrite) throws(HistoryError) {
        self.path = path
        self.access = access
        let exists = FileManager.default.fileExists(atPath: path)
        if !exists {
            guard access == .readWrite else { throw HistoryError("no history at \(path): nothing has been recorded there yet (sonde run records every run)", isUsage: true) }
            let folder = PathText.folder(of: path)
            if !folder.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw HistoryError("cannot create the folder \(folder) for \(path): \(error.localizedDescription)")
                }
            }
        }
        var isFolder: ObjCBool = false
        if exists, FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw HistoryError("\(path) is a folder, not a history file: give a file's path (such as \(path)/history.sqlite)", isUsage: true)
        }
        switch access {
        case .readWrite:
            // Another application's database is refused before it is opened to write (which
            // would switch it to WAL).
            // A WAL file (every history is one) is not changed by opening it: migrate() checks it.
            if exists, Self.fileSize(path) > 0, !Self.isWAL(path) {
                let probe = try Self.openForReading(path)
                defer { try? probe.close() }
                do {
                    try probe.read { db in try Self.checkIsHistory(db, path: path, migrator: Schema.migrator(filesRelativeTo: "")) }
                } catch {
                    throw HistoryError(path, error, writing: false)
                }
            }
            database = try Self.open(path, Self.configuration(readOnly: false))
            try migrate()
        case .readOnly:
            if FileManager.default.isReadableFile(atPath: path) == false {
                throw HistoryError("cannot read \(path): permission denied")
            }
            // Reading never writes: an empty file stays empty, whether it can be written or not.
            if Self.fileSize(path) == 0 {
                throw HistoryError("\(path) is empty: it holds no history")
            }
            if !(try Self.isCurrent(path)) {
                guard FileManager.default.isWritableFile(atPath: path) else {
                    let size = Self.fileSize(path)
                    if FileManager.default.fileExists(atPath: path + "-wal") && !FileManager.default.fileExists(atPath: path + "-shm") {
                        throw HistoryError(
                            "\(path) has its newest writes in \(path)-wal, which cannot be read here, where it is read-only, without \(path)-shm; "
                                + "open it once where it can be written (or copy the file after sonde has ended: it is then complete)")
                    }
                    if size == 0 { throw HistoryError("\(path) is empty: it holds no history") }
                    throw HistoryError("\(path) was written by an older sonde and cannot be upgraded here, where it is read-only; run sonde once where it can be written (its runs are untouched)")
                }
                // Brought up to date once, then read like any other.
                let writer = try SQLiteHistory(path: path, access: .readWrite)
                writer.close()
            }
            database = try Self.openForReading(path)
        }
    }

    /// A history on a database GRDB already opened (an in-memory `DatabaseQueue` in tests):
    /// its schema is brought up to date. `path` names it in messages.
    public init(database: any DatabaseWriter, path: String = ":memory:") throws(HistoryError) {
        self.path = path
        self.access = .readWrite
        self.database = database
        try migrate()
    }

    static func configuration(readOnly: Bool) -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(busyTimeout)
        if readOnly {
            configuration.readonly = true
        } else {
            configuration.journalMode = .wal
            configuration.foreignKeysEnabled = true
            configuration.prepareDatabase { db in
                // In WAL mode a killed process loses nothing that was committed; only a power
                // cut can lose the last commits, and it never corrupts the file.
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                // What a re-mask replaces (a secret learned late) is overwritten with zeros in
                // the file, not left in its free pages.
                try db.execute(sql: "PRAGMA secure_delete = ON")
            }
        }
        return configuration
    }

    /// The file's size in bytes (0 when it cannot be read), from stat(2): FileManager's
    /// attributes cost more than opening the database.
    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Whether the file is a SQLite database in WAL mode: its header's read and write
    /// versions (bytes 18 and 19) are 2 (sqlite.org/fileformat.html, "The Database Header").
    static func isWAL(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 20), header.count == 20 else { return false }
        return header.starts(with: Array("SQLite format 3\u{0}".utf8)) && header[18] == 2 && header[19] == 2
    }

    /// Throws when the database is another application's (tables of its own, no sonde
    /// migration) or was written by a newer sonde (migrations this one does not know, beside
    /// its own). An empty database passes: it becomes a history when written.
    static func checkIsHistory(_ db: Database, path: String, migrator: DatabaseMigrator) throws {
        // The migrations applied and the tables, read from one snapshot: outside a transaction
        // each statement sees the file as it is then, and another sonde creating the file
        // between the two reads (its first migration committed) looked like a foreign database.
        guard db.isInsideTransaction else {
            try db.inTransaction(.deferred) {
                try checkIsHistory(db, path: path, migrator: migrator)
                return .commit
            }
            return
        }
        let applied = try migrator.appliedIdentifiers(db)
        if applied.isEmpty {
            // (grdb_migrations alone: another sonde is creating the file at this moment.)
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'grdb_migrations'")
            if !tables.isEmpty {
                throw HistoryError("\(path) is not a sonde history database: it holds other tables (\(tables.prefix(3).joined(separator: ", "))); give another --db")
            }
            let known = try db.tableExists("grdb_migrations") ? try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") : []
            if !known.isEmpty {
                throw HistoryError("\(path) is not a sonde history database: it holds another application's migrations; give another --db")
            }
            return
        }
        if try migrator.hasBeenSuperseded(db) {
            throw HistoryError("\(path) was written by a newer sonde; upgrade sonde to read it (its runs are untouched)")
        }
    }

    /// Whether the file's schema is this sonde's; throws for a file that is not a database,
    /// is damaged, or was written by a newer sonde.
    private static func isCurrent(_ path: String) throws(HistoryError) -> Bool {
        let probe = try openForReading(path)
        defer { try? probe.close() }
        do {
            return try probe.read { db in
                let migrator = Schema.migrator(filesRelativeTo: "")
                try checkIsHistory(db, path: path, migrator: migrator)
                if try migrator.hasCompletedMigrations(db) { return true }
                // An older sonde's file has the first migration; an empty database is not
                // made a history by a command that only reads.
                guard try migrator.appliedIdentifiers(db).contains(Schema.first) else {
                    throw HistoryError("\(path) is not a sonde history database (it has no sonde tables)")
                }
                return false
            }
        } catch {
            throw HistoryError(path, error, writing: false)
        }
    }

    /// A read-only connection that has read the schema. A WAL database in a folder that cannot
    /// be written (a read-only mount, a CI cache restored read-only) cannot make its `-shm`
    /// file: it is then opened immutable (SQLite's `immutable=1`), which is safe there, as no
    /// process can write it either.
    private static func openForReading(_ path: String) throws(HistoryError) -> DatabaseQueue {
        // Where the file and its folder can be written, the connection is a writer's that
        // refuses to change anything (query_only): SQLite then removes the -wal and -shm files
        // it had to create when it closes the last connection. A read-only connection could
        // not, and would leave them behind.
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let queryOnly = FileManager.default.isWritableFile(atPath: path) && FileManager.default.isWritableFile(atPath: folder)
        func probe(_ location: String) throws -> DatabaseQueue {
            var readConfiguration = configuration(readOnly: true)
            if queryOnly && location == path {
                // Not GRDB's writer configuration: that would switch a file to WAL.
                readConfiguration.readonly = false
                readConfiguration.prepareDatabase { db in try db.execute(sql: "PRAGMA query_only = 1") }
            }
            let queue = try DatabaseQueue(path: location, configuration: readConfiguration)
            _ = try queue.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM sqlite_master") }
            return queue
        }
        do {
            return try probe(path)
        } catch let error as DatabaseError where [.SQLITE_CANTOPEN, .SQLITE_READONLY].contains(error.resultCode.primaryResultCode) {
            let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
            var allowed = CharacterSet.urlPathAllowed
            allowed.remove(charactersIn: "?#%")
            let uri = "file:" + (absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute) + "?immutable=1"
            do {
                return try probe(uri)
            } catch {
                throw HistoryError(path, error, writing: false)
            }
        } catch {
            throw HistoryError(path, error, writing: false)
        }
    }

    /// Opens the file. Switching a new file to WAL takes an exclusive lock that SQLite does not
    /// wait for (no busy handler), so several processes creating one file at once retry here.
    private static func open(_ path: String, _ configuration: Configuration) throws(HistoryError) -> DatabasePool {
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try DatabasePool(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: .random(in: 0.005...0.025))
            } catch {
                throw HistoryError(path, error)
            }
        }
    }

    /// The folder that relative collection files of old runs were given from: the one that
    /// holds `.sonde/` for the default path, else the working folder.
    var filesFolder: String {
        let folder = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent()
        return folder.lastPathComponent == ".sonde" ? folder.deletingLastPathComponent().path : FileManager.default.currentDirectoryPath
    }

    /// Applies the migrations this file lacks. Two processes that find a new file at once
    /// both try; each migration is its own transaction, so the loser finds it done and retries.
    private func migrate() throws(HistoryError) {
        let migrator = Schema.migrator(filesRelativeTo: filesFolder)
        var attempts = 0
        while true {
            attempts += 1
            do {
                // On the writer's connection: a pool would open a reader just for this.
                let path = path
                try database.writeWithoutTransaction { db in try Self.checkIsHistory(db, path: path, migrator: migrator) }
                try migrator.migrate(database)
                return
            } catch let error as HistoryError {
                throw error
            } catch {
                let done = (try? database.writeWithoutTransaction { try migrator.hasCompletedMigrations($0) }) ?? false
                if done { return }
                if attempts >= 10 { throw HistoryError(path, error) }
                Thread.sleep(forTimeInterval: .random(in: 0.005...0.025))
            }
        }
    }

    /// Makes the file complete and closes it: the write-ahead log is copied into the database
    /// file and emptied (`PRAGMA wal_checkpoint(TRUNCATE)`), so that a copy of the `.sqlite`
    /// file alone (a CI cache) holds every run. Called on every way `sonde` ends, Ctrl-C and
    /// SIGTERM included. Another process still writing keeps its part in the log until it
    /// ends in turn; this one does not wait for it more than a moment.
    /// Returns false when the write-ahead log could not be copied into the file: another
    /// process reads an older state of it (a transaction left open), and the newest runs
    /// stay in `-wal` until the last connection closes.
    @discardableResult
    public func close() -> Bool {
        flush()
        var complete = true
        if access == .readWrite {
            do {
                let frames = try database.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA busy_timeout = 2000")
                    return try db.checkpoint(.truncate)
                }
                complete = frames.walFrameCount == frames.checkpointedFrameCount
            } catch {
                complete = false
            }
        }
        // A pool's read-only connections close first (releaseMemory closes them): SQLite
        // removes the -wal and -shm files when the last connection, the writer, closes;
        // GRDB's close() would close the writer first and leave them behind.
        (database as? DatabasePool)?.releaseMemory()
        try? database.close()
        return complete
    }

    /// Runs `body` in one transaction. GRDB 7 begins a writer's transactions IMMEDIATE: the
    /// write lock is taken up front, so the busy timeout applies, never a deadlock error.
    func write<T>(_ body: (Database) throws -> T) throws(HistoryError) -> T {
        do {
            return try database.write(body)
        } catch {
            throw HistoryError(path, error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(HistoryError) -> T {
        do {
            return try database.read(body)
        } catch {
            throw HistoryError(path, error, writing: access == .readWrite)
        }
    }
}
