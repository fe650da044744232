import Foundation
import SondeFuzzTargets
import Testing

/// Every input that once crashed, hung or exhausted a fuzz target (minimized by libFuzzer,
/// kept in `Regressions/TARGET/`), replayed through the same entry as the fuzzer: each must
/// now return normally. A file's name says what it found.
struct FuzzRegressionTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Regressions")

    static var inputs: [(FuzzTarget, URL)] {
        FuzzTarget.allCases.flatMap { target in
            let files = (try? FileManager.default.contentsOfDirectory(at: folder.appendingPathComponent(target.rawValue), includingPropertiesForKeys: nil)) ?? []
            return files.filter { !$0.lastPathComponent.hasPrefix(".") }.sorted { $0.path < $1.path }.map { (target, $0) }
        }
    }

    @Test func everyRegressionInputReturnsNormally() throws {
        for (target, url) in Self.inputs {
            let data = try Data(contentsOf: url)
            data.withUnsafeBytes { target.run($0) }
        }
    }

    /// The seed corpora can be made from the repository, and each seed runs.
    @Test func theSeedsAreMadeAndRun() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-seeds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try FuzzSeeds.write(to: folder, repository: repository)
        for target in FuzzTarget.allCases {
            let seeds = try FileManager.default.contentsOfDirectory(at: folder.appendingPathComponent(target.rawValue), includingPropertiesForKeys: nil)
            #expect(!seeds.isEmpty, "no seeds for \(target)")
            let dictionary = try String(contentsOf: folder.appendingPathComponent(target.rawValue + ".dict"), encoding: .utf8)
            #expect(dictionary.split(separator: "\n").count >= 8, "\(target).dict")
            for seed in seeds.prefix(200) { try Data(contentsOf: seed).withUnsafeBytes { target.run($0) } }
        }
    }
}
