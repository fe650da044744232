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
@BlockingTests
struct TeamHistoryTests {
    /// A folder with the seed collection (collections/kubesphere.yaml).
    nonisolated static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-team-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("collections"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: Sonde.packageRoot.appendingPathComponent("collections/kubesphere.yaml"), to: folder.appendingPathComponent("collections/kubesphere.yaml"))
        return folder
    }

    nonisolated static func sonde(_ arguments: [String], in folder: URL, environment: [String: String] = [:]) async throws -> Sonde.Result {
        // Niced: these tests start many processes at once, beside tests that time requests.
        try await Sonde.runAsync(arguments, environment: ["SONDE_DB": ""].merging(environment) { $1 }, directory: folder, niced: true)
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
                var all: [Sonde.Result] = []
                for try await result in group { all.append(result) }
                return all
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
        // Ages a retention is not said in (six minutes where six months was meant), or beyond
        // a century, are refused; a history that is not there is said, never created.
        for age in ["6m", "30s", "1y", "100000000000000000000d", "9223372036854775807s", "-1d"] {
            let refused = try await Self.sonde(["history", "prune", "--older-than", age, "--db", team], in: folder)
            #expect(refused.status == 2 && refused.stderr.contains("--older-than") && !refused.stderr.contains("Fatal"), "\(age): \(refused.stderr)")
        }
        let missing = folder.appendingPathComponent("typo.sqlite").path
        let nowhere = try await Self.sonde(["history", "prune", "--older-than", "90d", "--db", missing], in: folder)
        #expect(nowhere.status == 2 && !FileManager.default.fileExists(atPath: missing), "\(nowhere.stderr)")
    }

    @Test func aPushReplacesACopyTakenWhileTheRunWentOnAndNeverBringsBackPrunedRuns() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let team = try PostgresCluster.sharedDatabase()
        // A run exported while it went on (one request of two), then the same run finished,
        // and a run of a week before.
        let uuid = "7d3f0c1e-0000-4000-8000-000000000001", older = "7d3f0c1e-0000-4000-8000-000000000002"
        func line(_ id: String, started: String, finished: String?, requests: Int) -> String {
            let request = { (position: Int) in
                #"{"position":\#(position),"name":"r\#(position)","method":"GET","url":"http://x/\#(position)","step":"r\#(position)","phase":"main","startMs":0,"outcome":"passed","status":200,"timings":{"dnsMs":0,"connectMs":0,"tlsMs":0,"firstByteMs":1,"totalMs":2},"attempts":1,"responseSize":2,"bodyHash":null,"shape":null,"error":null,"errorKind":null,"skipReason":null,"skipKind":null,"responseExcerpt":null,"finalUrl":null,"redirects":[],"expectations":[]}"#
            }
            let end = finished.map { "\"\($0)\"" } ?? "null"
            return #"{"format":"sonde.run/1","run":{"id":1,"collection":"c","file":"c.yaml","collectionPath":"c.yaml","contentHash":"h","environment":null,"started":"\#(started)","finished":\#(end),"durationMs":null,"toolVersion":"t","gitCommit":null,"outcome":\#(finished == nil ? "\"incomplete\"" : "\"passed\""),"plannedRequests":2,"passed":\#(requests),"failed":0,"errors":0,"skipped":0,"selection":null,"uuid":"\#(id)","host":null,"user":null,"ci":{"provider":"gitlab-ci","jobUrl":"https://ci:hunter2@ci.example/job/1?private_token=glpat-SECRET","branch":"main","commit":"0123456789abcdef"},"requests":[\#((0..<requests).map(request).joined(separator: ","))]}}"#
        }
        let day = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3 * 86_400))
        let week = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-9 * 86_400))
        let finishedDay = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-3 * 86_400 + 1))
        try (line(uuid, started: day, finished: nil, requests: 1) + "\n").write(to: folder.appendingPathComponent("going.jsonl"), atomically: true, encoding: .utf8)
        try (line(uuid, started: day, finished: finishedDay, requests: 2) + "\n" + line(older, started: week, finished: week, requests: 2) + "\n").write(
            to: folder.appendingPathComponent("done.jsonl"), atomically: true, encoding: .utf8)
        let local = folder.appendingPathComponent("local.sqlite").path
        _ = try await Self.sonde(["history", "import", "going.jsonl", "--db", team], in: folder)
        _ = try await Self.sonde(["history", "import", "done.jsonl", "--db", local], in: folder)
        let push = try await Self.sonde(["history", "push", "--db", local, "--to", team], in: folder)
        #expect(push.status == 0 && push.stdout.contains("pushed 2 runs") && push.stdout.contains("1 replacing an incomplete copy"), "\(push.stdout)\(push.stderr)")
        let shown = try await Self.sonde(["show", "--db", team], in: folder)
        #expect(shown.stdout.contains("passed") && shown.stdout.contains("commit 0123456789ab"), "\(shown.stdout)")
        // Credentials in a job URL are masked, as recording masks them.
        let listed = try await Self.sonde(["history", "--json", "--db", team], in: folder)
        #expect(!listed.stdout.contains("hunter2") && !listed.stdout.contains("glpat-SECRET"), "\(listed.stdout)")
        // After a prune, pushing the same file again brings nothing back: the trend counts them already.
        let pruned = try await Self.sonde(["history", "prune", "--older-than", "5d", "--db", team], in: folder)
        #expect(pruned.stdout.contains("removed 1 run"), "\(pruned.stdout)\(pruned.stderr)")
        let again = try await Self.sonde(["history", "push", "--db", local, "--to", team], in: folder)
        #expect(again.stdout.contains("pushed 0 runs") && again.stdout.contains("1 already there") && again.stdout.contains("1 pruned there before"), "\(again.stdout)")
        let trend = try await Self.sonde(["trend", "--since", "30d", "--json", "--db", team], in: folder)
        #expect(try JSONValue.parse(trend.stdout)["trends"]?[0]?["runs"]?.numberValue?.integer == 2, "\(trend.stdout)")
        // Pushes of the same runs at once: each ends well, and the runs are there once.
        let fresh = try PostgresCluster.sharedDatabase()
        let pushes = try await withThrowingTaskGroup(of: Sonde.Result.self) { group in
            for _ in 0..<3 { group.addTask { try await Self.sonde(["history", "push", "--db", local, "--to", fresh], in: folder) } }
            var all: [Sonde.Result] = []
                for try await result in group { all.append(result) }
                return all
        }
        #expect(pushes.allSatisfy { $0.status == 0 }, "\(pushes.map(\.stderr))")
        // A push whose --to is where it would read from (SONDE_DB names the team's server) says so.
        let itself = try await Self.sonde(["history", "push", "--to", team], in: folder, environment: ["SONDE_DB": team])
        #expect(itself.status == 2 && itself.stderr.contains("give the history to push with --db"), "\(itself.stderr)")
        // The same server named another way is still itself.
        let named = try await Self.sonde(["history", "push", "--to", team + "?sslmode=disable&application_name=x"], in: folder, environment: ["SONDE_DB": team])
        #expect(named.status == 2 && named.stderr.contains("give the history to push with --db"), "\(named.stderr)")
        let other = try await Self.sonde(["history", "push", "--to", fresh, "--db", team], in: folder)
        #expect(other.status == 0, "\(other.stderr)")
        let blank = try await Self.sonde(["history", "push", "--db", local, "--to", "   "], in: folder)
        #expect(blank.status == 2 && blank.stderr.contains("--to is empty"), "\(blank.stderr)")
        let once = try await Self.sonde(["history", "--json", "--db", fresh], in: folder)
        #expect(try JSONValue.parse(once.stdout)["runs"]?.arrayValue?.count == 2)
    }

    @Test func aPasswordInAnyURLIsNeverPrinted() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let port = try ClosedPort()
        for url in [
            "POSTGRES://ci:hunter2secret@127.0.0.1:\(port.port)/team", "Postgresql://ci:hunter2secret@127.0.0.1:\(port.port)/team",
            "postgres://ci:hunter2/secret@127.0.0.1:\(port.port)/team", "postgres://ci:hunter2?secret@127.0.0.1:\(port.port)/team",
            "postgres://ci:hunter2#secret@127.0.0.1:\(port.port)/team", "postgres://ci:hunter2@secret@127.0.0.1:\(port.port)/team",
            "postgres://127.0.0.1:\(port.port)/team?user=ci&password=hunter2secret",
            "postgres://127.0.0.1:\(port.port)/team?user=ci&%70assword=hunter2secret&PASSWORD=hunter2secret",
            "host=127.0.0.1 port=\(port.port) dbname=team password=hunter2secret",
        ] {
            for command in [["history"], ["history", "push", "--to", url, "--db", "nothing.sqlite"], ["demo", "--db", url]] {
                let arguments = command.contains("--to") ? command : command + ["--db", url]
                let result = try await Self.sonde(arguments, in: folder)
                #expect(result.status == 2, "\(url) \(command): \(result.stderr)")
                #expect(!(result.stdout + result.stderr).contains("hunter2"), "\(url) \(command): \(result.stdout)\(result.stderr)")
            }
        }
        // A scheme in capitals names the same server.
        let cluster = try PostgresCluster.shared()
        let upper = try await Self.sonde(["history", "--db", "POSTGRES://\(PostgresCluster.user):anything@127.0.0.1:\(cluster.port)/postgres"], in: folder)
        #expect(upper.stderr.contains("holds no sonde history yet"), "\(upper.stderr)")
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

    @Test func tlsIsWhatSslmodeSays() async throws {
        let cluster = try PostgresCluster()
        defer { cluster.stop() }
        let ca = try cluster.requireTLS()
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = folder.appendingPathComponent("other-ca")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try NginxServer.makeCertificates(in: other)
        let base = "postgres://\(PostgresCluster.user)@127.0.0.1:\(cluster.port)/postgres"
        // Without TLS the server refuses; with it, sonde is in (and finds no history yet).
        let plain = try await Self.sonde(["history", "--db", base + "?sslmode=disable"], in: folder)
        #expect(plain.status == 2 && plain.stderr.contains("no encryption"), "\(plain.stderr)")
        for mode in ["require", "prefer", "verify-full&sslrootcert=\(ca.path)", "verify-ca&sslrootcert=\(ca.path)"] {
            let secure = try await Self.sonde(["history", "--db", base + "?sslmode=" + mode], in: folder)
            #expect(secure.status == 2 && secure.stderr.contains("holds no sonde history yet"), "\(mode): \(secure.stderr)")
        }
        // A server whose certificate another CA signed is not trusted.
        let forged = try await Self.sonde(["history", "--db", base + "?sslmode=verify-full&sslrootcert=\(other.appendingPathComponent("ca.pem").path)"], in: folder)
        #expect(forged.status == 2 && forged.stderr.contains("certificate verify failed"), "\(forged.stderr)")
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
