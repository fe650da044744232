import Foundation

/// Where runs are recorded and read back: the port between the application and its
/// storage. `SQLiteHistory` (a file, through GRDB), `PostgresHistory` (a server, through
/// libpq) and `InMemoryHistory` implement it, and one contract test suite runs against each.
///
/// Writing: `begin` a run, `append` its results as they come (an implementation may batch
/// them; `flush` waits until they are stored), `finish` it. A run never finished stays in
/// the history as incomplete, with the results appended before. Every method throws
/// `HistoryError`.
public protocol RunHistory: AnyObject, Sendable {
    /// Where the history is, for messages (a file's path).
    var location: String { get }

    /// Records the start of a run; returns its id (increasing: a later run has a larger id).
    func begin(_ start: RunStart) throws(HistoryError) -> Int64

    /// Appends results to a run, in order. Never waits for storage: a failure to store is
    /// thrown by `finish` (the run goes on, unrecorded, meanwhile).
    func append(_ result: RequestResult, to run: Int64)

    /// Masks, in what was recorded of a run at positions below `limit`, every secret
    /// `redactor` knows now, and sets the body hashes in `bodyHashes` by position (nil: the
    /// body is not known any more, and its hash may have been computed from a secret).
    /// Ordered after the results appended before it.
    func redact(run: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError)

    /// Stores what was appended, then marks the run complete with its outcome. Throws the
    /// first storage error of the run, if there was one.
    func finish(run: Int64, outcome: Outcome, at finished: Date) throws(HistoryError)

    /// Stores what was appended to a run and stops writing it, leaving it incomplete (a
    /// cancelled run). Throws the first storage error of the run, if there was one.
    func leaveIncomplete(run: Int64) throws(HistoryError)

    /// Waits until everything appended so far is stored.
    func flush()

    /// Runs newest first, without their requests.
    func runs(_ filter: RunFilter) throws(HistoryError) -> [RunRecord]

    /// One run with its requests and their checks; nil when there is none with that id.
    func run(id: Int64) throws(HistoryError) -> RunRecord?

    /// The last complete run of the same collection and environment before `run`.
    func previousRun(before run: RunRecord) throws(HistoryError) -> RunRecord?

    /// Per collection and environment the filter matches, its last two complete runs,
    /// oldest first (one, for a collection run once).
    func latestRuns(_ filter: RunFilter) throws(HistoryError) -> [[RunRecord]]

    /// Per collection and environment the filter matches, its trend over the filter's window.
    func trends(_ filter: RunFilter) throws(HistoryError) -> [Trend]

    /// Every collection recorded.
    func collections() throws(HistoryError) -> [CollectionIdentity]

    /// The id of the run with this identity (`RunStart.uuid`), if the history has it.
    func runID(uuid: String) throws(HistoryError) -> Int64?

    /// Removes the runs that started before the hour `cutoff` falls in (`sonde history
    /// prune`), with their requests and checks, of the collections and environment `filter`
    /// picks (its `since` and `last` are not used). A history with trend rollups keeps them,
    /// and a trend reaching back before the cutoff reads those hours from them. Returns how
    /// many runs were removed.
    func prune(startedBefore cutoff: Date, _ filter: RunFilter) throws(HistoryError) -> Int

    /// Makes the history complete on disk and closes it. False when the newest writes could
    /// not be made part of the file itself (another process holds an older state open).
    @discardableResult
    func close() -> Bool
}

extension RunHistory {
    /// Records a run read from elsewhere (`sonde history import`): its start, its requests
    /// and checks as they were recorded (masked already), and its end, through the same
    /// writing as a run, so that the trend rollups count it. Nothing when the history has a
    /// run of the same `uuid` already: false then. A run without one gets a new identity.
    public func importRun(_ run: RunRecord) throws(HistoryError) -> Bool {
        if let uuid = run.uuid, try runID(uuid: uuid) != nil { return false }
        var start = RunStart(
            collection: run.collection, file: run.file, collectionPath: run.collectionPath, contentHash: run.contentHash, environment: run.environment,
            started: run.started, toolVersion: run.toolVersion, gitCommit: run.gitCommit, plannedRequests: run.plannedRequests, selection: run.selection)
        if let uuid = run.uuid { start.uuid = uuid }
        start.origin = run.origin
        let id = try begin(start)
        for request in run.requests { append(request, to: id) }
        if let finished = run.finished, let outcome = run.outcome {
            try finish(run: id, outcome: outcome, at: finished)
        } else {
            try leaveIncomplete(run: id)
        }
        return true
    }
}

/// What is known about a run before its first request.
public struct RunStart: Sendable {
    public var collection: String
    /// The collection file, as given on the command line.
    public var file: String
    /// The file's path relative to the top of its git repository: with `collection`, the
    /// collection's identity.
    public var collectionPath: String
    /// SHA-256 of the collection file.
    public var contentHash: String
    public var environment: String?
    public var started: Date
    public var toolVersion: String
    public var gitCommit: String?
    public var plannedRequests: Int
    /// The selection it runs (`--request 'get *' --tag smoke`); nil when every step runs.
    public var selection: String?
    /// Its identity across machines and histories (lowercase, as `uuidgen` writes it): what
    /// an import of runs recognises them by.
    public var uuid: String = UUID().uuidString.lowercased()
    /// Where it runs.
    public var origin = RunOrigin()

    public init(
        collection: String, file: String, collectionPath: String, contentHash: String, environment: String?, started: Date, toolVersion: String,
        gitCommit: String?, plannedRequests: Int, selection: String? = nil
    ) {
        self.selection = selection
        self.collection = collection
        self.file = file
        self.collectionPath = collectionPath
        self.contentHash = contentHash
        self.environment = environment
        self.started = started
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.plannedRequests = plannedRequests
    }

    /// The record a run would have in the history, for reports of a run that is not saved.
    public func record(of result: RunResult, id: Int64 = 0) -> RunRecord {
        var record = RunRecord(
            id: id, collection: collection, file: file, collectionPath: collectionPath, contentHash: contentHash, environment: environment,
            started: result.started, finished: result.finished, toolVersion: toolVersion, gitCommit: gitCommit, outcome: result.outcome,
            plannedRequests: plannedRequests, passed: result.count(.passed), failed: result.count(.failed), errored: result.count(.error),
            skipped: result.count(.skipped), requests: result.requests.map { $0.recorded(withShape: true) })
        record.selection = selection
        record.uuid = uuid
        record.origin = origin
        return record
    }
}

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

/// A collection as the history knows it: its name and its file's path.
public struct CollectionIdentity: Sendable, Hashable {
    public var name: String
    public var path: String

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

/// Why the history could not be used, in words a person can act on.
public struct HistoryError: Error, Sendable, CustomStringConvertible {
    public var description: String
    /// A usage error (exit 2) is fixed by asking differently (a collection name that matches
    /// two files); anything else is a storage error (exit 3).
    public var isUsage: Bool

    public init(_ description: String, isUsage: Bool = false) {
        self.description = description
        self.isUsage = isUsage
    }
}
