import Dispatch
import Foundation
import SondeCore
import SondeRunner
import SondeSpec
import SondeStore

/// A collection ready to run: as loaded (variables, secrets), its plan, and its text's hash.
public struct PlannedCollection: Sendable {
    /// As loaded, less what the plan holds (`spec.requests`) and the text (`contentHash`):
    /// a collection of 20,000 requests is not held twice, nor its megabytes of text.
    public var loaded: LoadedCollection
    public var plan: RunPlan
    /// SHA-256 of the collection file's text, hex: what the history compares (`RunStart.contentHash`).
    public var contentHash: String

    /// The plan of one step per request.
    public init(_ loaded: LoadedCollection) {
        self.init(loaded, plan: RunPlan(loaded.spec))
    }

    public init(_ loaded: LoadedCollection, plan: RunPlan) {
        var loaded = loaded
        contentHash = Digest.sha256(loaded.includedText.isEmpty ? loaded.text : loaded.text + loaded.includedText)
        loaded.spec.requests = []
        loaded.text = ""
        loaded.includedText = ""
        self.loaded = loaded
        self.plan = plan
    }
}

/// One `sonde run` (or one round of a service): runs collections `jobs` at a time, each on
/// its own thread and transport and in order, records each in the history as it goes, and
/// tells listeners. Secrets are shared across the collections: what one learns is masked in
/// all, including in what was recorded before it was learned. `cancel()` stops every
/// collection between steps and the transfers on the wire; what finished stays recorded,
/// and the runs stay incomplete.
public final class RunSession: @unchecked Sendable {
    public struct Options: Sendable {
        /// How many collections run at once.
        public var jobs: Int
        /// Stop a collection at its first failure.
        public var failFast: Bool
        /// Keep headers and bodies in the results, for -v and -vv.
        public var keepExchanges: Bool
        /// Make each collection's `RunRecord` for report files (read back from the history
        /// when recorded).
        public var keepRecords: Bool
        /// Compare each run with the previous one, with these thresholds.
        public var compare: RunDiff.Thresholds?
        /// The version recorded with each run.
        public var toolVersion: String
        /// Values secret in every collection (a proxy's credentials).
        public var secrets: [JSONValue]
        /// Write each request as a curl command line, with these arguments added (`Runner.Options`).
        public var curlArguments: [String]?
        /// The authentication of requests without an `auth` of their own (`--netrc`).
        public var defaultAuth: TransportAuth?
        /// Where the runs run (host, user, CI job), recorded with each.
        public var origin = RunOrigin()

        public init(
            jobs: Int = 1, failFast: Bool = false, keepExchanges: Bool = false, keepRecords: Bool = false, compare: RunDiff.Thresholds? = nil,
            toolVersion: String, secrets: [JSONValue] = [], curlArguments: [String]? = nil
        ) {
            self.curlArguments = curlArguments
            self.jobs = jobs
            self.failFast = failFast
            self.keepExchanges = keepExchanges
            self.keepRecords = keepRecords
            self.compare = compare
            self.toolVersion = toolVersion
            self.secrets = secrets
        }
    }

    /// Makes a collection's transport, on that collection's thread.
    public typealias TransportFactory = @Sendable (Cancellation) throws -> any HTTPTransport

    public let collections: [PlannedCollection]
    public let history: (any RunHistory)?
    public let options: Options
    let makeTransport: TransportFactory
    let clock: RunClock
    private let cancellation = Cancellation()
    private let lock = NSLock()
    private var listeners: [any RunListener] = []
    /// Every secret the session knows (set when `run` begins), and a redactor of them, kept
    /// while their number is the same.
    private var shared: SharedSecrets?
    private var sharedRedactor: (count: Int, redactor: Redactor) = (0, Redactor())

    public init(
        collections: [PlannedCollection], history: (any RunHistory)?, options: Options, clock: RunClock = .system,
        makeTransport: @escaping TransportFactory
    ) {
        self.collections = collections
        self.history = history
        self.options = options
        self.clock = clock
        self.makeTransport = makeTransport
    }

    public func add(_ listener: any RunListener) {
        lock.lock()
        defer { lock.unlock() }
        listeners.append(listener)
    }

    private var currentListeners: [any RunListener] {
        lock.lock()
        defer { lock.unlock() }
        return listeners
    }

    /// Stops the session: safe from any thread (a signal handler's queue), at any time.
    public func cancel() { cancellation.cancel() }

    public var isCancelled: Bool { cancellation.isCancelled }

    /// How many secret values the session knows now (they only grow).
    public var secretsKnown: Int {
        lock.lock()
        let shared = shared
        lock.unlock()
        return shared?.count ?? 0
    }

    /// `text` with every secret the session knows now masked: for lines made before a
    /// secret was learned and not shown yet (held while several collections run, or
    /// gathered for a pipe).
    public func maskKnownSecrets(_ text: String) -> String {
        lock.lock()
        defer { lock.unlock() }
        guard let shared else { return text }
        let values = shared.values
        if values.count != sharedRedactor.count {
            var redactor = Redactor()
            for value in values { redactor.add(leavesOf: value) }
            sharedRedactor = (values.count, redactor)
        }
        return sharedRedactor.redactor.redact(text)
    }

    /// How the session ended.
    public struct Outcome: Sendable {
        /// One per collection, in the order given (those never started have no result).
        public var collections: [CollectionOutcome]
        /// Whether `cancel()` stopped it.
        public var cancelled: Bool
        /// A failure of the history after the runs (masking them again, reading them back).
        public var failure: SessionFailure?
    }

    /// A collection's runner once it has ended, and how many shared secrets it had masked.
    private struct FinishedRun: @unchecked Sendable {
        let runner: Runner
        let sharedCount: Int
    }

    /// Runs every collection; returns when all have ended (or were cancelled).
    public func run() -> Outcome {
        let sharedSecrets = SharedSecrets(collections.flatMap { $0.loaded.declaredSecretValues() } + options.secrets)
        lock.lock()
        shared = sharedSecrets
        lock.unlock()
        let outcomes = Slots<CollectionOutcome>(count: collections.count)
        let finishedRuns = Slots<FinishedRun>(count: collections.count)
        let semaphore = DispatchSemaphore(value: max(1, options.jobs))
        let group = DispatchGroup()
        for (index, planned) in collections.enumerated() {
            semaphore.wait()
            if cancellation.isCancelled {
                semaphore.signal()
                break
            }
            group.enter()
            let thread = Thread {
                defer {
                    semaphore.signal()
                    group.leave()
                }
                let (outcome, finished) = self.runOne(planned, index: index, sharedSecrets)
                outcomes[index] = outcome
                if let finished { finishedRuns[index] = finished }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        var result = Outcome(
            collections: collections.indices.map { index in
                outcomes[index] ?? CollectionOutcome(collection: Self.describe(collections[index], index: index))
            }, cancelled: cancellation.isCancelled, failure: nil)
        do throws(HistoryError) {
            try remaskEarlyFinishers(&result, finishedRuns.values, sharedSecrets.values)
            if options.keepRecords, let history {
                for index in result.collections.indices {
                    // (A run that could not be recorded has its record as it ran already.)
                    guard let runID = result.collections[index].runID, result.collections[index].record == nil else { continue }
                    if let record = try history.run(id: runID) { result.collections[index].record = record }
                }
            }
        } catch {
            result.failure = .history(error)
        }
        return result
    }

    static func describe(_ planned: PlannedCollection, index: Int) -> SessionCollection {
        SessionCollection(
            index: index, name: planned.plan.collection.name, file: planned.plan.collection.file, steps: planned.plan.steps.count,
            loops: planned.plan.steps.filter { $0.request.loop != nil }.count)
    }

    /// What the history records before the first request.
    func start(_ planned: PlannedCollection) -> RunStart {
        let spec = planned.plan.collection
        var start = RunStart(
            collection: spec.name, file: spec.file, collectionPath: CollectionPath.of(file: spec.file), contentHash: planned.contentHash,
            environment: planned.loaded.environmentName, started: clock.now(), toolVersion: options.toolVersion,
            gitCommit: GitCommit.head(containing: spec.file), plannedRequests: planned.plan.steps.count,
            selection: planned.plan.selection.isEmpty ? nil : planned.plan.selection.joined(separator: " "))
        start.origin = options.origin
        return start
    }

    /// One collection, on its own thread.
    private func runOne(_ planned: PlannedCollection, index: Int, _ sharedSecrets: SharedSecrets) -> (CollectionOutcome, FinishedRun?) {
        var collection = Self.describe(planned, index: index)
        var outcome = CollectionOutcome(collection: collection)
        let listeners = currentListeners
        let transport: any HTTPTransport
        do {
            transport = try makeTransport(cancellation)
        } catch {
            outcome.failure = .transport("\(error)")
            for listener in listeners { listener.collectionFinished(collection, outcome) }
            return (outcome, nil)
        }
        let runner = Runner(
            plan: planned.plan, scope: planned.loaded.makeScope(), secrets: planned.loaded.secrets, transport: transport,
            environmentName: planned.loaded.environmentName,
            options: Runner.Options(
                failFast: options.failFast, keepExchanges: options.keepExchanges,
                // Reports of an unsaved run are made from the results; otherwise from the
                // history, unless it fails (a server gone mid-run): then from the results too.
                keepDetails: options.keepRecords, curlArguments: options.curlArguments, records: history != nil || options.keepRecords,
                defaultAuth: options.defaultAuth),
            clock: clock, cancellation: cancellation)
        // Secrets this run knows: its own, and those of the other collections, pulled before
        // each request. What was recorded before one became known is masked again at once.
        var (shared, sharedCount) = sharedSecrets.values(after: 0)
        runner.mask(shared)
        var remaskedBelow = 0
        // A collection's name is its file's text, but a secret's value may stand in it.
        collection.name = runner.currentRedactor.redact(collection.name)
        outcome.collection = collection
        var start = start(planned)
        start.collection = collection.name
        var runID: Int64?
        if let history {
            do throws(HistoryError) {
                runID = try history.begin(start)
            } catch {
                outcome.failure = .history(HistoryError("'\(collection.name)' was not run, as it could not be recorded: \(error.description)", isUsage: error.isUsage))
                for listener in listeners { listener.collectionFinished(collection, outcome) }
                return (outcome, nil)
            }
        }
        outcome.runID = runID
        for listener in listeners { listener.collectionStarted(collection) }
        /// Masks what was recorded below `limit` with every secret known now.
        func remask(below limit: Int) {
            guard limit > remaskedBelow || limit == Int.max else { return }
            remaskedBelow = max(remaskedBelow, limit)
            guard let history, let runID else { return }
            try? history.redact(run: runID, positionsBelow: limit, with: runner.currentRedactor, bodyHashes: runner.rehashedBodies(below: limit))
        }
        // Secrets another collection learned are masked before the next step is rendered (its
        // URL and name hold them masked); what was recorded before it is masked again when its
        // start event comes, behind the results of the steps before it.
        var learnedElsewhere = false
        runner.beforeEachRequest = { [unowned runner] in
            (shared, sharedCount) = sharedSecrets.values(after: sharedCount, besides: runner.secretValues)
            if !shared.isEmpty {
                runner.mask(shared)
                learnedElsewhere = true
            }
        }
        let result = runner.run { event in
            switch event {
            case .requestStarted(let position, let name):
                if learnedElsewhere {
                    learnedElsewhere = false
                    remaskedBelow = 0
                    remask(below: position)
                }
                for listener in listeners { listener.requestStarted(collection, position: position, name: name) }
            case .requestFinished(let request):
                if let history, let runID { history.append(request, to: runID) }
                // A secret captured by this request may stand in what was recorded before it,
                // and in this request's own record (its URL, its verdicts): both are masked again.
                if let learned = runner.requestOfLatestSecret, learned + 1 > remaskedBelow {
                    sharedSecrets.add(runner.secretValues)
                    remask(below: learned + 1)
                }
                for listener in listeners { listener.requestFinished(collection, request) }
            }
        }
        // Secrets another collection learned while this one ran (its own are masked already).
        (shared, sharedCount) = sharedSecrets.add(own: runner.secretValues, after: sharedCount)
        if !shared.isEmpty {
            runner.mask(shared)
            remask(below: Int.max)
        }
        outcome.result = result
        let finished = FinishedRun(runner: runner, sharedCount: sharedCount)
        if result.cancelled {
            // Left incomplete, with every request it finished stored (or the reason it could not be).
            if let history, let runID {
                do throws(HistoryError) { try history.leaveIncomplete(run: runID) } catch {
                    outcome.failure = .history(HistoryError(
                        "run #\(runID) of '\(collection.name)' is incomplete in the history, and some of the requests it finished may be missing: \(error.description)"))
                }
            }
        } else if let history, let runID {
            do throws(HistoryError) {
                try history.finish(run: runID, outcome: result.outcome, at: result.finished)
                if let thresholds = options.compare, let recorded = try history.run(id: runID) {
                    outcome.comparison = try HistoryQueries(history).comparison(of: recorded, thresholds: thresholds)
                }
            } catch {
                outcome.failure = .history(HistoryError(
                    "run #\(runID) of '\(collection.name)' could not be recorded whole (it stays incomplete in the history, some requests may be missing): \(error.description)"))
                // The reports still tell the run whole, as it ran.
                if options.keepRecords {
                    outcome.record = start.record(of: result, id: runID).redacted(with: runner.currentRedactor, bodyHashes: runner.rehashedBodies(below: Int.max))
                }
            }
        }
        // Reports are made from the run as recorded (read back once every collection has
        // ended), or, unrecorded, as it would be.
        // Masked with every secret the run came to know, a capture's among them.
        if options.keepRecords && history == nil {
            outcome.record = start.record(of: result).redacted(with: runner.currentRedactor, bodyHashes: runner.rehashedBodies(below: Int.max))
        }
        for listener in listeners { listener.collectionFinished(collection, outcome) }
        return (outcome, finished)
    }

    /// A collection that ended before another learned a secret is masked again, whole.
    private func remaskEarlyFinishers(_ result: inout Outcome, _ finishedRuns: [FinishedRun?], _ allSecrets: [JSONValue]) throws(HistoryError) {
        for (index, finished) in finishedRuns.enumerated() {
            guard let finished, finished.sharedCount < allSecrets.count else { continue }
            finished.runner.mask(allSecrets)
            let bodyHashes = finished.runner.rehashedBodies(below: Int.max)
            if let runID = result.collections[index].runID, let history {
                try history.redact(run: runID, positionsBelow: Int.max, with: finished.runner.currentRedactor, bodyHashes: bodyHashes)
            } else if let record = result.collections[index].record {
                result.collections[index].record = record.redacted(with: finished.runner.currentRedactor, bodyHashes: bodyHashes)
            }
        }
    }
}
