import Foundation
import SondeCore
import Testing

@testable import SondeSpec

/// Each invalid collection beside a golden `.err` listing every diagnostic (file:line:column: message).
/// Run with RECORD_SNAPSHOTS=1 to write the golden files anew, then review the diff.
struct InvalidCollectionTests {
    static let folder = Paths.fixtures.appendingPathComponent("invalid")
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        .filter { $0.hasSuffix(".yaml") }.sorted()

    @Test func thereAreFixtures() {
        #expect(Self.names.count >= 14)
    }

    @Test(arguments: names)
    func reportsEveryErrorWithItsPosition(_ name: String) throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8)
        let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))
        let actual: String
        do {
            _ = try loader.load(text: text, file: name)
            actual = "(no errors)\n"
        } catch {
            actual = error.diagnostics.map { "\($0)\n" }.joined()
        }
        let golden = Self.folder.appendingPathComponent(name.replacingOccurrences(of: ".yaml", with: ".err"))
        if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] != nil {
            try actual.write(to: golden, atomically: true, encoding: .utf8)
            return
        }
        let expected = try String(contentsOf: golden, encoding: .utf8)
        #expect(actual == expected, "diagnostics for \(name) changed; rerun with RECORD_SNAPSHOTS=1 and review")
    }
}
