import Foundation
import SondeCore

/// One expectation's verdict, with expected and actual as people read them (already redacted).
public struct CheckResult: Sendable {
    public var subject: String
    public var expected: String
    public var actual: String
    public var passed: Bool
    public var message: String?
    public var location: SourceLocation
}

/// Everything about one request of a run; reporters and the store read only this.
public struct RequestResult: Sendable {
    public var index: Int
    public var name: String
    public var method: String
    public var url: String
    public var location: SourceLocation
    /// Seconds from the start of the run to when the request was sent (or skipped).
    public var startOffset: Double
    public var outcome: Outcome
    public var status: Int?
    public var timings: HTTPResponse.Timings?
    public var attempts: Int
    public var responseSize: Int
    /// SHA-256 of the response body; nil when nothing came back.
    public var bodyHash: String?
    /// The body's JSON shape, when the body is JSON. Worked out when first asked: the
    /// recorder asks, on its own thread; a run that is not saved never pays for it.
    public var shape: JSONShape? {
        get { shapeSource?.shape }
        set { shapeSource = newValue.map(ShapeSource.computed) }
    }
    var shapeSource: ShapeSource?
    public var error: String?
    public var skipReason: String?
    /// The URL the request ended at after redirects (nil when none were followed), and the hops.
    public var finalURL: String?
    public var redirects: [RedirectHop] = []
    /// With -v: the header fields each redirect's request went out with.
    public var redirectHeaders: [[(name: String, value: String)]] = []
    public var checks: [CheckResult]
    public var requestHeaders: [(name: String, value: String)]
    public var requestBody: String?
    public var responseHeaders: [(name: String, value: String)]
    public var responseBody: String?

    /// Milliseconds, as expectations and reports use them.
    public var durationMilliseconds: Double? { timings.map { $0.total * 1000 } }

    public var failedChecks: [CheckResult] { checks.filter { !$0.passed } }

    /// What the history keeps of it: no headers, no bodies.
    public var record: RequestRecord { record(withShape: true) }

    /// The record, with its JSON shape worked out or left out (when the recorder knows it by the body's hash).
    public func record(withShape: Bool) -> RequestRecord {
        RequestRecord(
            position: index, name: name, method: method, url: url, startOffset: startOffset, outcome: outcome, status: status, timings: timings,
            attempts: attempts, responseSize: responseSize, bodyHash: bodyHash, shape: withShape ? shape : nil, error: error, skipReason: skipReason,
            responseExcerpt: outcome == .passed ? nil : responseBody.map { Redactor.cut($0, limit: 600) }, finalURL: finalURL, redirects: redirects,
            checks: checks.map {
                CheckRecord(subject: $0.subject, expected: $0.expected, actual: $0.actual, passed: $0.passed, message: $0.message,
                    line: $0.location.line, column: $0.location.column)
            })
    }
}

/// A whole run of one collection.
public struct RunResult: Sendable {
    public var collection: String
    public var file: String
    public var environment: String?
    public var started: Date
    public var finished: Date
    public var requests: [RequestResult]
    /// What the run learned and the user should know (a secret capture with values too short to mask).
    public var warnings: [String] = []

    public var outcome: Outcome { requests.map(\.outcome).filter { $0 != .skipped }.max() ?? .passed }

    public func count(_ outcome: Outcome) -> Int { requests.filter { $0.outcome == outcome }.count }
}

/// What the runner tells its listeners as it goes.
public enum RunEvent: Sendable {
    case requestStarted(index: Int, name: String)
    case requestFinished(RequestResult)
}

/// Where a result's shape comes from: known, or a JSON body (parsed or not) to walk, with
/// the redactor of the moment (keys can be secrets too).
enum ShapeSource: Sendable {
    case computed(JSONShape)
    case document(JSONValue, Redactor)
    case body([UInt8], Redactor)

    var shape: JSONShape? {
        switch self {
        case .computed(let shape):
            return shape
        case .document(let document, let redactor):
            return redactor.redact(JSONShape(of: document))
        case .body(let bytes, let redactor):
            guard let document = try? JSONValue.parse(bytes) else { return nil }
            return redactor.redact(JSONShape(of: document))
        }
    }
}
