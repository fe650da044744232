import Foundation
import SondeCore

/// Self-contained HTML pages: inline CSS, SVG drawn here, and a little inline script for
/// tooltips and folding. Nothing is fetched from the network, so the page works as a CI
/// artifact or a file sent by mail. Records are already redacted.
public enum HTMLReport {
    // MARK: the page of one `sonde run`

    /// Each collection's run: its requests, their expectations, failures with expected and
    /// actual, and the timings as a waterfall.
    public static func runPage(_ runs: [RunRecord], generated: Date = Date()) -> String {
        var body = "<header><h1>Sonde run</h1><p class=\"muted\">generated \(escape(HistoryJSON.timestamp(generated)))</p></header>\n"
        for run in runs {
            body += "<section class=\"run\">\n"
            body += "<h2>\(escape(title(run))) <span class=\"badge \(run.status)\">\(run.status)</span></h2>\n"
            body += "<p class=\"muted\">\(escape(run.file)) · run #\(run.id) · started \(escape(HistoryJSON.timestamp(run.started)))"
            if let duration = run.duration { body += " · \(milliseconds(duration.inMilliseconds))" }
            if let commit = run.gitCommit { body += " · commit \(escape(String(commit.prefix(12))))" }
            if !run.origin.description.isEmpty { body += " · \(escape(run.origin.description))" }
            body += "</p>\n<p>\(run.passed) passed · \(run.failed) failed · \(run.errored) errors · \(run.skipped) skipped</p>\n"
            body += "<h3>Timings</h3>\n" + waterfall(run)
            body += "<h3>Requests</h3>\n" + requestTable(run)
            body += "</section>\n"
        }
        return page(title: "Sonde run: " + runs.map(\.collection).joined(separator: ", "), body: body)
    }

    /// A row per request, in columns of fixed widths so that a long URL cannot push the status
    /// and the times off screen: the URL breaks anywhere, shows at most two lines, and is whole
    /// in the row's tooltip. Why a request was skipped is on its row; the details below it
    /// (checks, errors, the response) fold.
    static func requestTable(_ run: RunRecord) -> String {
        var out = "<table class=\"requests\"><colgroup><col class=\"mark\"><col><col class=\"status\"><col class=\"time\"><col class=\"checks\"></colgroup>"
        out += "<thead><tr><th></th><th>request</th><th>status</th><th>time</th><th>expectations</th></tr></thead><tbody>\n"
        for request in run.requests {
            let passedChecks = request.checks.filter(\.passed).count
            let details = requestDetails(request)
            out += "<tr class=\"request \(request.outcome.rawValue)\"\(details.isEmpty ? "" : " data-toggle=\"\(request.position)\"")>"
            out += "<td>\(mark(request.outcome))</td><td><b>\(escape(request.name))</b>"
            out += "<span class=\"url muted\" title=\"\(escape(request.method)) \(escape(request.url))\">\(escape(request.method)) \(escape(request.url))</span>"
            if let reason = request.skip {
                out += "<span class=\"reason skip\" data-skip=\"\(reason.kind.rawValue)\">skipped (\(skipWords(reason.kind))): \(escape(reason.message))</span>"
            }
            out += "</td><td>\(request.status.map(String.init) ?? "–")</td><td>\(request.duration.map { milliseconds($0.inMilliseconds) } ?? "–")</td>"
            out += "<td>\(request.outcome == .skipped ? "–" : "\(passedChecks)/\(request.checks.count)")</td></tr>\n"
            guard !details.isEmpty else { continue }
            let open = request.outcome == .failed || request.outcome == .error
            out += "<tr class=\"details\(open ? " open" : "")\" data-details=\"\(request.position)\"><td></td><td colspan=\"4\">\(details)</td></tr>\n"
        }
        return out + "</tbody></table>\n"
    }

    /// What unfolds under a request's row: its error, its checks, the start of the response.
    static func requestDetails(_ request: RequestResult) -> String {
        var out = ""
        if let problem = request.problem { out += "<p class=\"error\">\(request.outcome == .error ? "error" : "failed"): \(escape(problem.message))</p>" }
        if !request.checks.isEmpty {
            out += "<table class=\"checks\"><tr><th></th><th>expectation</th><th>expected</th><th>actual</th></tr>"
            for check in request.checks {
                out += "<tr class=\"\(check.passed ? "passed" : "failed")\"><td>\(check.passed ? "✓" : "✗")</td>"
                out += "<td><code>\(escape(check.subject))</code><br><span class=\"muted\">line \(check.location.line), column \(check.location.column)</span></td>"
                out += "<td><code>\(escape(check.expected))</code></td><td><code>\(escape(check.actual))</code>"
                if let message = check.message, !message.isEmpty, !check.passed { out += "<br><span class=\"error\">\(escape(message))</span>" }
                out += "</td></tr>"
            }
            out += "</table>"
        }
        if let excerpt = request.responseExcerpt { out += "<p class=\"muted\">response body</p><pre>\(escape(excerpt))</pre>" }
        return out
    }

    /// A skip reason's kind in a reader's words, close to its name in the JSON report.
    static func skipWords(_ kind: SkipReason.Kind) -> String {
        switch kind {
        case .failedCapture: "failed capture"
        case .condition: "condition"
        case .failFast: "fail-fast"
        case .setupFailed: "setup failed"
        case .noItems: "no items"
        case .leftOut: "left out by the selection"
        }
    }

    /// One row per request: when it started within the run, and its phases (DNS, connect,
    /// TLS, waiting for the first byte, receiving) as libcurl measured them.
    static func waterfall(_ run: RunRecord) -> String {
        let rows = run.requests
        let end = rows.map { ($0.startOffset?.inSeconds ?? 0) + ($0.timings?.total.inSeconds ?? 0) }.max() ?? 0
        guard end > 0 else { return "<p class=\"muted\">no request was sent</p>\n" }
        let labelWidth = 220.0, chartWidth = 640.0, rowHeight = 20.0
        let height = Double(rows.count) * rowHeight + 30
        let scale = chartWidth / end
        var svg = "<svg class=\"chart waterfall\" viewBox=\"0 0 \(Int(labelWidth + chartWidth + 20)) \(Int(height))\" role=\"img\" aria-label=\"request timings\">\n"
        for tick in ticks(end * 1000) {
            let x = labelWidth + tick / 1000 * scale
            svg += "<line class=\"grid\" x1=\"\(f(x))\" y1=\"0\" x2=\"\(f(x))\" y2=\"\(f(height - 20))\"/>"
            svg += "<text class=\"axis\" x=\"\(f(x))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">\(milliseconds(tick))</text>\n"
        }
        for (index, request) in rows.enumerated() {
            let y = Double(index) * rowHeight
            svg += "<text class=\"label\" x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 14))\" text-anchor=\"end\">\(escape(truncate(request.name, 30)))</text>"
            guard let t = request.timings.map(SecondsTimings.init) else {
                let why = request.skip.map { "skipped: \(skipWords($0.kind))" } ?? (request.outcome == .skipped ? "skipped" : "no response")
                svg += "<text class=\"axis\" x=\"\(f(labelWidth + 4))\" y=\"\(f(y + 14))\">\(why)</text>\n"
                continue
            }
            let start = request.startOffset?.inSeconds ?? 0
            // Phase ends, each from the start of the request, in the order libcurl reports them.
            let connected = max(t.connect, t.dns), secured = max(t.tls, connected), first = max(t.firstByte, secured), total = max(t.total, first)
            let phases: [(String, Double, Double)] = [
                ("dns", 0, t.dns), ("connect", t.dns, connected), ("tls", connected, secured), ("wait", secured, first), ("receive", first, total),
            ]
            let tip = "\(request.name): \(request.method) \(request.status.map(String.init) ?? "") — total \(milliseconds(total * 1000)), DNS \(milliseconds(t.dns * 1000)), connect \(milliseconds(connected * 1000)), TLS \(milliseconds(secured * 1000)), first byte \(milliseconds(first * 1000))"
            svg += "<g class=\"bar \(request.outcome.rawValue)\" data-tip=\"\(escape(tip))\">"
            for (name, from, to) in phases where to > from {
                let width = max((to - from) * scale, 0.5)
                svg += "<rect class=\"phase \(name)\" x=\"\(f(labelWidth + (start + from) * scale))\" y=\"\(f(y + 4))\" width=\"\(f(width))\" height=\"12\"/>"
            }
            svg += "</g>\n"
        }
        svg += "</svg>\n"
        let legend = ["dns", "connect", "tls", "wait", "receive"].map { "<span class=\"key \($0)\"></span>\($0)" }.joined(separator: " ")
        return svg + "<p class=\"legend muted\">\(legend)</p>\n"
    }

    // MARK: the page of the history (`sonde report --html`)

    /// An overview of every collection (a row each, linking to its section), then per
    /// collection the pass rate over time, per request a latency chart and a strip of
    /// outcomes, then the latest diff.
    public static func historyPage(_ trends: [Trend], diffs: [RunDiff], since: Date?, generated: Date = Date()) -> String {
        var body = "<header><h1>API health</h1><p class=\"muted\">"
        body += since.map { "runs since \(escape(HistoryJSON.timestamp($0).prefix(10).description)) · " } ?? ""
        body += "generated \(escape(HistoryJSON.timestamp(generated)))</p></header>\n"
        let shown = trends.filter { !$0.isEmpty }.enumerated().map { (anchor: "collection-\($0.offset + 1)", trend: $0.element) }
        if shown.isEmpty { body += "<p>No runs recorded in this window.</p>\n" } else { body += overview(shown) }
        for (anchor, trend) in shown {
            body += "<section class=\"collection\" id=\"\(anchor)\">\n"
            body += "<h2>\(escape(HistoryText.title(collection: trend.collection, environment: trend.environment)))"
            body += " <a class=\"up\" href=\"#overview\" title=\"back to the overview\">↑</a></h2>\n"
            if !trend.collectionPath.isEmpty { body += "<p class=\"file\">\(escape(trend.collectionPath))</p>\n" }
            let rate = trend.passRate.map { String(format: "%.1f%%", $0 * 100) } ?? "–"
            body += "<p><b>\(rate)</b> of \(trend.finishedRuns) finished runs passed"
            if let first = trend.first, let last = trend.last {
                body += " <span class=\"muted\">(\(escape(HistoryText.time(first))) to \(escape(HistoryText.time(last))))</span>"
            }
            body += "</p>\n<h3>Pass rate over time</h3>\n" + passRateChart(trend)
            body += "<h3>Runs</h3>\n" + outcomeStrip(trend.recentRuns.map(\.outcome), ids: trend.recentRuns.map(\.id), width: 860)
            body += "<h3>Requests</h3>\n"
            if trend.percentiles == .estimated {
                body += "<p class=\"muted\">\(trend.runCount) runs: p50 and p95 are estimated from hourly rollups, within \(HistoryText.percentileError)</p>\n"
            }
            body += "<div class=\"requests-grid\">\n"
            for request in trend.requests {
                body += "<div class=\"request-card\"><h4>\(escape(request.name))</h4>"
                body += "<p class=\"muted\">success \(request.successRate.map { String(format: "%.1f%%", $0 * 100) } ?? "–")"
                body += " · p50 \(request.p50.map { milliseconds($0.inMilliseconds) } ?? "–") · p95 \(request.p95.map { milliseconds($0.inMilliseconds) } ?? "–") · max \(request.max.map { milliseconds($0.inMilliseconds) } ?? "–")</p>"
                body += latencyChart(request)
                body += outcomeStrip(request.recentOutcomes, ids: trend.recentRuns.map(\.id), width: 400)
                body += "</div>\n"
            }
            body += "</div>\n"
            if let diff = diffs.first(where: {
                $0.new.collection == trend.collection && $0.new.collectionPath == trend.collectionPath && $0.new.environment == trend.environment
            }) {
                body += "<h3>Latest change</h3>\n" + diffList(diff)
            }
            body += "</section>\n"
        }
        return page(title: "Sonde: API health", body: body)
    }

    /// Bars of the pass rate per day (or per run, when the window has few runs).
    static func passRateChart(_ trend: Trend) -> String {
        let points: [(label: String, rate: Double, runs: Int)]
        if trend.days.count >= 2 {
            points = trend.days.map { (HistoryText.day($0.start), $0.passRate, $0.runs) }
        } else {
            points = trend.recentRuns.suffix(60).compactMap { run in
                run.outcome.map { ("#\(run.id) \(HistoryText.time(run.started))", $0 == .passed ? 1 : 0, 1) }
            }
        }
        let width = 860.0, height = 140.0, top = 10.0, bottom = 24.0, left = 36.0
        let barWidth = (width - left) / Double(max(points.count, 1))
        var svg = "<svg class=\"chart passrate\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"pass rate over time\">\n"
        for level in [0.0, 0.5, 1.0] {
            let y = top + (1 - level) * (height - top - bottom)
            svg += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y))\" x2=\"\(f(width))\" y2=\"\(f(y))\"/><text class=\"axis\" x=\"\(f(left - 4))\" y=\"\(f(y + 4))\" text-anchor=\"end\">\(Int(level * 100))%</text>\n"
        }
        for (index, point) in points.enumerated() {
            let plot = height - top - bottom
            let barHeight = max(point.rate * plot, 1)
            let x = left + Double(index) * barWidth
            let tone = point.rate >= 1 ? "good" : point.rate >= 0.9 ? "warn" : "bad"
            let tip = " data-tip=\"\(escape(point.label)): \(String(format: "%.1f%%", point.rate * 100)) of \(point.runs) run\(point.runs == 1 ? "" : "s")\"/>\n"
            // The failed share, pale, above the passed one: a day when nothing passed is a
            // full pale red bar, not a line of one pixel.
            if point.rate < 1 {
                svg += "<rect class=\"rate failed-share\" x=\"\(f(x + 1))\" y=\"\(f(top))\" width=\"\(f(max(barWidth - 2, 1)))\" height=\"\(f(plot - barHeight))\"" + tip
            }
            svg += "<rect class=\"rate \(tone)\" x=\"\(f(x + 1))\" y=\"\(f(height - bottom - barHeight))\" width=\"\(f(max(barWidth - 2, 1)))\" height=\"\(f(barHeight))\"" + tip
        }
        if let first = points.first, let last = points.last {
            svg += "<text class=\"axis\" x=\"\(f(left))\" y=\"\(f(height - 6))\">\(escape(first.label))</text>"
            svg += "<text class=\"axis\" x=\"\(f(width))\" y=\"\(f(height - 6))\" text-anchor=\"end\">\(escape(last.label))</text>\n"
        }
        return svg + "</svg>\n"
    }

    /// The request's latency over the window, oldest on the left: its points
    /// (`Trend.RequestTrend.latency`, at most 40). Over 40 runs or fewer a point is a run, its
    /// p50 and p95 the same number: one line is drawn, the latency of each run, and called
    /// that. Otherwise a point is the p50 and p95 of a group of two runs or more, or, in a long
    /// window read from the rollups, of a stretch of hours.
    static func latencyChart(_ request: Trend.RequestTrend) -> String {
        let groups = request.latency.count
        let points: [(label: String, p50: Double, p95: Double, samples: Int)?] = request.latency.map { point in
            guard let p50 = point.p50, let p95 = point.p95 else { return nil }
            let label: String = switch point.span {
            case .runs(let first, let last, let count): count == 1 ? "run #\(first)" : "runs #\(first)–#\(last)"
            case .hours(let start, let count):
                "\(HistoryText.time(start).prefix(16)) to \(HistoryText.time(start.addingTimeInterval(Double(count) * 3600)).prefix(16))"
            }
            return (label, p50.inMilliseconds, p95.inMilliseconds, point.responses)
        }
        // A request skipped in every run has nothing to draw; an empty chart with a legend would say otherwise.
        guard points.contains(where: { $0 != nil }) else { return "<p class=\"muted\">no response in this window</p>\n" }
        let single = points.allSatisfy { ($0?.samples ?? 0) <= 1 }
        let width = 400.0, height = 120.0, top = 8.0, bottom = 8.0, left = 58.0
        let high = max(points.compactMap { $0?.p95 }.max() ?? 1, 0.001)
        func x(_ index: Int) -> Double { left + (groups == 1 ? 0.5 : Double(index) / Double(groups - 1)) * (width - left - 6) }
        func y(_ value: Double) -> Double { top + (1 - value / high) * (height - top - bottom) }
        let name = single ? "latency of each run" : "latency p50 and p95"
        var svg = "<svg class=\"chart latency\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"\(name)\">\n"
        for level in [0.0, 0.5, 1.0] {
            svg += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(y(high * level)))\" x2=\"\(f(width))\" y2=\"\(f(y(high * level)))\"/>"
            svg += "<text class=\"axis\" x=\"\(f(left - 4))\" y=\"\(f(y(high * level) + 4))\" text-anchor=\"end\">\(milliseconds(high * level))</text>\n"
        }
        // One response is its own p50: the single line is drawn as the p50's.
        let series = single ? [("p50", points.map { $0?.p50 })] : [("p95", points.map { $0?.p95 }), ("p50", points.map { $0?.p50 })]
        for (name, value) in series {
            var path = ""
            for (index, point) in value.enumerated() {
                guard let point else { continue }
                path += (path.isEmpty ? "M" : "L") + "\(f(x(index))),\(f(y(point)))"
            }
            if !path.isEmpty { svg += "<path class=\"line \(name)\" d=\"\(path)\"/>\n" }
        }
        for (index, point) in points.enumerated() {
            guard let point else { continue }
            if single {
                svg += "<circle class=\"dot p50\" cx=\"\(f(x(index)))\" cy=\"\(f(y(point.p50)))\" r=\"3\" data-tip=\"\(escape(point.label)): \(milliseconds(point.p50))\"/>"
            } else {
                let tip = "\(point.label): p50 \(milliseconds(point.p50)), p95 \(milliseconds(point.p95)) of \(point.samples) response\(point.samples == 1 ? "" : "s")"
                svg += "<circle class=\"dot\" cx=\"\(f(x(index)))\" cy=\"\(f(y(point.p95)))\" r=\"3\" data-tip=\"\(escape(tip))\"/>"
            }
        }
        svg += "\n</svg>\n"
        if single { return svg + "<p class=\"legend muted\"><span class=\"key p50\"></span>latency of each run</p>\n" }
        let sizes = request.latency.map(\.span.count)
        let size = sizes.min() == sizes.max() ? "\(sizes.max() ?? 0)" : "\(sizes.min() ?? 0)–\(sizes.max() ?? 0)"
        let unit = request.latency.first?.span.isHours == true ? (sizes.max() == 1 ? "hour" : "hours") : "runs"
        return svg + "<p class=\"legend muted\"><span class=\"key p50\"></span>p50 <span class=\"key p95\"></span>p95, each point \(size) \(unit)</p>\n"
    }

    /// A cell per run (the last 200), colored by outcome.
    static func outcomeStrip(_ outcomes: [Outcome?], ids: [Int64], width: Double) -> String {
        let shown = Array(zip(outcomes, ids).suffix(200))
        guard !shown.isEmpty else { return "" }
        let cell = width / Double(max(shown.count, 1))
        var svg = "<svg class=\"chart strip\" viewBox=\"0 0 \(Int(width)) 16\" role=\"img\" aria-label=\"outcomes\">"
        for (index, (outcome, id)) in shown.enumerated() {
            let name = outcome?.rawValue ?? "absent"
            svg += "<rect class=\"cell \(name)\" x=\"\(f(Double(index) * cell))\" y=\"0\" width=\"\(f(max(cell - 1, 0.5)))\" height=\"16\" data-tip=\"run #\(id): \(name)\"/>"
        }
        return svg + "</svg>\n"
    }

    static func diffList(_ diff: RunDiff) -> String {
        var out = "<p class=\"muted\">run #\(diff.old.id) (\(escape(HistoryText.time(diff.old.started)))) → run #\(diff.new.id) (\(escape(HistoryText.time(diff.new.started))))"
        out += diff.isWorse ? " · <b class=\"bad\">worse</b>" : " · nothing got worse"
        out += "</p>\n<ul class=\"diff\">\n"
        if diff.collectionChanged { out += "<li class=\"note\">the collection file changed</li>\n" }
        var listed = false
        for request in diff.requests {
            switch request.kind {
            case .added: out += "<li class=\"added\">+ \(escape(request.name)) (new request)</li>\n"
            case .removed: out += "<li class=\"removed\">− \(escape(request.name)) (removed)</li>\n"
            case .compared:
                guard !request.changes.isEmpty else { continue }
                out += "<li class=\"\(request.isWorse ? "worse" : request.isBetter ? "better" : "changed")\"><b>\(escape(request.name))</b><ul>"
                for change in request.changes {
                    out += "<li>\(escape(change.headline))"
                    if case .shape(let changes) = change {
                        out += "<ul>" + changes.lines.map { "<li class=\"\($0.worse ? "worse" : "better")\"><code>\(escape($0.text))</code></li>" }.joined() + "</ul>"
                    }
                    out += "</li>"
                }
                out += "</ul></li>\n"
            }
            listed = true
        }
        if !listed && !diff.collectionChanged { out += "<li>no change</li>\n" }
        return out + "</ul>\n"
    }

    // MARK: the frame

    static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="sonde">
        <title>\(escape(title))</title>
        <style>\(style)</style>
        </head>
        <body>
        \(body)
        <div id="tip" hidden></div>
        <script>\(script)</script>
        </body>
        </html>

        """
    }

    static let style = """
        :root{--good:#1a7f37;--bad:#cf222e;--warn:#bf8700;--muted:#57606a;--line:#d0d7de;--bg:#fff;--fg:#1f2328}
        @media (prefers-color-scheme:dark){:root{--muted:#8b949e;--line:#30363d;--bg:#0d1117;--fg:#e6edf3}}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px auto;max-width:960px;padding:0 16px;background:var(--bg);color:var(--fg);overflow-wrap:anywhere}
        h1{font-size:22px;margin:0}h2{font-size:18px;margin:28px 0 4px}h3{font-size:14px;margin:18px 0 6px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}h4{margin:0 0 2px}
        .muted{color:var(--muted)}.bad,.error{color:var(--bad)}.skip{color:var(--warn)}
        .badge{font-size:12px;padding:2px 8px;border-radius:10px;color:#fff;vertical-align:middle}.badge.passed{background:var(--good)}.badge.failed,.badge.error{background:var(--bad)}.badge.incomplete{background:var(--warn)}
        table{border-collapse:collapse;width:100%}th{text-align:left;color:var(--muted);font-weight:500}td,th{padding:4px 6px;border-bottom:1px solid var(--line);vertical-align:top}
        table.requests{table-layout:fixed}col.mark{width:24px}col.status{width:64px}col.time{width:84px}col.checks{width:104px}
        .url{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:2;overflow:hidden;word-break:break-all}.reason{display:block}
        tr.request[data-toggle]{cursor:pointer}tr.details{display:none}tr.details.open{display:table-row}tr.failed td,tr.error td{background:rgba(207,34,46,.06)}
        code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;word-break:break-all}pre{background:rgba(127,127,127,.08);padding:8px;border-radius:6px}
        svg.chart{width:100%;height:auto;display:block}.grid{stroke:var(--line);stroke-width:1}.axis,.label{font-size:11px;fill:var(--muted)}.label{fill:var(--fg)}
        .phase.dns,.key.dns{fill:#8250df;background:#8250df}.phase.connect,.key.connect{fill:#bf8700;background:#bf8700}.phase.tls,.key.tls{fill:#cf222e;background:#cf222e}.phase.wait,.key.wait{fill:#0969da;background:#0969da}.phase.receive,.key.receive{fill:#1a7f37;background:#1a7f37}
        .bar.failed .phase,.bar.error .phase{opacity:.55}
        .rate.good{fill:var(--good)}.rate.warn{fill:var(--warn)}.rate.bad{fill:var(--bad)}.rate.failed-share{fill:var(--bad);opacity:.22}
        .line{fill:none;stroke-width:2}.line.p50,.key.p50{stroke:#0969da;background:#0969da}.line.p95,.key.p95{stroke:#bf8700;background:#bf8700}.dot{fill:#bf8700}.dot.p50{fill:#0969da}
        .cell.passed{fill:var(--good)}.cell.failed,.cell.error{fill:var(--bad)}.cell.skipped{fill:var(--warn)}.cell.absent,.cell.incomplete{fill:var(--line)}
        .key{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;border-radius:2px;vertical-align:middle}
        .requests-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px}.request-card{border:1px solid var(--line);border-radius:8px;padding:10px}
        ul.diff li.worse{color:var(--bad)}ul.diff li.better{color:var(--good)}
        table.overview{table-layout:fixed;margin-top:16px}col.runs{width:56px}col.rate{width:84px}col.last{width:100px}col.p95{width:96px}col.spark{width:136px}
        table.overview td{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;vertical-align:middle}.number{text-align:right}svg.spark{display:block}
        .good{color:var(--good)}.warn{color:var(--warn)}h2 a.up{font-size:14px;font-weight:400;text-decoration:none;color:var(--muted)}
        #tip{position:fixed;pointer-events:none;background:#1f2328;color:#fff;font-size:12px;padding:4px 8px;border-radius:4px;max-width:420px;z-index:10}
        """

    /// Tooltips from `data-tip`, and folding of request details; marks the page enhanced.
    static let script = """
        (function(){
          var tip=document.getElementById('tip');
          document.querySelectorAll('[data-tip]').forEach(function(el){
            el.addEventListener('mousemove',function(e){tip.textContent=el.getAttribute('data-tip');tip.hidden=false;tip.style.left=(e.clientX+12)+'px';tip.style.top=(e.clientY+12)+'px';});
            el.addEventListener('mouseleave',function(){tip.hidden=true;});
          });
          document.querySelectorAll('tr[data-toggle]').forEach(function(row){
            row.addEventListener('click',function(){
              var details=document.querySelector('tr[data-details="'+row.getAttribute('data-toggle')+'"]');
              if(details){details.classList.toggle('open');}
            });
          });
          document.body.setAttribute('data-enhanced',String(document.querySelectorAll('svg.chart').length));
        })();
        """

    // MARK: formats

    static func title(_ run: RunRecord) -> String { HistoryText.title(run) }

    static func mark(_ outcome: Outcome) -> String {
        switch outcome {
        case .passed: "<span style=\"color:var(--good)\">✓</span>"
        case .failed: "<span class=\"bad\">✗</span>"
        case .error: "<span class=\"bad\">!</span>"
        case .skipped: "<span class=\"skip\">–</span>"
        }
    }

    /// Like the terminal's, with a second decimal under a millisecond (loopback axes).
    static func milliseconds(_ ms: Double) -> String {
        ms > 0 && ms < 1 ? TerminalReport.fixed(ms, decimals: 2) + " ms" : TerminalReport.milliseconds(ms)
    }

    static func f(_ value: Double) -> String { TerminalReport.fixed(value, decimals: 1) }

    static func truncate(_ text: String, _ limit: Int) -> String { text.count > limit ? String(text.prefix(limit - 1)) + "…" : text }

    /// Round numbers for an axis from 0 to `maximum` (milliseconds), four or five of them.
    static func ticks(_ maximum: Double) -> [Double] {
        guard maximum > 0 else { return [0] }
        let rough = maximum / 4
        let magnitude = pow(10, floor(log10(rough)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? rough
        return stride(from: 0, through: maximum, by: step).map { $0 }
    }

    static func escape(_ text: String) -> String { XML.escape(text) }
}

/// A request's timing phases in seconds, for drawing.
struct SecondsTimings {
    var dns, connect, tls, firstByte, total: Double

    init(_ timings: RequestTimings) {
        dns = timings.dns.inSeconds
        connect = timings.connect.inSeconds
        tls = timings.tls.inSeconds
        firstByte = timings.firstByte.inSeconds
        total = timings.total.inSeconds
    }
}
