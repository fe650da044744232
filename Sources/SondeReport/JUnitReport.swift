import Foundation
import SondeCore

/// JUnit XML as Jenkins, GitLab and the Ant/Surefire schema read it: one testsuite per
/// collection, one testcase per request. The classname is the collection's name (with
/// `.setup` or `.teardown` for those steps), never a URL or an environment, so that CI
/// tracks a test across runs and environments.
public enum JUnitReport {
    public static func render(_ runs: [RunRecord], hostname: String = ProcessInfo.processInfo.hostName) -> String {
        let tests = runs.map(\.requests.count).reduce(0, +)
        let failures = runs.map(\.failed).reduce(0, +)
        let errors = runs.map(\.errored).reduce(0, +)
        let time = runs.compactMap(\.duration).reduce(Duration.zero, +).inSeconds
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        out += "<testsuites name=\"sonde\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(seconds(time))\">\n"
        for (index, run) in runs.enumerated() {
            out += "  <testsuite name=\"\(XML.escape(run.collection))\" tests=\"\(run.requests.count)\" failures=\"\(run.failed)\" errors=\"\(run.errored)\""
            out += " skipped=\"\(run.skipped)\" time=\"\(seconds(run.duration?.inSeconds ?? 0))\" timestamp=\"\(timestamp(run.started))\""
            out += " hostname=\"\(XML.escape(hostname))\" id=\"\(index)\" file=\"\(XML.escape(run.file))\">\n"
            out += "    <properties>\n"
            var properties = [("sonde.run", "\(run.id)"), ("sonde.file", run.file), ("sonde.contentHash", run.contentHash), ("sonde.version", run.toolVersion)]
            if let environment = run.environment { properties.append(("sonde.environment", environment)) }
            if let commit = run.gitCommit { properties.append(("sonde.gitCommit", commit)) }
            for (name, value) in properties { out += "      <property name=\"\(XML.escape(name))\" value=\"\(XML.escape(value))\"/>\n" }
            out += "    </properties>\n"
            for request in run.requests { out += testcase(request, run: run) }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func testcase(_ request: RequestResult, run: RunRecord) -> String {
        // Setup and teardown steps are classes of their own (`smoke.teardown`): a teardown that
        // failed reads apart from a test that failed.
        let classname = request.phase == .main ? run.collection : "\(run.collection).\(request.phase.rawValue)"
        let out = "    <testcase name=\"\(XML.escape(request.name))\" classname=\"\(XML.escape(classname))\" time=\"\(seconds(request.timings?.total.inSeconds ?? 0))\""
        var body = ""
        switch request.outcome {
        case .passed:
            break
        case .skipped:
            body += "      <skipped message=\"\(XML.escape(request.skip?.message ?? "skipped"))\"/>\n"
        case .error where !(request.problem?.kind.isFailure ?? false):
            // The request could not be made or completed: an error, of the problem's kind.
            let message = request.problem?.message ?? "the request could not be completed"
            let kind = request.problem?.kind.rawValue ?? RequestProblem.Kind.transport.rawValue
            body += "      <error message=\"\(XML.escape(message))\" type=\"\(kind)\">\(XML.escape(message))</error>\n"
        case .failed, .error:
            // The response did not hold: a check, or a capture that could not be taken.
            let failed = request.checks.filter { !$0.passed }
            let first = failed.first.map { "\($0.subject): expected \($0.expected), got \($0.actual)" } ?? request.problem?.message ?? "failed"
            var text = ""
            if let problem = request.problem { text += problem.message + "\n" }
            for check in failed {
                text += "\(check.location)  \(check.subject)\n  expected: \(check.expected)\n  actual:   \(check.actual)\n"
                if let message = check.message, !message.isEmpty { text += "  \(message)\n" }
            }
            let type = request.problem?.kind == .capture && failed.isEmpty ? "capture" : "expectation"
            body += "      <failure message=\"\(XML.escape(first))\" type=\"\(type)\">\(XML.escape(text))</failure>\n"
        }
        if request.outcome != .skipped { body += "      <system-out>\(XML.escape(summary(request)))</system-out>\n" }
        return body.isEmpty ? out + "/>\n" : out + ">\n" + body + "    </testcase>\n"
    }

    /// What was sent and what came back, in a few lines (already redacted).
    static func summary(_ request: RequestResult) -> String {
        var lines = ["\(request.method) \(request.url)"]
        if let status = request.status {
            var line = "HTTP \(status), \(request.responseSize) bytes"
            if let timings = request.timings {
                line += String(format: " in %.1f ms (first byte %.1f ms)", timings.total.inMilliseconds, timings.firstByte.inMilliseconds)
            }
            if request.attempts > 1 { line += ", \(request.attempts) attempts" }
            lines.append(line)
        }
        lines.append("\(request.checks.filter(\.passed).count) of \(request.checks.count) expectations passed")
        if let excerpt = request.responseExcerpt { lines.append("response body: " + excerpt) }
        return lines.joined(separator: "\n")
    }

    static func seconds(_ value: Double) -> String { String(format: "%.6f", value) }

    /// ISO 8601 without a zone, as the Ant schema's xs:dateTime-like timestamp expects (UTC).
    static func timestamp(_ date: Date) -> String { String(HistoryJSON.timestamp(date).prefix(19)) }
}
