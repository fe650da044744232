import Foundation

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
    public var requests: [RequestResult]
    /// The selection it ran (`--request 'get *' --tag smoke`); nil when every step ran.
    public var selection: String?
    /// Its identity across machines and histories (`RunStart.uuid`); nil for a run not recorded.
    public var uuid: String?
    /// Where it ran.
    public var origin = RunOrigin()

    public init(
        id: Int64, collection: String, file: String, collectionPath: String? = nil, contentHash: String, environment: String?, started: Date,
        finished: Date?, toolVersion: String, gitCommit: String?, outcome: Outcome?, plannedRequests: Int, passed: Int = 0, failed: Int = 0,
        errored: Int = 0, skipped: Int = 0, requests: [RequestResult] = []
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

    /// From start to finish; nil for a run that did not finish.
    public var duration: Duration? { finished.map { .fromSeconds($0.timeIntervalSince(started)) } }

    /// "passed", "failed", "error" or "incomplete", as listings show it.
    public var status: String { outcome?.rawValue ?? "incomplete" }
}

extension RunRecord {
    /// The run with every text a server or a capture could have put a secret in masked by
    /// `redactor` (the texts `RunHistory.redact` masks), and body hashes replaced
    /// by position from `bodyHashes`: for a run not recorded, whose report is made after a
    /// later collection learned a secret.
    public func redacted(with redactor: Redactor, bodyHashes: [Int: String?] = [:]) -> RunRecord {
        guard !redactor.isEmpty else { return self }
        var copy = self
        copy.requests = requests.map { request in
            var r = request
            r.name = redactor.redact(r.name)
            r.step = RequestResult.maskedStep(r.step, masked: redactor.redact(r.step), position: r.position)
            r.url = redactor.redact(r.url)
            r.problem = r.problem.map { RequestProblem($0.kind, redactor.redact($0.message)) }
            r.skip = r.skip.map { SkipReason($0.kind, redactor.redact($0.message)) }
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
