import Foundation

/// Latencies counted in buckets on a log scale, each 2 % wider than the one below: what the
/// history's rollups keep of an hour of responses, and what a trend over a long window reads
/// its percentiles from. Histograms of many hours merge into one by adding their counts.
///
/// A percentile read from a histogram is within `relativeError` (0.99 %) of the exact
/// nearest-rank value: the value is taken at the middle of its bucket (as DDSketch does), and a
/// bucket spans a factor of `growth`. The count, the sum, the smallest and the largest latency
/// are kept exactly, and a percentile is never read outside the smallest and the largest.
/// Latencies of a microsecond or less (libcurl's resolution) share the lowest bucket, which
/// reads as the smallest of them.
public struct LatencyHistogram: Sendable, Equatable {
    /// How much wider a bucket is than the one below it.
    public static let growth = 1.02
    /// The most a percentile read from a histogram is off, relative to the exact one:
    /// (growth − 1) / (growth + 1), 0.99 %.
    public static let relativeError = (growth - 1) / (growth + 1)
    /// The upper bound of bucket 0, in milliseconds (a microsecond, libcurl's resolution):
    /// every latency up to it falls there.
    static let smallest = 0.001
    /// Buckets above the last one (latencies of over 12 days) fall into it.
    public static let bucketCount = 1_400
    private static let logGrowth = log(growth)

    /// The index of the first of `counts`.
    public private(set) var offset = 0
    /// How many latencies fell in each bucket from `offset` on. Neither end is zero, so that
    /// two histograms of the same latencies are equal.
    public private(set) var counts: [Int] = []
    public private(set) var count = 0
    public private(set) var sum = Duration.zero
    public private(set) var min: Duration?
    public private(set) var max: Duration?

    public init() {}

    /// A histogram as stored: how many latencies fell in each bucket from `offset` on, with
    /// the exact sum and bounds kept beside them.
    public init(offset: Int, counts: [Int], sum: Duration, min: Duration?, max: Duration?) {
        merge(offset: offset, counts: counts, sum: sum, min: min, max: max)
    }

    /// The bucket a latency falls in: bucket i > 0 holds (smallest × growthⁱ⁻¹, smallest × growthⁱ].
    public static func bucket(of latency: Duration) -> Int {
        let milliseconds = latency.inMilliseconds
        guard milliseconds > smallest else { return 0 }
        let index = (log(milliseconds / smallest) / logGrowth).rounded(.up)
        return index >= Double(bucketCount - 1) ? bucketCount - 1 : Int(index)
    }

    /// The value a bucket stands for: its middle in relative terms, 2 × upper / (growth + 1),
    /// which is within `relativeError` of either end.
    static func middle(ofBucket index: Int) -> Duration {
        .fromMilliseconds(smallest * pow(growth, Double(index)) * 2 / (growth + 1))
    }

    public var mean: Duration? { count == 0 ? nil : sum / count }

    public mutating func add(_ latency: Duration) {
        merge(offset: Self.bucket(of: latency), counts: [1], sum: latency, min: latency, max: latency)
    }

    public mutating func merge(_ other: LatencyHistogram) {
        guard count > 0 else {
            self = other
            return
        }
        merge(offset: other.offset, counts: other.counts, sum: other.sum, min: other.min, max: other.max)
    }

    /// Adds a histogram as stored (see `init(offset:counts:sum:min:max:)`) without making one:
    /// a long trend adds thousands.
    public mutating func merge(offset otherOffset: Int, counts other: [Int], sum otherSum: Duration, min otherMin: Duration?, max otherMax: Duration?) {
        var first = other.startIndex
        var last = other.endIndex
        while first < last, other[first] == 0 { first += 1 }
        while last > first, other[last - 1] == 0 { last -= 1 }
        guard first < last else { return }
        // Widened once for the other's buckets, then added to in place.
        let low = otherOffset + first
        let high = otherOffset + last
        if counts.isEmpty {
            offset = low
            counts = [Int](repeating: 0, count: high - low)
        } else if low < offset || high > offset + counts.count {
            let widenedLow = Swift.min(offset, low)
            var widened = [Int](repeating: 0, count: Swift.max(offset + counts.count, high) - widenedLow)
            widened.replaceSubrange(offset - widenedLow..<offset - widenedLow + counts.count, with: counts)
            counts = widened
            offset = widenedLow
        }
        let shift = otherOffset - offset
        var added = 0
        for place in first..<last {
            counts[shift + place] += other[place]
            added += other[place]
        }
        count += added
        sum += otherSum
        if let otherMin { min = Swift.min(min ?? otherMin, otherMin) }
        if let otherMax { max = Swift.max(max ?? otherMax, otherMax) }
    }

    /// The nearest-rank percentile (as `Trend.percentile` takes it of exact values), read at
    /// the middle of its bucket and kept between the smallest and the largest latency.
    public func percentile(_ fraction: Double) -> Duration? {
        guard count > 0, let min, let max else { return nil }
        let rank = Trend.rank(fraction, count: count)
        var below = 0
        for (place, count) in counts.enumerated() {
            below += count
            guard below > rank else { continue }
            // Bucket 0 holds every latency up to a microsecond: the smallest stands for them.
            return offset + place == 0 ? min : Swift.min(Swift.max(Self.middle(ofBucket: offset + place), min), max)
        }
        return max
    }
}
