import Foundation
import SondeCore

extension HistoryJSON {
    /// What a `sonde.run/1` document from elsewhere must be before a history records it
    /// (`sonde history import`): every member of the JSON formats of the type they document,
    /// an identity that is a UUID, requests at distinct places, times and durations a run can
    /// have. Nil when it is one; else what is wrong, with the member's path
    /// (`requests[3].position: …`).
    public static func importProblem(_ document: JSONValue, now: Date = Date()) -> String? {
        guard document["format"]?.stringValue == "sonde.run/1", let run = document["run"], case .object = run else {
            return "not a sonde.run/1 document (sonde history export writes them)"
        }
        var checker = MemberChecker()
        checker.check(run, runMembers, at: "run")
        if let problem = checker.problem { return problem }
        for key in ["collection", "file", "collectionPath"] where run[key]?.stringValue?.isBlank != false {
            return "run.\(key): must not be empty"
        }
        // A collection is known by these texts: a NUL, which no file name or collection
        // can hold, would make two collections one where a history reads them as C strings.
        for key in ["collection", "file", "collectionPath", "environment"] where run[key]?.stringValue?.contains("\u{0}") == true {
            return "run.\(key): must not hold U+0000"
        }
        if run["environment"]?.stringValue?.isBlank == true { return "run.environment: must be null or a name, not empty" }
        guard let uuid = run["uuid"]?.stringValue, UUID(uuidString: uuid) != nil else {
            return "run.uuid: must be a UUID (each run's identity, which import recognises it by)"
        }
        let earliest = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01
        let latest = now.addingTimeInterval(86_400)
        guard let started = run["started"]?.stringValue.flatMap(DateText.rfc3339), started >= earliest, started <= latest else {
            return "run.started: must be a time from 2000 to now"
        }
        if let text = run["finished"]?.stringValue {
            guard let finished = DateText.rfc3339(text), finished >= started, finished <= latest, finished.timeIntervalSince(started) <= 31 * 86_400 else {
                return "run.finished: must be a time after run.started, within 31 days of it, and not after now"
            }
        }
        var positions = Set<Int64>()
        for (index, request) in (run["requests"]?.arrayValue ?? []).enumerated() {
            guard let position = request["position"]?.numberValue?.integer, (0..<1_000_000).contains(position) else {
                return "run.requests[\(index)].position: must be a whole number from 0 to 999999"
            }
            guard positions.insert(position).inserted else { return "run.requests[\(index)].position: \(position) is another request's place too" }
        }
        return nil
    }

    /// A member's type, as docs/json-formats.md gives it.
    indirect enum Member {
        case string, optionalString, bool
        /// A whole number in a range.
        case integer(ClosedRange<Int64>), optionalInteger(ClosedRange<Int64>)
        /// A number in a range (milliseconds).
        case number(ClosedRange<Double>), optionalNumber(ClosedRange<Double>)
        case oneOf([String])
        case optionalObject([String: Member])
        case objects([String: Member])
        case strings, optionalStrings
        case array
    }

    /// Seven days in milliseconds: the longest a request's phases may have taken.
    static let longestRequest = 7.0 * 86_400_000
    static let count: Member = .integer(0...100_000_000)

    static let checkMembers: [String: Member] = [
        "subject": .string, "expected": .string, "actual": .string, "passed": .bool, "message": .optionalString, "file": .string,
        "line": .integer(1...100_000_000), "column": .integer(1...100_000_000),
    ]
    static let requestMembers: [String: Member] = [
        "position": .integer(0...999_999), "name": .string, "method": .string, "url": .string, "step": .string,
        "phase": .oneOf(Phase.allCases.map(\.rawValue)), "startMs": .optionalNumber(0...(31 * 86_400_000)),
        "outcome": .oneOf(Outcome.allCases.map(\.rawValue)), "status": .optionalInteger(0...999),
        "timings": .optionalObject([
            "dnsMs": .number(0...longestRequest), "connectMs": .number(0...longestRequest), "tlsMs": .number(0...longestRequest),
            "firstByteMs": .number(0...longestRequest), "totalMs": .number(0...longestRequest),
        ]),
        "attempts": .integer(0...1_000_001), "responseSize": .integer(0...Int64(Int32.max) * 8), "bodyHash": .optionalString, "shape": .optionalStrings,
        "error": .optionalString, "errorKind": .optionalString, "skipReason": .optionalString, "skipKind": .optionalString,
        "responseExcerpt": .optionalString, "finalUrl": .optionalString, "redirects": .array, "expectations": .objects(checkMembers),
    ]
    static let runMembers: [String: Member] = [
        "id": .integer(0...Int64.max), "collection": .string, "file": .string, "collectionPath": .string, "contentHash": .string,
        "environment": .optionalString, "started": .string, "finished": .optionalString, "durationMs": .optionalNumber(0...(31 * 86_400_000)),
        "toolVersion": .string, "gitCommit": .optionalString, "outcome": .oneOf(Outcome.allCases.map(\.rawValue) + ["incomplete"]),
        "plannedRequests": count, "passed": count, "failed": count, "errors": count, "skipped": count, "selection": .optionalString,
        "uuid": .string, "host": .optionalString, "user": .optionalString,
        "ci": .optionalObject(["provider": .string, "jobUrl": .optionalString, "branch": .optionalString, "commit": .optionalString]),
        "requests": .objects(requestMembers),
    ]

    /// Walks an object against its members, keeping the first problem.
    struct MemberChecker {
        var problem: String?

        mutating func check(_ object: JSONValue, _ members: [String: Member], at path: String) {
            guard problem == nil else { return }
            guard case .object(let fields) = object else {
                problem = "\(path): must be an object"
                return
            }
            for key in members.keys.sorted() {
                guard problem == nil, let member = members[key] else { return }
                check(fields[key], member, at: "\(path).\(key)")
            }
        }

        mutating func check(_ value: JSONValue?, _ member: Member, at path: String) {
            func fail(_ what: String) { problem = "\(path): must be \(what)" }
            let isNull = value == nil || value == .null
            switch member {
            case .string: if value?.stringValue == nil { fail("text") }
            case .optionalString: if !isNull && value?.stringValue == nil { fail("text or null") }
            case .bool: if case .bool? = value {} else { fail("true or false") }
            case .integer(let range):
                guard let number = value?.numberValue?.integer, range.contains(number) else { return fail("a whole number from \(range.lowerBound) to \(range.upperBound)") }
            case .optionalInteger(let range):
                if !isNull, !((value?.numberValue?.integer).map { range.contains($0) } ?? false) { fail("null or a whole number from \(range.lowerBound) to \(range.upperBound)") }
            case .number(let range):
                guard let number = value?.numberValue?.double, number.isFinite, range.contains(number) else { return fail("a number from \(range.lowerBound) to \(range.upperBound)") }
            case .optionalNumber(let range):
                if !isNull, !((value?.numberValue?.double).map { $0.isFinite && range.contains($0) } ?? false) { fail("null or a number from \(range.lowerBound) to \(range.upperBound)") }
            case .oneOf(let words): if !(value?.stringValue.map(words.contains) ?? false) { fail("one of \(words.joined(separator: ", "))") }
            case .optionalObject(let members): if !isNull, let value { check(value, members, at: path) }
            case .objects(let members):
                guard let items = value?.arrayValue else { return fail("a list") }
                for (index, item) in items.enumerated() where problem == nil { check(item, members, at: "\(path)[\(index)]") }
            case .strings, .optionalStrings:
                if isNull, case .optionalStrings = member { return }
                guard let items = value?.arrayValue, items.allSatisfy({ $0.stringValue != nil }) else { return fail("a list of texts") }
            case .array: if value?.arrayValue == nil { fail("a list") }
            }
        }
    }
}
