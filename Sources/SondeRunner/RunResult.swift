import Foundation
import SondeCore

/// How a request ended.
public enum Outcome: String, Sendable, Codable, Comparable {
    case passed, failed, error, skipped

    private var rank: Int { [.passed: 0, .skipped: 1, .failed: 2, .error: 3][self] ?? 0 }
    public static func < (a: Outcome, b: Outcome) -> Bool { a.rank < b.rank }
}

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
    public var outcome: Outcome
    public var status: Int?
    public var timings: HTTPResponse.Timings?
    public var attempts: Int
    public var responseSize: Int
    public var error: String?
    public var skipReason: String?
    public var checks: [CheckResult]
    public var requestHeaders: [(name: String, value: String)]
    public var requestBody: String?
    public var responseHeaders: [(name: String, value: String)]
    public var responseBody: String?

    /// Milliseconds, as expectations and reports use them.
    public var durationMilliseconds: Double? { timings.map { $0.total * 1000 } }

    public var failedChecks: [CheckResult] { checks.filter { !$0.passed } }
}

/// A whole run of one collection.
public struct RunResult: Sendable {
    public var collection: String
    public var file: String
    public var environment: String?
    public var started: Date
    public var finished: Date
    public var requests: [RequestResult]

    public var outcome: Outcome { requests.map(\.outcome).filter { $0 != .skipped }.max() ?? .passed }

    public func count(_ outcome: Outcome) -> Int { requests.filter { $0.outcome == outcome }.count }
}

/// What the runner tells its listeners as it goes.
public enum RunEvent: Sendable {
    case requestStarted(index: Int, name: String)
    case requestFinished(RequestResult)
}
