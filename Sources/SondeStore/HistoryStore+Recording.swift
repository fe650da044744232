import Foundation
import GRDB
import SondeCore
import SondeRunner

/// What is known about a run before its first request.
public struct RunStart: Sendable {
    public var collection: String
    public var file: String
    public var contentHash: String
    public var environment: String?
    public var started: Date
    public var toolVersion: String
    public var gitCommit: String?
    public var plannedRequests: Int

    public init(
        collection: String, file: String, contentHash: String, environment: String?, started: Date, toolVersion: String, gitCommit: String?,
        plannedRequests: Int
    ) {
        self.collection = collection
        self.file = file
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
            id: id, collection: collection, file: file, contentHash: contentHash, environment: environment, started: result.started,
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
            try db.execute(
                sql: """
                    INSERT INTO run (collection, file, contentHash, environment, startedAt, toolVersion, gitCommit, plannedRequests)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [start.collection, start.file, start.contentHash, start.environment, start.started.timeIntervalSince1970,
                    start.toolVersion, start.gitCommit, start.plannedRequests])
            return db.lastInsertedRowID
        }
        return RunRecorder(store: self, runID: id)
    }
}

/// Writes one run's requests; see `RecordingQueue` for writing them off the runner's thread.
public final class RunRecorder: @unchecked Sendable {
    public let store: HistoryStore
    public let runID: Int64
    /// Shapes already stored by this recorder, by body hash: the same body has the same shape.
    private var shapeHashes: [String: String] = [:]

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
            guard let shape = request.shape else { return nil }
            if let body = request.bodyHash, let known = self.shapeHashes[body] { return known }
            let text = shape.text
            let hash = Digest.sha256(text)
            newShapes.append((hash, text))
            if let body = request.bodyHash { self.shapeHashes[body] = hash }
            return hash
        }
        let runID = runID
        try store.write { db in
            for shape in newShapes {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO shape (hash, paths) VALUES (?, ?)").execute(arguments: [shape.hash, shape.text])
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

    private static func insert(_ request: RequestRecord, shapeHash: String?, runID: Int64, _ db: Database) throws {
        let timings = request.timings
        try db.cachedStatement(
            sql: """
                INSERT INTO request (runId, position, name, method, url, outcome, status, dnsMs, connectMs, tlsMs, firstByteMs, totalMs,
                    attempts, responseSize, bodyHash, shapeHash, error, skipReason, startMs, responseExcerpt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            runID, request.position, request.name, request.method, request.url, request.outcome.rawValue, request.status,
            timings.map { $0.dns * 1000 }, timings.map { $0.connect * 1000 }, timings.map { $0.tls * 1000 },
            timings.map { $0.firstByte * 1000 }, timings.map { $0.total * 1000 }, request.attempts, request.responseSize,
            request.bodyHash, shapeHash, request.error, request.skipReason, request.startOffset.map { $0 * 1000 }, request.responseExcerpt,
        ])
        let requestID = db.lastInsertedRowID
        let insertCheck = try db.cachedStatement(
            sql: """
                INSERT INTO expectation (requestId, position, subject, expected, actual, passed, message, line, "column")
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
        for (position, check) in request.checks.enumerated() {
            try insertCheck.execute(arguments: [
                requestID, position, check.subject, check.expected, check.actual, check.passed, check.message, check.line, check.column,
            ])
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
    private var pending: [RequestRecord] = []
    private var writing = false
    private var closed = false
    private var failure: StoreError?
    private var writer: Thread?
    private var flushing = 0
    private var lastCommit = Date.distantPast
    static let interval: TimeInterval = 0.002

    public init(_ recorder: RunRecorder) {
        self.recorder = recorder
        let thread = Thread { self.drain() }
        thread.name = "sonde-recorder"
        writer = thread
        thread.start()
    }

    /// Hands a finished request over; never blocks on the database.
    public func submit(_ request: RequestRecord) {
        condition.lock()
        pending.append(request)
        condition.signal()
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

    /// The first storage error so far.
    public var error: StoreError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    private func drain() {
        condition.lock()
        while true {
            while pending.isEmpty && !closed { condition.wait() }
            if pending.isEmpty && closed { break }
            // Gather more while the last commit is recent, unless someone waits.
            let due = lastCommit.addingTimeInterval(Self.interval)
            while !closed && flushing == 0 && pending.count < 1024 && Date() < due { _ = condition.wait(until: due) }
            let batch = pending
            pending = []
            writing = true
            condition.unlock()
            var error: StoreError?
            if self.error == nil {
                do throws(StoreError) { try recorder.record(batch) } catch let failed { error = failed }
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
