import Foundation
import GRDB
import GRDBSQLite
import SondeCore
import SondeRunner

/// What is known about a run before its first request.
public struct RunStart: Sendable {
    public var collection: String
    public var file: String
    /// `CollectionPath.of(file:)`: with `collection`, the collection's identity.
    public var collectionPath: String
    public var contentHash: String
    public var environment: String?
    public var started: Date
    public var toolVersion: String
    public var gitCommit: String?
    public var plannedRequests: Int

    public init(
        collection: String, file: String, collectionPath: String? = nil, contentHash: String, environment: String?, started: Date, toolVersion: String,
        gitCommit: String?, plannedRequests: Int
    ) {
        self.collection = collection
        self.file = file
        self.collectionPath = collectionPath ?? CollectionPath.of(file: file)
        self.contentHash = contentHash
        self.environment = environment
        self.started = started
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.plannedRequests = plannedRequests
    }
}

extension RunStart {
    /// The record a run would have in the history, for reports of a run that is not saved.
    public func record(of result: RunResult, id: Int64 = 0) -> RunRecord {
        RunRecord(
            id: id, collection: collection, file: file, collectionPath: collectionPath, contentHash: contentHash, environment: environment, started: result.started,
            finished: result.finished, toolVersion: toolVersion, gitCommit: gitCommit, outcome: result.outcome, plannedRequests: plannedRequests,
            passed: result.count(.passed), failed: result.count(.failed), errored: result.count(.error), skipped: result.count(.skipped),
            requests: result.requests.map(\.record))
    }
}

extension HistoryStore {
    /// Records the start of a run; its requests follow one by one, so that a run killed half
    /// way keeps what it finished and stays marked incomplete.
    public func beginRun(_ start: RunStart) throws(StoreError) -> RunRecorder {
        let id = try write { db in
            // Bound by length (RawStatement), as every text Sonde records: GRDB binds a String
            // as a C string, which a NUL would cut short.
            let insert = RawStatement(
                try db.cachedStatement(
                    sql: """
                        INSERT INTO run (collection, file, contentHash, environment, startedAt, toolVersion, gitCommit, plannedRequests, collectionPath)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """))
            insert.reset()
            insert.bind(1, start.collection)
            insert.bind(2, start.file)
            insert.bind(3, start.contentHash)
            insert.bind(4, start.environment)
            insert.bind(5, start.started.timeIntervalSince1970)
            insert.bind(6, start.toolVersion)
            insert.bind(7, start.gitCommit)
            insert.bind(8, Int64(start.plannedRequests))
            insert.bind(9, start.collectionPath)
            try insert.step(db)
            return db.lastInsertedRowID
        }
        return RunRecorder(store: self, runID: id)
    }
}

/// Writes one run's requests; see `RecordingQueue` for writing them off the runner's thread.
public final class RunRecorder: @unchecked Sendable {
    public let store: HistoryStore
    public let runID: Int64
    /// Shapes already stored by this recorder, by body hash (nil: that body has none): the
    /// same body has the same shape, so it is worked out once.
    private var shapeHashes: [String: String?] = [:]

    /// Whether the shape of a body with this hash is known already.
    func knowsShape(ofBody hash: String?) -> Bool { hash.map { shapeHashes[$0] != nil } ?? false }

    init(store: HistoryStore, runID: Int64) {
        self.store = store
        self.runID = runID
    }

    /// One request, in its own transaction.
    public func record(_ request: RequestRecord) throws(StoreError) {
        try record([request])
    }

    /// Requests, their expectations, their shapes (once per distinct shape) and the run's
    /// counts, in one transaction.
    public func record(_ requests: [RequestRecord]) throws(StoreError) {
        guard !requests.isEmpty else { return }
        var newShapes: [(hash: String, text: String)] = []
        let shapeHashes = requests.map { request -> String? in
            if let body = request.bodyHash, let known = self.shapeHashes[body] { return known }
            guard let shape = request.shape else {
                if let body = request.bodyHash { self.shapeHashes[body] = .some(nil) }
                return nil
            }
            let text = shape.text
            let hash = Digest.sha256(text)
            newShapes.append((hash, text))
            if let body = request.bodyHash { self.shapeHashes[body] = hash }
            return hash
        }
        let runID = runID
        try store.write { db in
            let insertShape = RawStatement(try db.cachedStatement(sql: "INSERT OR IGNORE INTO shape (hash, paths) VALUES (?, ?)"))
            for shape in newShapes {
                insertShape.reset()
                insertShape.bind(1, shape.hash)
                insertShape.bind(2, shape.text)
                try insertShape.step(db)
            }
            var counts = (passed: 0, failed: 0, errored: 0, skipped: 0)
            for (request, shapeHash) in zip(requests, shapeHashes) {
                try Self.insert(request, shapeHash: shapeHash, runID: runID, db)
                switch request.outcome {
                case .passed: counts.passed += 1
                case .failed: counts.failed += 1
                case .error: counts.errored += 1
                case .skipped: counts.skipped += 1
                }
            }
            try db.cachedStatement(
                sql: "UPDATE run SET passed = passed + ?, failed = failed + ?, errored = errored + ?, skipped = skipped + ? WHERE id = ?"
            ).execute(arguments: [counts.passed, counts.failed, counts.errored, counts.skipped, runID])
        }
    }

    /// The rows of one request, bound with SQLite's own functions on GRDB's cached
    /// statements: GRDB's argument boxing cost more than SQLite's work (22 µs a request).
    private static func insert(_ request: RequestRecord, shapeHash: String?, runID: Int64, _ db: Database) throws {
        let timings = request.timings
        let insertRequest = RawStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO request (runId, position, name, method, url, outcome, status, dnsMs, connectMs, tlsMs, firstByteMs, totalMs,
                        attempts, responseSize, bodyHash, shapeHash, error, skipReason, startMs, responseExcerpt, finalUrl, redirects)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """))
        insertRequest.reset()
        insertRequest.bind(1, runID)
        insertRequest.bind(2, Int64(request.position))
        insertRequest.bind(3, request.name)
        insertRequest.bind(4, request.method)
        insertRequest.bind(5, request.url)
        insertRequest.bind(6, request.outcome.rawValue)
        insertRequest.bind(7, request.status.map(Int64.init))
        insertRequest.bind(8, timings.map { $0.dns * 1000 })
        insertRequest.bind(9, timings.map { $0.connect * 1000 })
        insertRequest.bind(10, timings.map { $0.tls * 1000 })
        insertRequest.bind(11, timings.map { $0.firstByte * 1000 })
        insertRequest.bind(12, timings.map { $0.total * 1000 })
        insertRequest.bind(13, Int64(request.attempts))
        insertRequest.bind(14, Int64(request.responseSize))
        insertRequest.bind(15, request.bodyHash)
        insertRequest.bind(16, shapeHash)
        insertRequest.bind(17, request.error)
        insertRequest.bind(18, request.skipReason)
        insertRequest.bind(19, request.startOffset.map { $0 * 1000 })
        insertRequest.bind(20, request.responseExcerpt)
        insertRequest.bind(21, request.finalURL)
        insertRequest.bind(22, request.redirects.isEmpty ? nil : JSONValue.array(request.redirects.map(\.json)).jsonText)
        try insertRequest.step(db)
        let requestID = db.lastInsertedRowID
        let insertCheck = RawStatement(
            try db.cachedStatement(
                sql: """
                    INSERT INTO expectation (requestId, position, subject, expected, actual, passed, message, line, "column")
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """))
        for (position, check) in request.checks.enumerated() {
            insertCheck.reset()
            insertCheck.bind(1, requestID)
            insertCheck.bind(2, Int64(position))
            insertCheck.bind(3, check.subject)
            insertCheck.bind(4, check.expected)
            insertCheck.bind(5, check.actual)
            insertCheck.bind(6, Int64(check.passed ? 1 : 0))
            insertCheck.bind(7, check.message)
            insertCheck.bind(8, Int64(check.line))
            insertCheck.bind(9, Int64(check.column))
            try insertCheck.step(db)
        }
    }

    /// Marks the run complete with its outcome.
    public func finish(outcome: Outcome, at finished: Date) throws(StoreError) {
        let runID = runID
        try store.write { db in
            try db.execute(sql: "UPDATE run SET outcome = ?, finishedAt = ? WHERE id = ?", arguments: [outcome.rawValue, finished.timeIntervalSince1970, runID])
        }
    }
}

/// Records a run's requests on a thread of its own, so that the runner never waits for
/// SQLite: the runner hands each result over and goes on; the writer commits what has
/// arrived in one transaction, at most every `interval` (2 ms): a slow request is committed
/// as soon as it is handed over, fast ones in batches, since a commit costs more than the
/// rows in it. `flush()` commits at once and waits; `sonde run` calls it on Ctrl-C so that
/// an interrupted run keeps every request it finished. A process killed outright (SIGKILL)
/// loses at most the last 2 ms of results.
public final class RecordingQueue: @unchecked Sendable {
    public let recorder: RunRecorder
    private let condition = NSCondition()
    /// Records, or results to turn into records here, off the runner's threads.
    private var pending: [Pending] = []

    private enum Pending {
        case record(RequestRecord)
        case result(RequestResult)
        /// Masks what was recorded below a position with secrets learned since (`HistoryStore.redactRecorded`).
        case redaction(positionsBelow: Int, redactor: Redactor, bodyHashes: [Int: String?])
    }
    private var writing = false
    private var closed = false
    private var failure: StoreError?
    private var flushing = 0
    private var lastCommit = Date.distantPast
    static let interval: TimeInterval = 0.002
    static let batchLimit = 1024
    /// The writer waits for a first request (rather than gathering until its next commit is due).
    private var idle = false

    public init(_ recorder: RunRecorder) {
        self.recorder = recorder
        let thread = Thread {
            // Below the runner's threads: the writer has all the time of a run, they have none.
            #if os(Linux)
            // On Linux the nice value belongs to a thread: 0 is this one.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            self.drain()
        }
        thread.name = "sonde-recorder"
        thread.start()
    }

    /// Hands a finished request over; never blocks on the database.
    public func submit(_ request: RequestRecord) { submit(.record(request)) }

    /// Masks, once what was submitted before is written, the secrets `redactor` knows in the
    /// requests below `limit`, and sets their body hashes to `bodyHashes` (nil: unknown).
    /// A run that learns a secret (a capture) has its earlier requests masked at once, so that
    /// a run interrupted later leaves nothing in clear.
    public func submitRedaction(positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) {
        submit(.redaction(positionsBelow: limit, redactor: redactor, bodyHashes: bodyHashes))
    }

    /// A runner's result: its conversion (and its JSON shape) happen on the writer's thread.
    public func submit(_ result: RequestResult) { submit(.result(result)) }

    private func submit(_ request: Pending) {
        condition.lock()
        pending.append(request)
        // Wake the writer only when it waits for a first request, or when a batch is full:
        // while it gathers, a wake-up per request would cost two context switches each.
        if idle || pending.count >= Self.batchLimit { condition.signal() }
        condition.unlock()
    }

    /// Waits until everything submitted so far is committed (or failed).
    public func flush() {
        condition.lock()
        flushing += 1
        condition.broadcast()
        while !pending.isEmpty || writing { condition.wait() }
        flushing -= 1
        condition.unlock()
    }

    /// Commits what is pending, stops the writer, and marks the run finished. Throws the
    /// first storage error of the run, if there was one.
    public func finish(outcome: Outcome, at finished: Date) throws(StoreError) {
        condition.lock()
        closed = true
        condition.broadcast()
        while !pending.isEmpty || writing { condition.wait() }
        let failure = failure
        condition.unlock()
        if let failure { throw failure }
        try recorder.finish(outcome: outcome, at: finished)
    }

    private func drain() {
        condition.lock()
        while true {
            idle = true
            while pending.isEmpty && !closed { condition.wait() }
            idle = false
            if pending.isEmpty && closed { break }
            // Gather more while the last commit is recent, unless someone waits.
            let due = lastCommit.addingTimeInterval(Self.interval)
            while !closed && flushing == 0 && pending.count < Self.batchLimit && Date() < due { _ = condition.wait(until: due) }
            let batch = pending
            pending = []
            writing = true
            // After a storage error the run goes on, unrecorded; finish reports the error.
            let failedAlready = failure != nil
            condition.unlock()
            var error: StoreError?
            if !failedAlready {
                do throws(StoreError) {
                    var records: [RequestRecord] = []
                    for item in batch {
                        switch item {
                        case .record(let record): records.append(record)
                        case .result(let result): records.append(result.record(withShape: !recorder.knowsShape(ofBody: result.bodyHash)))
                        case .redaction(let limit, let redactor, let bodyHashes):
                            try recorder.record(records)
                            records = []
                            try recorder.store.redactRecorded(runID: recorder.runID, positionsBelow: limit, with: redactor, bodyHashes: bodyHashes)
                        }
                    }
                    try recorder.record(records)
                } catch let failed { error = failed }
            }
            condition.lock()
            lastCommit = Date()
            if let error, failure == nil { failure = error }
            writing = false
            condition.broadcast()
        }
        condition.unlock()
    }
}

/// A GRDB statement driven through SQLite's C functions, for the rows written per request.
/// It holds the handle only: the statement must be one GRDB keeps (`cachedStatement`).
struct RawStatement {
    let handle: OpaquePointer
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    init(_ statement: Statement) {
        handle = statement.sqliteStatement
    }

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func bind(_ index: Int32, _ value: Int64) { sqlite3_bind_int64(handle, index, value) }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: Double?) {
        if let value { sqlite3_bind_double(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: String?) {
        guard let value else {
            sqlite3_bind_null(handle, index)
            return
        }
        guard !value.isEmpty else {
            // An empty buffer may have no address, and a null pointer would bind NULL.
            sqlite3_bind_text(handle, index, "", 0, Self.transient)
            return
        }
        var text = value
        text.withUTF8 { bytes in
            _ = bytes.withMemoryRebound(to: CChar.self) { sqlite3_bind_text(handle, index, $0.baseAddress, Int32(bytes.count), Self.transient) }
        }
    }

    /// Runs the insert; a failure is GRDB's DatabaseError, with SQLite's message.
    func step(_ db: Database) throws {
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}

extension HistoryStore {
    /// Masks, in a run already recorded, the secrets `redactor` knows now: a value captured as
    /// a secret by a later request may already stand in an earlier one's excerpt, error or
    /// checks. Only the texts that change are written.
    /// `positionsBelow`: the requests to look at, from the first (those recorded before the
    /// latest secret became known).
    /// `bodyHashes`: new body hashes by position (nil where the body is not known any more
    /// and its hash may have been computed from a secret).
    public func redactRecorded(runID: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?] = [:]) throws(StoreError) {
        guard !redactor.isEmpty else { return }
        try write { db in
            for (position, hash) in bodyHashes where position < limit {
                try db.execute(sql: "UPDATE request SET bodyHash = ? WHERE runId = ? AND position = ?", arguments: [hash, runID, position])
            }
            let requestColumns = ["name", "url", "error", "skipReason", "responseExcerpt", "finalUrl", "redirects"]
            let requests = try Row.fetchAll(
                db, sql: "SELECT id, \(requestColumns.map { "CAST(\($0) AS BLOB) AS \($0)" }.joined(separator: ", ")) FROM request WHERE runId = ? AND position < ?",
                arguments: [runID, limit])
            try Self.remask(db, requests, requestColumns, table: "request", keys: ["id"], redactor)
            let checkColumns = ["subject", "expected", "actual", "message"]
            let checks = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.requestId, e.position, \(checkColumns.map { "CAST(e.\($0) AS BLOB) AS \($0)" }.joined(separator: ", "))
                    FROM expectation e JOIN request r ON r.id = e.requestId WHERE r.runId = ? AND r.position < ?
                    """, arguments: [runID, limit])
            try Self.remask(db, checks, checkColumns, table: "expectation", keys: ["requestId", "position"], redactor)
        }
    }

    /// Writes back, masked, each text column of `rows` that masking changes; rows are found by `keys`.
    private static func remask(_ db: Database, _ rows: [Row], _ columns: [String], table: String, keys: [String], _ redactor: Redactor) throws {
        for row in rows {
            for column in columns {
                guard let text = Self.text(row, column) else { continue }
                let masked = redactor.redact(text)
                guard masked != text else { continue }
                let condition = keys.map { "\($0) = ?" }.joined(separator: " AND ")
                let update = RawStatement(try db.cachedStatement(sql: "UPDATE \(table) SET \(column) = ? WHERE \(condition)"))
                update.reset()
                update.bind(1, masked)
                for (index, key) in keys.enumerated() { update.bind(Int32(index + 2), row[key] as Int64) }
                try update.step(db)
            }
        }
    }
}
