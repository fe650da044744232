import Foundation
import SondeCore
import SondeReport
import Testing

/// A trend read from rollups, as the terminal, the JSON and the HTML page show it: the
/// percentiles said to be estimates, the latency a point per stretch of hours.
struct TrendReportTests {
    static let start = Date(timeIntervalSince1970: 1_764_000_000)

    /// Two days of runs, three a quarter hour, one failing every hour; one request whose latency
    /// is 10 ms and one 20 ms more each hour.
    static func rolledUp() -> Trend {
        let hours = 48
        let firstHour = RequestRollup.hour(of: start)
        let runRollups = (0..<hours * 4).map { quarter in
            RunRollup(quarter: firstHour * 4 + quarter, outcomes: OutcomeCounts(passed: quarter % 4 == 0 ? 2 : 3, failed: quarter % 4 == 0 ? 1 : 0))
        }
        let requestRollups = (0..<hours).map { hour in
            var rollup = RequestRollup(hour: firstHour + hour, step: "get", name: "get", newestRun: Int64(hour * 12 + 12), position: 0)
            for run in 0..<12 {
                rollup.add(
                    run == 0 ? .failed : .passed, latency: .milliseconds(10 + (run == 11 ? 20 * hour : 0)), run: Int64(hour * 12 + run + 1), position: 0,
                    name: "get")
            }
            return rollup
        }
        let recent = (0..<5).map { Trend.RunPoint(id: Int64(hours * 12 - 4 + $0), started: start.addingTimeInterval(Double(hours) * 3600 - 600 + Double($0) * 100), outcome: .passed) }
        let points = HourPoints(first: start, last: recent.last?.started ?? start)
        var window = RequestWindow(points: points.count)
        for rollup in requestRollups { window.add(rollup, at: points.point(ofHour: rollup.hour)) }
        return Trend(
            collection: "long", collectionPath: "long.yaml", environment: nil, runCount: hours * 12 + 1, first: start, recentRuns: recent, runRollups: runRollups,
            hours: points, requests: [(window, recent.map { Trend.Sample(runID: $0.id, outcome: .passed, duration: .milliseconds(10)) })])
    }

    @Test func theCountsAreTheRollupsAndThePercentilesSaySo() throws {
        let trend = Self.rolledUp()
        #expect((trend.runCount, trend.finishedRuns, trend.passedRuns, trend.incompleteRuns) == (577, 576, 528, 1))
        #expect(trend.percentiles == .estimated && trend.days.map(\.runs).reduce(0, +) == 576)
        let request = try #require(trend.requests.first)
        #expect((request.runs, request.passed, request.failed) == (576, 528, 48))
        #expect(request.max == .milliseconds(10 + 20 * 47) && request.recentOutcomes == [.passed, .passed, .passed, .passed, .passed])
        // 48 hours in at most 40 points: 24 points of two hours each.
        #expect(request.latency.count == 24 && request.latency.allSatisfy { $0.span.count == 2 && $0.responses == 24 })
        let p50 = try #require(request.p50)
        #expect(abs(p50.inMilliseconds - 10) <= 10 * LatencyHistogram.relativeError)
    }

    @Test func eachOutputSaysThePercentilesAreEstimated() throws {
        let trend = Self.rolledUp()
        let text = HistoryText(colors: false).trend(trend)
        #expect(text.hasPrefix("long  long.yaml  577 runs, "))
        #expect(text.contains("pass rate 91.7% (528 of 576 runs passed), 1 incomplete"))
        #expect(text.hasSuffix("  p50 and p95 estimated from hourly rollups, within 1%; latency: the p50 of each 2 hours\n"), "\(text)")
        let json = HistoryJSON.trends([trend]).prettyText()
        #expect(json.contains(#""percentiles": "estimated""#) && json.contains(#""percentileError": 0.01"#) && json.contains(#""incompleteRuns": 1"#))
        let page = HTMLReport.historyPage([trend], diffs: [], since: nil)
        #expect(page.contains("577 runs: p50 and p95 are estimated from hourly rollups, within 1%"))
        #expect(page.contains("p95, each point 2 hours</p>") && page.components(separatedBy: #"<circle class="dot""#).count - 1 == 24)
        #expect(page.contains(#"aria-label="5 of the last 5 runs passed""#))
    }

    @Test func everyMemberOfTheTrendJSONIsDocumented() throws {
        let docs = try String(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/json-formats.md"), encoding: .utf8)
        let section = try #require(docs.components(separatedBy: "## `sonde.trend/2`").dropFirst().first?.components(separatedBy: "\n## ").first)
        let keys = memberNames(HistoryJSON.trends([Self.rolledUp()]))
        #expect(keys.count > 25)
        for key in keys.sorted() { #expect(section.contains("`\(key)`") || section.contains("\"\(key)\""), "the sonde.trend/2 section does not describe '\(key)'") }
    }
}

/// Every member name in a JSON document, at any depth.
func memberNames(_ value: JSONValue) -> Set<String> {
    switch value {
    case .object(let object): object.members.reduce(into: Set(object.members.map(\.key))) { $0.formUnion(memberNames($1.value)) }
    case .array(let items): items.reduce(into: Set<String>()) { $0.formUnion(memberNames($1)) }
    default: []
    }
}
