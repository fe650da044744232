import Foundation

/// Instruction counts from `valgrind --tool=callgrind`: the same for the same binary and input
/// whatever else the machine does, so that a change can be judged on a noisy machine. The
/// runs are those of the runner section, on nginx: login + 500 checked GETs.
func callgrindBench(tools: URL) throws {
    print("\n== instructions (valgrind --tool=callgrind, whole process, on nginx)\n")
    guard FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind") else {
        print("(valgrind is not installed; `make bench` installs it)")
        return
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-bench-cg-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    guard let nginx = try Nginx.start(in: folder.appendingPathComponent("nginx")) else {
        print("(nginx is not installed: `apt-get install nginx-light` adds it)")
        return
    }
    defer { nginx.stop() }
    let token = try login(nginx.baseURL)

    // valgrind refuses the DWARF of a Swift binary: a copy without it.
    let sonde = folder.appendingPathComponent("sonde")
    try FileManager.default.copyItem(at: tools.appendingPathComponent("sonde"), to: sonde)
    _ = try capture("/usr/bin/strip", ["--strip-debug", sonde.path])
    let collection = folder.appendingPathComponent("bench.yaml")
    try benchCollection(baseURL: nginx.baseURL, count: 500).write(to: collection, atomically: true, encoding: .utf8)
    let one = folder.appendingPathComponent("one.yaml")
    try benchCollection(baseURL: nginx.baseURL, count: 0).write(to: one, atomically: true, encoding: .utf8)
    let large = folder.appendingPathComponent("large.yaml")
    try benchCollection(baseURL: nginx.baseURL, count: 10_000).write(to: large, atomically: true, encoding: .utf8)
    let database = folder.appendingPathComponent("history.sqlite").path

    let rows: [(String, String, [String], Int)] = [
        ("curl-loop, 501 GETs (the transport's floor)", tools.appendingPathComponent("curl-loop").path,
            [nginx.baseURL + "/api/v1/componentstatuses", token, "501"], 501),
        ("sonde --version (start-up alone)", sonde.path, ["--version"], 0),
        ("sonde validate, 501 requests", sonde.path, ["validate", collection.path], 501),
        ("sonde validate, 10,001 requests", sonde.path, ["validate", large.path], 10_001),
        ("sonde run, 501 requests, --no-save", sonde.path, ["run", collection.path, "--no-save"], 501),
        ("sonde run, 501 requests, recorded", sonde.path, ["run", collection.path, "--db", database], 501),
        ("sonde run, 1 request, --no-save (cold start)", sonde.path, ["run", one.path, "--no-save"], 0),
        ("sonde run, 1 request, recorded (cold start)", sonde.path, ["run", one.path, "--db", database], 0),
    ]
    print("  " + "run".padding(toLength: 50, withPad: " ", startingAt: 0) + "   instructions   per request")
    for (label, program, arguments, requests) in rows {
        let output = folder.appendingPathComponent("callgrind.out").path
        let log = folder.appendingPathComponent("valgrind.log").path
        let status = try spawnAndWait("/usr/bin/valgrind", ["--tool=callgrind", "--callgrind-out-file=\(output)", "--log-file=\(log)", program] + arguments).status
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first(where: { $0.contains("Collected :") }),
            let count = Double(line.split(separator: " ").last.map(String.init) ?? "")
        else {
            print("  " + label + ": valgrind said nothing countable (exit \(status)); see a run by hand")
            continue
        }
        var row = "  " + label.padding(toLength: 50, withPad: " ", startingAt: 0) + String(format: "   %10.1f M", count / 1_000_000)
        if requests > 0 { row += String(format: "   %9.1f k", count / 1000 / Double(requests)) }
        print(row + (status == 0 ? "" : "   exit \(status)"))
    }
}
