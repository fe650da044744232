import Foundation

/// Health over many runs of a collection: per request the success rate and latency
/// percentiles, per collection the pass rate over time.
///
/// A trend is made one of two ways, with the same members. A short window is read run by run
/// (`init(…runs:samples:)`): every figure is exact. A long one is read from the history's
/// rollups, per hour (`init(…runRollups:requests:)`): counts, the longest and the mean latency
/// are exact, p50 and p95 come from histograms, within `LatencyHistogram.relativeError`
/// (`percentiles` says which). Either way the requests counted are those of finished runs: an
/// incomplete run (stopped half way) counts among the runs and shows in the outcomes, but what
/// it sent is not part of success rates or latencies.
public struct Trend: Sendable {
    /// One request of one run, as much as a trend needs.
    public struct Sample: Sendable {
        public var runID: Int64
        public var outcome: Outcome
        /// The whole exchange; nil where no response came.
        public var duration: Duration?

        public init(runID: Int64, outcome: Outcome, duration: Duration?) {
            self.runID = runID
            self.outcome = outcome
            self.duration = duration
        }
    }

    /// One run, as much as a trend needs.
    public struct RunPoint: Sendable, Equatable {
        public var id: Int64
        public var started: Date
        public var outcome: Outcome?
        /// Where it ran, in a word: its CI provider, else its host (`RunOrigin`).
        public var place: String?

        public init(id: Int64, started: Date, outcome: Outcome?, place: String? = nil) {
            self.id = id
            self.started = started
            self.outcome = outcome
            self.place = place
        }
    }

    /// A point of a request's latency over the window: the p50 and p95 of the responses of a
    /// group of runs (a window read run by run) or of a stretch of hours (one read from rollups).
    public struct LatencyPoint: Sendable, Equatable {
        public enum Span: Sendable, Equatable {
            /// Runs from `first` to `last` (ids), `count` of them.
            case runs(first: Int64, last: Int64, count: Int)
            /// `count` hours from `start`.
            case hours(start: Date, count: Int)

            /// How many runs, or hours.
            public var count: Int {
                switch self {
                case .runs(_, _, let count), .hours(_, let count): count
                }
            }

            public var isHours: Bool {
                if case .hours = self { true } else { false }
            }
        }

        public var span: Span
        /// Responses in the point: none, and p50 and p95 are nil.
        public var responses: Int
        public var p50: Duration?
        public var p95: Duration?
    }

    public struct RequestTrend: Sendable {
        public var name: String
        /// How it ended in finished runs.
        public var outcomes: OutcomeCounts
        public var p50: Duration?
        public var p95: Duration?
        public var max: Duration?
        public var mean: Duration?
        /// The latency over the window, oldest first, at most `Trend.latencyPoints` points.
        public var latency: [LatencyPoint]
        /// The outcome in each of the trend's `recentRuns`, nil where the request was not in that run.
        public var recentOutcomes: [Outcome?]

        /// Finished runs in which the request was sent (not skipped).
        public var runs: Int { outcomes.sent }
        public var passed: Int { outcomes.passed }
        public var failed: Int { outcomes.failed }
        public var errored: Int { outcomes.errored }
        public var skipped: Int { outcomes.skipped }
        /// Passed over sent; nil when it was never sent.
        public var successRate: Double? { runs == 0 ? nil : Double(passed) / Double(runs) }
    }

    /// The pass rate of one day's finished runs.
    public struct Day: Sendable, Equatable {
        public var start: Date
        public var runs: Int
        public var passed: Int

        public var passRate: Double { runs == 0 ? 0 : Double(passed) / Double(runs) }
    }

    /// How p50 and p95 were found.
    public enum Percentiles: Sendable {
        /// Nearest-rank over every latency in the window.
        case exact
        /// From the rollups' histograms: within `LatencyHistogram.relativeError` of the exact value.
        case estimated
    }

    /// How many of the newest runs a trend keeps one by one (`recentRuns`): what strips of outcomes show.
    public static let recentLimit = 200
    /// How many points a request's latency has at most.
    public static let latencyPoints = 40

    public var collection: String
    /// The collection file's path (`RunRecord.collectionPath`): with `collection`, which collection.
    public var collectionPath: String
    public var environment: String?
    /// Runs in the window, finished or not.
    public var runCount: Int
    public var finishedRuns: Int
    public var passedRuns: Int
    /// When the oldest run of the window started.
    public var first: Date?
    /// The newest runs of the window, at most `recentLimit`, oldest first.
    public var recentRuns: [RunPoint]
    public var requests: [RequestTrend]
    public var days: [Day]
    /// The 95th percentile of every latency of every request in the window.
    public var latencyP95: Duration?
    public var percentiles: Percentiles

    /// When the newest run of the window started (of a window whose runs were all pruned,
    /// the start of its newest quarter hour in the rollups).
    public var last: Date?
    public var isEmpty: Bool { runCount == 0 }
    public var incompleteRuns: Int { runCount - finishedRuns }
    public var passRate: Double? { finishedRuns == 0 ? nil : Double(passedRuns) / Double(finishedRuns) }

    /// A trend of every run of a window, read one by one: exact.
    /// - Parameters:
    ///   - runs: the runs, oldest first.
    ///   - samples: per request name, in the order the collection lists them, one sample per run it appeared in.
    public init(
        collection: String, collectionPath: String = "", environment: String?, runs: [RunPoint], samples: [(name: String, samples: [Sample])],
        calendar: Calendar = .current
    ) {
        self.collection = collection
        self.collectionPath = collectionPath
        self.environment = environment
        runCount = runs.count
        finishedRuns = runs.filter { $0.outcome != nil }.count
        passedRuns = runs.filter { $0.outcome == .passed }.count
        first = runs.first?.started
        last = runs.last?.started
        recentRuns = Array(runs.suffix(Self.recentLimit))
        percentiles = .exact
        let order = Dictionary(runs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        let recentStart = runs.count - recentRuns.count
        var every: [Double] = []
        requests = samples.map { name, samples in
            var counts = OutcomeCounts()
            var latencies = [Duration?](repeating: nil, count: runs.count)
            var outcomes = [Outcome?](repeating: nil, count: runs.count - recentStart)
            var seconds: [Double] = []
            var sum = Duration.zero
            var longest: Duration?
            for sample in samples {
                guard let index = order[sample.runID] else { continue }
                if index >= recentStart { outcomes[index - recentStart] = sample.outcome }
                guard runs[index].outcome != nil else { continue }
                counts.add(sample.outcome)
                guard sample.outcome != .skipped, let duration = sample.duration else { continue }
                latencies[index] = duration
                seconds.append(duration.inSeconds)
                sum += duration
                longest = Swift.max(longest ?? duration, duration)
            }
            every += seconds
            return RequestTrend(
                name: name, outcomes: counts, p50: Self.percentile(selectingIn: &seconds, 0.50).map(Duration.fromSeconds),
                p95: Self.percentile(selectingIn: &seconds, 0.95).map(Duration.fromSeconds), max: longest, mean: seconds.isEmpty ? nil : sum / seconds.count,
                latency: Self.points(over: runs, latencies: latencies), recentOutcomes: outcomes)
        }
        latencyP95 = Self.percentile(selectingIn: &every, 0.95).map(Duration.fromSeconds)
        days = Self.days(runs.compactMap { run in run.outcome.map { (run.started, 1, $0 == .passed ? 1 : 0) } }, calendar: calendar)
    }

    /// A trend of a long window, read from rollups: per quarter hour its finished runs, per
    /// request its rollups summed over the window (the window's first hour, which is only
    /// partly in it, summed from its runs by the same rules), and its newest runs one by one.
    /// - Parameters:
    ///   - runCount: runs in the window, finished or not.
    ///   - first: when the oldest run of the window started.
    ///   - last: when its newest run started, when `recentRuns` is empty (all pruned).
    ///   - recentRuns: the newest runs, at most `recentLimit`, oldest first.
    ///   - runRollups: the window's finished runs, by quarter, oldest first.
    ///   - hours: the points of the requests' latency.
    ///   - requests: per request, in the order the collection lists them, its rollups over the
    ///     window and its samples in `recentRuns`.
    public init(
        collection: String, collectionPath: String, environment: String?, runCount: Int, first: Date, last: Date? = nil, recentRuns: [RunPoint],
        runRollups: [RunRollup], hours: HourPoints, requests: [(window: RequestWindow, recent: [Sample])], calendar: Calendar = .current
    ) {
        self.collection = collection
        self.collectionPath = collectionPath
        self.environment = environment
        self.runCount = runCount
        self.last = recentRuns.last?.started ?? last
        finishedRuns = runRollups.reduce(0) { $0 + $1.runs }
        passedRuns = runRollups.reduce(0) { $0 + $1.outcomes.passed }
        self.first = first
        self.recentRuns = recentRuns
        percentiles = .estimated
        let order = Dictionary(recentRuns.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        var every = LatencyHistogram()
        self.requests = requests.map { window, recent in
            var whole = LatencyHistogram()
            for point in window.points { whole.merge(point) }
            every.merge(whole)
            var outcomes = [Outcome?](repeating: nil, count: recentRuns.count)
            for sample in recent { if let index = order[sample.runID] { outcomes[index] = sample.outcome } }
            let latency = window.points.enumerated().map { index, point in
                LatencyPoint(span: hours.span(ofPoint: index), responses: point.count, p50: point.percentile(0.5), p95: point.percentile(0.95))
            }
            return RequestTrend(
                name: window.name, outcomes: window.outcomes, p50: whole.percentile(0.5), p95: whole.percentile(0.95), max: whole.max, mean: whole.mean,
                latency: latency, recentOutcomes: outcomes)
        }
        latencyP95 = every.percentile(0.95)
        days = Self.days(runRollups.map { ($0.start, $0.runs, $0.outcomes.passed) }, calendar: calendar)
    }

    /// Finished runs counted by stretches of time, oldest first, summed into the calendar's days.
    static func days(_ counts: [(start: Date, runs: Int, passed: Int)], calendar: Calendar) -> [Day] {
        var days: [Day] = []
        // Oldest first, so the calendar is asked once a day, not once a stretch.
        var dayEnd = Date.distantPast
        for count in counts where count.runs > 0 {
            if count.start >= dayEnd {
                let start = calendar.startOfDay(for: count.start)
                dayEnd = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
                days.append(Day(start: start, runs: 0, passed: 0))
            }
            days[days.count - 1].runs += count.runs
            days[days.count - 1].passed += count.passed
        }
        return days
    }

    /// At most `latencyPoints` points of latency over runs read one by one. With that many runs
    /// or fewer a point is a run; with more, runs are cut into groups of two or more (41 runs:
    /// 20 groups of 2 or 3, never a run alone, whose p95 would sit on its p50).
    static func points(over runs: [RunPoint], latencies: [Duration?]) -> [LatencyPoint] {
        guard !runs.isEmpty else { return [] }
        let perGroup = (runs.count + latencyPoints - 1) / latencyPoints
        let groups = runs.count / perGroup
        return (0..<groups).map { group in
            let lower = group * runs.count / groups, upper = (group + 1) * runs.count / groups
            var values = latencies[lower..<upper].compactMap { $0?.inSeconds }
            return LatencyPoint(
                span: .runs(first: runs[lower].id, last: runs[upper - 1].id, count: upper - lower), responses: values.count,
                p50: percentile(selectingIn: &values, 0.5).map(Duration.fromSeconds), p95: percentile(selectingIn: &values, 0.95).map(Duration.fromSeconds))
        }
    }

    /// The nearest-rank percentile of sorted values.
    public static func percentile(_ sorted: [Double], _ fraction: Double) -> Double? {
        guard !sorted.isEmpty else { return nil }
        return sorted[rank(fraction, count: sorted.count)]
    }

    /// The nearest-rank percentile of unsorted values, found in linear time (quickselect);
    /// it reorders `values`. A month of runs is 100,000 values a request: sorting each costs more.
    public static func percentile(selectingIn values: inout [Double], _ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let k = rank(fraction, count: values.count)
        var low = 0
        var high = values.count - 1
        while low < high {
            let pivot = values[(low + high) / 2]
            var i = low
            var j = high
            while i <= j {
                while values[i] < pivot { i += 1 }
                while values[j] > pivot { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                break
            }
        }
        return values[k]
    }

    /// The 0-based index of the nearest-rank percentile among `count` sorted values.
    static func rank(_ fraction: Double, count: Int) -> Int {
        min(max(Int((fraction * Double(count)).rounded(.up)), 1), count) - 1
    }
}
