import Foundation
import SondeCore

/// JUnit XML as Jenkins, GitLab and the Ant/Surefire schema read it: one testsuite per
/// collection, one testcase per request. The classname is the collection's name, never a
/// URL or an environment, so that CI tracks a test across runs and environments.
public enum JUnitReport {
    public static func render(_ runs: [RunRecord], hostname: String = ProcessInfo.processInfo.hostName) -> String {
        let tests = runs.map(\.requests.count).reduce(0, +)
        let failures = runs.map(\.failed).reduce(0, +)
        let errors = runs.map(\.errored).reduce(0, +)
        let time = runs.compactMap(\.duration).reduce(0, +)
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        out += "<testsuites name=\"sonde\" tests=\"\(tests)\" failures=\"\(failures)\" errors=\"\(errors)\" time=\"\(seconds(time))\">\n"
        for (index, run) in runs.enumerated() {
            out += "  <testsuite name=\"\(escape(run.collection))\" tests=\"\(run.requests.count)\" failures=\"\(run.failed)\" errors=\"\(run.errored)\""
            out += " skipped=\"\(run.skipped)\" time=\"\(seconds(run.duration ?? 0))\" timestamp=\"\(timestamp(run.started))\""
            out += " hostname=\"\(escape(hostname))\" id=\"\(index)\" file=\"\(escape(run.file))\">\n"
            out += "    <properties>\n"
            var properties = [("sonde.run", "\(run.id)"), ("sonde.file", run.file), ("sonde.contentHash", run.contentHash), ("sonde.version", run.toolVersion)]
            if let environment = run.environment { properties.append(("sonde.environment", environment)) }
            if let commit = run.gitCommit { properties.append(("sonde.gitCommit", commit)) }
            for (name, value) in properties { out += "      <property name=\"\(escape(name))\" value=\"\(escape(value))\"/>\n" }
            out += "    </properties>\n"
            for request in run.requests { out += testcase(request, run: run) }
            out += "  </testsuite>\n"
        }
        return out + "</testsuites>\n"
    }

    static func testcase(_ request: RequestRecord, run: RunRecord) -> String {
        var out = "    <testcase name=\"\(escape(request.name))\" classname=\"\(escape(run.collection))\" time=\"\(seconds(request.timings?.total ?? 0))\""
        var body = ""
        switch request.outcome {
        case .passed:
            break
        case .skipped:
            body += "      <skipped message=\"\(escape(request.skipReason ?? "skipped"))\"/>\n"
        case .error:
            let message = request.error ?? "the request could not be completed"
            body += "      <error message=\"\(escape(message))\" type=\"\(request.status == nil ? "transport" : "template")\">\(escape(message))</error>\n"
        case .failed:
            let failed = request.checks.filter { !$0.passed }
            let first = failed.first.map { "\($0.subject): expected \($0.expected), got \($0.actual)" } ?? request.error ?? "failed"
            var text = ""
            if let error = request.error { text += error + "\n" }
            for check in failed {
                text += "\(run.file):\(check.line):\(check.column)  \(check.subject)\n  expected: \(check.expected)\n  actual:   \(check.actual)\n"
                if let message = check.message, !message.isEmpty { text += "  \(message)\n" }
            }
            body += "      <failure message=\"\(escape(first))\" type=\"expectation\">\(escape(text))</failure>\n"
        }
        if request.outcome != .skipped { body += "      <system-out>\(escape(summary(request)))</system-out>\n" }
        return body.isEmpty ? out + "/>\n" : out + ">\n" + body + "    </testcase>\n"
    }

    /// What was sent and what came back, in a few lines (already redacted).
    static func summary(_ request: RequestRecord) -> String {
        var lines = ["\(request.method) \(request.url)"]
        if let status = request.status {
            var line = "HTTP \(status), \(request.responseSize) bytes"
            if let timings = request.timings { line += String(format: " in %.1f ms (first byte %.1f ms)", timings.total * 1000, timings.firstByte * 1000) }
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

    /// XML text and attribute values: the five entities, and no character XML 1.0 forbids.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
            default:
                let v = scalar.value
                if v < 0x20 || (0xD800...0xDFFF).contains(v) || v == 0xFFFE || v == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}

/// TAP version 14 (testanything.org): one test point per request, across collections;
/// failures carry a YAML diagnostic block with expected and actual.
public enum TAPReport {
    public static func render(_ runs: [RunRecord]) -> String {
        let total = runs.map(\.requests.count).reduce(0, +)
        var out = "TAP version 14\n1..\(total)\n"
        var number = 0
        for run in runs {
            out += "# " + oneLine("\(run.collection)\(run.environment.map { " (\($0))" } ?? "") \(run.file)") + "\n"
            for request in run.requests {
                number += 1
                // One line; a '#' would start a directive, so it is escaped (as is the escape).
                let description = oneLine("\(run.collection): \(request.name)").replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "#", with: "\\#")
                switch request.outcome {
                case .passed:
                    out += "ok \(number) - \(description)\n"
                case .skipped:
                    out += "ok \(number) - \(description) # SKIP \(oneLine(request.skipReason ?? ""))\n"
                case .failed, .error:
                    out += "not ok \(number) - \(description)\n"
                    out += diagnostic(request, run: run)
                }
            }
        }
        return out
    }

    /// The YAML block under a failed test point, indented two spaces, between `---` and `...`.
    static func diagnostic(_ request: RequestRecord, run: RunRecord) -> String {
        var lines = ["  ---"]
        lines.append("  severity: \(request.outcome == .error ? "error" : "fail")")
        lines.append("  request: \(quoted("\(request.method) \(request.url)"))")
        if let status = request.status { lines.append("  status: \(status)") }
        if let timings = request.timings { lines.append(String(format: "  duration_ms: %.1f", timings.total * 1000)) }
        if let error = request.error { lines.append("  message: \(quoted(error))") }
        let failed = request.checks.filter { !$0.passed }
        if !failed.isEmpty {
            lines.append("  failures:")
            for check in failed {
                lines.append("    - expectation: \(quoted(check.subject))")
                lines.append("      at: \(quoted("\(run.file):\(check.line):\(check.column)"))")
                lines.append("      expected: \(quoted(check.expected))")
                lines.append("      actual: \(quoted(check.actual))")
                if let message = check.message, !message.isEmpty { lines.append("      message: \(quoted(message))") }
            }
        }
        lines.append("  ...")
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML double-quoted scalar (JSON string syntax is valid YAML).
    static func quoted(_ text: String) -> String { JSONValue.quoted(text) }

    static func oneLine(_ text: String) -> String {
        text.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}
