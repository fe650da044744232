import Foundation
import SondeCore
import SondeMock
import SondeStore
import SondeTestSupport

/// One history for a team: 8 processes at once, each running a 10-request collection 500
/// times (as 8 CI jobs would, a process a run), into one PostgreSQL server, into one SQLite
/// file, and unrecorded (--no-save). Prints runs per second and the CPU a run costs (the
/// processes', and the server's), checks that every run and request arrived, then the cost
/// of recording a request in one process, without the processes' start around it.
/// TEAM_RUNS sets the runs per process.
func teamBench(sonde: URL) throws {
    print("\n== one history for a team: 8 processes at once into one server\n")
    if let reason = PostgresCluster.unavailable {
        print("skipped: \(reason)")
        return
    }
    let perProcess = Int(ProcessInfo.processInfo.environment["TEAM_RUNS"] ?? "") ?? 500
    let processes = 8
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-team-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    let server = try MockServer.startBlocking()
    defer { server.stop() }
    let collection = folder.appendingPathComponent("team.yaml")
    // Login, then 9 GETs: 10 requests a run.
    try benchCollection(baseURL: server.baseURL, count: 9).write(to: collection, atomically: true, encoding: .utf8)
    let cluster = try PostgresCluster()
    defer { cluster.stop() }
    let url = try cluster.makeDatabase()
    let file = folder.appendingPathComponent("team.sqlite").path

    struct Result {
        var seconds: Double
        var cpuSeconds: Double
        var failures: Int
    }
    /// `processes` workers, each spawning `perProcess` runs one after the other.
    func load(_ database: [String]) throws -> Result {
        final class Totals: @unchecked Sendable {
            let lock = NSLock()
            var cpu = 0.0, failures = 0
        }
        let totals = Totals()
        let start = DispatchTime.now().uptimeNanoseconds
        let group = DispatchGroup()
        for _ in 0..<processes {
            group.enter()
            Thread {
                defer { group.leave() }
                for _ in 0..<perProcess {
                    let (status, _, seconds) = (try? spawnAndWait(sonde.path, ["run", collection.path] + database)) ?? (-1, 0, 0)
                    totals.lock.lock()
                    totals.cpu += seconds
                    if status != 0 { totals.failures += 1 }
                    totals.lock.unlock()
                }
            }.start()
        }
        group.wait()
        return Result(seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, cpuSeconds: totals.cpu, failures: totals.failures)
    }

    // The cost of recording a request, without the processes' start and connection around
    // it: runs of 10 requests (7 expectations each, a shape) through the history port, as
    // `sonde run` records them, into a file and into the server.
    // First, before the load below leaves the server vacuuming its tables.
    let recorded = 500
    let fileCost = try recordingCost(SQLiteHistory(path: folder.appendingPathComponent("port.sqlite").path), runs: recorded)
    let before = cluster.serverCPUSeconds()
    var serverCost = try recordingCost(PostgresHistory(url: try cluster.makeDatabase(), access: .readWrite), runs: recorded)
    // (The connection has ended: its backend's CPU is the postmaster's children's.)
    Thread.sleep(forTimeInterval: 0.5)
    serverCost.server = (cluster.serverCPUSeconds() - before) / Double(recorded * 10) * 1e6
    print("recording a request (7 expectations, a shape) through the history port, \(recorded) runs of 10 in one process:")
    print(String(format: "  SQLite file  %6.1f µs  (sonde's CPU %6.1f µs)", fileCost.wall, fileCost.cpu))
    print(String(format: "  PostgreSQL   %6.1f µs  (sonde's CPU %6.1f µs, the server's %6.1f µs)", serverCost.wall, serverCost.cpu, serverCost.server))

    let runs = processes * perProcess
    let requests = runs * 10
    let unsaved = try load(["--no-save"])
    let serverBefore = cluster.serverCPUSeconds()
    let intoServer = try load(["--db", url])
    let serverCPU = cluster.serverCPUSeconds() - serverBefore
    let intoFile = try load(["--db", file])

    print("\(processes) processes × \(perProcess) runs of 10 requests (\(runs) runs, \(requests) requests), on \(ProcessInfo.processInfo.activeProcessorCount) cores:")
    for (name, result) in [("--no-save", unsaved), ("SQLite file", intoFile), ("PostgreSQL", intoServer)] {
        let padded = name.padding(toLength: 12, withPad: " ", startingAt: 0)
        let server = name == "PostgreSQL" ? String(format: ", the server's CPU %.2f ms a run", serverCPU / Double(runs) * 1000) : ""
        let failed = result.failures > 0 ? " (\(result.failures) runs exited non-zero)" : ""
        print(String(format: "  %@ %6.1f runs/s  %6.1f s  sonde's CPU %6.2f ms a run", padded, Double(runs) / result.seconds, result.seconds, result.cpuSeconds / Double(runs) * 1000) + server + failed)
    }

    // Every run and every request arrived, finished.
    for (name, location) in [("PostgreSQL", url), ("SQLite file", file)] {
        let history = try HistoryLocation(parsing: location).open(access: .readOnly)
        let recorded = try history.runs(RunFilter())
        let finished = recorded.filter { $0.finished != nil }.count
        let stored = recorded.reduce(0) { $0 + $1.passed + $1.failed + $1.errored + $1.skipped }
        let trend = try history.trends(RunFilter()).first
        print("  \(name): \(recorded.count) of \(runs) runs (\(finished) finished), \(stored) of \(requests) requests; trend counts \(trend?.runCount ?? 0) runs")
        history.close()
    }

}

/// Records runs of 10 requests into a history, each begun, its requests handed over and
/// finished as `sonde run` does; returns microseconds a request (wall, and this process's CPU).
func recordingCost(_ history: any RunHistory, runs: Int) throws -> (wall: Double, cpu: Double, server: Double) {
    let document = try JSONValue.parse(Array(ComponentStatuses.json().utf8))
    let shape = JSONShape(of: document)
    var started = Date().addingTimeInterval(-86_400)
    let cpuBefore = processCPUSeconds()
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<runs {
        started += 30
        let id = try history.begin(
            RunStart(collection: "port", file: "p.yaml", collectionPath: "p.yaml", contentHash: "h", environment: nil, started: started, toolVersion: "bench",
                gitCommit: nil, plannedRequests: 10))
        for position in 0..<10 {
            history.append(
                RequestResult(
                    step: "request \(position)", position: position, name: "request \(position)", method: "GET", url: "http://127.0.0.1:8080/api/v1/componentstatuses",
                    outcome: .passed, status: 200,
                    timings: RequestTimings(dns: .microseconds(20), connect: .zero, tls: .zero, firstByte: .microseconds(400), total: .microseconds(500 + position)),
                    attempts: 1, responseSize: 797, bodyHash: Digest.sha256("body \(position)"), shape: shape,
                    checks: (0..<7).map {
                        CheckResult(
                            subject: "$.items[\($0)].status", expected: "\"True\"", actual: "\"True\"", passed: true, message: nil,
                            location: SourceLocation(file: "p.yaml", line: 30 + $0, column: 9))
                    }), to: id)
        }
        try history.finish(run: id, outcome: .passed, at: started.addingTimeInterval(1))
    }
    history.close()
    let requests = Double(runs * 10)
    return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / requests, (processCPUSeconds() - cpuBefore) * 1e6 / requests, 0)
}

/// This process's CPU so far (user and system, every thread), seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

