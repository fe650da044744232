import Foundation
import GRDB
import SondeCore

/// Why the history database could not be used, in words a person can act on.
public struct StoreError: Error, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }

    init(_ path: String, _ error: Error) {
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                description = "\(path) is not a sonde history database (or it is damaged): \(error.message ?? "")"
            case .SQLITE_BUSY, .SQLITE_LOCKED:
                description = "\(path) stayed locked by another process for \(Int(HistoryStore.busyTimeout)) s"
            case .SQLITE_READONLY, .SQLITE_CANTOPEN, .SQLITE_PERM:
                description = "cannot write \(path): \(error.message ?? "permission denied")"
            case .SQLITE_FULL:
                description = "the disk holding \(path) is full"
            default:
                description = "\(path): \(error.message ?? "\(error)")"
            }
        } else {
            description = "\(path): \(error)"
        }
    }
}

/// The history database: every run, as it goes, in SQLite (WAL, so that several `sonde run`
/// processes can write one file at once; a busy timeout, so that they wait for each other
/// instead of failing).
public final class HistoryStore: @unchecked Sendable {
    /// Where runs are recorded unless `--db` or `SONDE_DB` says otherwise.
    public static let defaultPath = ".sonde/history.sqlite"
    static let busyTimeout: TimeInterval = 30

    public let path: String
    let queue: DatabaseQueue

    /// Opens (and with `create`, creates) the database and brings its schema up to date.
    public init(path: String, create: Bool = true) throws(StoreError) {
        self.path = path
        if !FileManager.default.fileExists(atPath: path) {
            guard create else { throw StoreError("no history at \(path): nothing has been recorded there yet (sonde run records every run)") }
            let folder = (path as NSString).deletingLastPathComponent
            if !folder.isEmpty {
                do {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                } catch {
                    throw StoreError("cannot create the folder \(folder) for \(path): \(error.localizedDescription)")
                }
            }
        }
        var configuration = Configuration()
        configuration.journalMode = .wal
        configuration.busyMode = .timeout(Self.busyTimeout)
        configuration.foreignKeysEnabled = true
        configuration.prepareDatabase { db in
            // In WAL mode a killed process loses nothing that was committed; only a power
            // cut can lose the last commits, and it never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        queue = try Self.open(path, configuration)
        try migrate()
    }

    /// Opens the file. Switching a new file to WAL takes an exclusive lock that SQLite does not
    /// wait for (no busy handler), so several processes creating one file at once retry here.
    private static func open(_ path: String, _ configuration: Configuration) throws(StoreError) -> DatabaseQueue {
        let deadline = Date().addingTimeInterval(busyTimeout)
        while true {
            do {
                return try DatabaseQueue(path: path, configuration: configuration)
            } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY && Date() < deadline {
                Thread.sleep(forTimeInterval: .random(in: 0.005...0.025))
            } catch {
                throw StoreError(path, error)
            }
        }
    }

    /// Applies the migrations this file lacks. Two processes that find a new file at once
    /// both try; each migration is its own transaction, so the loser finds it done and retries.
    private func migrate() throws(StoreError) {
        var attempts = 0
        while true {
            attempts += 1
            do {
                if try queue.read({ try Schema.migrator.hasBeenSuperseded($0) }) {
                    throw StoreError("\(path) was written by a newer sonde; upgrade sonde to read it (its runs are untouched)")
                }
                try Schema.migrator.migrate(queue)
                return
            } catch let error as StoreError {
                throw error
            } catch {
                let done = (try? queue.read { try Schema.migrator.hasCompletedMigrations($0) }) ?? false
                if done { return }
                if attempts >= 10 { throw StoreError(path, error) }
                Thread.sleep(forTimeInterval: .random(in: 0.005...0.025))
            }
        }
    }

    /// Runs `body` in one transaction. GRDB 7 begins a writer's transactions IMMEDIATE: the
    /// write lock is taken up front, so the busy timeout applies, never a deadlock error.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try queue.write(body)
        } catch {
            throw StoreError(path, error)
        }
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            return try queue.read(body)
        } catch {
            throw StoreError(path, error)
        }
    }
}
