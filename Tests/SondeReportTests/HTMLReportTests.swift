import Foundation
import SondeCore
import SondeReport
import Testing

/// The HTML pages from records and trends built in memory: what a reader finds on them and
/// what their charts claim. How they lay out in a browser: `ReportCommandTests` (Chromium).
struct HTMLReportTests {
    static let start = Date(timeIntervalSince1970: 1_764_000_000)

    /// A collection's trend over `latencies.count` runs, one request answering in the given
    /// times (nil: skipped), a run passing when its request did.
    static func trend(_ name: String, path: String = "c.yaml", latencies: [Double?], outcomes: [Outcome?]? = nil, firstID: Int64 = 1) -> Trend {
        let runs = latencies.indices.map { index in
            Trend.RunPoint(
                id: firstID + Int64(index), started: start.addingTimeInterval(Double(index) * 60),
                outcome: outcomes.map { $0[index] } ?? (latencies[index] == nil ? .failed : .passed))
        }
        let samples = zip(runs, latencies).map { run, latency in
            Trend.Sample(runID: run.id, outcome: latency == nil ? .skipped : .passed, duration: latency.map { .fromSeconds($0 / 1000) })
        }
        return Trend(collection: name, collectionPath: path, environment: nil, runs: runs, samples: [("get", samples)])
    }

    @Test func aSkippedRequestSaysWhyOnItsRowWithItsKind() throws {
        // Given a run with a request skipped for each reason
        var run = ReportTests.runs[0]
        let skipped = run.requests[3]
        for (index, reason) in [SkipReason.condition("{{ off }}"), .failFast].enumerated() {
            var request = skipped
            request.position = 4 + index
            request.name = "skipped \(index)"
            request.skip = reason
            run.requests.append(request)
        }
        // When
        let page = HTMLReport.runPage([run])
        // Then each skipped request's own row says why, not the folded details under it
        let rows = page.components(separatedBy: "\n").filter { $0.hasPrefix("<tr class=\"request skipped\"") }
        #expect(rows.count == 3)
        #expect(rows[0].contains(#"data-skip="failed-capture">skipped (failed capture): needs &apos;token&apos;, captured by request &apos;login&apos;, which did not pass"#))
        #expect(rows[1].contains(#"data-skip="condition">skipped (condition): skip: {{ off }} is true"#))
        #expect(rows[2].contains(#"data-skip="fail-fast">skipped (fail-fast): --fail-fast: an earlier request failed"#))
        // and the waterfall names the kind where a bar would be.
        #expect(page.contains(">skipped: failed capture</text>") && page.contains(">skipped: fail-fast</text>"))
    }

    @Test func aURLIsWholeInItsTooltipAndEscapedEverywhere() {
        var run = ReportTests.runs[0]
        let long = "http://x/search?" + String(repeating: "filter=abcdefghij&", count: 40)
        run.requests[0].url = long
        run.requests[2].url = #"http://x/"onmouseover="alert(1)"<b>"#
        let page = HTMLReport.runPage([run])
        let escaped = long.replacingOccurrences(of: "&", with: "&amp;")
        #expect(page.contains(#"<span class="url muted" title="POST \#(escaped)">POST \#(escaped)</span>"#))
        #expect(page.contains(#"title="GET http://x/&quot;onmouseover=&quot;alert(1)&quot;&lt;b&gt;""#))
        #expect(!page.contains(#""onmouseover="#) && !page.contains(#")"<b>"#))
    }

    @Test func theHistoryPageOpensWithARowPerCollectionLinkingToItsSection() throws {
        // Given ten collections, one named to break out of its cell, one whose last run did not finish
        var trends = (1...10).map { index in
            Self.trend("collection \(index) " + String(repeating: "long-name-", count: 10), path: "c\(index).yaml", latencies: (1...20).map { Double($0) }, firstID: Int64(index) * 100)
        }
        trends[3] = Self.trend(#"<img src=x onerror="alert(1)">"#, latencies: [5, 6, nil, 8], outcomes: [.passed, .failed, .error, .passed])
        trends[4] = Self.trend("unfinished", latencies: [5, 6], outcomes: [.passed, nil])
        // When
        let page = HTMLReport.historyPage(trends, diffs: [], since: nil)
        // Then the overview comes before every section, a row per collection
        let overview = try #require(page.range(of: #"<table class="overview" id="overview">"#))
        #expect(overview.lowerBound < (page.range(of: "<section")?.lowerBound ?? page.startIndex))
        #expect(page.components(separatedBy: #"<tr><td class="name""#).count - 1 == 10)
        // each linking to its section, and each section back to the overview
        for index in 1...10 {
            #expect(page.contains(##"<a href="#collection-\##(index)">"##) && page.contains(#"<section class="collection" id="collection-\#(index)">"#))
        }
        #expect(page.components(separatedBy: ##"href="#overview""##).count - 1 == 10)
        // with the pass rate, the last outcome, the p95 of every response and the last 30 runs
        #expect(page.contains(#"<td class="number good">100.0%</td><td><span class="badge passed" title="run #119, "#))
        #expect(page.contains(#"<td class="number">19.0 ms</td>"#))
        #expect(page.contains(#"aria-label="20 of the last 20 runs passed""#))
        #expect(page.contains(#"<td class="number bad">50.0%</td><td><span class="badge passed""#))
        #expect(page.contains(#"<td class="number good">100.0%</td><td><span class="badge incomplete""#))
        #expect(page.contains(#"<rect class="cell incomplete""#))
        // and a name from the history is text, never markup.
        #expect(!page.contains("<img") && page.contains("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"))
    }

    @Test func oneResponseAPointIsOneLineCalledWhatItIs() {
        // Three runs: each point of the chart is one response, its p50 and p95 the same number.
        let few = HTMLReport.historyPage([Self.trend("few", latencies: [3, 9, 4])], diffs: [], since: nil)
        #expect(few.components(separatedBy: #"<path class="line"#).count - 1 == 1)
        #expect(few.contains(#"aria-label="latency of each run""#) && few.contains(#"<span class="key p50"></span>latency of each run</p>"#))
        #expect(!few.contains("key p95") && few.contains(#"data-tip="run #2: 9.0 ms""#))
        // A hundred runs: 33 points of three or four responses each, two lines, said so.
        let many = HTMLReport.historyPage([Self.trend("many", latencies: (1...100).map { Double($0) })], diffs: [], since: nil)
        #expect(many.components(separatedBy: #"<path class="line"#).count - 1 == 2)
        #expect(many.components(separatedBy: #"<circle class="dot""#).count - 1 == 33)
        #expect(many.contains(#"<span class="key p50"></span>p50 <span class="key p95"></span>p95, each point 3–4 runs</p>"#))
        #expect(many.contains(#"data-tip="runs #1–#3: p50 2.0 ms, p95 3.0 ms of 3 responses""#))
        // 45 runs: no run alone in a point (its p95 would sit on its p50), and never more than 40 points.
        let some = HTMLReport.historyPage([Self.trend("some", latencies: (1...45).map { Double($0) })], diffs: [], since: nil)
        #expect(some.contains("p95, each point 2–3 runs</p>") && !some.contains(#"r="3" data-tip="run #"#))
        for count in [40, 41, 79, 80, 81, 1000, 12345] {
            let page = HTMLReport.historyPage([Self.trend("n", latencies: (1...count).map { Double($0) })], diffs: [], since: nil)
            let points = page.components(separatedBy: "<circle class=\"dot").count - 1
            #expect(points <= 40 && points >= 20, "\(count) runs: \(points) points")
        }
        // A request skipped in every run draws no empty chart.
        let none = HTMLReport.historyPage([Self.trend("none", latencies: [nil, nil])], diffs: [], since: nil)
        #expect(!none.contains("chart latency") && none.contains("no response in this window"))
    }
}
