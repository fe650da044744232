import Foundation
import SondeCore
import SondeHTTP
import SondeRunner
import SondeSpec
import SondeTestSupport

/// Runs a collection the way `sonde run` does, from a file in a temporary folder with
/// `files` beside it, `base_url` set to `baseURL`.
func runCollection(
    _ yaml: String, baseURL: String, assignments: [String] = [], files: [String: [UInt8]] = [:], keepExchanges: Bool = true,
    environment: [String: String] = [:]
) async throws -> RunResult {
    try await offPool {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, bytes) in files {
            let url = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(bytes).write(to: url)
        }
        let file = folder.appendingPathComponent("collection.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        let loaded = try CollectionLoader(options: VariableOptions(assignments: ["base_url=\(baseURL)"] + assignments, processEnvironment: environment))
            .load(file: file.path)
        let runner = Runner(
            plan: RunPlan(loaded.spec), scope: loaded.makeScope(), secrets: loaded.secrets, transport: try CurlTransport(),
            options: .init(keepExchanges: keepExchanges))
        return runner.run()
    }
}

/// "name: outcome error [failed checks]", for expectation messages.
func describe(_ request: RequestResult) -> String {
    "\(request.name): \(request.outcome) \(request.problem?.message ?? "") \(request.checks.filter { !$0.passed }.map { "\($0.subject): \($0.message ?? "")" })"
}
