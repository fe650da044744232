import Foundation
import SondeCore

/// The history kept in memory, for unit tests and for runs that need a history but no file.
/// It keeps what `SQLiteHistory` keeps (no exchange headers or bodies) and answers every
/// query as it does: the contract tests run against both.
public final class InMemoryHistory: RunHistory, @unchecked Sendable {
    private let lock = NSLock()
    /// Oldest first, by id.
    private var records: [RunRecord] = []
    private var nextID: Int64 = 1
    /// The identities of the runs pruned.
    private var prunedRuns: Set<String> = []

    public init() {}

    public var location: String { "memory" }

    private func locked<T>(_ body: () throws(HistoryError) -> T) throws(HistoryError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    private func index(of run: Int64) -> Int? { records.firstIndex { $0.id == run } }

    public func begin(_ start: RunStart) throws(HistoryError) -> Int64 {
        try locked { () throws(HistoryError) -> Int64 in
            if records.contains(where: { $0.uuid == start.uuid }) {
                var duplicate = HistoryError("memory has run \(start.uuid) already")
                duplicate.isDuplicateRun = true
                throw duplicate
            }
            let id = nextID
            nextID += 1
            var record = RunRecord(
                id: id, collection: start.collection, file: start.file, collectionPath: start.collectionPath, contentHash: start.contentHash,
                environment: start.environment, started: start.started, finished: nil, toolVersion: start.toolVersion, gitCommit: start.gitCommit,
                outcome: nil, plannedRequests: start.plannedRequests)
            record.selection = start.selection
            record.uuid = start.uuid
            record.origin = start.origin
            records.append(record)
            return id
        }
    }

    public func append(_ result: RequestResult, to run: Int64) {
        lock.lock()
        defer { lock.unlock() }
        guard let index = index(of: run) else { return }
        var recorded = result.recorded(withShape: true)
        recorded.shape = recorded.shape
        records[index].requests.append(recorded)
        switch result.outcome {
        case .passed: records[index].passed += 1
        case .failed: records[index].failed += 1
        case .error: records[index].errored += 1
        case .skipped: records[index].skipped += 1
        }
    }

    /// The `positionsBelow` of each `redact` call, in order: how much was masked again.
    public var redactionLimits: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return redactions
    }
    private var redactions: [Int] = []

    public func redact(run: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError) {
        try locked { () throws(HistoryError) in
            redactions.append(limit)
            guard let index = index(of: run) else { return }
            let masked = records[index].redacted(with: redactor, bodyHashes: bodyHashes.filter { $0.key < limit })
            for (position, request) in masked.requests.enumerated() where request.position < limit {
                records[index].requests[position] = request
            }
        }
    }

    public func finish(run: Int64, outcome: Outcome, at finished: Date) throws(HistoryError) {
        try locked { () throws(HistoryError) in
            guard let index = index(of: run) else { throw HistoryError("no run #\(run) to finish") }
            records[index].outcome = outcome
            records[index].finished = finished
        }
    }

    public func leaveIncomplete(run: Int64) throws(HistoryError) {
        try locked { () throws(HistoryError) in
            guard index(of: run) != nil else { throw HistoryError("no run #\(run) to leave incomplete") }
        }
    }

    public func flush() {}

    @discardableResult
    public func close() -> Bool { true }

    /// Newest first: by start, then by id.
    private static func newestFirst(_ a: RunRecord, _ b: RunRecord) -> Bool { (a.started, a.id) > (b.started, b.id) }

    private func identities() -> [CollectionIdentity] {
        Array(Set(records.map { CollectionIdentity(name: $0.collection, path: $0.collectionPath) }))
    }

    /// The runs a filter matches (all of its window), newest first.
    private func matching(_ filter: RunFilter) throws(HistoryError) -> [RunRecord] {
        var selected = records
        if let collection = filter.collection {
            let matched = Set(try CollectionIdentity.matching(collection, among: identities()))
            selected = selected.filter { matched.contains(CollectionIdentity(name: $0.collection, path: $0.collectionPath)) }
        }
        if let environment = filter.environment { selected = selected.filter { $0.environment == environment } }
        if let since = filter.since { selected = selected.filter { $0.started >= since } }
        return selected.sorted(by: Self.newestFirst)
    }

    public func runs(_ filter: RunFilter) throws(HistoryError) -> [RunRecord] {
        try locked { () throws(HistoryError) -> [RunRecord] in
            let runs = try matching(filter).map { run -> RunRecord in
                var listed = run
                listed.requests = []
                return listed
            }
            return filter.last.map { Array(runs.prefix($0)) } ?? runs
        }
    }

    public func run(id: Int64) throws(HistoryError) -> RunRecord? {
        try locked { () throws(HistoryError) -> RunRecord? in index(of: id).map { records[$0] } }
    }

    /// Removes the runs, as the others do; this history keeps no rollups, so its trends do
    /// not reach back before the cutoff.
    public func prune(startedBefore cutoff: Date, _ filter: RunFilter) throws(HistoryError) -> Int {
        let limit = RequestRollup.start(ofHour: RequestRollup.hour(of: cutoff))
        return try locked { () throws(HistoryError) -> Int in
            let pruned = try matching(RunFilter(collection: filter.collection, environment: filter.environment)).filter { $0.started < limit && $0.finished != nil }
            for run in pruned { if let uuid = run.uuid { prunedRuns.insert(uuid) } }
            let gone = Set(pruned.map(\.id))
            records.removeAll { gone.contains($0.id) }
            return gone.count
        }
    }

    public func wasPruned(uuid: String) throws(HistoryError) -> Bool {
        try locked { prunedRuns.contains(uuid) }
    }

    public func isIncomplete(run: Int64) throws(HistoryError) -> Bool {
        try locked { index(of: run).map { records[$0].finished == nil } ?? false }
    }

    public func removeIncomplete(run: Int64) throws(HistoryError) -> Bool {
        try locked {
            guard let index = index(of: run), records[index].finished == nil else { return false }
            records.remove(at: index)
            return true
        }
    }

    public func runID(uuid: String) throws(HistoryError) -> Int64? {
        try locked { () throws(HistoryError) -> Int64? in records.first { $0.uuid == uuid }?.id }
    }

    public func previousRun(before run: RunRecord) throws(HistoryError) -> RunRecord? {
        try locked { () throws(HistoryError) -> RunRecord? in previous(before: run) }
    }

    /// As the SQLite history: the last complete run before `run`, a whole one when `run` is.
    private func previous(before run: RunRecord) -> RunRecord? {
        let earlier = records.filter {
            $0.isSameCollection(as: run) && $0.environment == run.environment && $0.isComplete && $0.id != run.id
                && ($0.started < run.started || ($0.started == run.started && $0.id < run.id))
        }
        let whole = run.selection == nil ? earlier.filter { $0.selection == nil } : []
        return (whole.isEmpty ? earlier : whole).max { Self.newestFirst($1, $0) }
    }

    /// The collections and environments of the runs, in the SQLite history's order.
    private static func groups(_ runs: [RunRecord]) -> [(identity: CollectionIdentity, environment: String?)] {
        var seen = Set<String>()
        var groups: [(identity: CollectionIdentity, environment: String?)] = []
        for run in runs {
            let identity = "\(run.collection)\u{0}\(run.collectionPath)\u{0}\(run.environment ?? "\u{1}")"
            if seen.insert(identity).inserted { groups.append((CollectionIdentity(name: run.collection, path: run.collectionPath), run.environment)) }
        }
        // As SQL orders them: name, path, then environment with none first.
        func key(_ group: (identity: CollectionIdentity, environment: String?)) -> (String, String, Int, String) {
            (group.identity.name, group.identity.path, group.environment == nil ? 0 : 1, group.environment ?? "")
        }
        return groups.sorted { key($0) < key($1) }
    }

    private func runs(of group: (identity: CollectionIdentity, environment: String?)) -> [RunRecord] {
        records.filter { $0.collection == group.identity.name && $0.collectionPath == group.identity.path && $0.environment == group.environment }
            .sorted(by: Self.newestFirst)
    }

    public func latestRuns(_ filter: RunFilter) throws(HistoryError) -> [[RunRecord]] {
        try locked { () throws(HistoryError) -> [[RunRecord]] in
            Self.groups(try matching(filter)).map { group in
                guard let newest = runs(of: group).first(where: \.isComplete) else { return [] }
                return previous(before: newest).map { [$0, newest] } ?? [newest]
            }.filter { !$0.isEmpty }
        }
    }

    public func trends(_ filter: RunFilter) throws(HistoryError) -> [Trend] {
        try locked { () throws(HistoryError) -> [Trend] in
            Self.groups(try matching(filter)).map { group in
                var window = runs(of: group)
                if let since = filter.since { window = window.filter { $0.started >= since } }
                if let last = filter.last { window = Array(window.prefix(last)) }
                let oldestFirst = Array(window.reversed())
                let points = oldestFirst.map { Trend.RunPoint(id: $0.id, started: $0.started, outcome: $0.outcome, place: $0.origin.ci?.provider ?? $0.origin.host) }
                // Per step, in the order the newest run lists them, named as it names them.
                var order: [String] = []
                var names: [String: String] = [:]
                var samples: [String: [Trend.Sample]] = [:]
                for run in oldestFirst {
                    for request in run.requests {
                        samples[request.step, default: []].append(Trend.Sample(runID: run.id, outcome: request.outcome, duration: request.duration))
                    }
                }
                var latest: [String: (run: Int64, position: Int)] = [:]
                for run in oldestFirst {
                    for request in run.requests {
                        latest[request.step] = (run.id, request.position)
                        names[request.step] = request.name
                    }
                }
                order = latest.keys.sorted { (latest[$0]!.run, -latest[$0]!.position) > (latest[$1]!.run, -latest[$1]!.position) }
                return Trend(
                    collection: group.identity.name, collectionPath: group.identity.path, environment: group.environment, runs: points,
                    samples: order.map { (names[$0] ?? $0, samples[$0] ?? []) })
            }
        }
    }

    public func collections() throws(HistoryError) -> [CollectionIdentity] {
        try locked { () throws(HistoryError) -> [CollectionIdentity] in identities().sorted { ($0.path, $0.name) < ($1.path, $1.name) } }
    }
}
