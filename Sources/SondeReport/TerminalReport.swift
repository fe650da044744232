import Foundation
import SondeCore
import SondeRunner

/// The terminal's view of a run: a line a request, what broke and why, then a summary.
public struct TerminalReport: Sendable {
    public var colors: Bool
    /// 0: results; 1 (-v): also request and response headers; 2 (-vv): bodies too.
    public var verbosity: Int

    public init(colors: Bool, verbosity: Int = 0) {
        self.colors = colors
        self.verbosity = verbosity
    }

    public func header(_ run: (name: String, file: String, requests: Int)) -> String {
        bold("\(run.name)") + dim("  \(run.file), \(run.requests) request\(run.requests == 1 ? "" : "s")") + "\n"
    }

    public func line(_ result: RequestResult) -> String {
        var out = ""
        let mark: String
        switch result.outcome {
        case .passed: mark = green("✓")
        case .failed: mark = red("✗")
        case .error: mark = red("!")
        case .skipped: mark = yellow("-")
        }
        out += "  \(mark) \(result.name)  " + dim("\(result.method) \(result.url)")
        if let status = result.status { out += "  " + statusColor(status)(String(status)) }
        if let time = result.durationMilliseconds { out += "  " + dim(Self.milliseconds(time)) }
        if result.attempts > 1 { out += dim("  (\(result.attempts) attempts)") }
        out += "\n"
        if let reason = result.skipReason { out += "      " + yellow("skipped: ") + reason + "\n" }
        if let error = result.error { out += "      " + red(result.outcome == .error ? "error: " : "failed: ") + error + "\n" }
        for check in result.failedChecks {
            out += "      " + dim("\(check.location)") + "  " + bold(check.subject) + "\n"
            out += "        expected: \(check.expected)\n"
            out += "        actual:   \(check.actual)\n"
            if let message = check.message, !message.isEmpty { out += "        " + red(message) + "\n" }
        }
        if verbosity == 0, result.outcome == .failed, let body = result.responseBody, !body.isEmpty {
            out += "      " + dim("response body: " + Self.excerpt(body)) + "\n"
        }
        if verbosity >= 1, result.outcome != .skipped {
            for header in result.requestHeaders { out += dim("      > " + Self.field(header)) + "\n" }
            if verbosity >= 2, let body = result.requestBody, !body.isEmpty { out += dim(Self.indent(body, "      > ")) + "\n" }
            for (index, hop) in result.redirects.enumerated() {
                out += dim("      ↪ \(hop.status) \(hop.url) -> \(hop.location)") + "\n"
                if index < result.redirectHeaders.count {
                    for header in result.redirectHeaders[index] { out += dim("      > " + Self.field(header)) + "\n" }
                }
            }
            for header in result.responseHeaders { out += dim("      < " + Self.field(header)) + "\n" }
            if verbosity >= 2, let body = result.responseBody, !body.isEmpty { out += dim(Self.indent(body, "      < ")) + "\n" }
        }
        return out
    }

    public func summary(_ run: RunResult) -> String {
        let elapsed = run.finished.timeIntervalSince(run.started) * 1000
        let parts = [
            green("\(run.count(.passed)) passed"), (run.count(.failed) > 0 ? red : { $0 })("\(run.count(.failed)) failed"),
            (run.count(.error) > 0 ? red : { $0 })("\(run.count(.error)) error\(run.count(.error) == 1 ? "" : "s")"), "\(run.count(.skipped)) skipped",
        ]
        let verdict = run.outcome == .passed ? green("PASSED") : red("FAILED")
        return "\(verdict) \(run.collection): \(parts.joined(separator: ", ")) in \(Self.milliseconds(elapsed))\n"
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

    static func excerpt(_ body: String) -> String {
        let flat = body.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 200 ? String(flat.prefix(200)) + "…" : flat
    }

    /// `Name: value`, or `Name:` for an empty value, as it went on the wire.
    static func field(_ header: (name: String, value: String)) -> String {
        header.value.isEmpty ? "\(header.name):" : "\(header.name): \(header.value)"
    }

    /// Every line of `text` after `prefix`; lines end at LF, CR LF or CR (Swift's `split` on
    /// "\n" would take CR LF as one other character and leave those lines unprefixed).
    static func indent(_ text: String, _ prefix: String) -> String {
        var lines: [Substring] = []
        var scalars = Substring(text).unicodeScalars[...]
        var line = scalars.startIndex
        while let end = scalars.firstIndex(where: { $0 == "\n" || $0 == "\r" }) {
            lines.append(Substring(scalars[line..<end]))
            var next = scalars.index(after: end)
            if scalars[end] == "\r", next < scalars.endIndex, scalars[next] == "\n" { next = scalars.index(after: next) }
            scalars = scalars[next...]
            line = next
        }
        lines.append(Substring(scalars))
        return lines.map { prefix + $0 }.joined(separator: "\n")
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
