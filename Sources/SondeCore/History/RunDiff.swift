import Foundation

/// What changed between two runs of a collection, request by request (matched by plan step id).
///
/// A change is *worse* when CI should stop on it: an outcome that got worse, a status that
/// went from success to failure, a slowdown beyond the threshold, or JSON paths removed or
/// retyped. Added paths, a changed body, added or removed requests are reported, not judged.
public struct RunDiff: Sendable {
    public struct Thresholds: Sendable {
        /// A latency change counts when it is more than this fraction of the old latency…
        public var latencyRatio: Double
        /// …and more than this: one slow sample of 12 ms against 0.1 ms is jitter, not
        /// news, and CI should not stop on it.
        public var latencyFloor: Duration

        public init(latencyRatio: Double = 0.5, latencyFloor: Duration = .milliseconds(50)) {
            self.latencyRatio = latencyRatio
            self.latencyFloor = latencyFloor
        }
    }

    public enum Change: Sendable, Equatable {
        case outcome(old: Outcome, new: Outcome)
        case status(old: Int?, new: Int?)
        case latency(old: Duration, new: Duration)
        case shape(ShapeChanges)
        case body(oldHash: String?, newHash: String?)

        /// Whether CI should stop on it.
        public var isWorse: Bool {
            switch self {
            case .outcome(let old, let new): return new > old
            case .status(let old, let new): return Self.isSuccess(old) && !Self.isSuccess(new)
            case .latency(let old, let new): return new > old
            case .shape(let changes): return !changes.removed.isEmpty || !changes.retyped.isEmpty
            case .body: return false
            }
        }

        /// Whether it is good news (a fix, a speed-up).
        public var isBetter: Bool {
            switch self {
            case .outcome(let old, let new): return new < old
            case .status(let old, let new): return !Self.isSuccess(old) && Self.isSuccess(new)
            case .latency(let old, let new): return new < old
            case .shape, .body: return false
            }
        }

        private static func isSuccess(_ status: Int?) -> Bool { status.map { $0 < 400 } ?? false }
    }

    public struct RequestDiff: Sendable {
        public enum Kind: Sendable, Equatable {
            case added, removed, compared
        }

        public var name: String
        public var kind: Kind
        public var changes: [Change]

        /// Worse when a change is, unless the outcome itself got better: a request that went
        /// from failing to passing is good news even if its body lost a field on the way.
        public var isWorse: Bool {
            let outcomeImproved = changes.contains { if case .outcome = $0 { return $0.isBetter } else { return false } }
            return !outcomeImproved && changes.contains(where: \.isWorse)
        }
        public var isBetter: Bool { !isWorse && changes.contains(where: \.isBetter) }
    }

    public var old: RunRecord
    public var new: RunRecord
    public var requests: [RequestDiff]

    public init(old: RunRecord, new: RunRecord, thresholds: Thresholds = Thresholds()) {
        self.old = old
        self.new = new
        let before = Dictionary(old.requests.map { ($0.step, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Set(new.requests.map(\.step))
        var requests: [RequestDiff] = []
        // A step skipped only because a selection left out what it needs was not run: it is
        // compared with nothing, as a step the selection left out.
        func leftOut(_ request: RequestResult) -> Bool { request.skip?.kind == .leftOut }
        for request in new.requests where !leftOut(request) {
            if let previous = before[request.step], leftOut(previous) { continue }
            guard let previous = before[request.step] else {
                // A run of a selection (`--request`, `--tag`) left the other steps out: they
                // were not added or removed, only not run.
                if old.selection == nil { requests.append(RequestDiff(name: request.name, kind: .added, changes: [])) }
                continue
            }
            requests.append(RequestDiff(name: request.name, kind: .compared, changes: Self.changes(from: previous, to: request, thresholds)))
        }
        for request in old.requests where !after.contains(request.step) && new.selection == nil {
            requests.append(RequestDiff(name: request.name, kind: .removed, changes: []))
        }
        self.requests = requests
    }

    static func changes(from old: RequestResult, to new: RequestResult, _ thresholds: Thresholds) -> [Change] {
        var changes: [Change] = []
        if old.outcome != new.outcome { changes.append(.outcome(old: old.outcome, new: new.outcome)) }
        // A skipped request sent nothing: its status, latency and body say nothing new.
        guard old.outcome != .skipped, new.outcome != .skipped else { return changes }
        if old.status != new.status { changes.append(.status(old: old.status, new: new.status)) }
        if let before = old.duration, let after = new.duration {
            let delta = after > before ? after - before : before - after
            if delta > thresholds.latencyFloor && delta > before * thresholds.latencyRatio {
                changes.append(.latency(old: before, new: after))
            }
        }
        if let before = old.shape, let after = new.shape {
            let shapeChanges = after.changes(since: before)
            if !shapeChanges.isEmpty { changes.append(.shape(shapeChanges)) }
        } else if old.shape != nil || new.shape != nil, old.bodyHash != nil, new.bodyHash != nil {
            // JSON became something else, or the other way round: every path came or went.
            let none = JSONShape(types: [:])
            changes.append(.shape((new.shape ?? none).changes(since: old.shape ?? none)))
        }
        if old.bodyHash != new.bodyHash, old.bodyHash != nil || new.bodyHash != nil {
            changes.append(.body(oldHash: old.bodyHash, newHash: new.bodyHash))
        }
        return changes
    }

    /// True when CI should fail: something got worse.
    public var isWorse: Bool { requests.contains(where: \.isWorse) }

    public var collectionChanged: Bool { old.contentHash != new.contentHash }

    public var worseCount: Int { requests.filter(\.isWorse).count }
    public var betterCount: Int { requests.filter(\.isBetter).count }
    public var unchangedCount: Int { requests.filter { $0.kind == .compared && $0.changes.isEmpty }.count }
    /// Compared requests that changed without getting worse or better (a body, a latency
    /// within the threshold): with the three above, every compared request is counted once.
    public var changedCount: Int { requests.filter { $0.kind == .compared && !$0.changes.isEmpty && !$0.isWorse && !$0.isBetter }.count }
}
