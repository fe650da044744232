import Foundation
import SondeCore
import Testing

/// Diff logic over records built in memory; the end-to-end diff runs against the mock in SondeStoreTests.
struct RunDiffTests {
    static func request(
        _ name: String, _ outcome: Outcome = .passed, status: Int? = 200, ms: Double? = 20, body: String? = "b1", shape: String? = "$: object"
    ) -> RequestResult {
        RequestResult(
            step: name, position: 0, name: name, method: "GET", url: "http://x/\(name)", outcome: outcome, status: status,
            timings: ms.map { RequestTimings(total: .fromMilliseconds($0)) }, attempts: 1, responseSize: 10, bodyHash: body,
            shape: shape.map(JSONShape.init(text:)))
    }

    static func run(_ id: Int64, _ requests: [RequestResult], hash: String = "h") -> RunRecord {
        RunRecord(
            id: id, collection: "c", file: "c.yaml", contentHash: hash, environment: nil, started: Date(timeIntervalSince1970: Double(id)),
            finished: Date(timeIntervalSince1970: Double(id) + 1), toolVersion: "t", gitCommit: nil, outcome: .passed, plannedRequests: requests.count,
            requests: requests)
    }

    @Test func identicalRunsHaveNoChanges() {
        let diff = RunDiff(old: Self.run(1, [Self.request("a")]), new: Self.run(2, [Self.request("a")]))
        #expect(diff.requests.map(\.changes) == [[]])
        #expect(!diff.isWorse)
        #expect(diff.unchangedCount == 1)
    }

    @Test func anOutcomeFlipAndAStatusChangeAreWorse() {
        let diff = RunDiff(old: Self.run(1, [Self.request("a")]), new: Self.run(2, [Self.request("a", .failed, status: 503)]))
        #expect(diff.requests[0].changes.contains(.outcome(old: .passed, new: .failed)))
        #expect(diff.requests[0].changes.contains(.status(old: 200, new: 503)))
        #expect(diff.isWorse)
        let back = RunDiff(old: diff.new, new: diff.old)
        #expect(!back.isWorse)
        #expect(back.betterCount == 1)
    }

    @Test(arguments: [
        (200.0, 250.0, false),  // +25%: under the ratio
        (2.0, 14.0, false),  // +600% but 12 ms: under the 50 ms floor
        (100.0, 230.0, true),  // +130% and 130 ms: counts
        (230.0, 100.0, true),  // a speed-up counts too, as better
    ])
    func latencyNeedsBothTheRatioAndTheFloor(old: Double, new: Double, counts: Bool) {
        let diff = RunDiff(old: Self.run(1, [Self.request("a", ms: old)]), new: Self.run(2, [Self.request("a", ms: new)]))
        #expect(diff.requests[0].changes.contains(.latency(old: .fromMilliseconds(old), new: .fromMilliseconds(new))) == counts)
        #expect(diff.isWorse == (counts && new > old))
    }

    @Test func removedOrRetypedPathsAreWorseAddedOnesAreNot() {
        let old = Self.run(1, [Self.request("a", shape: "$: object\n$.x: string")])
        let added = RunDiff(old: old, new: Self.run(2, [Self.request("a", shape: "$: object\n$.x: string\n$.y: number")]))
        #expect(!added.isWorse)
        #expect(added.requests[0].changes == [.shape(ShapeChanges(added: ["$.y"]))])
        let retyped = RunDiff(old: old, new: Self.run(2, [Self.request("a", shape: "$: object\n$.x: number")]))
        #expect(retyped.isWorse)
        let gone = RunDiff(old: old, new: Self.run(2, [Self.request("a", body: "b2", shape: nil)]))
        #expect(gone.requests[0].changes == [.shape(ShapeChanges(removed: ["$", "$.x"])), .body(oldHash: "b1", newHash: "b2")])
        #expect(gone.isWorse)
    }

    @Test func addedAndRemovedRequestsAreListedNotJudged() {
        let diff = RunDiff(old: Self.run(1, [Self.request("a"), Self.request("b")]), new: Self.run(2, [Self.request("a"), Self.request("c")], hash: "h2"))
        #expect(diff.requests.map(\.name) == ["a", "c", "b"])
        #expect(diff.requests.map(\.kind) == [.compared, .added, .removed])
        #expect(!diff.isWorse)
        #expect(diff.collectionChanged)
    }

    @Test func aSkippedRequestOnlyReportsItsOutcome() {
        let diff = RunDiff(old: Self.run(1, [Self.request("a")]), new: Self.run(2, [Self.request("a", .skipped, status: nil, ms: nil, body: nil, shape: nil)]))
        #expect(diff.requests[0].changes == [.outcome(old: .passed, new: .skipped)])
        #expect(diff.isWorse)
    }
}

struct TrendTests {
    @Test func percentilesAreNearestRank() {
        let values = (1...100).map(Double.init)
        #expect(Trend.percentile(values, 0.5) == 50)
        #expect(Trend.percentile(values, 0.95) == 95)
        #expect(Trend.percentile([7], 0.95) == 7)
        #expect(Trend.percentile([], 0.5) == nil)
    }

    @Test func requestRatesLatenciesAndDays() {
        let day: Double = 86_400
        let runs = (0..<4).map { index -> Trend.RunPoint in
            let started = Date(timeIntervalSince1970: day * 10 + Double(index / 2) * day)
            return Trend.RunPoint(id: Int64(index + 1), started: started, outcome: index == 1 ? Outcome.failed : Outcome.passed)
        }
        let samples: [(name: String, samples: [Trend.Sample])] = [
            ("login", [.init(runID: 1, outcome: .passed, duration: .milliseconds(10)), .init(runID: 2, outcome: .failed, duration: .milliseconds(30)),
                       .init(runID: 3, outcome: .passed, duration: .milliseconds(20)), .init(runID: 4, outcome: .passed, duration: .milliseconds(40))]),
            ("list", [.init(runID: 1, outcome: .passed, duration: .milliseconds(5)), .init(runID: 2, outcome: .skipped, duration: nil)]),
        ]
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let trend = Trend(collection: "c", environment: nil, runs: runs, samples: samples, calendar: calendar)
        #expect(trend.passRate == 0.75)
        #expect(trend.days.map { $0.runs } == [2, 2])
        #expect(trend.days.map { $0.passed } == [1, 2])
        let login = trend.requests[0]
        #expect(login.successRate == 0.75)
        #expect([login.p50, login.p95, login.max] == [.milliseconds(20), .milliseconds(40), .milliseconds(40)])
        #expect(login.latency.map(\.p50) == [.milliseconds(10), .milliseconds(30), .milliseconds(20), .milliseconds(40)])
        #expect(login.latency.map(\.span) == (1...4).map { Trend.LatencyPoint.Span.runs(first: $0, last: $0, count: 1) })
        #expect(trend.latencyP95 == .milliseconds(40))
        let list = trend.requests[1]
        #expect((list.runs, list.skipped, list.successRate) == (1, 1, 1))
        #expect(list.latency.map(\.p50) == [.milliseconds(5), nil, nil, nil])
    }

}

extension RunDiffTests {
    @Test func aFixedRequestIsBetterEvenIfItsBodyLostAField() {
        let old = Self.run(1, [Self.request("a", .failed, shape: "$: object\n$.error: string")])
        let diff = RunDiff(old: old, new: Self.run(2, [Self.request("a", shape: "$: object")]))
        #expect(!diff.isWorse)
        #expect(diff.betterCount == 1)
    }
}

extension TrendTests {
    @Test func selectionAgreesWithSorting() {
        var generator = SystemRandomNumberGenerator()
        for count in [1, 2, 3, 10, 101, 1000] {
            let values = (0..<count).map { _ in Double(Int.random(in: 0..<50, using: &generator)) }
            for fraction in [0.0, 0.01, 0.5, 0.95, 0.99, 1.0] {
                var scratch = values
                #expect(Trend.percentile(selectingIn: &scratch, fraction) == Trend.percentile(values.sorted(), fraction), "\(count) \(fraction)")
            }
        }
    }
}
