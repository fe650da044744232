import Foundation

/// Health over many runs of a collection: per request the success rate and latency
/// percentiles, per collection the pass rate over time.
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
    public struct RunPoint: Sendable {
        public var id: Int64
        public var started: Date
        public var outcome: Outcome?

        public init(id: Int64, started: Date, outcome: Outcome?) {
            self.id = id
            self.started = started
            self.outcome = outcome
        }
    }

    public struct RequestTrend: Sendable {
        public var name: String
        /// Runs in which the request was sent (not skipped).
        public var runs: Int
        public var passed: Int
        public var skipped: Int
        public var p50: Duration?
        public var p95: Duration?
        public var max: Duration?
        /// Latency per run, oldest first (nil where no response came).
        public var latencies: [Duration?]
        /// Outcome per run, oldest first (nil where the request was not in that run).
        public var outcomes: [Outcome?]

        /// Passed over sent; nil when it was never sent.
        public var successRate: Double? { runs == 0 ? nil : Double(passed) / Double(runs) }
    }

    /// The pass rate of one day's runs.
    public struct Day: Sendable {
        public var start: Date
        public var runs: Int
        public var passed: Int

        public var passRate: Double { runs == 0 ? 0 : Double(passed) / Double(runs) }
    }

    public var collection: String
    /// The collection file's path (`RunRecord.collectionPath`): with `collection`, which collection.
    public var collectionPath: String
    public var environment: String?
    /// Oldest first.
    public var runs: [RunPoint]
    public var requests: [RequestTrend]
    public var days: [Day]

    public var finishedRuns: Int { runs.filter { $0.outcome != nil }.count }
    public var passedRuns: Int { runs.filter { $0.outcome == .passed }.count }
    public var passRate: Double? { finishedRuns == 0 ? nil : Double(passedRuns) / Double(finishedRuns) }

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
        self.runs = runs
        let order = Dictionary(runs.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { first, _ in first })
        requests = samples.map { name, samples in
            let sent = samples.filter { $0.outcome != .skipped }
            var times = sent.compactMap(\.duration).map(\.inSeconds)
            var latencies = [Duration?](repeating: nil, count: runs.count)
            var outcomes = [Outcome?](repeating: nil, count: runs.count)
            for sample in samples {
                if let index = order[sample.runID] {
                    latencies[index] = sample.duration
                    outcomes[index] = sample.outcome
                }
            }
            return RequestTrend(
                name: name, runs: sent.count, passed: sent.filter { $0.outcome == .passed }.count, skipped: samples.count - sent.count,
                p50: Self.percentile(selectingIn: &times, 0.50).map(Duration.fromSeconds), p95: Self.percentile(selectingIn: &times, 0.95).map(Duration.fromSeconds),
                max: sent.compactMap(\.duration).max(),
                latencies: latencies, outcomes: outcomes)
        }
        var days: [Day] = []
        // Runs come oldest first, so the calendar is asked once a day, not once a run.
        var dayEnd = Date.distantPast
        for run in runs where run.outcome != nil {
            if run.started >= dayEnd {
                let start = calendar.startOfDay(for: run.started)
                dayEnd = calendar.date(byAdding: .day, value: 1, to: start) ?? start.addingTimeInterval(86_400)
                days.append(Day(start: start, runs: 0, passed: 0))
            }
            days[days.count - 1].runs += 1
            if run.outcome == .passed { days[days.count - 1].passed += 1 }
        }
        self.days = days
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
