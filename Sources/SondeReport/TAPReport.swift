import Foundation
import SondeCore

/// TAP version 14 (testanything.org): one test point per request, across collections;
/// failures carry a YAML diagnostic block with expected and actual.
public enum TAPReport {
    public static func render(_ runs: [RunRecord]) -> String {
        let total = runs.map(\.requests.count).reduce(0, +)
        var out = "TAP version 14\n1..\(total)\n"
        var number = 0
        for run in runs {
            out += "# " + TerminalText.escape(oneLine("\(run.collection)\(run.environment.map { " (\($0))" } ?? "") \(run.file)")) + "\n"
            for request in run.requests {
                number += 1
                // One line; a '#' would start a directive, so it is escaped (as is the escape).
                // Setup and teardown steps say so, as in the terminal (`smoke: teardown · delete`).
                let phase = request.phase == .main ? "" : "\(request.phase.rawValue) · "
                let description = TerminalText.escape(oneLine("\(run.collection): \(phase)\(request.name)")).replacingOccurrences(of: "\\", with: "\\\\")
                    .replacingOccurrences(of: "#", with: "\\#")
                switch request.outcome {
                case .passed:
                    out += "ok \(number) - \(description)\n"
                case .skipped:
                    out += "ok \(number) - \(description) # SKIP \(TerminalText.escape(oneLine(request.skip?.message ?? "")))\n"
                case .failed, .error:
                    out += "not ok \(number) - \(description)\n"
                    out += diagnostic(request, run: run)
                }
            }
        }
        return out
    }

    /// The YAML block under a failed test point, indented two spaces, between `---` and `...`.
    static func diagnostic(_ request: RequestResult, run: RunRecord) -> String {
        var lines = ["  ---"]
        lines.append("  severity: \(request.outcome == .error ? "error" : "fail")")
        lines.append("  request: \(quoted("\(request.method) \(request.url)"))")
        if let status = request.status { lines.append("  status: \(status)") }
        if let timings = request.timings { lines.append(String(format: "  duration_ms: %.1f", timings.total.inMilliseconds)) }
        if let problem = request.problem {
            lines.append("  message: \(quoted(problem.message))")
            lines.append("  kind: \(problem.kind.rawValue)")
        }
        let failed = request.checks.filter { !$0.passed }
        if !failed.isEmpty {
            lines.append("  failures:")
            for check in failed {
                lines.append("    - expectation: \(quoted(check.subject))")
                lines.append("      at: \(quoted(check.location.description))")
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
