import Foundation

enum Paths {
    static let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let fixtures = tests.appendingPathComponent("Fixtures")
    static let packageRoot = tests.deletingLastPathComponent().deletingLastPathComponent()
    static let collections = packageRoot.appendingPathComponent("collections")
    static let schema = packageRoot.appendingPathComponent("schema/collection.schema.json")

    /// A fresh folder under the system's temporary folder, removed by the caller.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
