/// A number of bytes as collections write it: `512`, `64KB`, `10MB`, `1GB`, `1TB` (powers of
/// 1,000), `64KiB`, `10MiB`, `1GiB`, `1TiB` (powers of 1,024).
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) { self.bytes = bytes }

    /// Nil unless `text` is a whole number, optionally followed by a unit.
    public init?(parsing text: String) {
        let trimmed = text.trimmingASCIIWhitespace()
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40), ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000),
            ("TB", 1_000_000_000_000), ("B", 1),
        ]
        var number = Substring(trimmed)
        var factor = 1
        for (unit, value) in units where trimmed.hasSuffix(unit) {
            number = number.dropLast(unit.count)
            factor = value
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(number) else { return nil }
        let (total, overflow) = value.multipliedReportingOverflow(by: factor)
        guard !overflow else { return nil }
        bytes = total
    }

    /// `32 MiB`, `1,500 B`: the largest binary unit that divides it, for messages.
    public var description: String {
        for (unit, value) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= value && bytes % value == 0 {
            return "\(bytes / value) \(unit)"
        }
        return "\(bytes) B"
    }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }
}
