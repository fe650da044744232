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

        // Runs a history could not have had are refused, each with its line and member,
        // before anything is recorded; a UUID written in capitals is the same run.
        let original = try JSONValue.parse(String(lines[0]))
        func edited(_ change: (inout JSONObject, inout JSONObject) -> Void) throws -> String {
            guard case .object(let document) = original, case .object(var run)? = document["run"], case .array(var requests)? = run["requests"],
                case .object(var request) = requests[0]
            else { throw CocoaError(.coderInvalidValue) }
            run.set("uuid", .string(UUID().uuidString.lowercased()))
            change(&run, &request)
            requests[0] = .object(request)
            run.set("requests", .array(requests))
            var out = document
            out.set("run", .object(run))
            return JSONValue.object(out).jsonText
        }
        let hostile: [(String, String)] = [
            (try edited { run, _ in run.set("uuid", "not-a-uuid") }, "run.uuid: must be a UUID"),
            (try edited { run, _ in run.set("uuid", .null) }, "run.uuid: must be text"),
            (try edited { _, request in request.set("position", .number(JSONNumber(Int64.min))) }, "run.requests[0].position: must be a whole number from 0 to 999999"),
            (try edited { _, request in request.set("timings", ["dnsMs": 0, "connectMs": 0, "tlsMs": 0, "firstByteMs": 0, "totalMs": 9.2e12]) }, "run.requests[0].timings.totalMs"),
            (try edited { _, request in request.set("expectations", "none") }, "run.requests[0].expectations: must be a list"),
            (try edited { run, _ in run.set("outcome", "exploded") }, "run.outcome: must be one of"),
            (try edited { run, _ in run.set("started", "9999-01-01T00:00:00Z") }, "run.started: must be a time from 2000 to now"),
            (try edited { run, _ in run.set("collection", "") }, "run.collection: must not be empty"),
        ]
        for (index, (line, message)) in hostile.enumerated() {
            try (line + "\r\n").write(to: folder.appendingPathComponent("h\(index).jsonl"), atomically: true, encoding: .utf8)
            let refused = try await sonde(["history", "import", "h\(index).jsonl", "--db", target])
            #expect(refused.status == 2 && refused.stderr.contains("h\(index).jsonl:1: \(message)"), "\(message): \(refused.stderr)")
        }
        let capitals = String(lines[0]).replacingOccurrences(of: original["run"]?["uuid"]?.stringValue ?? "", with: (original["run"]?["uuid"]?.stringValue ?? "").uppercased())
        try (capitals + "\n" + capitals + "\n").write(to: folder.appendingPathComponent("caps.jsonl"), atomically: true, encoding: .utf8)
        let caps = try await sonde(["history", "import", "caps.jsonl", "--db", target])
        #expect(caps.stdout.contains("imported 0 runs") && caps.stdout.contains("1 already there"), "\(caps.stdout)\(caps.stderr)")
        #expect(try await sonde(["history", "--db", target]).stdout.split(separator: "\n").count == 5)
    }
}

extension JSONObject {
    /// The member `key` replaced (or added at the end).
    fileprivate mutating func set(_ key: String, _ value: JSONValue) {
        let replaced = members.map { $0.key == key ? (key: key, value: value) : $0 }
        self = JSONObject(members.contains { $0.key == key } ? replaced : replaced + [(key: key, value: value)])
    }
}
