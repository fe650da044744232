import Foundation
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// One history for a team, on a real PostgreSQL server (a throwaway cluster): runs recorded
/// by several processes at once read as they do from a file; runs pushed from a file arrive
/// once; old runs are pruned and trends keep them; a server that cannot be reached, a wrong
/// password and a server that stops mid-run each end clearly, and no password is printed.
@Suite(.serialized)
struct TeamHistoryTests {
    /// A folder with the seed collection (collections/kubesphere.yaml).
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-team-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("collections"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Sonde.packageRoot.appendingPathComponent("collections/kubesphere.yaml"), to: folder.appendingPathComponent("collections/kubesphere.yaml"))
        return folder
    }

    static func sonde(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) async throws -> Sonde.Result {
        try await Sonde.runAsync(arguments, environment: ["SONDE_DB": ""].merging(environment) { $1 }, directory: folder)
    }

    @Test func threeProcessesIntoOneServerReadAsFromAFile() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let team = try PostgresCluster.sharedDatabase(), copy = try PostgresCluster.sharedDatabase()
        let file = folder.appendingPathComponent("pushed.sqlite").path
        // Three processes at once, three times; etcd-1 turns unhealthy for the last round.
        for round in 0..<3 {
            if round == 2 { server.state.setUnhealthy(["etcd-1"]) }
            let results = try await withThrowingTaskGroup(of: Sonde.Result.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        try await Self.sonde(["run", "collections/kubesphere.yaml", "--db", team, "--var", "base_url=\(server.baseURL)"], in: folder)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for result in results { #expect(result.status == (round == 2 ? 1 : 0), "\(result.stderr)") }
        }
        // The server's runs, pushed into a file and into another server: nine each, once.
        for target in [file, copy] {
            let push = try await Self.sonde(["history", "push", "--db", team, "--to", target], in: folder)
            #expect(push.status == 0 && push.stdout.contains("pushed 9 runs"), "\(push.stdout)\(push.stderr)")
            let again = try await Self.sonde(["history", "push", "--db", team, "--to", target], in: folder)
            #expect(again.stdout.contains("pushed 0 runs") && again.stdout.contains("9 already there (by UUID)"), "\(again.stdout)")
        }
        // The same answers, word for word, from the file and from the server holding the same runs.
        let commands = [
            ["history"], ["history", "--json"], ["diff"], ["diff", "--json"], ["trend"], ["trend", "--json"], ["show"], ["show", "--json"],
            ["report", "--html", "page.html"],
        ]
        for arguments in commands {
            let a = try await Self.sonde(arguments + ["--db", file], in: folder)
            let pageFromFile = try? String(contentsOf: folder.appendingPathComponent("page.html"), encoding: .utf8)
            let b = try await Self.sonde(arguments + ["--db", copy], in: folder)
            let pageFromServer = try? String(contentsOf: folder.appendingPathComponent("page.html"), encoding: .utf8)
            #expect(a.status == b.status, "sonde \(arguments.joined(separator: " ")): \(a.stderr) \(b.stderr)")
            #expect(a.stdout.replacingOccurrences(of: file, with: "DB") == b.stdout.replacingOccurrences(of: copy, with: "DB"), "sonde \(arguments.joined(separator: " "))")
            if arguments.first == "report" {
                // (But for the time each was made.)
                func made(_ page: String?) -> String? { page?.replacingOccurrences(of: #"generated [0-9T:.-]+Z"#, with: "generated …", options: .regularExpression) }
                #expect(pageFromFile != nil && made(pageFromFile) == made(pageFromServer), "the HTML pages differ")
            }
        }
        // The server the processes wrote lists what the file lists (its ids in the order the
        // processes began their runs).
        let listed = try await Self.sonde(["history", "--json", "--db", team], in: folder), fromFile = try await Self.sonde(["history", "--json", "--db", file], in: folder)
        func runs(_ text: String) throws -> [String] {
            try (JSONValue.parse(text)["runs"]?.arrayValue ?? []).map { run in
                "\(run["uuid"]?.stringValue ?? "") \(run["outcome"]?.stringValue ?? "") \(run["started"]?.stringValue ?? "") \(run["passed"]?.jsonText ?? "")"
            }.sorted()
        }
        #expect(try runs(listed.stdout) == (try runs(fromFile.stdout)) && (try runs(listed.stdout)).count == 9)
    }

    @Test func prunedRunsGoAndTheirHoursStayInTheTrend() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let team = try PostgresCluster.sharedDatabase()
        for _ in 0..<2 {
            let run = try await Self.sonde(["run", "collections/kubesphere.yaml", "--db", team, "--var", "base_url=\(server.baseURL)"], in: folder)
            #expect(run.status == 0, "\(run.stderr)")
        }
        let dry = try await Self.sonde(["history", "prune", "--older-than", "0d", "--dry-run", "--db", team], in: folder)
        #expect(dry.status == 0 && dry.stdout.contains("would remove 0 runs"), "\(dry.stdout)\(dry.stderr)")
        let unknown = try await Self.sonde(["history", "prune", "nothing-such", "--older-than", "1d", "--db", team], in: folder)
        #expect(unknown.status == 2 && unknown.stderr.contains("no runs of 'nothing-such'"), "\(unknown.stderr)")
        let bad = try await Self.sonde(["history", "prune", "--older-than", "soon", "--db", team], in: folder)
        #expect(bad.status == 2, "\(bad.stderr)")
        // Runs that started in the last hour stay: pruning goes by the hour.
        let pruned = try await Self.sonde(["history", "prune", "--older-than", "0d", "--db", team], in: folder)
        #expect(pruned.status == 0 && pruned.stdout.contains("removed 0 runs"), "\(pruned.stdout)\(pruned.stderr)")
    }

    @Test func aServerThatCannotBeReachedStopsTheRunBeforeAnythingIsSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ClosedPort()
        let closed = port.port
        let url = "postgres://ci:hunter2secret@127.0.0.1:\(closed)/team"
        let run = try await Self.sonde(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)"], in: folder, environment: ["SONDE_DB": url])
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.contains("cannot connect to postgres://ci:***@127.0.0.1:\(closed)/team"), "\(run.stderr)")
        #expect(!(run.stdout + run.stderr).contains("hunter2secret"))
        #expect(server.state.totalRequests == 0)
        for command in [["history"], ["trend"], ["diff"]] {
            let read = try await Self.sonde(command + ["--db", url], in: folder)
            #expect(read.status == 2 && read.stderr.contains("***") && !read.stderr.contains("hunter2secret"), "\(read.stderr)")
        }
    }

    @Test func aWrongPasswordIsSaidAndNeverShown() async throws {
        let cluster = try PostgresCluster.shared()
        let team = try PostgresCluster.sharedDatabase()
        let database = PostgresCluster.database(of: team)
        // A role that logs in with a password (the cluster trusts the test user alone).
        try cluster.requirePassword(role: "ci_locked", password: "right-horse-battery")
        try cluster.sql("GRANT ALL ON DATABASE \(database) TO ci_locked; ALTER DATABASE \(database) OWNER TO ci_locked", database: "postgres")
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let wrong = "postgres://ci_locked:wrong-staple@127.0.0.1:\(cluster.port)/\(database)"
        let refused = try await Self.sonde(["history", "--db", wrong], in: folder)
        #expect(refused.status == 2 && refused.stderr.contains("password authentication failed"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("wrong-staple"))
        // From PGPASSWORD, and from ~/.pgpass, as libpq reads them.
        let bare = "postgres://ci_locked@127.0.0.1:\(cluster.port)/\(database)"
        let fromEnvironment = try await Self.sonde(["history", "--db", bare], in: folder, environment: ["PGPASSWORD": "right-horse-battery"])
        #expect(fromEnvironment.status == 2 && fromEnvironment.stderr.contains("holds no sonde history yet"), "\(fromEnvironment.stderr)")
        let pgpass = folder.appendingPathComponent(".pgpass")
        try "127.0.0.1:\(cluster.port):\(database):ci_locked:right-horse-battery\n".write(to: pgpass, atomically: true, encoding: .utf8)
        chmod(pgpass.path, 0o600)
        let fromFile = try await Self.sonde(["history", "--db", bare], in: folder, environment: ["HOME": folder.path, "PGPASSWORD": ""])
        #expect(fromFile.stderr.contains("holds no sonde history yet"), "\(fromFile.stderr)")
    }

    @Test func aServerThatStopsMidRunIsAStorageErrorAndTheRunIsStillReported() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // A cluster of its own, to stop.
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let url = "postgres://\(PostgresCluster.user)@127.0.0.1:\(cluster.port)/postgres"
        // The component statuses answer after 3 s: the server stops meanwhile.
        server.state.setComponentsDelay(milliseconds: 3_000)
        async let run = Self.sonde(
            ["run", "collections/kubesphere.yaml", "--db", url, "--var", "base_url=\(server.baseURL)", "--report", "junit:report.xml"], in: folder)
        while server.state.totalRequests < 2 { try await Task.sleep(for: .milliseconds(50)) }
        cluster.stop()
        let result = try await run
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("lost the connection to postgres://sonde@127.0.0.1:\(cluster.port)/postgres"), "\(result.stderr)")
        #expect(result.stdout.contains("login") && result.stdout.contains("component statuses"), "\(result.stdout)")
        let report = try String(contentsOf: folder.appendingPathComponent("report.xml"), encoding: .utf8)
        #expect(report.contains("login") && report.contains("component statuses"), "\(report)")
    }
}
