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

/// Writes one run's requests as they finish, each in its own transaction.
public final class RunRecorder: @unchecked Sendable {
    public let store: HistoryStore
    public let runID: Int64

    init(store: HistoryStore, runID: Int64) {
        self.store = store
        self.runID = runID
    }

    /// The request, its expectations, its shape (once per distinct shape) and the run's counts.
    public func record(_ request: RequestRecord) throws(StoreError) {
        let shape = request.shape.map { shape -> (hash: String, text: String) in
            let text = shape.text
            return (Digest.sha256(text), text)
        }
        let runID = runID
        try store.write { db in
            if let shape {
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO shape (hash, paths) VALUES (?, ?)").execute(arguments: [shape.hash, shape.text])
            }
            let timings = request.timings
            try db.cachedStatement(
                sql: """
                    INSERT INTO request (runId, position, name, method, url, outcome, status, dnsMs, connectMs, tlsMs, firstByteMs, totalMs,
                        attempts, responseSize, bodyHash, shapeHash, error, skipReason)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                runID, request.position, request.name, request.method, request.url, request.outcome.rawValue, request.status,
                timings.map { $0.dns * 1000 }, timings.map { $0.connect * 1000 }, timings.map { $0.tls * 1000 },
                timings.map { $0.firstByte * 1000 }, timings.map { $0.total * 1000 }, request.attempts, request.responseSize,
                request.bodyHash, shape?.hash, request.error, request.skipReason,
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
            let counter = switch request.outcome {
            case .passed: "passed"
            case .failed: "failed"
            case .error: "errored"
            case .skipped: "skipped"
            }
            try db.cachedStatement(sql: "UPDATE run SET \(counter) = \(counter) + 1 WHERE id = ?").execute(arguments: [runID])
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
