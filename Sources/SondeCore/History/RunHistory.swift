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

    /// Removes the finished runs that started before the hour `cutoff` falls in (`sonde
    /// history prune`), with their requests and checks, of the collections and environment
    /// `filter` picks (its `since` and `last` are not used). A run that never finished stays:
    /// it is in no rollup, and may be one an import is writing. A history with trend rollups keeps them,
    /// and a trend reaching back before the cutoff reads those hours from them. Returns how
    /// many runs were removed.
    func prune(startedBefore cutoff: Date, _ filter: RunFilter) throws(HistoryError) -> Int

    /// Whether the history held the run with this identity and pruned it: its hours are in
    /// the trend rollups already, and it is not imported again.
    func wasPruned(uuid: String) throws(HistoryError) -> Bool

    /// Removes a run that never finished, with what it recorded (an incomplete copy that an
    /// import replaces with the finished run). False, and nothing removed, when the run
    /// finished or is not there.
    func removeIncomplete(run: Int64) throws(HistoryError) -> Bool

    /// Whether a run never finished (false when it finished or is not there): what an import
    /// asks of a run it finds, before it reads it whole.
    func isIncomplete(run: Int64) throws(HistoryError) -> Bool

    /// Holds off, until the returned function is called, every other import of the run with
    /// this identity into the history (by any process): two pushes of one run at once would
    /// otherwise each take the other's copy, half written, for an incomplete one. A history
    /// only one process writes at a time need not (the default does nothing).
    func lockImport(uuid: String) throws(HistoryError) -> @Sendable () -> Void

    /// Makes the history complete on disk and closes it. False when the newest writes could
    /// not be made part of the file itself (another process holds an older state open).
    @discardableResult
    func close() -> Bool
}

/// What `importRun` did with a run.
public enum ImportOutcome: Sendable, Equatable {
    /// Recorded.
    case imported
    /// The history had an incomplete copy of it (pushed while it ran, or a push that failed
    /// half way): replaced by this one, which finished or holds more.
    case replaced
    /// The history has it already (by UUID), as complete: left as it is.
    case present
    /// The history held it and pruned it: its hours are in the trend rollups already, and
    /// recording it again would count it twice.
    case pruned
}

extension RunHistory {
    /// Records a run read from elsewhere (`sonde history import`, `push`): its start, its
    /// requests and checks as they were recorded (masked already), and its end, through the
    /// same writing as a run, so that the trend rollups count it. A run the history has
    /// already (by `uuid`) is left as it is, unless the history's copy never finished and
    /// this one finished or holds more requests: that copy is replaced. A run the history
    /// pruned is not recorded again. A run without a UUID gets a new identity.
    public func lockImport(uuid: String) throws(HistoryError) -> @Sendable () -> Void { {} }

    public func importRun(_ run: RunRecord) throws(HistoryError) -> ImportOutcome {
        let unlock = try run.uuid.map { uuid throws(HistoryError) in try lockImport(uuid: uuid) }
        defer { unlock?() }
        var outcome = ImportOutcome.imported
        if let uuid = run.uuid, let existing = try runID(uuid: uuid) {
            // A finished run is left as it is, unread (a push of runs the target has).
            guard try isIncomplete(run: existing) else { return .present }
            // Only a copy of this run: the same collection, environment and start.
            guard let current = try self.run(id: existing), current.finished == nil,
                current.collection == run.collection, current.collectionPath == run.collectionPath, current.environment == run.environment,
                current.started == run.started, run.finished != nil || run.requests.count > current.requests.count,
                try removeIncomplete(run: existing)
            else { return .present }
            outcome = .replaced
        }
        if let uuid = run.uuid, try wasPruned(uuid: uuid) { return .pruned }
        var start = RunStart(
            collection: run.collection, file: run.file, collectionPath: run.collectionPath, contentHash: run.contentHash, environment: run.environment,
            started: run.started, toolVersion: run.toolVersion, gitCommit: run.gitCommit, plannedRequests: run.plannedRequests, selection: run.selection)
        if let uuid = run.uuid { start.uuid = uuid }
        start.origin = run.origin
        // A job URL is masked as recording masks it, however the run was written.
        if let url = start.origin.ci?.jobURL { start.origin.ci?.jobURL = RunOrigin.maskedJobURL(url) }
        let id: Int64
        do {
            id = try begin(start)
        } catch where error.isDuplicateRun {
            // Another import of the same run (a second push at once) recorded it meanwhile.
            return .present
        }
        for request in run.requests { append(request, to: id) }
        if let finished = run.finished, let runOutcome = run.outcome {
            try finish(run: id, outcome: runOutcome, at: finished)
        } else {
            try leaveIncomplete(run: id)
        }
        return outcome
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
    /// `begin` was given a run identity (`RunStart.uuid`) the history has already: another
    /// import of the same run recorded it first.
    public var isDuplicateRun = false

    public init(_ description: String, isUsage: Bool = false) {
        self.description = description
        self.isUsage = isUsage
    }
}
