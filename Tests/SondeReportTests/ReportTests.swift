import Foundation
import SondeCore
import SondeReport
import SondeTestSupport
import Testing
import Yams

/// JUnit, JSON and TAP from records built in memory, checked by their consumers: xmllint
/// against a JUnit XSD, our own JSON reader, and a TAP 14 parser (below) and `prove`.
struct ReportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Two collections: every outcome, characters XML and YAML must escape, a response excerpt.
    static let runs: [RunRecord] = {
        let started = Date(timeIntervalSince1970: 1_764_000_000.123)
        let nasty = "a <b> & \"c\" 'd' # e\u{1}\nnext line"
        func check(_ subject: String, _ expected: String, _ actual: String, passed: Bool, message: String?, line: Int, column: Int) -> CheckResult {
            CheckResult(
                subject: subject, expected: expected, actual: actual, passed: passed, message: message,
                location: SourceLocation(file: "collections/api.yaml", line: line, column: column))
        }
        func seconds(_ value: Double) -> Duration { .fromSeconds(value) }
        let requests = [
            RequestResult(
                step: "login", position: 0, name: "login", method: "POST", url: "http://x/login", startOffset: .zero, outcome: .passed, status: 200,
                timings: RequestTimings(dns: seconds(0.0001), connect: seconds(0.0002), tls: .zero, firstByte: seconds(0.002), total: seconds(0.0025)),
                attempts: 1, responseSize: 120, bodyHash: "ab", shape: JSONShape(types: ["$": "object", "$.token": "string"]),
                checks: [check("status", "200", "200", passed: true, message: nil, line: 9, column: 7)]),
            RequestResult(
                step: nasty, position: 1, name: nasty, method: "GET", url: "http://x/items?q=<&>", startOffset: seconds(0.003), outcome: .failed, status: 503,
                timings: RequestTimings(dns: .zero, connect: .zero, tls: .zero, firstByte: seconds(0.010), total: seconds(0.012)), attempts: 2,
                responseSize: 40, bodyHash: "cd", responseExcerpt: "{\"error\": \"<down>\"}",
                checks: [
                    check("status", "200", "503", passed: false, message: "expected 200, got 503", line: 20, column: 7),
                    check("$.items[*].name", "\"a\"", nasty, passed: false, message: nil, line: 22, column: 9),
                ]),
            RequestResult(
                step: "unreachable", position: 2, name: "unreachable", method: "GET", url: "http://127.0.0.1:1/", startOffset: seconds(0.016),
                outcome: .error, attempts: 1, problem: RequestProblem(.connect, "Failed to connect to 127.0.0.1 port 1: Connection refused")),
            RequestResult(
                step: "needs token", position: 3, name: "needs token", method: "GET", url: "http://x/me", startOffset: seconds(0.017), outcome: .skipped,
                skip: .failedCapture("token", capturedBy: "login")),
        ]
        return [
            RunRecord(
                id: 7, collection: "smoke", file: "collections/smoke.yaml", contentHash: "0123", environment: "staging", started: started,
                finished: started.addingTimeInterval(0.02), toolVersion: "0.1.0", gitCommit: String(repeating: "a", count: 40), outcome: .error,
                plannedRequests: 4, passed: 1, failed: 1, errored: 1, skipped: 1, requests: requests),
            RunRecord(
                id: 8, collection: "other", file: "other.yaml", contentHash: "4567", environment: nil, started: started.addingTimeInterval(1),
                finished: nil, toolVersion: "0.1.0", gitCommit: nil, outcome: nil, plannedRequests: 3, passed: 1, requests: [requests[0]]),
        ]
    }()

    /// The one-line excerpt of a failed response escapes its tabs and controls as the docs say.
    @Test func theResponseExcerptIsOneEscapedLine() {
        var result = RequestResult(step: "s", position: 0, name: "s", method: "GET", url: "http://h/", outcome: .failed, status: 500)
        result.responseExcerpt = "a\tb\r\nc\u{1b}[2J"
        let line = TerminalReport(colors: false).line(result)
        #expect(line.contains("response body: a\\x09b c\\x1b[2J\n"), "\(line)")
    }

    @Test func junitValidatesAgainstTheXSD() throws {
        let xml = JUnitReport.render(Self.runs, hostname: "ci-host")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-junit-\(UUID().uuidString).xml")
        try xml.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try runTool("xmllint", ["--noout", "--schema", Self.fixtures.appendingPathComponent("junit.xsd").path, file.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("validates"))
        // One testsuite per collection, classname the collection's name, each outcome its element.
        #expect(xml.contains(#"<testsuite name="smoke" tests="4" failures="1" errors="1" skipped="1""#))
        #expect(xml.contains(#"classname="smoke""#) && !xml.contains(#"classname="http"#))
        #expect(xml.contains(#"<failure message="status: expected 200, got 503" type="expectation">"#))
        // The error's type is the problem's kind (RequestProblem.Kind).
        #expect(xml.contains(#"<error message="Failed to connect to 127.0.0.1 port 1: Connection refused" type="connect">"#))
        #expect(xml.contains(#"<skipped message="needs &apos;token&apos;, captured by request &apos;login&apos;, which did not pass"/>"#))
        #expect(xml.contains("a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; # e\u{FFFD}\nnext line"))
        #expect(xml.contains(#"<property name="sonde.environment" value="staging"/>"#))
        #expect(xml.contains("response body: {&quot;error&quot;: &quot;&lt;down&gt;&quot;}"))
    }

    @Test func theXSDRejectsWhatJenkinsWouldNot() throws {
        // The schema is not a rubber stamp: a testcase without a name, a count that is not a number.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-junit-bad-\(UUID().uuidString).xml")
        defer { try? FileManager.default.removeItem(at: file) }
        for bad in [
            #"<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase classname="a" time="0.1"/></testsuite></testsuites>"#,
            #"<testsuites><testsuite name="a" tests="one" failures="0" errors="0"/></testsuites>"#,
            #"<testsuites><testsuite name="a" tests="1" failures="0" errors="0"><testcase name="x" classname="a" time="0.1"><oops/></testcase></testsuite></testsuites>"#,
        ] {
            try bad.write(to: file, atomically: true, encoding: .utf8)
            let result = try runTool("xmllint", ["--noout", "--schema", Self.fixtures.appendingPathComponent("junit.xsd").path, file.path])
            #expect(result.status != 0, "accepted: \(bad)")
        }
    }

    @Test func jsonRoundTrips() throws {
        let text = HistoryJSON.report(Self.runs).prettyText()
        let read = try HistoryJSON.readReport(try JSONValue.parse(Array(text.utf8)))
        #expect(read.count == 2)
        #expect(HistoryJSON.report(read).prettyText() == text)
        #expect(read[0].requests[1].checks[1].actual == Self.runs[0].requests[1].checks[1].actual)
        #expect(read[0].requests[0].shape == Self.runs[0].requests[0].shape)
        #expect(read[1].outcome == nil && read[1].finished == nil)
        #expect(text.contains(#""format": "sonde.runs/1""#))
    }

    @Test func everyMemberOfTheJSONReportIsDocumented() throws {
        let docs = try String(
            contentsOf: Self.fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/json-formats.md"), encoding: .utf8)
        let keys = memberNames(HistoryJSON.report(Self.runs))
        #expect(keys.count > 30)
        for key in keys.sorted() { #expect(docs.contains("`\(key)`"), "docs/json-formats.md does not describe '\(key)'") }
    }

    /// Every character a server can send, in every field of a TAP diagnostic: each YAML block
    /// parses (libyaml refuses DEL, C1 controls and U+FFFE/U+FFFF unescaped) and reads back the same.
    @Test func tapDiagnosticsAreYAMLWhateverTheServerSent() throws {
        let hostile = "del\u{7F} c1\u{85}\u{9B} nonchar\u{FFFE}\u{FFFF} ls\u{2028} bom\u{FEFF} nul\u{0} esc\u{1B}[2J quote\" back\\ 🔑"
        var run = Self.runs[0]
        run.requests[1].url = "http://x/" + hostile
        run.requests[1].checks[1] = CheckResult(
            subject: hostile, expected: hostile, actual: hostile, passed: false, message: hostile, location: SourceLocation(file: "a.yaml", line: 1, column: 1))
        run.requests[2].problem = RequestProblem(.transport, hostile)
        let parsed = try TAP14(TAPReport.render([run]))
        for point in parsed.points {
            guard let yaml = point.yaml else { continue }
            let value = try #require(try Yams.load(yaml: yaml) as? [String: Any], "\(yaml)")
            if let failures = value["failures"] as? [[String: Any]], failures.count > 1 {
                #expect(failures[1]["actual"] as? String == hostile)
                #expect(failures[1]["message"] as? String == hostile)
            }
            if let message = value["message"] as? String { #expect(message == hostile) }
        }
    }

    @Test func tapParsesAsVersion14() throws {
        let tap = TAPReport.render(Self.runs)
        let parsed = try TAP14(tap)
        #expect(parsed.plan == 5)
        #expect(parsed.points.map(\.ok) == [true, false, false, true, true])
        #expect(parsed.points.map(\.number) == [1, 2, 3, 4, 5])
        #expect(parsed.points[3].directive == "SKIP needs 'token', captured by request 'login', which did not pass")
        #expect(parsed.points[1].description.hasPrefix("smoke: a <b> & \"c\" 'd' \\# e"))
        #expect(parsed.points[1].yaml?.contains("expected: \"200\"") == true)
        #expect(parsed.points[2].yaml?.contains("severity: error") == true)
        // Perl's TAP::Parser, as `prove` runs it, agrees: 5 tests, 2 failed.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-\(UUID().uuidString).tap")
        try tap.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let prove = try runTool("prove", ["--exec", "cat", file.path])
        #expect(prove.output.contains("Failed 2/5 subtests"), "\(prove.output)")
    }

    /// Text from a server cannot reorder what the terminal shows (Trojan Source) nor align
    /// itself with tabs on one line; a body keeps its tabs.
    @Test func terminalTextEscapesBidiControlsAndTabs() {
        #expect(TerminalText.escape("a\u{202E}b\u{2066}c\u{2069}d\te") == #"a\u202eb\u2066c\u2069d\x09e"#)
        #expect(TerminalText.escape("plain \u{200F} text é") == "plain \u{200F} text é")
        #expect(TerminalText.lines("a\tb\n\u{202D}c") == ["a\tb", #"\u202dc"#])
        // JSON written to a terminal (a report on standard output) escapes them too.
        #expect(JSONValue.quoted("a\u{202E}b\u{2069}") == #""a\u202eb\u2069""#)
    }
}

/// A strict reader of the TAP 14 this project writes: version line, plan, numbered test
/// points in order, directives, YAML blocks between `  ---` and `  ...`.
struct TAP14 {
    struct Point {
        var ok: Bool
        var number: Int
        var description: String
        var directive: String?
        var yaml: String?
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var plan = 0
    var points: [Point] = []

    init(_ text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard lines.first == "TAP version 14" else { throw Invalid(description: "the first line is not 'TAP version 14'") }
        var index = 1
        while index < lines.count {
            let line = lines[index]
            index += 1
            if line.hasPrefix("#") || line.isEmpty { continue }
            if line.hasPrefix("1..") {
                guard plan == 0, let count = Int(line.dropFirst(3)) else { throw Invalid(description: "bad or second plan: \(line)") }
                plan = count
                continue
            }
            let ok: Bool
            var rest: Substring
            if line.hasPrefix("ok ") { ok = true; rest = line.dropFirst(3) } else if line.hasPrefix("not ok ") { ok = false; rest = line.dropFirst(7) } else {
                throw Invalid(description: "not a TAP line: \(line)")
            }
            let digits = rest.prefix { $0.isNumber }
            guard let number = Int(digits), number == points.count + 1 else { throw Invalid(description: "test point out of order: \(line)") }
            rest = rest.dropFirst(digits.count)
            guard rest.hasPrefix(" - ") else { throw Invalid(description: "no ' - ' before the description: \(line)") }
            rest = rest.dropFirst(3)
            var description = String(rest)
            var directive: String?
            if let range = description.range(of: " # ") {
                // An unescaped '#' starts a directive; '\#' is part of the description.
                let before = description[..<range.lowerBound]
                if !before.hasSuffix("\\") {
                    directive = String(description[range.upperBound...])
                    description = String(before)
                }
            }
            var yaml: String?
            if index < lines.count, lines[index] == "  ---" {
                var block: [String] = []
                index += 1
                while index < lines.count, lines[index] != "  ..." {
                    guard lines[index].hasPrefix("  ") else { throw Invalid(description: "YAML block line not indented: \(lines[index])") }
                    block.append(String(lines[index].dropFirst(2)))
                    index += 1
                }
                guard index < lines.count else { throw Invalid(description: "YAML block not closed with '  ...'") }
                index += 1
                yaml = block.joined(separator: "\n")
            }
            points.append(Point(ok: ok, number: number, description: description, directive: directive, yaml: yaml))
        }
        guard plan == points.count else { throw Invalid(description: "plan 1..\(plan) but \(points.count) test points") }
    }
}

/// Runs a tool from PATH; its exit status and what it printed (both streams).
func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [name] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus == 127 { throw TAP14.Invalid(description: "\(name) is not installed (make test installs it)") }
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

struct SparklineTests {
    @Test func sparklinesScaleAndBucket() {
        #expect(Sparkline.render([1, 8, nil, 4.5]) == "▁█ ▅")
        #expect(Sparkline.render([3, 3]) == "▁▁")
        #expect(Sparkline.render((1...100).map { Double($0) }, width: 10).count == 10)
    }
}
