import Foundation

/// Files a collection names (an include, a data file): read only when they are regular files
/// of at most `limit` bytes, so that `include: /dev/zero` or a fifo is an error at once,
/// never a read without end.
package enum LocalFile {
    /// 64 MiB: far beyond any collection or data file, far below what would exhaust memory.
    package static let limit = 64 << 20

    /// The bytes of a regular file, or why it cannot be read (a sentence: "missing or not
    /// readable", "not a regular file", "larger than 64 MiB").
    package static func contents(atPath path: String, limit: Int = LocalFile.limit) -> Result<Data, Problem> {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return .failure(Problem("missing or not readable")) }
        guard (attributes[.type] as? FileAttributeType) == .typeRegular else { return .failure(Problem("not a regular file")) }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > limit { return .failure(Problem("larger than \(limit >> 20) MiB")) }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(Problem("missing or not readable")) }
        return .success(data)
    }

    package struct Problem: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }
}
