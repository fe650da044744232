import Foundation
import SondeCore

/// The history as JSON for machines: `sonde history --json`, `sonde diff --json`,
/// `sonde trend --json`, and the JSON report of a run. Every document carries
/// `"format": "sonde.<kind>/N"`; a change that breaks readers bumps the number.
public enum HistoryJSON {
    public static func runs(_ runs: [RunRecord]) -> JSONValue {
        ["format": "sonde.history/1", "runs": .array(runs.map(summary))]
    }

    /// A run's fields without its requests.
    static func summary(_ run: RunRecord) -> JSONValue {
        [
            "id": .int(Int(run.id)), "collection": .string(run.collection), "file": .string(run.file), "collectionPath": .string(run.collectionPath), "contentHash": .string(run.contentHash),
            "environment": optional(run.environment), "started": .string(timestamp(run.started)),
            "finished": optional(run.finished.map(timestamp)), "durationMs": optional(run.duration.map { .double(rounded($0.inMilliseconds)) }),
            "toolVersion": .string(run.toolVersion), "gitCommit": optional(run.gitCommit), "outcome": .string(run.status),
            "plannedRequests": .int(run.plannedRequests), "passed": .int(run.passed), "failed": .int(run.failed), "errors": .int(run.errored),
            "skipped": .int(run.skipped), "selection": optional(run.selection), "uuid": optional(run.uuid),
            "host": optional(run.origin.host), "user": optional(run.origin.user),
            "ci": run.origin.ci.map { ci -> JSONValue in
                ["provider": .string(ci.provider), "jobUrl": optional(ci.jobURL), "branch": optional(ci.branch), "commit": optional(ci.commit)]
            } ?? .null,
        ]
    }

    /// A whole run as recorded: the run, every request, every expectation.
    public static func run(_ run: RunRecord) -> JSONValue {
        ["format": "sonde.run/1", "run": whole(run)]
    }

    /// The JSON report of `sonde run --report json:FILE`: every collection's run, whole.
    public static func report(_ runs: [RunRecord]) -> JSONValue {
        ["format": "sonde.runs/1", "runs": .array(runs.map(whole))]
    }

    static func whole(_ run: RunRecord) -> JSONValue {
        guard case .object(var object) = summary(run) else { return summary(run) }
        object.append("requests", .array(run.requests.map(request)))
        return .object(object)
    }

    static func request(_ request: RequestResult) -> JSONValue {
        let timings: JSONValue = request.timings.map { t -> JSONValue in
            [
                "dnsMs": .double(rounded(t.dns.inMilliseconds)), "connectMs": .double(rounded(t.connect.inMilliseconds)),
                "tlsMs": .double(rounded(t.tls.inMilliseconds)), "firstByteMs": .double(rounded(t.firstByte.inMilliseconds)),
                "totalMs": .double(rounded(t.total.inMilliseconds)),
            ]
        } ?? .null
        let startMs: JSONValue = optional(request.startOffset.map { .double(rounded($0.inMilliseconds)) })
        let status: JSONValue = optional(request.status.map { .int($0) })
        let shape: JSONValue = optional(request.shape.map { shape in .array(shape.types.keys.sorted().map { .string("\($0): \(shape.types[$0] ?? "")") }) })
        let checks: [JSONValue] = request.checks.map { check in
            [
                "subject": .string(check.subject), "expected": .string(check.expected), "actual": .string(check.actual),
                "passed": .bool(check.passed), "message": optional(check.message), "file": .string(check.location.file),
                "line": .int(check.location.line), "column": .int(check.location.column),
            ]
        }
        return [
            "position": .int(request.position), "name": .string(request.name), "method": .string(request.method), "url": .string(request.url),
            "step": .string(request.step), "phase": .string(request.phase.rawValue), "startMs": startMs, "outcome": .string(request.outcome.rawValue), "status": status, "timings": timings,
            "attempts": .int(request.attempts), "responseSize": .int(request.responseSize), "bodyHash": optional(request.bodyHash),
            "shape": shape, "error": optional(request.problem?.message), "errorKind": optional(request.problem?.kind.rawValue),
            "skipReason": optional(request.skip?.message), "skipKind": optional(request.skip?.kind.rawValue), "responseExcerpt": optional(request.responseExcerpt),
            "finalUrl": optional(request.finalURL), "redirects": .array(request.redirects.map(\.json)),
            "expectations": .array(checks),
        ]
    }

    public static func diffs(_ diffs: [RunDiff]) -> JSONValue {
        ["format": "sonde.diff/1", "worse": .bool(diffs.contains(where: \.isWorse)), "diffs": .array(diffs.map(diff))]
    }

    static func diff(_ diff: RunDiff) -> JSONValue {
        [
            "collection": .string(diff.new.collection), "collectionPath": .string(diff.new.collectionPath), "environment": optional(diff.new.environment), "old": summary(diff.old),
            "new": summary(diff.new), "collectionChanged": .bool(diff.collectionChanged), "worse": .bool(diff.isWorse),
            "requests": .array(
                diff.requests.map { request in
                    let kind: String = switch request.kind {
                    case .added: "added"
                    case .removed: "removed"
                    case .compared: "compared"
                    }
                    return [
                        "name": .string(request.name), "kind": .string(kind), "worse": .bool(request.isWorse), "better": .bool(request.isBetter),
                        "changes": .array(request.changes.map(change)),
                    ]
                }),
        ]
    }

    static func change(_ change: RunDiff.Change) -> JSONValue {
        var object: JSONValue
        switch change {
        case .outcome(let old, let new): object = ["kind": "outcome", "old": .string(old.rawValue), "new": .string(new.rawValue)]
        case .status(let old, let new): object = ["kind": "status", "old": optional(old.map { .int($0) }), "new": optional(new.map { .int($0) })]
        case .latency(let old, let new): object = ["kind": "latency", "oldMs": .double(rounded(old.inMilliseconds)), "newMs": .double(rounded(new.inMilliseconds))]
        case .shape(let changes):
            object = [
                "kind": "shape", "added": .array(changes.added.map { .string($0) }), "removed": .array(changes.removed.map { .string($0) }),
                "retyped": .array(changes.retyped.map { ["path": .string($0.path), "old": .string($0.old), "new": .string($0.new)] }),
            ]
        case .body(let old, let new): object = ["kind": "body", "oldHash": optional(old), "newHash": optional(new)]
        }
        if case .object(var members) = object {
            members.append("worse", .bool(change.isWorse))
            object = .object(members)
        }
        return object
    }

    /// `sonde.trend/2`. Version 1 had no `incompleteRuns`, `first`, `last`, `percentiles`,
    /// `percentileError`, `latencyP95Ms`, `failed`, `errors` or `meanMs`, counted the requests of
    /// incomplete runs, and its percentiles were always exact.
    public static func trends(_ trends: [Trend]) -> JSONValue {
        [
            "format": "sonde.trend/2",
            "trends": .array(
                trends.map { trend in
                    [
                        "collection": .string(trend.collection), "collectionPath": .string(trend.collectionPath), "environment": optional(trend.environment),
                        "runs": .int(trend.runCount), "passedRuns": .int(trend.passedRuns), "finishedRuns": .int(trend.finishedRuns),
                        "incompleteRuns": .int(trend.incompleteRuns), "passRate": optional(trend.passRate.map { .double(rounded($0 * 1000) / 1000) }),
                        "first": optional(trend.first.map(timestamp)), "last": optional(trend.last.map(timestamp)),
                        "percentiles": .string(trend.percentiles == .exact ? "exact" : "estimated"),
                        "percentileError": .double(trend.percentiles == .exact ? 0 : (LatencyHistogram.relativeError * 10_000).rounded(.up) / 10_000),
                        "latencyP95Ms": milliseconds(trend.latencyP95),
                        "days": .array(trend.days.map { ["day": .string(HistoryText.day($0.start)), "runs": .int($0.runs), "passed": .int($0.passed)] }),
                        "requests": .array(
                            trend.requests.map { request in
                                [
                                    "name": .string(request.name), "sent": .int(request.runs), "passed": .int(request.passed), "failed": .int(request.failed),
                                    "errors": .int(request.errored), "skipped": .int(request.skipped),
                                    "successRate": optional(request.successRate.map { .double(rounded($0 * 1000) / 1000) }),
                                    "p50Ms": milliseconds(request.p50), "p95Ms": milliseconds(request.p95), "maxMs": milliseconds(request.max),
                                    "meanMs": milliseconds(request.mean),
                                ]
                            }),
                    ]
                }),
        ]
    }

    /// A duration as milliseconds to the microsecond, or null.
    static func milliseconds(_ duration: Duration?) -> JSONValue { optional(duration.map { .double(rounded($0.inMilliseconds)) }) }

    static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    static func optional(_ value: JSONValue?) -> JSONValue { value ?? .null }

    /// Milliseconds to the microsecond, so the JSON is not full of float noise.
    static func rounded(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }

    /// ISO 8601 in UTC, to the millisecond, rounded (not truncated, so that reading it back
    /// and writing it again gives the same text).
    /// RFC 3339 in UTC, to the microsecond (`2026-11-30T10:30:03.123456Z`): what the history
    /// holds, so that a run exported and imported has the same duration to the digit.
    public static func timestamp(_ date: Date) -> String {
        let microseconds = Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
        let seconds = microseconds >= 0 ? microseconds / 1_000_000 : (microseconds - 999_999) / 1_000_000
        let whole = Date(timeIntervalSince1970: Double(seconds)).formatted(Date.ISO8601FormatStyle())
        let fraction = String(microseconds - seconds * 1_000_000)
        return String(whole.dropLast()) + "." + String(repeating: "0", count: 6 - fraction.count) + fraction + "Z"
    }
}
