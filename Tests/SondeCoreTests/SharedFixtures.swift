import Foundation
import Testing

/// The public test suites live in ../shared beside the clone.
enum SharedFixtures {
    static var root: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // SondeCoreTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .deletingLastPathComponent()
            .appendingPathComponent("shared")
    }

    /// Whether a suite's folder is there: a clone outside this project's CI may not have it.
    static func isPresent(_ folder: String) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(folder).path)
    }

    /// The one line a skipped test shows: which suite, where it was looked for, where to get it.
    static func absent(_ folder: String, suite: String) -> Comment {
        Comment(rawValue: "\(suite) is not in \(root.appendingPathComponent(folder).path): skipped (the README says where to get it)")
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: root.appendingPathComponent(relativePath))
    }
}
