import Foundation
import SondeCore

/// A collection in one environment: what a trend is of, and what the rollups are keyed by.
struct RunGroup: Hashable {
    var identity: CollectionIdentity
    var environment: String?
}

/// What a trend reads of a history that keeps rollups (SQLite's and PostgreSQL's). Each
/// history answers these queries in its own SQL; `TrendBuilder` is the algorithm, written
/// once, so that both give the same trend from the same runs.
protocol TrendReader {
    /// Every group with a finished run (in the rollups' groups) or an unfinished one, ordered
    /// by name, path and environment (none first).
    func candidateGroups() throws -> [RunGroup]
    /// Whether the group has a run recorded that started at `since` or later.
    func hasRuns(_ group: RunGroup, since: Date?) throws -> Bool
    /// The group's runs that started at `since` or later, newest first (by start, then id),
    /// `limit` at most after skipping `offset`; `oldestFirst` reverses the order.
    func runs(_ group: RunGroup, since: Date?, oldestFirst: Bool, limit: Int, offset: Int) throws -> [Trend.RunPoint]
    /// The requests of these runs per plan step, in the order the latest run lists them, each
    /// named as the latest run names it (`Trend`'s exact samples).
    func samples(ofRuns runs: [Int64]) throws -> (names: [String], samples: [[Trend.Sample]])
    /// Adds to `sums` the group's finished runs from `oldest` (by start, then id) that
    /// started before `before` (seconds since 1970) and whose start `keep` accepts, with
    /// their requests. (Group 0 in the sums: they are not merged anywhere.)
    func sumRuns(_ group: RunGroup, from oldest: Trend.RunPoint, before: Double, keep: (Date) -> Bool, into sums: inout RollupSums) throws
    /// The group's id in the rollups, and when its runs were pruned before (an hour's start).
    func rollupGroup(_ group: RunGroup) throws -> (id: Int64, prunedBefore: Date?)?
    /// The group's run rollups from a quarter on, oldest first.
    func runRollups(group: Int64, fromQuarter: Int) throws -> [RunRollup]
    /// Adds the group's request rollups from an hour on to `requests`, at their points.
    func addRequestRollups(group: Int64, fromHour: Int, _ hours: HourPoints, into requests: inout RequestWindows) throws
    /// The first and last hours the group's rollups hold from an hour on; nil when none.
    func rollupHours(group: Int64, fromHour: Int) throws -> (first: Int, last: Int)?
    /// How many of the group's runs that started from `oldest` on (by start, then id), or at
    /// `since` or later when `oldest` is nil, never finished.
    func unfinishedRuns(_ group: RunGroup, from oldest: Trend.RunPoint?, since: Date?) throws -> Int
    /// The requests of a few runs, as the strips of outcomes need them.
    func recentRequests(runs: [Int64]) throws -> [(step: String, name: String, position: Int, sample: Trend.Sample)]
}

/// A trend from a `TrendReader`. A window of up to `exactRuns` runs is read run by run,
/// request by request, and every figure is exact. A longer window is read from the rollups:
/// its first hour, which is only partly in the window, from its runs, every later hour from
/// the rollups, and its newest runs (`Trend.recentLimit`) one by one for the strips of
/// outcomes. A window that reaches back before the runs were pruned (`sonde history prune`)
/// is read from the rollups too, hours before the prune whole.
enum TrendBuilder {
    /// The groups a filter's trend covers: each with a run in the window, or, pruned, with
    /// rollups there.
    static func groups(_ reader: some TrendReader, among identities: Set<CollectionIdentity>?, environment: String?, since: Date?) throws -> [RunGroup] {
        try reader.candidateGroups().filter { group in
            if let identities, !identities.contains(group.identity) { return false }
            if let environment, group.environment != environment { return false }
            if try reader.hasRuns(group, since: since) { return true }
            guard let rollups = try reader.rollupGroup(group), let pruned = rollups.prunedBefore, (since ?? .distantPast) < pruned else { return false }
            return try reader.rollupHours(group: rollups.id, fromHour: since.map(RequestRollup.hour(of:)) ?? Int.min) != nil
        }
    }

    static func trend(_ reader: some TrendReader, _ group: RunGroup, since: Date?, last: Int?, exactRuns: Int) throws -> Trend {
        let rollups = try reader.rollupGroup(group)
        // A window that holds hours whose runs were pruned: from the rollups.
        if last == nil, let rollups, let pruned = rollups.prunedBefore, (since ?? .distantPast) < pruned,
            let hours = try reader.rollupHours(group: rollups.id, fromHour: since.map(RequestRollup.hour(of:)) ?? Int.min),
            hours.first < RequestRollup.hour(of: pruned)
        {
            return try prunedTrend(reader, group, since: since, rollups: rollups.id)
        }
        // Every run of a short window; of a long one, as many and one more (and the newest
        // runs it shows one by one).
        let limit = min(last ?? Int.max, max(exactRuns + 1, Trend.recentLimit))
        let newest = try reader.runs(group, since: since, oldestFirst: false, limit: limit, offset: 0)
        guard newest.count > exactRuns else {
            let (names, samples) = try reader.samples(ofRuns: newest.map(\.id))
            return Trend(
                collection: group.identity.name, collectionPath: group.identity.path, environment: group.environment, runs: newest.reversed(),
                samples: Array(zip(names, samples)))
        }
        // 1. The window's oldest run: the last of `--last N`, or the first since `--since`.
        let boundary = try last.flatMap { try reader.runs(group, since: since, oldestFirst: false, limit: 1, offset: $0 - 1).first }
        guard let oldest = try boundary ?? reader.runs(group, since: since, oldestFirst: true, limit: 1, offset: 0).first else {
            return Trend(collection: group.identity.name, collectionPath: group.identity.path, environment: group.environment, runs: [], samples: [])
        }
        let firstHour = RequestRollup.hour(of: oldest.started)

        // 2. The first hour, only partly in the window, summed from its finished runs.
        var sums = RollupSums()
        try reader.sumRuns(group, from: oldest, before: bounds(ofHour: firstHour).to, keep: { RequestRollup.hour(of: $0) == firstHour }, into: &sums)

        // 3. Every later hour from the rollups, each request's summed as they are read.
        let hours = HourPoints(first: oldest.started, last: newest.first?.started ?? oldest.started)
        var requests = RequestWindows(points: hours.count)
        for rollup in sums.requests.values { requests.all[requests.index(of: rollup.step)].add(rollup, at: hours.point(ofHour: rollup.hour)) }
        var runRollups = sums.runs.values.sorted { $0.quarter < $1.quarter }
        if let rollups {
            runRollups += try reader.runRollups(group: rollups.id, fromQuarter: (firstHour + 1) * 4)
            try reader.addRequestRollups(group: rollups.id, fromHour: firstHour + 1, hours, into: &requests)
        }
        let unfinished = try reader.unfinishedRuns(group, from: oldest, since: nil)
        return try finish(
            reader, group, runCount: runRollups.reduce(0) { $0 + $1.runs } + unfinished, first: oldest.started, last: nil, newest: newest, runRollups, hours,
            requests)
    }

    /// A window that reaches back before the group's runs were pruned: every hour from the
    /// rollups, the window's first hour whole.
    private static func prunedTrend(_ reader: some TrendReader, _ group: RunGroup, since: Date?, rollups: Int64) throws -> Trend {
        let newest = try reader.runs(group, since: since, oldestFirst: false, limit: Trend.recentLimit, offset: 0)
        let fromHour = since.map(RequestRollup.hour(of:)) ?? Int.min
        let span = try reader.rollupHours(group: rollups, fromHour: fromHour)
        guard let firstHour = span?.first ?? newest.last.map({ RequestRollup.hour(of: $0.started) }) else {
            return Trend(collection: group.identity.name, collectionPath: group.identity.path, environment: group.environment, runs: [], samples: [])
        }
        // (The first hour counts whole: the window starts with it, whatever `since` says.)
        let first = RequestRollup.start(ofHour: firstHour)
        let runRollups = try reader.runRollups(group: rollups, fromQuarter: firstHour * 4)
        let last = newest.first?.started ?? runRollups.last?.start ?? span.map { RequestRollup.start(ofHour: $0.last) } ?? first
        let hours = HourPoints(first: first, last: max(first, last))
        var requests = RequestWindows(points: hours.count)
        try reader.addRequestRollups(group: rollups, fromHour: firstHour, hours, into: &requests)
        let unfinished = try reader.unfinishedRuns(group, from: nil, since: since)
        return try finish(
            reader, group, runCount: runRollups.reduce(0) { $0 + $1.runs } + unfinished, first: first, last: last, newest: newest, runRollups, hours, requests)
    }

    /// 4. The newest runs one by one, and their requests, for the strips of outcomes; 5. the
    /// requests in the order the newest run lists them.
    private static func finish(
        _ reader: some TrendReader, _ group: RunGroup, runCount: Int, first: Date, last: Date?, newest: [Trend.RunPoint], _ runRollups: [RunRollup],
        _ hours: HourPoints, _ windows: RequestWindows
    ) throws -> Trend {
        var requests = windows
        let recent = Array(newest.prefix(Trend.recentLimit).reversed())
        for request in try reader.recentRequests(runs: recent.map(\.id)) {
            let index = requests.index(of: request.step)
            requests.all[index].see(name: request.name, run: request.sample.runID, position: request.position)
            requests.recent[index].append(request.sample)
        }
        let ordered = requests.all.indices.sorted {
            (requests.all[$0].newestRun, -requests.all[$0].position) > (requests.all[$1].newestRun, -requests.all[$1].position)
        }
        return Trend(
            collection: group.identity.name, collectionPath: group.identity.path, environment: group.environment, runCount: runCount, first: first,
            last: last, recentRuns: recent, runRollups: runRollups, hours: hours, requests: ordered.map { (requests.all[$0], requests.recent[$0]) })
    }

    /// Seconds that surely hold every run of an hour, a second more each way: which of them
    /// belong to it is `RequestRollup.hour(of:)`'s answer, not the floating point's.
    static func bounds(ofHour hour: Int) -> (from: Double, to: Double) {
        (Double(hour) * 3600 - 1, Double(hour + 1) * 3600 + 1)
    }
}
