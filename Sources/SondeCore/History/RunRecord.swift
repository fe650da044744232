import Foundation

/// The phases of one exchange as libcurl measures them: seconds from the start of the request.
public struct RequestTimings: Sendable, Equatable {
    public var dns: Double
    public var connect: Double
    public var tls: Double
    public var firstByte: Double
    public var total: Double

    public init(dns: Double = 0, connect: Double = 0, tls: Double = 0, firstByte: Double = 0, total: Double = 0) {
        self.dns = dns
        self.connect = connect
        self.tls = tls
        self.firstByte = firstByte
        self.total = total
    }
}

/// One redirect followed: the URL that answered, its status, the URL its Location pointed
/// to (resolved against the first, RFC 3986 §5), and the method the next request used there.
public struct RedirectHop: Sendable, Equatable {
    public var url: String
    public var status: Int
    public var location: String
    /// GET after a 303 (or a 301/302 of a POST), else the method as it was.
    public var method: String

    public init(url: String, status: Int, location: String, method: String = "GET") {
        self.url = url
        self.status = status
        self.location = location
        self.method = method
    }

    /// The hop with `transform` applied to its URLs (a redactor's).
    public func mapURLs(_ transform: (String) -> String) -> RedirectHop {
        RedirectHop(url: transform(url), status: status, location: transform(location), method: method)
    }

    /// `{ "url", "status", "location", "method" }`, as `expect: { redirects: … }` sees it and
    /// the history and JSON reports keep it.
    public var json: JSONValue { ["url": .string(url), "status": .int(status), "location": .string(location), "method": .string(method)] }

    /// A hop read back from its `json`; nil when a member is missing or of another type.
    public init?(json: JSONValue) {
        guard let url = json["url"]?.stringValue, let status = json["status"]?.numberValue?.integer, let location = json["location"]?.stringValue
        else { return nil }
        self.init(url: url, status: Int(status), location: location, method: json["method"]?.stringValue ?? "GET")
    }
}

/// A run as the history database keeps it; diff, trend and reports read only this.
public struct RunRecord: Sendable {
    public var id: Int64
    public var collection: String
    /// The collection file, as given on the command line.
    public var file: String
    /// The file's path relative to the top of its git repository (or to the working folder
    /// outside one): with `collection`, the collection's identity, which history, diff and
    /// trend group runs by.
    public var collectionPath: String
    /// SHA-256 of the collection file, so that a diff can say the collection itself changed.
    public var contentHash: String
    public var environment: String?
    public var started: Date
    /// Nil while the run is going, or when it was killed before it finished.
    public var finished: Date?
    public var toolVersion: String
    public var gitCommit: String?
    /// Nil until the run finishes.
    public var outcome: Outcome?
    public var plannedRequests: Int
    public var passed: Int
    public var failed: Int
    public var errored: Int
    public var skipped: Int
    /// Empty in listings; filled when one run is read whole.
    public var requests: [RequestRecord]

    public init(
        id: Int64, collection: String, file: String, collectionPath: String? = nil, contentHash: String, environment: String?, started: Date,
        finished: Date?, toolVersion: String, gitCommit: String?, outcome: Outcome?, plannedRequests: Int, passed: Int = 0, failed: Int = 0,
        errored: Int = 0, skipped: Int = 0, requests: [RequestRecord] = []
    ) {
        self.collectionPath = collectionPath ?? file
        self.id = id
        self.collection = collection
        self.file = file
        self.contentHash = contentHash
        self.environment = environment
        self.started = started
        self.finished = finished
        self.toolVersion = toolVersion
        self.gitCommit = gitCommit
        self.outcome = outcome
        self.plannedRequests = plannedRequests
        self.passed = passed
        self.failed = failed
        self.errored = errored
        self.skipped = skipped
        self.requests = requests
    }

    public var isComplete: Bool { finished != nil }

    /// Whether two runs are of one collection: the same name from the same file.
    public func isSameCollection(as other: RunRecord) -> Bool {
        collection == other.collection && collectionPath == other.collectionPath
    }

    /// Seconds from start to finish, or to the last request recorded.
    public var duration: Double? { finished.map { $0.timeIntervalSince(started) } }

    /// "passed", "failed", "error" or "incomplete", as listings show it.
    public var status: String { outcome?.rawValue ?? "incomplete" }
}

/// One request of a recorded run. URL, expectations and errors are already redacted.
public struct RequestRecord: Sendable {
    public var position: Int
    public var name: String
    public var method: String
    public var url: String
    /// Seconds from the start of the run to when it was sent; nil in runs recorded before v3.
    public var startOffset: Double?
    public var outcome: Outcome
    public var status: Int?
    public var timings: RequestTimings?
    public var attempts: Int
    public var responseSize: Int
    /// SHA-256 of the response body, hex.
    public var bodyHash: String?
    /// Nil when there was no response or its body is not JSON.
    public var shape: JSONShape?
    public var error: String?
    public var skipReason: String?
    /// The start of the response body of a request that did not pass, redacted, at most 600 characters.
    public var responseExcerpt: String?
    /// The URL the request ended at, when redirects were followed (nil when it is `url`).
    public var finalURL: String?
    /// The redirects followed, in order.
    public var redirects: [RedirectHop]
    public var checks: [CheckRecord]

    public init(
        position: Int, name: String, method: String, url: String, startOffset: Double? = nil, outcome: Outcome, status: Int?, timings: RequestTimings?,
        attempts: Int, responseSize: Int, bodyHash: String?, shape: JSONShape?, error: String?, skipReason: String?, responseExcerpt: String? = nil,
        finalURL: String? = nil, redirects: [RedirectHop] = [], checks: [CheckRecord]
    ) {
        self.finalURL = finalURL
        self.redirects = redirects
        self.position = position
        self.name = name
        self.method = method
        self.url = url
        self.startOffset = startOffset
        self.responseExcerpt = responseExcerpt
        self.outcome = outcome
        self.status = status
        self.timings = timings
        self.attempts = attempts
        self.responseSize = responseSize
        self.bodyHash = bodyHash
        self.shape = shape
        self.error = error
        self.skipReason = skipReason
        self.checks = checks
    }

    /// Total time in milliseconds, when a response came.
    public var milliseconds: Double? { timings.map { $0.total * 1000 } }
}

/// One expectation's verdict as recorded: expected and actual as people read them.
public struct CheckRecord: Sendable, Equatable {
    public var subject: String
    public var expected: String
    public var actual: String
    public var passed: Bool
    public var message: String?
    public var line: Int
    public var column: Int

    public init(subject: String, expected: String, actual: String, passed: Bool, message: String?, line: Int, column: Int) {
        self.subject = subject
        self.expected = expected
        self.actual = actual
        self.passed = passed
        self.message = message
        self.line = line
        self.column = column
    }
}

extension RunRecord {
    /// The run with every text a server or a capture could have put a secret in masked by
    /// `redactor` (the columns `HistoryStore.redactRecorded` masks), and body hashes replaced
    /// by position from `bodyHashes`: for a run not recorded, whose report is made after a
    /// later collection learned a secret.
    public func redacted(with redactor: Redactor, bodyHashes: [Int: String?] = [:]) -> RunRecord {
        guard !redactor.isEmpty else { return self }
        var copy = self
        copy.requests = requests.map { request in
            var r = request
            r.name = redactor.redact(r.name)
            r.url = redactor.redact(r.url)
            r.error = r.error.map(redactor.redact)
            r.skipReason = r.skipReason.map(redactor.redact)
            r.responseExcerpt = r.responseExcerpt.map(redactor.redact)
            r.finalURL = r.finalURL.map(redactor.redact)
            r.shape = r.shape.map(redactor.redact)
            r.redirects = r.redirects.map { hop in
                var h = hop
                h.url = redactor.redact(h.url)
                h.location = redactor.redact(h.location)
                return h
            }
            r.checks = r.checks.map { check in
                var c = check
                c.subject = redactor.redact(c.subject)
                c.expected = redactor.redact(c.expected)
                c.actual = redactor.redact(c.actual)
                c.message = c.message.map(redactor.redact)
                return c
            }
            if let hash = bodyHashes[r.position] { r.bodyHash = hash }
            return r
        }
        return copy
    }
}
