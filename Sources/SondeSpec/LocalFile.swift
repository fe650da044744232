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
        if let problem = problem(atPath: path, limit: limit) { return .failure(problem) }
        guard let data = FileManager.default.contents(atPath: path) else { return .failure(Problem("missing or not readable", .missing)) }
        return .success(data)
    }

    /// Why the file at `path` is not one to read, or nil when it is.
    package static func problem(atPath path: String, limit: Int = LocalFile.limit) -> Problem? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), FileManager.default.isReadableFile(atPath: path) else {
            return Problem("missing or not readable", .missing)
        }
        switch attributes[.type] as? FileAttributeType {
        case .typeRegular?: break
        case .typeDirectory?: return Problem("not a regular file (a folder)", .folder)
        default: return Problem("not a regular file", .notRegular)
        }
        if let size = (attributes[.size] as? NSNumber)?.intValue, size > limit { return Problem("larger than \(limit >> 20) MiB", .tooLarge) }
        return nil
    }

    package struct Problem: Error, CustomStringConvertible {
        package enum Kind { case missing, folder, notRegular, tooLarge }
        package var description: String
        package var kind: Kind
        init(_ description: String, _ kind: Kind) {
            self.description = description
            self.kind = kind
        }
    }
}
