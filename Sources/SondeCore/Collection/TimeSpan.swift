import Foundation

/// A length of time as collections write it: `250ms`, `2s`, `1.5s`, `1m`, `1h`.
/// It keeps the number as written (a collection may write `1e30s`, which the reader then
/// refuses by its bounds); `duration` is the length as the run uses it.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Double

    public init(milliseconds: Double) { self.milliseconds = milliseconds }

    /// The length, at most about 292 years (`Duration.fromMilliseconds`).
    public var duration: Duration { .fromMilliseconds(milliseconds) }

    public var seconds: Double { milliseconds / 1000 }

    /// Nil unless `text` is a number followed by a unit.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            let number = trimmed.dropLast(unit.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value >= 0
            else { continue }
            milliseconds = value * factor
            return
        }
        return nil
    }

    public var description: String {
        if milliseconds >= 3_600_000, milliseconds.truncatingRemainder(dividingBy: 3_600_000) == 0 { return "\(Int(milliseconds / 3_600_000))h" }
        if milliseconds >= 60_000, milliseconds.truncatingRemainder(dividingBy: 60_000) == 0 { return "\(Int(milliseconds / 60_000))m" }
        if milliseconds >= 1000, milliseconds.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(milliseconds / 1000))s" }
        if milliseconds.rounded() == milliseconds { return "\(Int(milliseconds))ms" }
        return String(format: "%.1fms", milliseconds)
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.milliseconds < b.milliseconds }
}
