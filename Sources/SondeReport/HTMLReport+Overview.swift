import Foundation
import SondeCore

/// The table that opens the history page: a line per collection, so that ten of them are read
/// in one screen before anyone scrolls to a chart.
extension HTMLReport {
    /// How many of the latest runs a row's sparkline shows.
    static let sparklineRuns = 30

    /// Per collection its pass rate, its latest run's outcome, the p95 of its requests' latency
    /// and its latest runs as a sparkline; the name links to the collection's section. Columns
    /// have fixed widths and a long name is cut short (whole in its tooltip), so that a row is
    /// one line whatever the names.
    static func overview(_ collections: [(anchor: String, trend: Trend)]) -> String {
        var out = "<table class=\"overview\" id=\"overview\"><colgroup><col><col class=\"runs\"><col class=\"rate\"><col class=\"last\"><col class=\"p95\"><col class=\"spark\"></colgroup>\n"
        out += "<thead><tr><th>collection</th><th class=\"number\">runs</th><th class=\"number\">pass rate</th><th>last run</th>"
        out += "<th class=\"number\" title=\"95th percentile of every request's latency in the window\">p95 latency</th><th>last \(sparklineRuns) runs</th></tr></thead><tbody>\n"
        for (anchor, trend) in collections {
            let title = HistoryText.title(collection: trend.collection, environment: trend.environment)
            let whole = trend.collectionPath.isEmpty ? title : "\(title) · \(trend.collectionPath)"
            out += "<tr><td class=\"name\" title=\"\(escape(whole))\"><a href=\"#\(anchor)\">\(escape(title))</a>"
            if !trend.collectionPath.isEmpty { out += " <span class=\"muted\">\(escape(trend.collectionPath))</span>" }
            out += "</td><td class=\"number\">\(trend.runCount)</td>"
            if let rate = trend.passRate {
                out += "<td class=\"number \(rate >= 1 ? "good" : rate >= 0.9 ? "warn" : "bad")\">\(String(format: "%.1f%%", rate * 100))</td>"
            } else {
                out += "<td class=\"number\">–</td>"
            }
            if let last = trend.recentRuns.last {
                let outcome = last.outcome?.rawValue ?? "incomplete"
                out += "<td><span class=\"badge \(outcome)\" title=\"run #\(last.id), \(escape(HistoryText.time(last.started)))\(last.place.map { ", " + escape($0) } ?? "")\">\(outcome)</span></td>"
            } else {
                out += "<td>–</td>"
            }
            out += "<td class=\"number\">\(trend.latencyP95.map { milliseconds($0.inMilliseconds) } ?? "–")</td>"
            out += "<td>\(sparkline(trend.recentRuns.suffix(sparklineRuns)))</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    /// A win/loss sparkline, oldest on the left: a passed run a bar up, a failed one a bar down,
    /// one that did not finish a tick on the middle line.
    static func sparkline(_ runs: ArraySlice<Trend.RunPoint>) -> String {
        let cell = 4.0, height = 20.0
        let width = cell * Double(runs.count)
        let passed = runs.filter { $0.outcome == .passed }.count
        var svg = "<svg class=\"spark\" width=\"\(f(width))\" height=\"\(f(height))\" viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\""
        svg += " aria-label=\"\(passed) of the last \(runs.count) runs passed\">"
        for (index, run) in runs.enumerated() {
            let name = run.outcome?.rawValue ?? "incomplete"
            let (y, barHeight) = run.outcome == .passed ? (2.0, 8.0) : run.outcome == nil ? (9.0, 2.0) : (10.0, 8.0)
            svg += "<rect class=\"cell \(name)\" x=\"\(f(Double(index) * cell))\" y=\"\(f(y))\" width=\"\(f(cell - 1))\" height=\"\(f(barHeight))\" data-tip=\"run #\(run.id): \(name)\(run.place.map { " (" + escape($0) + ")" } ?? "")\"/>"
        }
        return svg + "</svg>"
    }
}
