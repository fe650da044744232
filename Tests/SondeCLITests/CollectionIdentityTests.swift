import Foundation
import GRDB
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// One history per collection, whatever its name shares with another's; a database file that
/// is complete when sonde ends; reading commands that never write.
@Suite(.serialized)
struct CollectionIdentityTests {
    /// A repository (a folder with `.git`) holding two services whose collections are both
    /// named `smoke`, each checking its own path on the mock.
    static func monorepo(_ baseURL: String) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-monorepo-\(UUID().uuidString)")
        for folder in [".git", "services/a", "services/b", "tools"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "ref: refs/heads/main\n".write(to: root.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        for service in ["a", "b"] {
            try """
                name: smoke
                requests:
                  - name: ping
                    url: \(baseURL)/status/{{ status }}
                    expect: { status: 200 }
                """.write(to: root.appendingPathComponent("services/\(service)/smoke.yaml"), atomically: true, encoding: .utf8)
        }
        return root
    }

    @Test func twoCollectionsOfOneNameKeepTwoHistories() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let root = try Self.monorepo(server.baseURL)
        defer { try? FileManager.default.removeItem(at: root) }
        let db = root.appendingPathComponent("history.sqlite").path
        // Service a stays healthy; service b breaks on its second run.
        let a1 = try await Sonde.runAsync(["run", "services/a/smoke.yaml", "--db", db, "--var", "status=200"], directory: root)
        let b1 = try await Sonde.runAsync(["run", "services/b/smoke.yaml", "--db", db, "--var", "status=200"], directory: root)
        // Run from another folder of the repository: the same collection, the same history.
        let a2 = try await Sonde.runAsync(["run", "../services/a/smoke.yaml", "--db", db, "--var", "status=200"], directory: root.appendingPathComponent("tools"))
        let b2 = try await Sonde.runAsync(["run", "services/b/smoke.yaml", "--db", db, "--var", "status=503"], directory: root)
        for result in [a1, b1, a2] { #expect(result.status == 0, "\(result.stdout)\(result.stderr)") }
        #expect(b2.status == 1)

        // Each pair is compared with its own: a did not get worse, b did.
        let diff = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "10s"], directory: root)
        #expect(diff.status == 1)
        #expect(diff.stdout.contains("smoke  services/a/smoke.yaml  run #1"), "\(diff.stdout)")
        #expect(diff.stdout.contains("smoke  services/b/smoke.yaml  run #2"), "\(diff.stdout)")
        let onlyA = try await Sonde.runAsync(["diff", "--collection", "services/a/smoke.yaml", "--db", db, "--latency-floor", "10s"], directory: root)
        #expect(onlyA.status == 0, "\(onlyA.stdout)\(onlyA.stderr)")
        #expect(!onlyA.stdout.contains("services/b"))

        // The listing names the file where two collections share a name.
        let history = try await Sonde.runAsync(["history", "--db", db], directory: root)
        #expect(history.stdout.contains("smoke (services/a/smoke.yaml)"), "\(history.stdout)")
        #expect(history.stdout.contains("smoke (services/b/smoke.yaml)"), "\(history.stdout)")
        // A name two files share is a usage error that lists them; a file picks one, from any folder.
        for command in [["history"], ["trend"], ["diff", "--collection"], ["report", "--html", root.appendingPathComponent("r.html").path]] {
            let ambiguous = try await Sonde.runAsync(command + ["smoke", "--db", db], directory: root)
            #expect(ambiguous.status == 2, "\(command): \(ambiguous.stdout)\(ambiguous.stderr)")
            #expect(ambiguous.stderr.contains("'smoke' names 2 collections, recorded from different files; give the file instead:\n  services/a/smoke.yaml\n  services/b/smoke.yaml"), "\(ambiguous.stderr)")
        }
        let byFile = try await Sonde.runAsync(["history", "../services/b/smoke.yaml", "--json", "--db", db], directory: root.appendingPathComponent("tools"))
        let runs = try JSONValue.parse(Array(byFile.stdout.utf8))["runs"]
        #expect(runs?[0]?["id"] == 4 && runs?[1]?["id"] == 2 && runs?[2] == nil, "\(byFile.stdout)")
        #expect(runs?[0]?["collectionPath"] == "services/b/smoke.yaml")
        let trend = try await Sonde.runAsync(["trend", "services/a/smoke.yaml", "--db", db], directory: root)
        #expect(trend.status == 0 && trend.stdout.contains("2 runs") && trend.stdout.contains("pass rate 100% (2 of 2 runs passed)"), "\(trend.stdout)")

        // Two runs of different collections are not compared unless asked.
        let across = try await Sonde.runAsync(["diff", "1", "2", "--db", db], directory: root)
        #expect(across.status == 2)
        #expect(across.stderr.contains("they are of different collections; add --across-collections"), "\(across.stderr)")
        #expect(try await Sonde.runAsync(["diff", "1", "2", "--across-collections", "--db", db, "--latency-floor", "10s"], directory: root).status == 0)

        // Running the folder says that two collections share a name.
        let folder = try await Sonde.runAsync(["run", "services", "--db", db, "--var", "status=200"], directory: root)
        #expect(folder.stderr.contains("note: 2 collections are named 'smoke'"), "\(folder.stderr)")
    }

    /// After `sonde run` ends (normally, failing, or by SIGTERM or Ctrl-C), the `.sqlite`
    /// file alone holds every run: what a CI cache keeps.
    @Test(arguments: [Int32(0), SIGTERM, SIGINT, SIGHUP])
    func theDatabaseFileIsCompleteWhenSondeEnds(_ signal: Int32) async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-complete-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("history.sqlite").path
        let quick = (0..<5).map { "  - name: quick \($0)\n    url: \(server.baseURL)/echo?n=\($0)\n" }.joined()
        let slow = signal == 0 ? "" : "  - name: stuck\n    url: \(server.baseURL)/slow?ms=20000\n    timeout: 30s\n"
        try ("name: complete\nrequests:\n" + quick + slow).write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = Sonde.executable
        process.arguments = ["run", folder.appendingPathComponent("c.yaml").path, "--db", db]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await offPool {
            if signal != 0 {
                let deadline = Date().addingTimeInterval(20)
                while server.state.totalRequests < 6 && Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
                kill(process.processIdentifier, signal)
            }
            process.waitUntilExit()
        }
        #expect(process.terminationStatus == (signal == 0 ? 0 : 128 + signal))
        let wal = (try? FileManager.default.attributesOfItem(atPath: db + "-wal")[.size] as? Int) ?? 0
        #expect(wal == 0, "the write-ahead log still holds \(wal) bytes")
        // The file alone, copied as a cache would, has the run and its finished requests.
        let copy = folder.appendingPathComponent("cached.sqlite").path
        try FileManager.default.copyItem(atPath: db, toPath: copy)
        let runs = try JSONValue.parse(Array(try await Sonde.runAsync(["history", "--json", "--db", copy]).stdout.utf8))["runs"]
        #expect(runs?[0]?["passed"] == 5)
        #expect(runs?[0]?["outcome"] == (signal == 0 ? "passed" : "incomplete"))
    }

    /// Reading leaves no -wal or -shm file behind and changes nothing; a run's id with a
    /// collection it is not of is a usage error; a text that is one collection's file and
    /// another's name is ambiguous; an empty window says there are older runs; a reader that
    /// holds the file open makes `sonde run` say that its run is not in the file yet.
    @Test func readingAndFilteringSayWhatTheyDo() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-reading-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("a"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let db = folder.appendingPathComponent("h.sqlite").path
        try "name: a\nrequests: [{ name: r, url: \(server.baseURL)/echo }]\n".write(to: folder.appendingPathComponent("a/smoke.yaml"), atomically: true, encoding: .utf8)
        // A collection named like the other's file.
        try "name: a/smoke.yaml\nrequests: [{ name: r, url: \(server.baseURL)/echo }]\n".write(to: folder.appendingPathComponent("tricky.yaml"), atomically: true, encoding: .utf8)
        for file in ["a/smoke.yaml", "tricky.yaml", "a/smoke.yaml"] {
            _ = try await Sonde.runAsync(["run", file, "--db", db], directory: folder)
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: db))
        // diff with a floor no loopback jitter reaches: a busy machine must not make a run "worse".
        for command in [["history"], ["trend"], ["diff", "--latency-floor", "10s"], ["report", "--html", folder.appendingPathComponent("r.html").path]] {
            let result = try await Sonde.runAsync(command + ["--db", db], directory: folder)
            #expect(result.status == 0, "\(command): \(result.stdout)\(result.stderr)")
            for companion in ["-wal", "-shm"] { #expect(!FileManager.default.fileExists(atPath: db + companion), "\(command) left \(companion)") }
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: db)) == before)
        let wrongCollection = try await Sonde.runAsync(["diff", "2", "--collection", "./a/smoke.yaml", "--db", db], directory: folder)
        #expect(wrongCollection.status == 2 && wrongCollection.stderr.contains("run #2 is of 'a/smoke.yaml' (tricky.yaml)"), "\(wrongCollection.stderr)")
        let ambiguous = try await Sonde.runAsync(["history", "a/smoke.yaml", "--db", db], directory: folder)
        #expect(ambiguous.status == 2 && ambiguous.stderr.contains("is the file of one collection and the name of another"), "\(ambiguous.stderr)")
        let empty = try await Sonde.runAsync(["trend", "--since", "0d", "--db", db], directory: folder)
        #expect(empty.stdout.contains("no runs in the last 0d") && empty.stdout.contains("older runs are recorded, the latest started "), "\(empty.stdout)")
        #expect(empty.stdout.contains("(widen the window: --since 1d, or --last "), "\(empty.stdout)")
        // A reader holding a transaction open: the run is recorded, and said to be in -wal only.
        let reader = try DatabaseQueue(path: db)
        let held = try await offPool {
            try reader.read { database -> Sonde.Result in
                _ = try Int.fetchOne(database, sql: "SELECT count(*) FROM run")
                return try Sonde.run(["run", "a/smoke.yaml", "--db", db], directory: folder)
            }
        }
        try reader.close()
        #expect(held.status == 0)
        #expect(held.stderr.contains("the newest run is still in"), "\(held.stderr)")
    }

    /// A damaged or unreadable database is a storage error (exit 3) for every reading
    /// command; a missing one is a usage error (exit 2), and is not created.
    @Test func aDamagedDatabaseIsAStorageError() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-damaged-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let garbage = folder.appendingPathComponent("garbage.sqlite").path
        try Data(repeating: 0x41, count: 8192).write(to: URL(fileURLWithPath: garbage))
        // A real database cut in half, as a failed copy leaves it.
        let real = folder.appendingPathComponent("real.sqlite").path
        try "requests: [{ name: r, url: \(server.baseURL)/echo }]\n".write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        for _ in 0..<30 { _ = try await Sonde.runAsync(["run", folder.appendingPathComponent("c.yaml").path, "--db", real]) }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: real))
        let cut = folder.appendingPathComponent("cut.sqlite").path
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: cut))
        for db in [garbage, cut] {
            // diff with a floor no loopback jitter reaches: a busy machine must not make a run "worse".
        for command in [["history"], ["trend"], ["diff", "--latency-floor", "10s"], ["report", "--html", folder.appendingPathComponent("r.html").path]] {
                let result = try await Sonde.runAsync(command + ["--db", db])
                #expect(result.status == 3, "\(command) on \(db): \(result.status) \(result.stderr)")
                #expect(result.stderr.contains(db), "\(result.stderr)")
                #expect(!result.stderr.contains("cannot write"), "\(result.stderr)")
            }
        }
        let missing = folder.appendingPathComponent("missing.sqlite").path
        let result = try await Sonde.runAsync(["history", "--db", missing])
        #expect(result.status == 2 && result.stderr.contains("no history at \(missing)"))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }

    /// Reading commands work on a database on a read-only mount (a CI cache restored
    /// read-only), after a run left it complete. Needs a tmpfs mount (root) or, as another
    /// user, a folder without write permission.
    @Test func readingCommandsWorkOnAReadOnlyDatabase() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-readonly-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer {
            _ = try? Self.shell("umount", [folder.path])
            try? FileManager.default.removeItem(at: folder)
        }
        let collection = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-readonly-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: collection) }
        try "name: ro\nrequests: [{ name: r, url: \(server.baseURL)/echo }]\n".write(to: collection, atomically: true, encoding: .utf8)
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-readonly-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: staging) }
        for _ in 0..<2 { _ = try await Sonde.runAsync(["run", collection.path, "--db", staging]) }
        let db = folder.appendingPathComponent("history.sqlite").path
        if getuid() == 0 {
            guard try Self.shell("mount", ["-t", "tmpfs", "none", folder.path]) == 0 else {
                print("skipped: readingCommandsWorkOnAReadOnlyDatabase needs to mount a tmpfs (this machine does not allow it)")
                return
            }
            try FileManager.default.copyItem(atPath: staging, toPath: db)
            #expect(try Self.shell("mount", ["-o", "remount,ro", folder.path]) == 0)
        } else {
            try FileManager.default.copyItem(atPath: staging, toPath: db)
            try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)
        }
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path) }
        let history = try await Sonde.runAsync(["history", "--db", db])
        #expect(history.status == 0, "\(history.stderr)")
        #expect(history.stdout.contains("#2") && history.stdout.contains("#1"), "\(history.stdout)")
        let diff = try await Sonde.runAsync(["diff", "--db", db, "--latency-floor", "10s"])
        #expect(diff.status == 0, "\(diff.stderr)")
        let trend = try await Sonde.runAsync(["trend", "--db", db])
        #expect(trend.status == 0 && trend.stdout.contains("2 runs"), "\(trend.stderr)")
        // Writing there is a storage error that says so.
        let run = try await Sonde.runAsync(["run", collection.path, "--db", db])
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
    }

    static func shell(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }
}
