import Foundation
import SondeCore
import SondeReport
import Testing

/// The HTML pages from records built in memory: what a reader finds on them. How they lay
/// out in a browser: `ReportCommandTests` (Chromium).
struct HTMLReportTests {
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
}
