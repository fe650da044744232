import Foundation
import SondeCore

/// The terminal's view of the history: run listings, diffs and trends.
public struct HistoryText: Sendable {
    var style: Paint

    public init(colors: Bool) {
        style = Paint(colors: colors)
    }

    // MARK: history

    /// One line per run, newest first: id, time, collection, environment, where it ran (its
    /// CI provider, else its host), outcome, counts, duration. A collection whose name another file's collection shares in the listing is
    /// shown with its file.
    public func runs(_ runs: [RunRecord]) -> String {
        let header = ["RUN", "STARTED", "COLLECTION", "ENV", "WHERE", "OUTCOME", "PASSED", "FAILED", "ERRORS", "SKIPPED", "DURATION"]
        var paths: [String: Set<String>] = [:]
        for run in runs { paths[run.collection, default: []].insert(run.collectionPath) }
        let rows = runs.map { run in
            [
                "#\(run.id)", Self.time(run.started),
                TerminalText.escape(paths[run.collection, default: []].count > 1 ? "\(run.collection) (\(run.collectionPath))" : run.collection), run.environment.map { TerminalText.escape($0) } ?? "-",
                TerminalText.escape(Redactor.cut(run.origin.ci?.provider ?? run.origin.host ?? "-", limit: 23)), run.status, String(run.passed), String(run.failed),
                String(run.errored), String(run.skipped), run.duration.map { Self.milliseconds($0.inMilliseconds) } ?? "-",
            ]
        }
        let table = Self.columns([header] + rows, rightAligned: 6...9)
        return style.dim(table[0].joined(separator: "  ")) + "\n" + zip(runs, zip(rows, table.dropFirst())).map { run, pair in
            let row = pair.0
            var cells = pair.1
            switch row[5] {
            case "passed": cells[5] = style.green(cells[5])
            case "incomplete": cells[5] = style.yellow(cells[5])
            default: cells[5] = style.red(cells[5])
            }
            var line = cells.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
            // A run of part of the collection says which part.
            if let selection = run.selection {
                line += "  " + style.dim("part: \(TerminalText.escape(selection))")
            }
            return line + "\n"
        }.joined()
    }

    /// Cells padded to their column's width: left-aligned, or right-aligned for numbers.
    static func columns(_ rows: [[String]], rightAligned: ClosedRange<Int>) -> [[String]] {
        let widths = (rows.first ?? []).indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return rightAligned.contains(column) ? pad + cell : cell + pad
            }
        }
    }

    /// The line under a run's summary that says where it was recorded.
    public func recorded(runID: Int64, path: String) -> String {
        style.dim("recorded as run #\(runID) in \(path)") + "\n"
    }

    // MARK: diff

    public func diff(_ diff: RunDiff) -> String {
        var out: String
        if diff.old.collection != diff.new.collection || diff.old.collectionPath != diff.new.collectionPath {
            // Across collections (--across-collections): both are named.
            out = style.bold(Self.title(diff.old)) + style.dim("  \(TerminalText.escape(diff.old.collectionPath))  run #\(diff.old.id) (\(Self.time(diff.old.started)))") + "\n"
                + "→ " + style.bold(Self.title(diff.new)) + style.dim("  \(TerminalText.escape(diff.new.collectionPath))  run #\(diff.new.id) (\(Self.time(diff.new.started)))") + "\n"
        } else {
            out = style.bold(Self.title(diff.new)) + style.dim("  \(TerminalText.escape(diff.new.collectionPath))  run #\(diff.old.id) (\(Self.time(diff.old.started))) → run #\(diff.new.id) (\(Self.time(diff.new.started)))") + "\n"
        }
        if diff.collectionChanged {
            out += "  " + style.yellow("the collection file changed") + style.dim(" (sha256 \(diff.old.contentHash.prefix(12)) → \(diff.new.contentHash.prefix(12)))") + "\n"
        }
        for (run, label) in [(diff.old, "run #\(diff.old.id)"), (diff.new, "run #\(diff.new.id)")] {
            if let selection = run.selection {
                out += "  " + style.dim("\(label) ran a selection (\(TerminalText.escape(selection))): only the steps both ran are compared") + "\n"
            }
        }
        if diff.old.gitCommit != diff.new.gitCommit, let old = diff.old.gitCommit, let new = diff.new.gitCommit {
            out += "  " + style.dim("git commit \(old.prefix(12)) → \(new.prefix(12))") + "\n"
        }
        for request in diff.requests {
            switch request.kind {
            case .added:
                // A request the old run, interrupted, never reached is not new to the collection.
                let why = diff.old.outcome == nil ? "  not reached in run #\(diff.old.id), which was interrupted" : "  new request"
                out += "  " + style.green("+") + " \(TerminalText.escape(request.name))" + style.dim(why) + "\n"
            case .removed:
                let why = diff.new.outcome == nil ? "  not reached in run #\(diff.new.id), which was interrupted" : "  removed from the collection"
                out += "  " + style.yellow("-") + " \(TerminalText.escape(request.name))" + style.dim(why) + "\n"
            case .compared:
                guard !request.changes.isEmpty else { continue }
                let mark = request.isWorse ? style.red("✗") : request.isBetter ? style.green("✓") : style.dim("~")
                out += "  \(mark) \(TerminalText.escape(request.name))\n"
                for change in request.changes { out += describe(change) }
            }
        }
        var summary = "\(diff.worseCount) worse, \(diff.betterCount) better"
        if diff.changedCount > 0 { summary += ", \(diff.changedCount) changed" }
        summary += ", \(diff.unchangedCount) unchanged"
        let added = diff.requests.filter { $0.kind == .added }.count
        let removed = diff.requests.filter { $0.kind == .removed }.count
        if added > 0 { summary += ", \(added) added" }
        if removed > 0 { summary += ", \(removed) removed" }
        return out + (diff.isWorse ? style.red("WORSE ") : style.green("NOT WORSE ")) + summary + "\n"
    }

    private func describe(_ change: RunDiff.Change) -> String {
        let indent = "      "
        if case .body = change { return indent + style.dim(change.headline) + "\n" }
        var out = indent + (change.isWorse ? style.red(change.headline) : change.isBetter ? style.green(change.headline) : change.headline) + "\n"
        if case .shape(let changes) = change {
            // Shape paths spell JSON names a server chose.
            for line in changes.lines {
                let text = TerminalText.escape(line.text)
                out += indent + "  " + (line.worse ? style.red(text) : style.green(text)) + "\n"
            }
        }
        return out
    }

    // MARK: trend

    public func trend(_ trend: Trend) -> String {
        var out = style.bold(Self.title(collection: trend.collection, environment: trend.environment))
        if !trend.collectionPath.isEmpty { out += style.dim("  " + TerminalText.escape(trend.collectionPath)) }
        guard let first = trend.first, let last = trend.last else { return out + style.dim("  no runs in this window") + "\n" }
        out += style.dim("  \(trend.runCount) run\(trend.runCount == 1 ? "" : "s"), \(Self.time(first)) to \(Self.time(last))") + "\n"
        if let rate = trend.passRate {
            out += "  pass rate " + rateColor(rate)(Self.percent(rate)) + " (\(trend.passedRuns) of \(trend.finishedRuns) runs passed)"
            out += trend.incompleteRuns > 0 ? style.yellow(", \(trend.incompleteRuns) incomplete") : ""
            out += "\n"
        }
        if trend.days.count > 1 {
            let rates = trend.days.map { Optional($0.passRate) }
            out += "  per day   " + Sparkline.render(rates, width: 60, range: 0...1) + style.dim("  \(trend.days.count) days, pass rate from ▁ 0% to █ 100%") + "\n"
        }
        out += "  outcomes  " + outcomeStrip(trend.recentRuns.map(\.outcome)) + "\n\n"
        let header = ["REQUEST", "SUCCESS", "P50", "P95", "MAX", "LATENCY"]
        let rows = trend.requests.map { request in
            [
                TerminalText.escape(request.name), request.successRate.map(Self.percent) ?? "-", request.p50.map(Self.milliseconds) ?? "-",
                request.p95.map(Self.milliseconds) ?? "-", request.max.map(Self.milliseconds) ?? "-", Sparkline.render(request.latency.map { $0.p50?.inMilliseconds }),
            ]
        }
        let table = Self.columns([header] + rows, rightAligned: 1...4)
        out += "  " + style.dim(table[0].joined(separator: "  ")) + "\n"
        for (request, cells) in zip(trend.requests, table.dropFirst()) {
            var text = cells.joined(separator: "  ")
            if let rate = request.successRate, rate < 1 {
                // The figures in the rate's color, the name as it is.
                text = cells[0] + "  " + rateColor(rate)(cells.dropFirst().joined(separator: "  "))
            }
            out += "  " + text + "\n"
        }
        if trend.percentiles == .estimated, let span = trend.requests.first?.latency.first?.span {
            let hours = span.count == 1 ? "hour" : "\(span.count) hours"
            out += style.dim("  p50 and p95 estimated from hourly rollups, within \(Self.percentileError); latency: the p50 of each \(hours)") + "\n"
        }
        return out
    }

    /// How far an estimated percentile may be from the exact one, in words.
    static let percentileError = String(format: "%.0f%%", (LatencyHistogram.relativeError * 100).rounded(.up))

    /// One mark per run, oldest first, at most the last 60.
    func outcomeStrip(_ outcomes: [Outcome?]) -> String {
        outcomes.suffix(60).map { outcome in
            switch outcome {
            case .passed: style.green("✓")
            case .failed, .error: style.red("✗")
            case .skipped: style.dim("-")
            case nil: style.yellow("?")
            }
        }.joined()
    }

    private func rateColor(_ rate: Double) -> (String) -> String {
        let style = style
        return { text in rate >= 1 ? style.green(text) : rate >= 0.9 ? style.yellow(text) : style.red(text) }
    }

    // MARK: formats

    static func title(_ run: RunRecord) -> String { title(collection: run.collection, environment: run.environment) }

    static func title(collection: String, environment: String?) -> String {
        TerminalText.escape(environment.map { "\(collection) (\($0))" } ?? collection)
    }

    private static let formatter: DateFormatter = {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter
    }()
    private static let formatterLock = NSLock()

    /// Local time, to the second.
    public static func time(_ date: Date) -> String {
        formatterLock.lock()
        defer { formatterLock.unlock() }
        return formatter.string(from: date)
    }

    /// The local date (`2026-11-29`): a trend's days are local days.
    public static func day(_ date: Date) -> String { String(time(date).prefix(10)) }

    static func milliseconds(_ ms: Double) -> String { TerminalReport.milliseconds(ms) }

    static func milliseconds(_ duration: Duration) -> String { TerminalReport.milliseconds(duration.inMilliseconds) }

    static func percent(_ rate: Double) -> String {
        rate == 1 ? "100%" : String(format: "%.1f%%", rate * 100)
    }
}
