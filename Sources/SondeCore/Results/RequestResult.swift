/// Everything about one request of a run: what the runner returns, the history records and
/// every report reads. Every text is already redacted.
///
/// The exchange's headers and bodies (`requestHeaders` … `responseBody`) are kept for -v and
/// -vv only and never recorded; a result read back from the history has them empty.
public struct RequestResult: Sendable {
    /// The plan step this is the result of (`PlanStep.id`): what the history and `diff` match on.
    public var step: String
    /// Its place in the run, from 0 (the plan's order).
    public var position: Int
    public var name: String
    public var method: String
    public var url: String
    /// Where the request is written; nil in runs recorded before positions were (history v6).
    public var location: SourceLocation?
    /// From the start of the run to when the request was sent (or skipped); nil in runs
    /// recorded before it was (history v3).
    public var startOffset: Duration?
    public var outcome: Outcome
    public var status: Int?
    public var timings: RequestTimings?
    public var attempts: Int
    public var responseSize: Int
    /// SHA-256 of the response body, hex (of its masked text when it holds a secret); nil
    /// when nothing came back.
    public var bodyHash: String?
    /// The body's JSON shape, when the body is JSON. Worked out when first asked: the
    /// recorder asks, on its own thread; a run that is not saved never pays for it.
    public var shape: JSONShape? {
        get { shapeSource?.shape }
        set { shapeSource = newValue.map(ShapeSource.computed) }
    }
    package var shapeSource: ShapeSource?
    /// Why it did not complete (outcome `.error`), or why it failed other than by a check.
    public var problem: RequestProblem?
    /// Why it was not sent (outcome `.skipped`).
    public var skip: SkipReason?
    /// The start of the response body of a request that did not pass, at most 600 characters.
    public var responseExcerpt: String?
    /// The URL the request ended at after redirects (nil when none were followed), and the hops.
    public var finalURL: String?
    public var redirects: [RedirectHop]
    public var checks: [CheckResult]
    /// -v: the header fields as sent and received, and each redirect's request fields.
    public var requestHeaders: [(name: String, value: String)] = []
    public var responseHeaders: [(name: String, value: String)] = []
    public var redirectHeaders: [[(name: String, value: String)]] = []
    /// -vv: the bodies, as text (a binary body is summarised).
    public var requestBody: String?
    public var responseBody: String?
    /// -v and `--curl`: the request as a curl command line (`CurlCommand`), masked.
    public var curlCommand: String?
    /// `setup`, `main` (the collection's `requests`) or `teardown`.
    public var phase: Phase = .main

    public init(
        step: String, position: Int, name: String, method: String, url: String, location: SourceLocation? = nil, startOffset: Duration? = nil,
        outcome: Outcome, status: Int? = nil, timings: RequestTimings? = nil, attempts: Int = 0, responseSize: Int = 0, bodyHash: String? = nil,
        shape: JSONShape? = nil, problem: RequestProblem? = nil, skip: SkipReason? = nil, responseExcerpt: String? = nil, finalURL: String? = nil,
        redirects: [RedirectHop] = [], checks: [CheckResult] = []
    ) {
        self.step = step
        self.position = position
        self.name = name
        self.method = method
        self.url = url
        self.location = location
        self.startOffset = startOffset
        self.outcome = outcome
        self.status = status
        self.timings = timings
        self.attempts = attempts
        self.responseSize = responseSize
        self.bodyHash = bodyHash
        self.shapeSource = shape.map(ShapeSource.computed)
        self.problem = problem
        self.skip = skip
        self.responseExcerpt = responseExcerpt
        self.finalURL = finalURL
        self.redirects = redirects
        self.checks = checks
    }

    /// A step id once `masked` (the id with secrets masked) is known: the id itself when
    /// masking left it alone, else the masked text with the step's place in the run, so that
    /// two steps whose ids differ only by a secret stay two steps (`diff`, `trend`).
    public static func maskedStep(_ id: String, masked: String, position: Int) -> String {
        masked == id ? id : "\(masked) #\(position + 1)"
    }

    /// The whole exchange, as expectations on `duration` see it.
    public var duration: Duration? { timings?.total }

    public var failedChecks: [CheckResult] { checks.filter { !$0.passed } }

    /// What the history keeps: the exchange's headers and bodies dropped, and the shape
    /// left out when the recorder knows it already (by the body's hash).
    public func recorded(withShape: Bool) -> RequestResult {
        var copy = self
        copy.requestHeaders = []
        copy.responseHeaders = []
        copy.redirectHeaders = []
        copy.requestBody = nil
        copy.responseBody = nil
        copy.curlCommand = nil
        if !withShape { copy.shapeSource = nil }
        return copy
    }
}

/// Where a result's shape comes from: known, or a JSON body (parsed or not) to walk, with
/// the redactor of the moment (keys can be secrets too).
package enum ShapeSource: Sendable {
    case computed(JSONShape)
    case document(JSONValue, Redactor)
    /// A body's document without the nodes `diff: { ignore: … }` selected, and where they were.
    case documentIgnoring(JSONValue, [NormalizedPath], Redactor)
    case body([UInt8], Redactor)

    package var shape: JSONShape? {
        switch self {
        case .computed(let shape):
            return shape
        case .document(let document, let redactor):
            return redactor.redact(JSONShape(of: document))
        case .documentIgnoring(let document, let ignored, let redactor):
            return redactor.redact(JSONShape(of: document, ignored: ignored))
        case .body(let bytes, let redactor):
            guard let document = try? JSONValue.parse(bytes) else { return nil }
            return redactor.redact(JSONShape(of: document))
        }
    }
}
