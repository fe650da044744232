import Foundation
import SondeCore

/// Reads the JSON report back into records: what a tool consuming `sonde.runs/1` sees,
/// and the proof (in the tests) that the report loses nothing of the run.
extension HistoryJSON {
    public struct ReadError: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) { self.description = description }
    }

    /// One run from a `sonde.run/1` document (a line of `sonde history export`).
    public static func readRunDocument(_ document: JSONValue) throws(ReadError) -> RunRecord {
        guard document["format"]?.stringValue == "sonde.run/1", let run = document["run"] else {
            throw ReadError(description: "not a sonde.run/1 document (sonde history export writes them)")
        }
        return try readRun(run)
    }

    public static func readReport(_ document: JSONValue) throws(ReadError) -> [RunRecord] {
        guard document["format"]?.stringValue == "sonde.runs/1", let runs = document["runs"]?.arrayValue else {
            throw ReadError(description: "not a sonde.runs/1 document")
        }
        var records: [RunRecord] = []
        for run in runs { records.append(try readRun(run)) }
        return records
    }

    static func readRun(_ run: JSONValue) throws(ReadError) -> RunRecord {
        func string(_ key: String, in value: JSONValue) throws(ReadError) -> String {
            guard let text = value[key]?.stringValue else { throw ReadError(description: "'\(key)' is missing or not a string") }
            return text
        }
        func int(_ key: String, in value: JSONValue) throws(ReadError) -> Int {
            guard let number = value[key]?.numberValue?.integer else { throw ReadError(description: "'\(key)' is missing or not an integer") }
            return Int(number)
        }
        func optionalString(_ key: String, in value: JSONValue) -> String? { value[key]?.stringValue }
        func optionalDouble(_ key: String, in value: JSONValue) -> Double? { value[key]?.numberValue?.double }
        func date(_ text: String?) throws(ReadError) -> Date? {
            guard let text else { return nil }
            guard let date = DateText.rfc3339(text) else {
                throw ReadError(description: "'\(text)' is not an ISO 8601 time")
            }
            return date
        }
        let status = try string("outcome", in: run)
        var requests: [RequestResult] = []
        let file = try string("file", in: run)
        for request in run["requests"]?.arrayValue ?? [] {
            func milliseconds(_ value: JSONValue?) -> Duration? { (value?.numberValue?.double).map(Duration.fromMilliseconds) }
            let timings = request["timings"].flatMap { t -> RequestTimings? in
                guard let total = milliseconds(t["totalMs"]) else { return nil }
                return RequestTimings(
                    dns: milliseconds(t["dnsMs"]) ?? .zero, connect: milliseconds(t["connectMs"]) ?? .zero, tls: milliseconds(t["tlsMs"]) ?? .zero,
                    firstByte: milliseconds(t["firstByteMs"]) ?? .zero, total: total)
            }
            var checks: [CheckResult] = []
            for check in request["expectations"]?.arrayValue ?? [] {
                checks.append(
                    CheckResult(
                        subject: try string("subject", in: check), expected: try string("expected", in: check), actual: try string("actual", in: check),
                        passed: check["passed"] == .bool(true), message: optionalString("message", in: check),
                        location: SourceLocation(file: optionalString("file", in: check) ?? file, line: try int("line", in: check), column: try int("column", in: check))))
            }
            let shape = request["shape"]?.arrayValue.map { lines in JSONShape(text: lines.compactMap(\.stringValue).joined(separator: "\n")) }
            guard let outcome = Outcome(rawValue: try string("outcome", in: request)) else { throw ReadError(description: "unknown outcome") }
            let problem = optionalString("error", in: request).map { message in
                RequestProblem(optionalString("errorKind", in: request).flatMap(RequestProblem.Kind.init(rawValue:)) ?? RequestProblem.guessedKind(of: message), message)
            }
            let skip = optionalString("skipReason", in: request).map { message in
                SkipReason(optionalString("skipKind", in: request).flatMap(SkipReason.Kind.init(rawValue:)) ?? SkipReason.guessedKind(of: message), message)
            }
            let name = try string("name", in: request)
            var result = RequestResult(
                    step: optionalString("step", in: request) ?? name, position: try int("position", in: request), name: name,
                    method: try string("method", in: request), url: try string("url", in: request),
                    startOffset: milliseconds(request["startMs"]), outcome: outcome,
                    status: request["status"]?.numberValue?.integer.map { Int($0) }, timings: timings, attempts: try int("attempts", in: request),
                    responseSize: try int("responseSize", in: request), bodyHash: optionalString("bodyHash", in: request), shape: shape,
                    problem: problem, skip: skip, responseExcerpt: optionalString("responseExcerpt", in: request),
                    finalURL: optionalString("finalUrl", in: request),
                    redirects: (request["redirects"]?.arrayValue ?? []).compactMap(RedirectHop.init(json:)), checks: checks)
            result.phase = optionalString("phase", in: request).flatMap(Phase.init(rawValue:)) ?? .main
            requests.append(result)
        }
        guard let started = try date(optionalString("started", in: run)) else { throw ReadError(description: "'started' is missing") }
        var record = RunRecord(
            id: Int64(try int("id", in: run)), collection: try string("collection", in: run), file: try string("file", in: run),
            collectionPath: run["collectionPath"]?.stringValue,
            contentHash: try string("contentHash", in: run), environment: optionalString("environment", in: run), started: started,
            finished: try date(optionalString("finished", in: run)), toolVersion: try string("toolVersion", in: run),
            gitCommit: optionalString("gitCommit", in: run), outcome: Outcome(rawValue: status), plannedRequests: try int("plannedRequests", in: run),
            passed: try int("passed", in: run), failed: try int("failed", in: run), errored: try int("errors", in: run),
            skipped: try int("skipped", in: run), requests: requests)
        record.selection = optionalString("selection", in: run)
        record.uuid = optionalString("uuid", in: run)
        let ci = run["ci"].flatMap { ci -> RunOrigin.CIJob? in
            guard case .object = ci, let provider = optionalString("provider", in: ci) else { return nil }
            return RunOrigin.CIJob(provider: provider, jobURL: optionalString("jobUrl", in: ci), branch: optionalString("branch", in: ci), commit: optionalString("commit", in: ci))
        }
        record.origin = RunOrigin(host: optionalString("host", in: run), user: optionalString("user", in: run), ci: ci)
        return record
    }
}
