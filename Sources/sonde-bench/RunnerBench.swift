import Foundation
import SondeHTTP
import SondeMock
import SondeRunner

/// The runner against the loopback limit: `wrk -t1 -c1`, a raw libcurl loop in C, and
/// `sonde run` of login + 500 checked GETs, side by side, on SondeMock and on nginx.
func runnerBench(tools: URL) throws {
    print("\n== runner (sequential authenticated GETs of componentstatuses, one connection)\n")
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-bench-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }

    var servers: [(name: String, baseURL: String, stop: () -> Void)] = []
    let mock = try MockServer.startBlocking()
    servers.append(("SondeMock", mock.baseURL, { mock.stop() }))
    if let nginx = try Nginx.start(in: folder.appendingPathComponent("nginx")) {
        servers.append(("nginx", nginx.baseURL, { nginx.stop() }))
    } else {
        print("(nginx is not installed: only SondeMock; `apt-get install nginx-light` adds it)\n")
    }
    defer { for server in servers { server.stop() } }

    for server in servers {
        let token = try login(server.baseURL)
        let url = server.baseURL + "/api/v1/componentstatuses"
        var rows: [(String, Double?, String)] = []

        // 1. wrk: the fastest that requests go one after another here.
        let wrk = try wrkMicroseconds(url, token: token)
        rows.append(("wrk -t1 -c1 -d5s", wrk, ""))
        // 2. The transport's floor: the same requests from C, one reused easy handle.
        let raw = try curlLoopMicroseconds(tools.appendingPathComponent("curl-loop"), url, token: token, count: 5_000)
        rows.append(("raw libcurl loop in C (5,000 requests)", raw, ""))
        // 3. sonde run: login, capture, 500 GETs with 4 expectations each.
        let collection = folder.appendingPathComponent("bench-\(server.name).yaml")
        try benchCollection(baseURL: server.baseURL, count: 500).write(to: collection, atomically: true, encoding: .utf8)
        let database = folder.appendingPathComponent("bench-\(server.name).sqlite").path
        for (label, extra) in [("sonde run, 501 requests, recorded", ["--db", database]), ("sonde run, 501 requests, --no-save", ["--no-save"])] {
            let run = try timeRun(tools.appendingPathComponent("sonde"), ["run", collection.path] + extra, rounds: 9)
            // The run's own time, from its first request to its last, as its summary line says;
            // two threads and a server on two cores make it vary from run to run, so its range too.
            rows.append((
                "  " + label + ": requests only", run.inRunMilliseconds * 1000 / 501,
                String(format: "range %.1f-%.1f us over 9 runs", run.inRunRange.lowerBound * 1000 / 501, run.inRunRange.upperBound * 1000 / 501)
            ))
            rows.append(("  " + label + ": whole process", run.milliseconds * 1000 / 501,
                String(format: "wall %.0f ms, peak RSS %.1f MB, exit %d", run.milliseconds, run.maxRSSKB / 1024, run.status)))
        }
        // 4. Cold start: one request, the whole process.
        let one = folder.appendingPathComponent("one-\(server.name).yaml")
        try benchCollection(baseURL: server.baseURL, count: 0).write(to: one, atomically: true, encoding: .utf8)
        // The toolchain's build, and (SONDE_INSTALLED, `make install`'s binary) the installed one,
        // whose Swift runtime is linked in.
        var binaries = [("", tools.appendingPathComponent("sonde"))]
        if let installed = ProcessInfo.processInfo.environment["SONDE_INSTALLED"], !installed.isEmpty {
            binaries.append((" (installed)", URL(fileURLWithPath: installed)))
        }
        for (which, binary) in binaries {
            for (label, extra) in [("cold start: sonde run, 1 request, --no-save", ["--no-save"]), ("cold start: sonde run, 1 request, recorded", ["--db", database])] {
                let run = try timeRun(binary, ["run", one.path] + extra, rounds: 11)
                rows.append((label + which, nil, String(format: "wall %.1f ms, exit %d", run.milliseconds, run.status)))
            }
        }
        // 5. Memory: a 20,000-request run against a 1-request one, and loading alone.
        if server.name == "nginx" {
            let many = folder.appendingPathComponent("many.yaml")
            try benchCollection(baseURL: server.baseURL, count: 20_000).write(to: many, atomically: true, encoding: .utf8)
            let large = try timeRun(tools.appendingPathComponent("sonde"), ["run", many.path, "--db", database], rounds: 1)
            let small = try timeRun(tools.appendingPathComponent("sonde"), ["run", one.path, "--db", database], rounds: 3)
            rows.append(("memory: sonde run, 20,001 requests, recorded", nil, String(
                format: "peak RSS %.1f MB, %.2f× the 1-request run's %.1f MB (wall %.1f s, exit %d)", large.maxRSSKB / 1024,
                large.maxRSSKB / small.maxRSSKB, small.maxRSSKB / 1024, large.milliseconds / 1000, large.status)))
            let validate = try timeRun(tools.appendingPathComponent("sonde"), ["validate", many.path], rounds: 3)
            rows.append(("loading: sonde validate, 20,001 requests, whole process", nil, String(
                format: "%.1f µs a request (wall %.0f ms, peak RSS %.1f MB, exit %d)", validate.milliseconds * 1000 / 20_001,
                validate.milliseconds, validate.maxRSSKB / 1024, validate.status)))
        }
        print("on \(server.name) (\(server.baseURL)):")
        print("  " + "figure".padding(toLength: 62, withPad: " ", startingAt: 0) + "   µs/request   × wrk   × libcurl")
        for (label, perRequest, note) in rows {
            var line = "  " + label.padding(toLength: 62, withPad: " ", startingAt: 0)
            if let perRequest {
                line += String(format: "   %10.1f   %5.2f   %9.2f", perRequest, perRequest / wrk, perRequest / raw)
            } else {
                line += String(repeating: " ", count: 32)
            }
            print(line + (note.isEmpty ? "" : "   " + note))
        }
        print("")
    }

    // 6. Memory over a 5 MB body: 41,000 components.
    let big = try MockServer.startBlocking(MockServer.Configuration(components: (0..<41_000).map { "component-\($0)" }))
    defer { big.stop() }
    let bigCollection = folder.appendingPathComponent("big.yaml")
    try benchCollection(baseURL: big.baseURL, count: 3).write(to: bigCollection, atomically: true, encoding: .utf8)
    let bigRun = try timeRun(tools.appendingPathComponent("sonde"), ["run", bigCollection.path, "--db", folder.appendingPathComponent("big.sqlite").path], rounds: 3)
    print(String(format: "sonde run over a 5.1 MB body (login + 3 GETs, recorded): wall %.0f ms, peak RSS %.1f MB, exit %d", bigRun.milliseconds, bigRun.maxRSSKB / 1024, bigRun.status))

    // 7. Memory over a gzip bomb: 1 GB of zeros in about 1 MB of gzip. The body cap
    // (32 MiB by default) stops the transfer; without it this took 1.1 GB.
    let bomb = try capture("/bin/sh", ["-c", "head -c 1073741824 /dev/zero | gzip -9 | base64 -w0"])
    var bombConfiguration = MockServer.Configuration()
    bombConfiguration.gzipBody = Data(base64Encoded: bomb).map { Array($0) } ?? []
    let bombServer = try MockServer.startBlocking(bombConfiguration)
    defer { bombServer.stop() }
    let bombCollection = folder.appendingPathComponent("bomb.yaml")
    try """
        name: bomb
        requests:
          - name: one gigabyte of zeros
            url: \(bombServer.baseURL)/compressed
            expect: { body: { length: 0 } }
        """.write(to: bombCollection, atomically: true, encoding: .utf8)
    let bombRun = try timeRun(tools.appendingPathComponent("sonde"), ["run", bombCollection.path, "--no-save"], rounds: 3)
    print(String(
        format: "sonde run over a gzip bomb (%.1f MB inflating to 1 GB; stopped at max_body_size 32 MiB): wall %.0f ms, peak RSS %.1f MB, exit %d",
        Double(bombConfiguration.gzipBody.count) / 1_048_576, bombRun.milliseconds, bombRun.maxRSSKB / 1024, bombRun.status))

    // 8. Memory of a query over a deep document: 3 KB, 200 objects around 900 numbers.
    // $..*..* selects 199,900 nodes with paths up to 201 steps; $..*..*..* is stopped by the
    // node budget. Spelling every path out at once took gigabytes.
    let deep = folder.appendingPathComponent("deep.json")
    try (String(repeating: #"{"a":"#, count: 200) + "[" + Array(repeating: "1", count: 900).joined(separator: ",") + "]"
        + String(repeating: "}", count: 200)).write(to: deep, atomically: true, encoding: .utf8)
    for query in ["$..*..*", "$..*..*..*"] {
        let queryRun = try timeRun(tools.appendingPathComponent("sonde"), ["jsonpath", query, deep.path, "--paths"], rounds: 3)
        print("sonde jsonpath '\(query)' --paths over 3 KB, 200 levels deep: " + String(format: "wall %.0f ms, peak RSS %.1f MB, exit %d",
            queryRun.milliseconds, queryRun.maxRSSKB / 1024, queryRun.status))
    }
}

/// Login + capture, then `count` authenticated GETs, each with a status, a header and two JSONPath expectations.
func benchCollection(baseURL: String, count: Int) -> String {
    var yaml = """
        name: bench
        base_url: "\(baseURL)"
        vars: { password: "P@88w0rd" }
        secrets: [password]
        requests:
          - name: login
            method: POST
            url: /kapis/iam.kubesphere.io/v1alpha2/login
            json: { username: admin, password: "{{ password }}" }
            capture: { token: { jsonpath: $.access_token, secret: true } }

        """
    for i in 0..<count {
        yaml += """
              - name: component statuses \(i)
                url: /api/v1/componentstatuses
                headers: { Authorization: "Bearer {{ token }}" }
                expect:
                  status: 200
                  headers: { Content-Type: { contains: application/json } }
                  jsonpath:
                    $.kind: ComponentStatusList
                    $.items[*].conditions[?@.type == 'Healthy'].status: { each: "True" }

            """
    }
    return yaml
}

func login(_ baseURL: String) throws -> String {
    let transport = try CurlTransport()
    let response = try transport.send(
        HTTPRequest(method: "POST", url: baseURL + "/kapis/iam.kubesphere.io/v1alpha2/login", headers: [("Content-Type", "application/json")],
            body: .bytes(Array(#"{"username":"admin","password":"P@88w0rd"}"#.utf8))))
    let text = String(decoding: response.body, as: UTF8.self)
    guard let range = text.range(of: #""access_token":"([^"]+)""#, options: .regularExpression) else {
        throw BenchError("login at \(baseURL) answered \(response.status): \(text)")
    }
    return String(text[range].dropFirst(#""access_token":""#.count).dropLast())
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Microseconds per request from `wrk -t1 -c1 -d5s`.
func wrkMicroseconds(_ url: String, token: String) throws -> Double {
    let output = try capture("/usr/bin/env", ["wrk", "-t1", "-c1", "-d5s", "-H", "Authorization: Bearer \(token)", url])
    guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("Requests/sec:") }),
        let rate = Double(line.dropFirst("Requests/sec:".count).trimmingCharacters(in: .whitespaces)), rate > 0
    else { throw BenchError("wrk said: \(output) (is wrk installed? make bench installs it)") }
    if output.contains("Non-2xx") { throw BenchError("wrk got errors: \(output)") }
    return 1_000_000 / rate
}

func curlLoopMicroseconds(_ tool: URL, _ url: String, token: String, count: Int) throws -> Double {
    var samples: [Double] = []
    for _ in 0..<3 {
        let output = try capture(tool.path, [url, token, String(count)])
        guard let value = Double(output.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw BenchError("curl-loop said: \(output)") }
        samples.append(value)
    }
    return samples.sorted()[1]
}

/// A program's standard output.
func capture(_ path: String, _ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// Median wall time, median in-run time (the summary's "in N ms") and peak RSS of a command
/// over `rounds` runs. The RSS comes from GNU time, which forks: a child started by
/// posix_spawn (vfork) reports the parent's high-water mark, and this process is large.
func timeRun(_ executable: URL, _ arguments: [String], rounds: Int) throws -> (
    milliseconds: Double, inRunMilliseconds: Double, inRunRange: ClosedRange<Double>, maxRSSKB: Double, status: Int32
) {
    var samples: [Double] = []
    var inRun: [Double] = []
    var status: Int32 = 0
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-bench-out-\(getpid()).txt").path
    let rssFile = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-bench-rss-\(getpid()).txt").path
    defer {
        try? FileManager.default.removeItem(atPath: output)
        try? FileManager.default.removeItem(atPath: rssFile)
    }
    for _ in 0..<rounds {
        let start = DispatchTime.now().uptimeNanoseconds
        status = try spawnAndWait(executable.path, arguments, output: output).status
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1_000_000)
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        if let range = text.range(of: #" in [0-9.]+ (ms|s)\n"#, options: .regularExpression) {
            let words = text[range].split(separator: " ")
            if words.count == 3, let value = Double(words[1]) { inRun.append(words[2].hasPrefix("ms") ? value : value * 1000) }
        }
    }
    var rss = Double.nan
    if FileManager.default.isExecutableFile(atPath: "/usr/bin/time") {
        _ = try spawnAndWait("/usr/bin/time", ["-f", "%M", "-o", rssFile, executable.path] + arguments)
        // GNU time writes "Command exited with non-zero status N" first when the command fails.
        let lines = ((try? String(contentsOfFile: rssFile, encoding: .utf8)) ?? "").split(separator: "\n")
        rss = lines.last.flatMap { Double($0.trimmingCharacters(in: .whitespaces)) } ?? .nan
    }
    let sorted = inRun.sorted()
    // A command without a run summary (sonde jsonpath) has no in-run time.
    let range = sorted.isEmpty ? 0...0 : sorted[0]...sorted[sorted.count - 1]
    return (samples.sorted()[samples.count / 2], sorted.isEmpty ? .nan : sorted[sorted.count / 2], range, rss, status)
}

/// nginx from Debian on a free loopback port, serving the same login and componentstatuses.
struct Nginx {
    let process: Process
    let baseURL: String

    static func start(in folder: URL) throws -> Nginx? {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let binary else { return nil }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tmp"), withIntermediateDirectories: true)
        try ComponentStatuses.json().write(to: folder.appendingPathComponent("componentstatuses.json"), atomically: true, encoding: .utf8)
        let port = try freePort()
        let prefix = folder.path
        let configuration = """
            daemon off;
            master_process off;
            worker_processes 1;
            pid \(prefix)/nginx.pid;
            error_log \(prefix)/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(prefix)/tmp/body;
                proxy_temp_path \(prefix)/tmp/proxy;
                fastcgi_temp_path \(prefix)/tmp/fastcgi;
                uwsgi_temp_path \(prefix)/tmp/uwsgi;
                scgi_temp_path \(prefix)/tmp/scgi;
                keepalive_requests 1000000;
                server {
                    listen 127.0.0.1:\(port);
                    location = /kapis/iam.kubesphere.io/v1alpha2/login {
                        default_type application/json;
                        return 200 '{"access_token":"bench-token","token_type":"Bearer","expires_in":7200}';
                    }
                    location = /api/v1/componentstatuses {
                        if ($http_authorization != "Bearer bench-token") { return 401; }
                        default_type application/json;
                        alias \(prefix)/componentstatuses.json;
                    }
                }
            }
            """
        let file = folder.appendingPathComponent("nginx.conf")
        try configuration.write(to: file, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-p", prefix, "-c", file.path, "-e", "\(prefix)/error.log"]
        try process.run()
        let baseURL = "http://127.0.0.1:\(port)"
        // Ready when it answers.
        for _ in 0..<100 {
            if (try? login(baseURL)) != nil { return Nginx(process: process, baseURL: baseURL) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        process.terminate()
        throw BenchError("nginx did not start; see \(prefix)/error.log")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

/// A port nothing listens on now (bound to 0, read, released).
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { throw BenchError("bind: \(errno)") }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
