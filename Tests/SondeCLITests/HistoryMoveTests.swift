import Foundation
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// `sonde history export` and `import`: runs move between histories whole, once.
@Suite(.serialized)
struct HistoryMoveTests {
    @Test func exportedRunsImportOnceAndReadTheSame() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-move-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for part in ["collections", "common", "data"] {
            try FileManager.default.copyItem(
                at: Sonde.packageRoot.appendingPathComponent("examples/team/\(part)"), to: folder.appendingPathComponent(part))
        }
        let source = folder.appendingPathComponent("a.sqlite").path, target = folder.appendingPathComponent("b.sqlite").path
        func sonde(_ arguments: [String]) async throws -> Sonde.Result {
            try await Sonde.runAsync(arguments, environment: ["SONDE_DB": ""], directory: folder)
        }
        for round in 0..<2 {
            if round == 1 { server.state.setUnhealthy(["etcd-1"]) }
            _ = try await sonde(["run", "collections", "--db", source, "--var", "base_url=\(server.baseURL)"])
        }
        let export = try await sonde(["history", "export", "--db", source])
        #expect(export.status == 0, "\(export.stderr)")
        let lines = export.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        try export.stdout.write(to: folder.appendingPathComponent("runs.jsonl"), atomically: true, encoding: .utf8)
        let first = try await sonde(["history", "import", "runs.jsonl", "--db", target])
        #expect(first.status == 0 && first.stdout.contains("imported 4 runs"), "\(first.stdout)\(first.stderr)")
        let again = try await sonde(["history", "import", "runs.jsonl", "--db", target])
        #expect(again.stdout.contains("imported 0 runs") && again.stdout.contains("4 already there (by UUID)"), "\(again.stdout)")
        // The same answers from both histories.
        for arguments in [["history"], ["diff"], ["diff", "--json"], ["trend"], ["trend", "--json"], ["show", "4"], ["show", "4", "--json"]] {
            let a = try await sonde(arguments + ["--db", source]), b = try await sonde(arguments + ["--db", target])
            #expect(a.status == b.status)
            #expect(a.stdout.replacingOccurrences(of: source, with: "DB") == b.stdout.replacingOccurrences(of: target, with: "DB"), "sonde \(arguments.joined(separator: " "))")
        }
        // A line that is not a run: nothing is imported.
        try (export.stdout + "{\"format\": \"sonde.history/1\"}\n").write(to: folder.appendingPathComponent("bad.jsonl"), atomically: true, encoding: .utf8)
        let bad = try await sonde(["history", "import", "bad.jsonl", "--db", folder.appendingPathComponent("c.sqlite").path])
        #expect(bad.status == 2 && bad.stderr.contains("bad.jsonl:5: not a sonde.run/1 document"), "\(bad.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("c.sqlite").path))
    }
}
