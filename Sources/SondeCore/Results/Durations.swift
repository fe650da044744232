/// Durations in the model are `Duration`; seconds and milliseconds as numbers only at the
/// edges (libcurl's `CURLINFO_*_TIME_T`, SQL columns, JSON members, what people read).
extension Duration {
    /// Seconds, as a floating-point number (for JSON, SQL and display).
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// Milliseconds, as a floating-point number (for JSON, SQL and display).
    public var inMilliseconds: Double { inSeconds * 1000 }

    /// A duration from a number of seconds, to the nanosecond; a NaN is zero, and a length
    /// beyond what 64 bits of nanoseconds hold (about 292 years, either way) is that bound.
    public static func fromSeconds(_ seconds: Double) -> Duration {
        guard !seconds.isNaN else { return .zero }
        let nanoseconds = (seconds * 1e9).rounded()
        if nanoseconds >= 9.2e18 { return .nanoseconds(Int64.max) }
        if nanoseconds <= -9.2e18 { return .nanoseconds(Int64.min) }
        return .nanoseconds(Int64(nanoseconds))
    }

    /// A duration from a number of milliseconds (see `fromSeconds`).
    public static func fromMilliseconds(_ milliseconds: Double) -> Duration { fromSeconds(milliseconds / 1000) }
}
