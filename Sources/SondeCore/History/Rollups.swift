import Foundation

/// How many runs or requests ended each way.
public struct OutcomeCounts: Sendable, Equatable {
    public var passed = 0
    public var failed = 0
    public var errored = 0
    public var skipped = 0

    public init(passed: Int = 0, failed: Int = 0, errored: Int = 0, skipped: Int = 0) {
        self.passed = passed
        self.failed = failed
        self.errored = errored
        self.skipped = skipped
    }

    public init(_ outcomes: some Sequence<Outcome>) {
        for outcome in outcomes { add(outcome) }
    }

    public subscript(outcome: Outcome) -> Int {
        switch outcome {
        case .passed: passed
        case .failed: failed
        case .error: errored
        case .skipped: skipped
        }
    }

    /// The worst outcome of a request that was not skipped; passed when none was sent.
    public var outcome: Outcome { errored > 0 ? .error : failed > 0 ? .failed : .passed }

    public var total: Int { passed + failed + errored + skipped }
    /// Requests sent: all but the skipped ones.
    public var sent: Int { passed + failed + errored }

    public mutating func add(_ outcome: Outcome) {
        switch outcome {
        case .passed: passed += 1
        case .failed: failed += 1
        case .error: errored += 1
        case .skipped: skipped += 1
        }
    }

    public mutating func merge(_ other: OutcomeCounts) {
        passed += other.passed
        failed += other.failed
        errored += other.errored
        skipped += other.skipped
    }
}

/// What a history keeps of the finished runs of one collection (in one environment) that
/// started in one quarter of an hour: how many, and how they ended. Quarters, so that a day
/// in any time zone (every offset from UTC is a multiple of 15 minutes) is a whole number of
/// them, and the pass rate per day is exact.
public struct RunRollup: Sendable, Equatable {
    /// Quarters of an hour since 1970-01-01 00:00 UTC.
    public var quarter: Int
    /// The runs' outcomes.
    public var outcomes = OutcomeCounts()

    public init(quarter: Int, outcomes: OutcomeCounts = OutcomeCounts()) {
        self.quarter = quarter
        self.outcomes = outcomes
    }

    /// The quarter a run that started then belongs to.
    /// (A date beyond ±10^15 quarters, which no run has, is the nearest of those.)
    public static func quarter(of date: Date) -> Int { Int(max(min((date.timeIntervalSince1970 / 900).rounded(.down), 1e15), -1e15)) }

    public var start: Date { Date(timeIntervalSince1970: Double(quarter) * 900) }
    public var runs: Int { outcomes.total }
}

/// What a history keeps of one plan step's requests in the finished runs of one collection
/// (in one environment) that started in one hour: how many ended each way, a histogram of
/// their latencies, and how the newest of those runs named the step. A trend over any number
/// of whole hours merges these instead of reading every request again.
public struct RequestRollup: Sendable, Equatable {
    /// Hours since 1970-01-01 00:00 UTC, of the runs' start (`hour(of:)`).
    public var hour: Int
    public var step: String
    /// The step's name in the newest run of the hour that sent it (`newestRun`), and its place
    /// there: a trend lists requests as its newest run does.
    public var name: String
    public var newestRun: Int64
    public var position: Int
    public var outcomes = OutcomeCounts()
    /// The latencies of the requests that were sent and answered.
    public var latencies = LatencyHistogram()

    public init(hour: Int, step: String, name: String, newestRun: Int64, position: Int) {
        self.hour = hour
        self.step = step
        self.name = name
        self.newestRun = newestRun
        self.position = position
    }

    /// The hour a run that started then belongs to: its quarter's, so that an hour is always
    /// four whole quarters, whatever the floating point does at the edges.
    public static func hour(of date: Date) -> Int { RunRollup.quarter(of: date) >> 2 }

    public static func start(ofHour hour: Int) -> Date { Date(timeIntervalSince1970: Double(hour) * 3600) }

    /// Counts one request of a finished run.
    public mutating func add(_ outcome: Outcome, latency: Duration?, run: Int64, position: Int, name: String) {
        outcomes.add(outcome)
        if outcome != .skipped, let latency { latencies.add(latency) }
        takeName(name, run: run, position: position)
    }

    public mutating func merge(_ other: RequestRollup) {
        outcomes.merge(other.outcomes)
        latencies.merge(other.latencies)
        takeName(other.name, run: other.newestRun, position: other.position)
    }

    /// The name of the newest run (the later place, within one run): the same whatever order
    /// requests are counted or rollups merged in.
    private mutating func takeName(_ name: String, run: Int64, position: Int) {
        guard (run, position) > (newestRun, self.position) else { return }
        self.name = name
        newestRun = run
        self.position = position
    }
}

/// A long window's hours cut into at most `Trend.latencyPoints` equal stretches: the points
/// of its requests' latency, read from rollups.
public struct HourPoints: Sendable, Equatable {
    public let firstHour: Int
    public let hours: Int
    public let hoursAPoint: Int

    /// From the hour of the window's oldest run to the hour of its newest.
    public init(first: Date, last: Date) {
        firstHour = RequestRollup.hour(of: first)
        hours = Swift.max(RequestRollup.hour(of: last) - firstHour + 1, 1)
        hoursAPoint = (hours + Trend.latencyPoints - 1) / Trend.latencyPoints
    }

    public var count: Int { (hours + hoursAPoint - 1) / hoursAPoint }

    /// The point an hour falls in (one outside the window: the nearest end's).
    public func point(ofHour hour: Int) -> Int { Swift.min(Swift.max(hour - firstHour, 0) / hoursAPoint, count - 1) }

    public func span(ofPoint point: Int) -> Trend.LatencyPoint.Span {
        .hours(start: RequestRollup.start(ofHour: firstHour + point * hoursAPoint), count: Swift.min(hoursAPoint, hours - point * hoursAPoint))
    }
}

/// One request (plan step) over a long window, summed from its rollups as they are read: how
/// it ended, how its newest run names it, and its latencies per point of the window.
public struct RequestWindow: Sendable {
    public var name = ""
    public var newestRun = Int64.min
    public var position = Int.min
    public var outcomes = OutcomeCounts()
    /// A histogram per point of the window's `HourPoints`.
    public var points: [LatencyHistogram]

    public init(points: Int) {
        self.points = [LatencyHistogram](repeating: LatencyHistogram(), count: points)
    }

    /// Adds an hour's rollup to its point.
    public mutating func add(_ rollup: RequestRollup, at point: Int) {
        outcomes.merge(rollup.outcomes)
        points[point].merge(rollup.latencies)
        see(name: rollup.name, run: rollup.newestRun, position: rollup.position)
    }

    /// Takes the name a run gives the request when the run is newer (or the place later, in
    /// one run); the name is made only then.
    public mutating func see(name: @autoclosure () -> String, run: Int64, position: Int) {
        guard (run, position) > (newestRun, self.position) else { return }
        self.name = name()
        newestRun = run
        self.position = position
    }
}
