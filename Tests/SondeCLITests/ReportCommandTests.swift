import Foundation
import SondeCore
import SondeMock
import SondeTestSupport
import Testing

/// `--report` and `sonde report --html` through the binary; the HTML pages in Chromium.
@Suite(.serialized)
struct ReportCommandTests {
    static func folder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-reports-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func everyReportAtOnceWithoutASecret() async throws {
        let server = try await MockServer.start(.init(unhealthy: ["etcd-1"]))
        defer { server.stop() }
        let out = try Self.folder()
        let files = ["junit": out.appendingPathComponent("r.xml"), "json": out.appendingPathComponent("r.json"), "html": out.appendingPathComponent("r.html")]
        let result = try await Sonde.runAsync(
            ["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", out.appendingPathComponent("h.sqlite").path, "-vv"]
                + files.flatMap { ["--report", "\($0.key):\($0.value.path)"] } + ["--report", "tap"])
        #expect(result.status == 1)
        // TAP alone on standard output; the run's own lines on standard error.
        #expect(result.stdout.hasPrefix("TAP version 14\n1..2\n"))
        #expect(result.stdout.contains("not ok 2 - kubesphere-smoke: component statuses"))
        #expect(result.stderr.contains("FAILED kubesphere-smoke: 1 passed, 1 failed"))
        let junit = try String(contentsOf: files["junit"]!, encoding: .utf8)
        #expect(junit.contains(#"<testcase name="component statuses" classname="kubesphere-smoke""#))
        #expect(junit.contains("at $[&apos;items&apos;][3][&apos;conditions&apos;][0][&apos;status&apos;]: expected &quot;True&quot;, got &quot;False&quot;"))
        let json = try JSONValue.parse(Array(try Data(contentsOf: files["json"]!)))
        #expect(json["runs"]?[0]?["id"] == 1)
        #expect(json["runs"]?[0]?["requests"]?[1]?["responseExcerpt"]?.stringValue?.contains("etcd-1") == true)
        let html = try String(contentsOf: files["html"]!, encoding: .utf8)
        #expect(html.contains("<svg class=\"chart waterfall\""))
        #expect(!html.contains("http://") || !html.contains("<script src") && !html.contains("<link"), "the page loads nothing")
        let tokens = server.state.issuedTokens
        #expect(!tokens.isEmpty)
        for (name, text) in [("tap", result.stdout), ("stderr", result.stderr), ("junit", junit), ("json", String(decoding: try Data(contentsOf: files["json"]!), as: UTF8.self)), ("html", html)] {
            for secret in tokens.union(["P@88w0rd", "P%4088w0rd"]) {
                #expect(!text.contains(secret), "\(secret) in the \(name) report")
            }
        }
    }

    @Test func aReportThatCannotBeWrittenStopsTheRunBeforeAnythingIsSent() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let result = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--report", "junit:/nonexistent/folder/r.xml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("the folder /nonexistent/folder does not exist"))
        #expect(server.state.totalRequests == 0)
        let bad = try await Sonde.runAsync(["run", "collections/kubesphere.yaml", "--report", "pdf:x.pdf"])
        #expect(bad.status == 2 && bad.stderr.contains("The value 'pdf:x.pdf' is invalid for '--report") && bad.stderr.contains("junit:FILE"))
    }

    @Test func theHTMLPagesRenderInChromium() async throws {
        // A history with healthy runs, a failing one and a slow one, and the run's own page.
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        let db = out.appendingPathComponent("h.sqlite").path
        let run = ["run", "collections/kubesphere.yaml", "--var", "base_url=\(server.baseURL)", "--db", db]
        for _ in 0..<3 { _ = try await Sonde.runAsync(run) }
        server.state.setUnhealthy(["scheduler"])
        server.state.setComponentsDelay(milliseconds: 30)
        let runPage = out.appendingPathComponent("run.html")
        _ = try await Sonde.runAsync(run + ["--report", "html:\(runPage.path)"])
        let historyPage = out.appendingPathComponent("history.html")
        let report = try await Sonde.runAsync(["report", "--html", historyPage.path, "--db", db])
        #expect(report.status == 0, "\(report.stderr)")
        #expect(report.stdout.contains("wrote \(historyPage.path): 1 collection(s), 4 run(s)"))
        let history = try String(contentsOf: historyPage, encoding: .utf8)
        #expect(history.contains("Latest change") && history.contains("outcome passed → failed"))

        for page in [runPage, historyPage] {
            let source = try String(contentsOf: page, encoding: .utf8)
            let charts = source.components(separatedBy: "<svg class=\"chart").count - 1
            #expect(charts >= 1)
            let rendered = try await offPool { try Chromium.dumpDOM(page) }
            // The page's script ran to its end and counted the charts the browser built.
            #expect(rendered.dom.contains("data-enhanced=\"\(charts)\""), "\(page.lastPathComponent): \(rendered.log.suffix(2000))")
            #expect(rendered.dom.components(separatedBy: "<rect").count > 2)
            #expect(!rendered.log.contains("Uncaught"), "script error in \(page.lastPathComponent): \(rendered.log)")
            #expect(!rendered.log.contains(":CONSOLE("), "console output in \(page.lastPathComponent): \(rendered.log)")
        }
    }
}

/// Headless Chromium from Debian (`make test` installs it).
enum Chromium {
    struct Missing: Error, CustomStringConvertible {
        var description = "chromium is not installed: make test installs it (apt-get install chromium)"
    }

    /// The DOM after the page's scripts ran, and what the browser logged (console messages, script errors).
    static func dumpDOM(_ page: URL) throws -> (dom: String, log: String) {
        guard let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first(where: FileManager.default.isExecutableFile)
        else { throw Missing() }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=2000", "--dump-dom", page.absoluteString,
        ]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errorData = Data.Reader(err.fileHandleForReading)
        let dom = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (String(decoding: dom, as: UTF8.self), String(decoding: errorData.wait(), as: UTF8.self))
    }
}

extension Data {
    /// Reads a pipe to its end on a thread of its own, so that two pipes never block each other.
    final class Reader: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)

        init(_ handle: FileHandle) {
            Thread {
                self.data = handle.readDataToEndOfFile()
                self.done.signal()
            }.start()
        }

        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
