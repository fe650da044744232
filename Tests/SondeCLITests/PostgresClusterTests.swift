import Foundation
import SondeTestSupport
import Testing

/// The throwaway PostgreSQL cluster the team history's tests run on starts on loopback,
/// answers, and leaves nothing behind (issue 19 builds on it).
struct PostgresClusterTests {
    @Test func aThrowawayClusterStartsAnswersAndGoes() throws {
        if let reason = PostgresCluster.unavailable {
            print("skipped: \(reason)")
            return
        }
        let cluster = try PostgresCluster()
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = ["-h", "127.0.0.1", "-p", "\(cluster.port)", "-U", PostgresCluster.user, "-d", "postgres", "-tAc", "select 40 + 2"]
        let output = Pipe()
        psql.standardOutput = output
        psql.standardError = output
        try psql.run()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        psql.waitUntilExit()
        #expect(answer.trimmingCharacters(in: .whitespacesAndNewlines) == "42", "\(answer)")
        cluster.stop()
        #expect(!FileManager.default.fileExists(atPath: cluster.folder.path))
    }
}
