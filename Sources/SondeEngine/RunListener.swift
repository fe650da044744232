import SondeCore

/// Told of a session's progress as it happens, on the thread of the collection concerned
/// (several at once with `jobs` > 1): the terminal, a service's metrics. A listener must
/// not block for long; it is never told anything after `run()` returns.
public protocol RunListener: AnyObject, Sendable {
    /// A collection is about to send its first request.
    func collectionStarted(_ collection: SessionCollection)
    /// A step is about to be sent (or skipped), `position` from 0.
    func requestStarted(_ collection: SessionCollection, position: Int, name: String)
    /// A step's result, in order, redacted.
    func requestFinished(_ collection: SessionCollection, _ result: RequestResult)
    /// A collection has ended (or was cancelled), and is recorded as far as it went.
    func collectionFinished(_ collection: SessionCollection, _ outcome: CollectionOutcome)
}

extension RunListener {
    public func collectionStarted(_ collection: SessionCollection) {}
    public func requestStarted(_ collection: SessionCollection, position: Int, name: String) {}
    public func requestFinished(_ collection: SessionCollection, _ result: RequestResult) {}
    public func collectionFinished(_ collection: SessionCollection, _ outcome: CollectionOutcome) {}
}

/// Which collection of a session an event is about.
public struct SessionCollection: Sendable {
    /// Its place among the session's collections, from 0.
    public var index: Int
    public var name: String
    public var file: String
    /// How many steps its plan has.
    public var steps: Int
    /// How many of them are loops (`for_each`, `repeat: N`): one result each per item, so
    /// the run has more results than steps.
    public var loops: Int = 0
}

/// How one collection of a session ended.
public struct CollectionOutcome: Sendable {
    public var collection: SessionCollection
    /// The runner's result; nil when the collection could not start (no transport, no history).
    public var result: RunResult?
    /// Its id in the history; nil when not recorded.
    public var runID: Int64?
    /// With `compare`: the diff against the previous run, or why there is none.
    public var comparison: Comparison?
    /// The run as recorded (or, unrecorded, as it would be), for report files; only with
    /// `keepRecords`, and only once the session has ended.
    public var record: RunRecord?
    /// Why it could not be run or recorded (the run itself may have gone through).
    public var failure: SessionFailure?

    public enum Comparison: Sendable {
        case diff(RunDiff)
        /// No earlier complete run of the collection in the same environment.
        case firstRun
    }

    /// Whether it ran to its end and every request passed or was skipped.
    public var passed: Bool { failure == nil && result?.cancelled == false && result?.outcome == .passed }
}

/// What kept a collection from running or being recorded.
public enum SessionFailure: Error, Sendable, CustomStringConvertible {
    /// The history could not be written or read back.
    case history(HistoryError)
    /// The transport could not be made (libcurl could not start).
    case transport(String)

    public var description: String {
        switch self {
        case .history(let error): error.description
        case .transport(let message): message
        }
    }
}
