import Foundation
import GRDB
import GRDBSQLite
import SondeCore

extension SQLiteHistory {
    /// A time as the history keeps it: seconds since 1970, to the microsecond, as the JSON
    /// formats write it; so a run exported and imported has the same times, to the bit.
    static func storedTime(_ date: Date) -> Double {
        (date.timeIntervalSince1970 * 1_000_000).rounded() / 1_000_000
    }

    /// Records the start of a run; its requests follow one by one, so that a run killed half
    /// way keeps what it finished and stays marked incomplete.
    public func begin(_ start: RunStart) throws(HistoryError) -> Int64 {
        do {
            return try begin(start, checked: ())
        } catch {
            // Two imports of one run at once: the second finds the UUID taken (run_by_uuid).
            if !error.isDuplicateRun, error.description.contains("UNIQUE constraint failed: run.uuid") {
                var duplicate = HistoryError("\(path) has run \(start.uuid) already")
                duplicate.isDuplicateRun = true
                throw duplicate
            }
            throw error
        }
    }

    private func begin(_ start: RunStart, checked: Void) throws(HistoryError) -> Int64 {
        let id = try write { db in
            // Bound by length (RawStatement), as every text Sonde records: GRDB binds a String
            // as a C string, which a NUL would cut short.
            let insert = RawStatement(
                try db.cachedStatement(
                    sql: RunTable.insert([
                        .collection, .file, .contentHash, .environment, .startedAt, .toolVersion, .gitCommit, .plannedRequests, .collectionPath, .selection,
                        .uuid, .host, .user, .ciProvider, .ciJobUrl, .ciBranch, .ciCommit,
                    ])))
            insert.reset()
            insert.bind(1, start.collection)
            insert.bind(2, start.file)
            insert.bind(3, start.contentHash)
            insert.bind(4, start.environment)
            insert.bind(5, Self.storedTime(start.started))
            insert.bind(6, start.toolVersion)
            insert.bind(7, start.gitCommit)
            insert.bind(8, Int64(start.plannedRequests))
            insert.bind(9, start.collectionPath)
            insert.bind(10, start.selection)
            insert.bind(11, start.uuid)
            insert.bind(12, start.origin.host)
            insert.bind(13, start.origin.user)
            insert.bind(14, start.origin.ci?.provider)
            insert.bind(15, start.origin.ci?.jobURL)
            insert.bind(16, start.origin.ci?.branch)
            insert.bind(17, start.origin.ci?.commit)
            try insert.step(db)
            return db.lastInsertedRowID
        }
        writers.add(RunWriter(history: self, runID: id, file: start.file))
        return id
    }

    public func append(_ result: RequestResult, to run: Int64) {
        writers.append(result, to: run)
    }

    public func redact(run: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError) {
        try writers.redact(run: run, positionsBelow: limit, with: redactor, bodyHashes: bodyHashes, in: self)
    }

    public func finish(run: Int64, outcome: Outcome, at finished: Date) throws(HistoryError) {
        try writers.close(run)
        try write { db in
            let finishedBefore = try Bool.fetchOne(db, sql: "SELECT finishedAt IS NOT NULL FROM run WHERE id = ?", arguments: [run]) ?? false
            try db.execute(
                sql: "UPDATE run SET \(RunTable.list([.outcome])) = ?, \(RunTable.list([.finishedAt])) = ? WHERE id = ?",
                arguments: [outcome.rawValue, Self.storedTime(finished), run])
            // Into the trend rollups in the same transaction: a run is counted when it first
            // finishes; finished again, its hour is summed anew.
            try finishedBefore ? Self.resumRollups(ofRun: run, db) : Self.rollUp(run: run, db)
        }
    }

    public func leaveIncomplete(run: Int64) throws(HistoryError) {
        try writers.close(run)
    }

    public func flush() {
        writers.flush()
    }

    /// Requests, their checks, their shapes (once per distinct shape) and the run's counts,
    /// in one transaction.
    /// `runFile`: the run's collection file; a request or check written there is stored
    /// without its file (NULL), which reads back as the run's.
    func record(
        _ requests: [(result: RequestResult, shapeHash: String?)], newShapes: [(hash: String, text: String)], runID: Int64, runFile: String
    ) throws(HistoryError) {
        guard !requests.isEmpty else { return }
        try write { db in
            let insertShape = RawStatement(try db.cachedStatement(sql: Self.shapeInsertSQL))
            for shape in newShapes {
                insertShape.reset()
                insertShape.bind(1, shape.hash)
                insertShape.bind(2, shape.text)
                try insertShape.step(db)
            }
            var counts = (passed: 0, failed: 0, errored: 0, skipped: 0)
            for (request, shapeHash) in requests {
                try Self.insert(request, shapeHash: shapeHash, runID: runID, runFile: runFile, db)
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

    static let requestInsertColumns: [RequestTable.Columns] = [
        .runId, .position, .step, .name, .method, .url, .file, .line, .column, .outcome, .status, .dnsMs, .connectMs, .tlsMs, .firstByteMs, .totalMs,
        .attempts, .responseSize, .bodyHash, .shapeHash, .error, .errorKind, .skipReason, .skipKind, .startMs, .responseExcerpt, .finalUrl, .redirects, .phase,
    ]
    static let checkInsertColumns: [CheckTable.Columns] = [.requestId, .position, .subject, .expected, .actual, .passed, .message, .file, .line, .column]
    // Built once: a statement is found in GRDB's cache by its text, and building the text
    // for every request cost more than inserting it.
    static let requestInsertSQL = RequestTable.insert(requestInsertColumns)
    static let checkInsertSQL = CheckTable.insert(checkInsertColumns)
    static let shapeInsertSQL = ShapeTable.insert([.hash, .paths], orIgnore: true)

    /// The rows of one request, bound with SQLite's own functions on GRDB's cached
    /// statements: GRDB's argument boxing cost more than SQLite's work (22 µs a request).
    private static func insert(_ request: RequestResult, shapeHash: String?, runID: Int64, runFile: String, _ db: Database) throws {
        let timings = request.timings
        let insertRequest = RawStatement(try db.cachedStatement(sql: requestInsertSQL))
        insertRequest.reset()
        var index: Int32 = 0
        func next() -> Int32 {
            index += 1
            return index
        }
        insertRequest.bind(next(), runID)
        insertRequest.bind(next(), Int64(request.position))
        insertRequest.bind(next(), request.step)
        insertRequest.bind(next(), request.name)
        insertRequest.bind(next(), request.method)
        insertRequest.bind(next(), request.url)
        insertRequest.bind(next(), request.location.flatMap { $0.file == runFile ? nil : $0.file })
        insertRequest.bind(next(), request.location.map { Int64($0.line) })
        insertRequest.bind(next(), request.location.map { Int64($0.column) })
        insertRequest.bind(next(), request.outcome.rawValue)
        insertRequest.bind(next(), request.status.map(Int64.init))
        insertRequest.bind(next(), timings?.dns.inMilliseconds)
        insertRequest.bind(next(), timings?.connect.inMilliseconds)
        insertRequest.bind(next(), timings?.tls.inMilliseconds)
        insertRequest.bind(next(), timings?.firstByte.inMilliseconds)
        insertRequest.bind(next(), timings?.total.inMilliseconds)
        insertRequest.bind(next(), Int64(request.attempts))
        insertRequest.bind(next(), Int64(request.responseSize))
        insertRequest.bind(next(), request.bodyHash)
        insertRequest.bind(next(), shapeHash)
        insertRequest.bind(next(), request.problem?.message)
        insertRequest.bind(next(), request.problem?.kind.rawValue)
        insertRequest.bind(next(), request.skip?.message)
        insertRequest.bind(next(), request.skip?.kind.rawValue)
        insertRequest.bind(next(), request.startOffset?.inMilliseconds)
        insertRequest.bind(next(), request.responseExcerpt)
        insertRequest.bind(next(), request.finalURL)
        insertRequest.bind(next(), request.redirects.isEmpty ? nil : JSONValue.array(request.redirects.map(\.json)).jsonText)
        insertRequest.bind(next(), request.phase == .main ? nil : request.phase.rawValue)
        try insertRequest.step(db)
        let requestID = db.lastInsertedRowID
        let insertCheck = RawStatement(try db.cachedStatement(sql: checkInsertSQL))
        for (position, check) in request.checks.enumerated() {
            insertCheck.reset()
            insertCheck.bind(1, requestID)
            insertCheck.bind(2, Int64(position))
            insertCheck.bind(3, check.subject)
            insertCheck.bind(4, check.expected)
            insertCheck.bind(5, check.actual)
            insertCheck.bind(6, Int64(check.passed ? 1 : 0))
            insertCheck.bind(7, check.message)
            insertCheck.bind(8, check.location.file == runFile ? nil : check.location.file)
            insertCheck.bind(9, Int64(check.location.line))
            insertCheck.bind(10, Int64(check.location.column))
            try insertCheck.step(db)
        }
    }

    /// Masks, in a run already recorded, the secrets `redactor` knows now: a value captured as
    /// a secret by a later request may already stand in an earlier one's excerpt, error or
    /// checks. Only the texts that change are written.
    func redactRecorded(runID: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError) {
        guard !redactor.isEmpty else { return }
        try write { db in
            for (position, hash) in bodyHashes where position < limit {
                try db.execute(sql: "UPDATE request SET bodyHash = ? WHERE runId = ? AND position = ?", arguments: [hash, runID, position])
            }
            let requests = try Row.fetchAll(
                db, sql: "SELECT id, \(RequestTable.selection(RequestTable.maskedColumns)) FROM request WHERE runId = ? AND position < ?",
                arguments: [runID, limit])
            try Self.remask(db, requests, RequestTable.maskedColumns.map(\.rawValue), table: RequestTable.name, keys: ["id"], redactor)
            // A step id masked keeps its place, so that two stay two.
            let steps = try Row.fetchAll(
                db, sql: "SELECT id, position, CAST(step AS BLOB) AS step FROM request WHERE runId = ? AND position < ?", arguments: [runID, limit])
            for row in steps {
                guard let step = row.text(RequestTable.Columns.step) else { continue }
                let masked = RequestResult.maskedStep(step, masked: redactor.redact(step), position: row["position"])
                guard masked != step else { continue }
                let update = RawStatement(try db.cachedStatement(sql: "UPDATE request SET step = ? WHERE id = ?"))
                update.reset()
                update.bind(1, masked)
                update.bind(2, row["id"] as Int64)
                try update.step(db)
            }
            // A JSON shape whose keys hold a secret is stored again, masked, under its own hash.
            try Self.remaskShapes(db, runID: runID, below: limit, redactor)
            let checks = try Row.fetchAll(
                db,
                sql: """
                    SELECT e.requestId, e.position, \(CheckTable.selection(CheckTable.maskedColumns, alias: "e"))
                    FROM expectation e JOIN request r ON r.id = e.requestId WHERE r.runId = ? AND r.position < ?
                    """, arguments: [runID, limit])
            try Self.remask(db, checks, CheckTable.maskedColumns.map(\.rawValue), table: CheckTable.name, keys: ["requestId", "position"], redactor)
            // A finished run's steps and names are in the trend rollups too.
            try Self.resumRollups(ofRun: runID, db)
        }
    }

    /// The shapes of a run's requests below `limit` that masking changes: stored masked (a
    /// shape is shared by hash, and another run's may not hold that secret), and the requests
    /// pointed at the masked one.
    private static func remaskShapes(_ db: Database, runID: Int64, below limit: Int, _ redactor: Redactor) throws {
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT r.id, r.shapeHash, CAST(s.paths AS BLOB) AS paths FROM request r JOIN shape s ON s.hash = r.shapeHash
                WHERE r.runId = ? AND r.position < ?
                """, arguments: [runID, limit])
        var done: [String: String] = [:]
        for row in rows {
            guard let hash = row["shapeHash"] as String?, let paths = row.text(ShapeTable.Columns.paths) else { continue }
            let maskedHash: String
            if let known = done[hash] {
                maskedHash = known
            } else {
                let masked = redactor.redact(JSONShape(text: paths)).text
                maskedHash = masked == paths ? hash : Digest.sha256(masked)
                if maskedHash != hash {
                    let insert = RawStatement(try db.cachedStatement(sql: shapeInsertSQL))
                    insert.reset()
                    insert.bind(1, maskedHash)
                    insert.bind(2, masked)
                    try insert.step(db)
                }
                done[hash] = maskedHash
            }
            guard maskedHash != hash else { continue }
            try db.execute(sql: "UPDATE request SET shapeHash = ? WHERE id = ?", arguments: [maskedHash, row["id"] as Int64])
        }
        // A shape in clear that no request points at any more goes: it holds the secret.
        for (hash, maskedHash) in done where maskedHash != hash {
            try db.execute(sql: "DELETE FROM shape WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM request WHERE shapeHash = ?)", arguments: [hash, hash])
        }
    }

    /// Writes back, masked, each text column of `rows` that masking changes; rows are found by `keys`.
    private static func remask(_ db: Database, _ rows: [Row], _ columns: [String], table: String, keys: [String], _ redactor: Redactor) throws {
        for row in rows {
            for column in columns {
                guard let text = row.text(RawColumn(rawValue: column)) else { continue }
                let masked = redactor.redact(text)
                guard masked != text else { continue }
                let condition = keys.map { "\($0) = ?" }.joined(separator: " AND ")
                let update = RawStatement(try db.cachedStatement(sql: "UPDATE \(table) SET \"\(column)\" = ? WHERE \(condition)"))
                update.reset()
                update.bind(1, masked)
                for (index, key) in keys.enumerated() { update.bind(Int32(index + 2), row[key] as Int64) }
                try update.step(db)
            }
        }
    }
}

/// A column named at run time.
struct RawColumn: RawRepresentable {
    var rawValue: String
}

/// What a `RunWriter` writes through: a history that stores a batch of a run's results in
/// one transaction (SQLite's, PostgreSQL's).
protocol BatchRecording: AnyObject, Sendable {
    /// Requests, their checks, their shapes (`newShapes`: stored once per distinct shape) and
    /// the run's counts, in one transaction. `runFile`: the run's collection file; a request
    /// or check written there is stored without its file (NULL), which reads back as the run's.
    func record(
        _ requests: [(result: RequestResult, shapeHash: String?)], newShapes: [(hash: String, text: String)], runID: Int64, runFile: String
    ) throws(HistoryError)
    /// Masks, in what was recorded of a run below a position, the secrets `redactor` knows now.
    func redactRecorded(runID: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError)
}

extension SQLiteHistory: BatchRecording {}

/// The runs being written, by id.
final class WriterRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var writers: [Int64: RunWriter] = [:]

    func add(_ writer: RunWriter) {
        lock.lock()
        defer { lock.unlock() }
        writers[writer.runID] = writer
    }

    subscript(_ run: Int64) -> RunWriter? {
        lock.lock()
        defer { lock.unlock() }
        return writers[run]
    }

    func remove(_ run: Int64) -> RunWriter? {
        lock.lock()
        defer { lock.unlock() }
        return writers.removeValue(forKey: run)
    }

    var all: [RunWriter] {
        lock.lock()
        defer { lock.unlock() }
        return Array(writers.values)
    }

    /// Hands a result to its run's writer (`RunHistory.append`).
    func append(_ result: RequestResult, to run: Int64) {
        self[run]?.submit(.result(result))
    }

    /// `RunHistory.redact`: ordered after the results handed over, through the run's writer;
    /// a run no longer written is masked in `history` at once.
    func redact(run: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?], in history: any BatchRecording) throws(HistoryError) {
        guard !redactor.isEmpty else { return }
        if let writer = self[run] {
            writer.submit(.redaction(positionsBelow: limit, redactor: redactor, bodyHashes: bodyHashes))
        } else {
            try history.redactRecorded(runID: run, positionsBelow: limit, with: redactor, bodyHashes: bodyHashes)
        }
    }

    /// Stores what was handed over for a run and stops its writer; throws the run's first
    /// storage error.
    func close(_ run: Int64) throws(HistoryError) {
        if let writer = remove(run) { try writer.close() }
    }

    /// Waits until every writer has stored what it was handed.
    func flush() {
        for writer in all { writer.flush() }
    }
}

/// Records a run's requests on a thread of its own, so that the runner never waits for the
/// database (a SQLite file, or a PostgreSQL server): the runner hands each result over and
/// goes on; the writer commits what has arrived in one transaction, at most every `interval`
/// (2 ms): a slow request is committed as soon as it is handed over, fast ones in batches,
/// since a commit costs more than the rows in it. `flush()` commits at once and waits; `sonde run` calls it on Ctrl-C so that
/// an interrupted run keeps every request it finished. A process killed outright (SIGKILL)
/// loses at most the last 2 ms of results.
final class RunWriter: @unchecked Sendable {
    unowned let history: any BatchRecording
    let runID: Int64
    /// The run's collection file.
    let file: String
    private let condition = NSCondition()
    /// Results to turn into rows here, off the runner's threads, and redactions in between.
    private var pending: [Pending] = []

    enum Pending {
        case result(RequestResult)
        /// Masks what was recorded below a position with secrets learned since.
        case redaction(positionsBelow: Int, redactor: Redactor, bodyHashes: [Int: String?])
    }
    private var writing = false
    private var closed = false
    private var failure: HistoryError?
    private var flushing = 0
    private var lastCommit = Date.distantPast
    static let interval: TimeInterval = 0.002
    static let batchLimit = 1024
    static let backlogLimit = 2 * batchLimit
    /// The writer waits for a first request (rather than gathering until its next commit is due).
    private var idle = false
    /// Shapes already stored by this run, by body hash (nil: that body has none): the same
    /// body has the same shape, so it is worked out once.
    private var shapeHashes: [String: String?] = [:]
    private var stopped = false

    init(history: any BatchRecording, runID: Int64, file: String) {
        self.history = history
        self.runID = runID
        self.file = file
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

    /// Hands something over. Blocks only when `backlogLimit` items wait already (the writer
    /// far behind, as on a slow disk): each holds a response's parsed body for its shape, and
    /// a long run must not pile them up.
    func submit(_ item: Pending) {
        condition.lock()
        while pending.count >= Self.backlogLimit && !stopped { condition.wait() }
        pending.append(item)
        // Wake the writer only when it waits for a first request, or when a batch is full:
        // while it gathers, a wake-up per request would cost two context switches each.
        if idle || pending.count >= Self.batchLimit { condition.signal() }
        condition.unlock()
    }

    /// Waits until everything submitted so far is committed (or failed).
    func flush() {
        condition.lock()
        flushing += 1
        condition.broadcast()
        while !pending.isEmpty || writing { condition.wait() }
        flushing -= 1
        condition.unlock()
    }

    /// Commits what is pending and stops the writer. Throws the first storage error of the run.
    func close() throws(HistoryError) {
        condition.lock()
        closed = true
        condition.broadcast()
        while !pending.isEmpty || writing || !stopped { condition.wait() }
        let failure = failure
        condition.unlock()
        if let failure { throw failure }
    }

    /// The result as recorded, with the hash of its shape (stored once per distinct shape).
    private func prepare(_ result: RequestResult, newShapes: inout [(hash: String, text: String)]) -> (RequestResult, String?) {
        if let body = result.bodyHash, let known = shapeHashes[body] { return (result.recorded(withShape: false), known) }
        let recorded = result.recorded(withShape: true)
        guard let shape = recorded.shape else {
            if let body = result.bodyHash { shapeHashes[body] = .some(nil) }
            return (recorded, nil)
        }
        let text = shape.text
        let hash = Digest.sha256(text)
        newShapes.append((hash, text))
        if let body = result.bodyHash { shapeHashes[body] = hash }
        return (recorded, hash)
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
            // A runner waiting for room (`backlogLimit`) has it now.
            condition.broadcast()
            // After a storage error the run goes on, unrecorded; close reports the error.
            let failedAlready = failure != nil
            condition.unlock()
            var error: HistoryError?
            if !failedAlready {
                do throws(HistoryError) {
                    var rows: [(result: RequestResult, shapeHash: String?)] = []
                    var newShapes: [(hash: String, text: String)] = []
                    for item in batch {
                        switch item {
                        case .result(let result):
                            rows.append(prepare(result, newShapes: &newShapes))
                        case .redaction(let limit, let redactor, let bodyHashes):
                            try history.record(rows, newShapes: newShapes, runID: runID, runFile: file)
                            rows = []
                            newShapes = []
                            try history.redactRecorded(runID: runID, positionsBelow: limit, with: redactor, bodyHashes: bodyHashes)
                        }
                    }
                    try history.record(rows, newShapes: newShapes, runID: runID, runFile: file)
                } catch let failed { error = failed }
            }
            condition.lock()
            lastCommit = Date()
            if let error, failure == nil { failure = error }
            writing = false
            condition.broadcast()
        }
        stopped = true
        condition.broadcast()
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
