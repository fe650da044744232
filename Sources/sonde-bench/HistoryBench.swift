import Foundation
import GRDB
import SondeCore
import SondeStore
import SondeMock

/// The history database: the cost of recording a request and a run, and how fast `history`,
/// `diff`, `trend` and `report` answer over 100,000 recorded runs of a 10-request collection.
func historyBench(sonde: URL) throws {
    print("\n== history database\n")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    // 1. Recording: one request (7 expectations, a shape) in its own transaction, as `sonde run` does.
    let document = try JSONValue.parse(Array(ComponentStatuses.json().utf8))
    let request = RequestResult(
        step: "component statuses", position: 1, name: "component statuses", method: "GET", url: "http://127.0.0.1:8080/api/v1/componentstatuses",
        outcome: .passed, status: 200,
        timings: RequestTimings(dns: .microseconds(20), connect: .zero, tls: .zero, firstByte: .microseconds(400), total: .microseconds(500)), attempts: 1,
        responseSize: 797, bodyHash: Digest.sha256("body"), shape: JSONShape(of: document),
        checks: (0..<7).map {
            CheckResult(
                subject: "$.items[\($0)].status", expected: "\"True\"", actual: "\"True\"", passed: true, message: nil,
                location: SourceLocation(file: "w.yaml", line: 30 + $0, column: 9))
        })
    let history = try SQLiteHistory(path: folder.appendingPathComponent("write.sqlite").path)
    let runID = try history.begin(
        RunStart(collection: "write", file: "w.yaml", collectionPath: "w.yaml", contentHash: "h", environment: nil, started: Date(), toolVersion: "bench",
            gitCommit: nil, plannedRequests: 0))
    var position = 0
    // Through the history port, as `sonde run` records: each result handed over, then flushed.
    let perRequest = try measure(iterations: 2_000, rounds: 5) {
        var next = request
        next.position = position
        position += 1
        history.append(next, to: runID)
        history.flush()
    }
    report("record one request (7 expectations), own transaction", perRequest)
    let perRequestBatched = try measure(iterations: 20, rounds: 5) {
        for offset in 0..<100 {
            var next = request
            next.position = position + offset
            history.append(next, to: runID)
        }
        position += 100
        history.flush()
    } / 100
    report("record one request (7 expectations), 100 a transaction", perRequestBatched)
    // A whole run as `sonde run` records it: begun, 10 requests, finished (its trend rollups in
    // finish's transaction), in a history that already holds 2,000 runs of that collection.
    let runs = try SQLiteHistory(path: folder.appendingPathComponent("runs.sqlite").path)
    var started = Date().addingTimeInterval(-86_400)
    func recordRun() throws {
        started += 30
        let id = try runs.begin(
            RunStart(collection: "runs", file: "r.yaml", collectionPath: "r.yaml", contentHash: "h", environment: nil, started: started, toolVersion: "bench",
                gitCommit: nil, plannedRequests: 10))
        for position in 0..<10 {
            var next = request
            next.position = position
            next.step = "request \(position)"
            next.name = next.step
            runs.append(next, to: id)
        }
        try runs.finish(run: id, outcome: .passed, at: started.addingTimeInterval(1))
    }
    for _ in 0..<2_000 { try recordRun() }
    report("record a run of 10 requests and finish it", try measure(iterations: 50, rounds: 5, recordRun))
    runs.close()

    // 2. 100,000 runs of a 10-request collection over 30 days, written in bulk.
    // SONDE_BENCH_DB keeps the generated database for a closer look.
    let path = ProcessInfo.processInfo.environment["SONDE_BENCH_DB"] ?? folder.appendingPathComponent("history.sqlite").path
    try? FileManager.default.removeItem(atPath: path)
    try SQLiteHistory(path: path).close()
    let count = 100_000
    let generating = Date()
    try generateHistory(path: path, runs: count, requestsPerRun: 10)
    let generated = Date().timeIntervalSince(generating)
    let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    print(String(format: "generated %d runs, %d requests, %d expectations in %.1f s (%.0f MB)", count, count * 10, count * 20, generated,
        Double(size) / 1_048_576))
    // The rows went in past `finish`: their trend rollups are summed from them, by the code that
    // upgrades a history recorded before rollups, and which `trend` then reads.
    let summing = Date()
    let generatedHistory = try SQLiteHistory(path: path)
    try generatedHistory.rebuildRollups()
    generatedHistory.close()
    print(String(format: "summed their trend rollups in %.1f s (once, as upgrading such a history does)\n", Date().timeIntervalSince(summing)))

    // 3. The commands, as a user runs them: the release binary, wall time with process start.
    for arguments in [
        ["history", "--last", "20"], ["history", "bench-10", "--env", "staging", "--last", "20"], ["diff"], ["diff", "--json"],
        ["trend", "bench-10", "--last", "100"], ["trend", "bench-10"], ["trend", "bench-10", "--since", "7d"], ["trend", "bench-10", "--json"],
        ["trend", "bench-10", "--last", "5000"], ["report", "bench-10", "--html", folder.appendingPathComponent("history.html").path],
    ] {
        let (milliseconds, status) = try timeCommand(sonde, arguments + ["--db", path])
        report("sonde " + arguments.joined(separator: " "), milliseconds * 1000, "exit \(status)")
    }
}

/// Median wall time of a command in milliseconds, over 5 runs, and its last exit status.
/// posix_spawn, not Foundation's Process, which adds about 30 ms of its own to each run.
func timeCommand(_ executable: URL, _ arguments: [String], rounds: Int = 5) throws -> (Double, Int32) {
    var samples: [Double] = []
    var status: Int32 = 0
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        status = try spawnAndWait(executable.path, arguments).status
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
    }
    return (samples.sorted()[samples.count / 2], status)
}

/// Runs a program with its output sent to `output` (default /dev/null); returns its exit
/// status, peak RSS and the CPU it used (user and system, seconds).
func spawnAndWait(_ path: String, _ arguments: [String], output: String = "/dev/null") throws -> (status: Int32, maxRSSKB: Double, cpuSeconds: Double) {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let result = posix_spawn(&pid, path, &actions, nil, argv, environ)
    guard result == 0 else { throw POSIXError(POSIXErrorCode(rawValue: result) ?? .EINVAL) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) == -1 && errno == EINTR {}
    let cpu = Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return ((status >> 8) & 0xFF, Double(usage.ru_maxrss), cpu)
}

/// Writes synthetic runs straight into the schema, in one transaction: about 1 % of runs
/// fail, latencies wander, two shapes alternate rarely, one run in ten is in staging.
func generateHistory(path: String, runs: Int, requestsPerRun: Int) throws {
    let queue = try DatabaseQueue(path: path)
    let now = Date().timeIntervalSince1970
    let span: Double = 30 * 86_400
    var random = SystemRandomNumberGenerator()
    try queue.write { db in
        try db.execute(sql: "INSERT OR IGNORE INTO shape (hash, paths) VALUES ('s1', '$: object\n$.items: array'), ('s2', '$: object\n$.items: array\n$.extra: string')")
        let insertRun = try db.makeStatement(sql: """
            INSERT INTO run (id, collection, file, contentHash, environment, startedAt, finishedAt, toolVersion, outcome, plannedRequests, passed, failed)
            VALUES (?, 'bench-10', 'collections/bench.yaml', 'hash', ?, ?, ?, 'bench', ?, ?, ?, ?)
            """)
        let insertRequest = try db.makeStatement(sql: """
            INSERT INTO request (id, runId, position, name, method, url, outcome, status, dnsMs, connectMs, tlsMs, firstByteMs, totalMs, attempts,
                responseSize, bodyHash, shapeHash, step)
            VALUES (?, ?, ?, ?4, 'GET', 'http://127.0.0.1/api', ?, ?, 0.02, 0.1, 0, ?, ?, 1, 797, ?, ?, ?4)
            """)
        let insertCheck = try db.makeStatement(sql: """
            INSERT INTO expectation (requestId, position, subject, expected, actual, passed, line, "column") VALUES (?, ?, ?, '200', ?, ?, 10, 7)
            """)
        var requestID: Int64 = 0
        for run in 1...runs {
            let started = now - span + span * Double(run) / Double(runs)
            let failing = Int.random(in: 0..<100, using: &random) == 0 ? Int.random(in: 0..<requestsPerRun, using: &random) : -1
            try insertRun.execute(arguments: [
                run, run % 10 == 0 ? "staging" : nil, started, started + 0.05, failing >= 0 ? "failed" : "passed", requestsPerRun,
                requestsPerRun - (failing >= 0 ? 1 : 0), failing >= 0 ? 1 : 0,
            ])
            for position in 0..<requestsPerRun {
                requestID += 1
                let failed = position == failing
                let total = Double.random(in: 0.4...2.0, using: &random) * Double(position + 1)
                try insertRequest.execute(arguments: [
                    requestID, run, position, "request \(position)", failed ? "failed" : "passed", failed ? 503 : 200, total * 0.8, total,
                    run % 7 == 0 ? "b2" : "b1", run % 1000 == 0 ? "s2" : "s1",
                ])
                for check in 0..<2 {
                    try insertCheck.execute(arguments: [requestID, check, check == 0 ? "status" : "$.kind", failed && check == 0 ? "503" : "200", !(failed && check == 0)])
                }
            }
        }
    }
}
