import Foundation
import SondeCore
import Testing

/// The histogram the trend rollups keep: its percentiles against the exact ones.
struct LatencyHistogramTests {
    /// Latencies spread over six orders of magnitude, the same on every run.
    static func latencies(_ count: Int, seed: UInt64) -> [Duration] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let unit = Double(state >> 11) / Double(1 << 53)
            return .fromMilliseconds(0.01 * pow(10, unit * 6))
        }
    }

    @Test(arguments: [1, 2, 7, 100, 5_000])
    func percentilesAreWithinTheStatedErrorOfTheExactOnes(count: Int) {
        let values = Self.latencies(count, seed: UInt64(count))
        var histogram = LatencyHistogram()
        for value in values { histogram.add(value) }
        let sorted = values.map(\.inSeconds).sorted()
        for fraction in [0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1] {
            let exact = Trend.percentile(sorted, fraction) ?? 0
            let estimate = histogram.percentile(fraction)?.inSeconds ?? 0
            #expect(abs(estimate - exact) <= exact * LatencyHistogram.relativeError + 1e-9, "p\(fraction * 100) of \(count): \(estimate) for \(exact)")
        }
        #expect(histogram.count == count && histogram.min == values.min() && histogram.max == values.max())
        #expect(histogram.sum == values.reduce(.zero, +))
    }

    @Test func oneValueIsItsOwnPercentileAndNoneHasNone() {
        var histogram = LatencyHistogram()
        #expect(histogram.percentile(0.5) == nil && histogram.mean == nil)
        histogram.add(.microseconds(1_234))
        #expect(histogram.percentile(0.5) == .microseconds(1_234) && histogram.percentile(0.95) == .microseconds(1_234))
        histogram.add(.zero)
        #expect(histogram.percentile(0.5) == .zero, "below a microsecond, kept at the smallest")
    }

    @Test func mergingIsAddingEveryLatency() {
        let values = Self.latencies(300, seed: 3)
        var whole = LatencyHistogram()
        for value in values { whole.add(value) }
        var merged = LatencyHistogram()
        for part in stride(from: 0, to: values.count, by: 70) {
            var histogram = LatencyHistogram()
            for value in values[part..<min(part + 70, values.count)] { histogram.add(value) }
            merged.merge(histogram)
        }
        merged.merge(LatencyHistogram())
        #expect(merged == whole)
    }
}
