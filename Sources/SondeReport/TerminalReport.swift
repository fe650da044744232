import Foundation
import SondeCore

/// The terminal's view of a run: a line a request, what broke and why, then a summary.
public struct TerminalReport: Sendable {
    public var colors: Bool
    /// 0: results; 1 (-v): also request and response headers; 2 (-vv): bodies too.
    public var verbosity: Int

    public init(colors: Bool, verbosity: Int = 0) {
        self.colors = colors
        self.verbosity = verbosity
    }

    /// `kubesphere-smoke  collections/kubesphere.yaml, 2 requests`; `loops`: how many of
    /// them loop (`, 4 requests, 2 of them loops`), each sent once per item.
    public func header(_ run: (name: String, file: String, requests: Int), loops: Int = 0) -> String {
        let looping = loops == 0 ? "" : ", \(loops == run.requests ? (loops == 1 ? "a loop" : "all loops") : "\(loops) of them loop\(loops == 1 ? "" : "s")")"
        return bold(safe(run.name)) + dim("  \(safe(run.file)), \(run.requests) request\(run.requests == 1 ? "" : "s")\(looping)") + "\n"
    }

    /// Every string of a result may hold what a server sent: it is escaped (`TerminalText`).
    public func line(_ result: RequestResult) -> String {
        var out = ""
        let mark: String
        switch result.outcome {
        case .passed: mark = green("✓")
        case .failed: mark = red("✗")
        case .error: mark = red("!")
        case .skipped: mark = yellow("-")
        }
        // Setup and teardown steps say so; the collection's own requests need no label.
        let phase = result.phase == .main ? "" : dim(result.phase.rawValue + " · ")
        out += "  \(mark) \(phase)\(safe(result.name))  " + dim("\(safe(result.method)) \(safe(result.url))")
        if let status = result.status { out += "  " + statusColor(status)(String(status)) }
        if let time = result.duration { out += "  " + dim(Self.milliseconds(time.inMilliseconds)) }
        if result.attempts > 1 { out += dim("  (\(result.attempts) attempts)") }
        out += "\n"
        if let reason = result.skip { out += "      " + yellow("skipped: ") + safe(reason.message) + "\n" }
        if let problem = result.problem { out += "      " + red(result.outcome == .error ? "error: " : "failed: ") + safe(problem.message) + "\n" }
        for check in result.failedChecks {
            out += "      " + dim(safe("\(check.location)")) + "  " + bold(safe(check.subject)) + "\n"
            out += "        expected: \(safe(check.expected))\n"
            out += "        actual:   \(safe(check.actual))\n"
            if let message = check.message, !message.isEmpty { out += "        " + red(safe(message)) + "\n" }
        }
        // -vv shows the whole body below; -v shows headers only, so the excerpt too.
        if verbosity < 2, result.outcome == .failed, let body = result.responseExcerpt, !body.isEmpty {
            out += "      " + dim("response body: " + Self.excerpt(body)) + "\n"
        }
        if verbosity >= 1, let command = result.curlCommand { out += dim("      $ " + safe(command)) + "\n" }
        if verbosity >= 1, result.outcome != .skipped {
            for header in result.requestHeaders { out += dim("      > " + Self.field(header)) + "\n" }
            if verbosity >= 2, let body = result.requestBody, !body.isEmpty { out += dim(Self.indent(body, "      > ")) + "\n" }
            for (index, hop) in result.redirects.enumerated() {
                out += dim("      ↪ \(hop.status) \(safe(hop.url)) -> \(safe(hop.method)) \(safe(hop.location))") + "\n"
                if index < result.redirectHeaders.count {
                    for header in result.redirectHeaders[index] { out += dim("      > " + Self.field(header)) + "\n" }
                }
            }
            for header in result.responseHeaders { out += dim("      < " + Self.field(header)) + "\n" }
            if verbosity >= 2, let body = result.responseBody, !body.isEmpty { out += dim(Self.indent(body, "      < ")) + "\n" }
        }
        return out
    }

    func safe(_ text: String) -> String { TerminalText.escape(text) }

    /// A recorded run (`sonde show`): the header `sonde run` printed, which run it was, a
    /// line a request with what broke, and the summary.
    public func recordedRun(_ run: RunRecord) -> String {
        var facts = ["run #\(run.id)", HistoryText.time(run.started)]
        if let environment = run.environment { facts.append("environment \(safe(environment))") }
        if let commit = run.gitCommit { facts.append("commit \(safe(String(commit.prefix(12))))") }
        let origin = run.origin.description
        if !origin.isEmpty { facts.append(safe(origin)) }
        facts.append("sonde \(safe(run.toolVersion))")
        return header((run.collection, run.file, run.plannedRequests)) + dim("  " + facts.joined(separator: ", ")) + "\n"
            + run.requests.map(line).joined() + summary(run)
    }

    /// `teardownFailures`: how many teardown steps did not pass, said apart from the test's
    /// verdict (`FAILED … (the teardown failed: 1 step of it)`).
    public func summary(_ run: RunResult, teardownFailures: Int = 0) -> String {
        let warnings = run.warnings.map { "warning: \(safe($0))\n" }.joined()
        let counts = (run.count(.passed), run.count(.failed), run.count(.error), run.count(.skipped))
        return warnings + summary(collection: run.collection, outcome: run.outcome, counts: counts, elapsed: run.duration, teardownFailures: teardownFailures)
    }

    /// The summary of a recorded run (`sonde show`); an interrupted one says so and how far it got.
    public func summary(_ run: RunRecord) -> String {
        let counts = (run.passed, run.failed, run.errored, run.skipped)
        guard let outcome = run.outcome else {
            let recorded = run.passed + run.failed + run.errored + run.skipped
            return yellow("INCOMPLETE") + " \(safe(run.collection)): \(countsText(counts)); interrupted after \(recorded)\(recorded < run.plannedRequests ? " of \(run.plannedRequests) requests" : " requests (its plan has \(run.plannedRequests) steps; a loop sends one request per item)")\n"
        }
        let teardown = run.requests.filter { $0.phase == .teardown && ($0.outcome == .failed || $0.outcome == .error) }.count
        return summary(collection: run.collection, outcome: outcome, counts: counts, elapsed: run.duration ?? .zero, teardownFailures: teardown)
    }

    /// `FAILED kubesphere-smoke: 1 passed, 1 failed, 0 errors, 0 skipped in 12.3 ms`
    func summary(
        collection: String, outcome: Outcome, counts: (passed: Int, failed: Int, errors: Int, skipped: Int), elapsed: Duration, teardownFailures: Int = 0
    ) -> String {
        let verdict = outcome == .passed ? green("PASSED") : red("FAILED")
        // A teardown that failed fails the run, and says it was the teardown: the checks may all have held.
        let teardown = teardownFailures == 0 ? "" : " " + red("(the teardown failed: \(teardownFailures) step\(teardownFailures == 1 ? "" : "s") of it)")
        return "\(verdict) \(safe(collection)): \(countsText(counts)) in \(Self.milliseconds(elapsed.inMilliseconds))\(teardown)\n"
    }

    private func countsText(_ counts: (passed: Int, failed: Int, errors: Int, skipped: Int)) -> String {
        [
            green("\(counts.passed) passed"), (counts.failed > 0 ? red : { $0 })("\(counts.failed) failed"),
            (counts.errors > 0 ? red : { $0 })("\(counts.errors) error\(counts.errors == 1 ? "" : "s")"), "\(counts.skipped) skipped",
        ].joined(separator: ", ")
    }

    /// After several collections, one summary of them all (as Hurl's "Executed files"):
    ///
    ///     3 collections: 2 passed, 1 failed
    ///     12 requests: 9 passed, 1 failed, 1 error, 1 skipped in 1.23 s
    public func sessionSummary(_ runs: [RunResult]) -> String {
        let failedRuns = runs.filter { $0.outcome != .passed }.count
        var requests = OutcomeCounts()
        for run in runs { requests.merge(run.counts) }
        let start = runs.map(\.started).min() ?? Date()
        let end = runs.map(\.finished).max() ?? start
        let collections = "\(runs.count) collections: " + green("\(runs.count - failedRuns) passed") + ", "
            + (failedRuns > 0 ? red : { $0 })("\(failedRuns) failed")
        let counts = (requests.passed, requests.failed, requests.errored, requests.skipped)
        let elapsed = Self.milliseconds(end.timeIntervalSince(start) * 1000)
        return bold(collections) + "\n" + "\(requests.total) request\(requests.total == 1 ? "" : "s"): " + countsText(counts) + " in \(elapsed)\n"
    }

    /// `12.3 ms`, or `1.23 s` from a second up; written by hand, since String(format:) goes
    /// through Foundation's formatter on every request line.
    static func milliseconds(_ ms: Double) -> String {
        ms >= 1000 ? fixed(ms / 1000, decimals: 2) + " s" : fixed(ms, decimals: 1) + " ms"
    }

    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return String(value) }
        let scale = decimals == 2 ? 100.0 : 10.0
        let scaled = Int64((abs(value) * scale).rounded())
        let whole = scaled / Int64(scale)
        var fraction = String(scaled % Int64(scale))
        while fraction.count < decimals { fraction = "0" + fraction }
        return (value < 0 && scaled != 0 ? "-" : "") + String(whole) + "." + fraction
    }

    /// The start of a body on one line, escaped.
    static func excerpt(_ body: String) -> String {
        // One line: its tabs written `\x09` too, as everywhere a line is escaped.
        let flat = TerminalText.lines(body).joined(separator: " ").replacingOccurrences(of: "\t", with: "\\x09")
        return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
    }

    /// `Name: value`, or `Name:` for an empty value, as it went on the wire.
    static func field(_ header: (name: String, value: String)) -> String {
        let name = TerminalText.escape(header.name)
        return header.value.isEmpty ? "\(name):" : "\(name): \(TerminalText.escape(header.value))"
    }

    /// Every line of `text` after `prefix`, escaped; lines end at LF, CR LF or CR.
    static func indent(_ text: String, _ prefix: String) -> String {
        TerminalText.lines(text).map { prefix + $0 }.joined(separator: "\n")
    }

    private var style: Paint { Paint(colors: colors) }
    private func bold(_ text: String) -> String { style.bold(text) }
    private func dim(_ text: String) -> String { style.dim(text) }
    private func red(_ text: String) -> String { style.red(text) }
    private func green(_ text: String) -> String { style.green(text) }
    private func yellow(_ text: String) -> String { style.yellow(text) }
    private func statusColor(_ status: Int) -> (String) -> String {
        status < 400 ? { self.green($0) } : { self.red($0) }
    }
}
