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
        // The collection without its 2 s limit on the latency, which a machine busy with other
        // tests can exceed: the healthy runs must pass.
        let collection = out.appendingPathComponent("kubesphere.yaml")
        try String(contentsOf: Sonde.packageRoot.appendingPathComponent("collections/kubesphere.yaml"), encoding: .utf8)
            .replacingOccurrences(of: #"duration: { "<": 2s }"#, with: #"duration: { "<": 60s }"#).write(to: collection, atomically: true, encoding: .utf8)
        let run = ["run", collection.path, "--var", "base_url=\(server.baseURL)", "--db", db]
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

    /// Ten collections with long names, a request whose URL is hundreds of characters without a
    /// space, requests skipped for a failed capture and by their `skip:`: in a 1280 px window
    /// neither page is wider than the window, no script fails, and the history page opens with an
    /// overview whose every row links to its collection's section.
    @Test func thePagesFitA1280PixelWindow() async throws {
        let server = try await MockServer.start()
        defer { server.stop() }
        let out = try Self.folder()
        let longQuery = "filter=" + String(repeating: "abcdefghijklmnopqrstuvwxyz0123456789", count: 16)
        var files: [String] = []
        for index in 1...10 {
            // One name without a space to break it at, the others long sentences.
            let name = index == 1 ? String(repeating: "checkout_", count: 12) + "eu" : "customer accounts and billing, region \(index), the end-to-end smoke checks"
            var yaml = "name: \(yamlQuoted(name))\nbase_url: \"{{ base }}\"\nrequests:\n  - name: health\n    url: /status/{{ code }}\n"
            if index == 1 {
                yaml += """
                      - name: search with every filter the product page can set at once
                        url: /status/200?\(longQuery)
                      - name: login
                        url: /status/401
                        capture: { token: $.status }
                      - name: needs login
                        url: /status/200?token={{ token }}
                      - name: skipped on purpose
                        url: /status/200
                        skip: true

                    """
            }
            let file = out.appendingPathComponent("c\(index).yaml")
            try yaml.write(to: file, atomically: true, encoding: .utf8)
            files.append(file.path)
        }
        let db = out.appendingPathComponent("h.sqlite").path
        let run = ["run"] + files + ["--var", "base=\(server.baseURL)", "--db", db]
        // Four rounds, the third failing everywhere so that each sparkline has a dip, the last writing the run page.
        for code in [200, 200, 500] { _ = try await Sonde.runAsync(run + ["--var", "code=\(code)"]) }
        let runPage = out.appendingPathComponent("run.html")
        let last = try await Sonde.runAsync(run + ["--var", "code=200", "--report", "html:\(runPage.path)"])
        #expect(last.status == 1, "\(last.stderr)")
        let historyPage = out.appendingPathComponent("history.html")
        let report = try await Sonde.runAsync(["report", "--html", historyPage.path, "--db", db])
        #expect(report.stdout.contains("10 collection(s), 40 run(s)"), "\(report.stdout)\(report.stderr)")

        let run1280 = try await offPool { try Chromium.layout(runPage) }
        #expect(run1280.viewport == 1280)
        #expect(run1280.scrollWidth <= 1280 && run1280.tooWide.isEmpty, "the run page is wider than 1280 px: \(run1280.tooWide)")
        #expect(!run1280.log.contains("Uncaught"), "script error in the run page: \(run1280.log)")
        // The long URL is cut to two lines in its row and whole in its tooltip.
        #expect(run1280.urlLines == 2)
        #expect(run1280.dom.contains("title=\"GET \(server.baseURL)/status/200?\(longQuery)\""))
        // Skip reasons are on screen, not folded away with the details.
        #expect(run1280.visibleText.contains("needs 'token', captured by request 'login', which did not pass"))
        #expect(run1280.visibleText.contains("skipped (condition): skip: true"))

        let history1280 = try await offPool { try Chromium.layout(historyPage) }
        #expect(history1280.scrollWidth <= 1280 && history1280.tooWide.isEmpty, "the history page is wider than 1280 px: \(history1280.tooWide)")
        #expect(!history1280.log.contains("Uncaught"), "script error in the history page: \(history1280.log)")
        #expect(history1280.overviewRows == 10, "\(history1280.log.suffix(2000))")
        #expect(history1280.brokenLinks.isEmpty, "overview links without their section: \(history1280.brokenLinks)")
        // Ten rows in the first screen (900 px high): the overview's bottom above the fold.
        #expect(history1280.overviewBottom > 0 && history1280.overviewBottom <= 900, "the overview ends at \(history1280.overviewBottom) px")
    }
}

/// Headless Chromium from Debian (`make test` installs it).
enum Chromium {
    struct Missing: Error, CustomStringConvertible {
        var description = "chromium is not installed: make test installs it (apt-get install chromium)"
    }

    /// What a page looks like in a window of a given width, measured by a script appended after
    /// the page's own (`layoutCheck`): what shows at first, then, every folded row opened, what
    /// sticks out of the window.
    struct Layout {
        var dom: String
        var log: String
        /// `window.innerWidth`: the width the page was laid out in.
        var viewport: Int
        /// `document.documentElement.scrollWidth`: wider than `viewport` when the page scrolls sideways.
        var scrollWidth: Int
        /// Elements whose box ends right of the window (or starts left of it), with their edges.
        var tooWide: String
        /// The text a reader sees before unfolding anything (`innerText`).
        var visibleText: String
        var overviewRows: Int
        /// The bottom of the overview table, from the top of the page.
        var overviewBottom: Double
        /// Links to an anchor of the page that has no element with that id.
        var brokenLinks: String
        /// The most lines a request's URL takes on the run page.
        var urlLines: Int
    }

    static let layoutCheck = """
        window.addEventListener('load',function(){
          var root=document.documentElement,width=window.innerWidth,wide=[],broken=[];
          function mark(name,value){root.setAttribute('data-check-'+name,String(value));}
          mark('visible-text',document.body.innerText);
          var overview=document.querySelector('table.overview');
          mark('overview-rows',overview?overview.querySelectorAll('tbody tr').length:0);
          mark('overview-bottom',overview?overview.getBoundingClientRect().bottom+window.scrollY:-1);
          document.querySelectorAll('a[href^="#"]').forEach(function(a){if(!document.getElementById(a.getAttribute('href').slice(1))){broken.push(a.getAttribute('href'));}});
          mark('broken-links',broken.join(' '));
          var lines=0;
          document.querySelectorAll('.url').forEach(function(el){lines=Math.max(lines,Math.round(el.getBoundingClientRect().height/parseFloat(getComputedStyle(el).lineHeight)));});
          mark('url-lines',lines);
          document.querySelectorAll('tr.details').forEach(function(row){row.classList.add('open');});
          function describe(el){return el.tagName.toLowerCase()+(el.getAttribute('class')?'.'+el.getAttribute('class').replace(/ /g,'.'):'');}
          // What shows of a box: cut by every ancestor from `clip` up that hides its overflow (an elided cell, an SVG).
          function check(box,clip,what){
            var left=box.left,right=box.right;
            if(box.width===0&&box.height===0){return;}
            for(var a=clip;a&&a!==document.documentElement;a=a.parentElement){
              if(getComputedStyle(a).overflowX!=='visible'){var c=a.getBoundingClientRect();left=Math.max(left,c.left);right=Math.min(right,c.right);}
            }
            if(right>left&&(right>width+0.5||left<-0.5)){wide.push(what+' '+Math.round(left)+'..'+Math.round(right));}
          }
          document.querySelectorAll('body *').forEach(function(el){check(el.getBoundingClientRect(),el.parentElement,describe(el));});
          // Text can stick out of a box that fits (a long word in a heading): measure the text itself.
          var walker=document.createTreeWalker(document.body,NodeFilter.SHOW_TEXT),range=document.createRange(),node;
          while((node=walker.nextNode())){range.selectNodeContents(node);check(range.getBoundingClientRect(),node.parentElement,'text in '+describe(node.parentElement));}
          mark('viewport',width);
          mark('scroll-width',root.scrollWidth);
          mark('too-wide',wide.slice(0,12).join(' | '));
        });
        """

    static func layout(_ page: URL, width: Int = 1280) throws -> Layout {
        let source = try String(contentsOf: page, encoding: .utf8)
        let end = try #require(source.range(of: "</body>", options: .backwards))
        let checked = page.deletingLastPathComponent().appendingPathComponent("checked-" + page.lastPathComponent)
        try source.replacingCharacters(in: end, with: "<script>\(layoutCheck)</script>\n</body>").write(to: checked, atomically: true, encoding: .utf8)
        let (dom, log) = try dumpDOM(checked, windowSize: (width, 900))
        // The check's attributes are on <html>, the first thing of the dump.
        func attribute(_ name: String) -> String {
            guard let start = dom.range(of: "data-check-\(name)=\"") else { return "" }
            let value = dom[start.upperBound...].prefix { $0 != "\"" }
            return value.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&quot;", with: "\"")
                .replacingOccurrences(of: "&nbsp;", with: "\u{A0}").replacingOccurrences(of: "&amp;", with: "&")
        }
        return Layout(
            dom: dom, log: log, viewport: Int(attribute("viewport")) ?? 0, scrollWidth: Int(attribute("scroll-width")) ?? .max,
            tooWide: attribute("too-wide"), visibleText: attribute("visible-text"), overviewRows: Int(attribute("overview-rows")) ?? 0,
            overviewBottom: Double(attribute("overview-bottom")) ?? -1, brokenLinks: attribute("broken-links"), urlLines: Int(attribute("url-lines")) ?? 0)
    }

    /// The DOM after the page's scripts ran, and what the browser logged (console messages, script errors).
    static func dumpDOM(_ page: URL, windowSize: (width: Int, height: Int)? = nil) throws -> (dom: String, log: String) {
        guard let binary = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].first(where: FileManager.default.isExecutableFile)
        else { throw Missing() }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=2000", "--dump-dom", page.absoluteString,
        ] + (windowSize.map { ["--window-size=\($0.width),\($0.height)"] } ?? [])
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
