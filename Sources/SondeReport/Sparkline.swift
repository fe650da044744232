import SondeCore

/// Eight-level bars for a series, the way `spark` draws them; empty places stay blank.
public enum Sparkline {
    static let bars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// At most `width` bars: a longer series is cut into equal buckets, each drawn at its median.
    /// The bars span the series' own range, or `range` when given (0...1 for rates).
    public static func render(_ values: [Double?], width: Int = 40, range: ClosedRange<Double>? = nil) -> String {
        let points = bucket(values, width: width)
        let present = points.compactMap { $0 }
        guard let low = range?.lowerBound ?? present.min(), let high = range?.upperBound ?? present.max() else {
            return String(repeating: " ", count: points.count)
        }
        return String(points.map { value -> Character in
            guard let value else { return " " }
            if high == low { return bars[0] }
            let level = Int(((value - low) / (high - low) * Double(bars.count - 1)).rounded())
            return bars[min(max(level, 0), bars.count - 1)]
        })
    }

    public static func bucket(_ values: [Double?], width: Int) -> [Double?] {
        guard values.count > width, width > 0 else { return values }
        return (0..<width).map { bucket in
            let lower = bucket * values.count / width
            let upper = (bucket + 1) * values.count / width
            var present = values[lower..<upper].compactMap { $0 }
            return Trend.percentile(selectingIn: &present, 0.5)
        }
    }
}
