/// How a request, or a whole run, ended.
public enum Outcome: String, Sendable, Codable, Comparable, CaseIterable {
    case passed, failed, error, skipped

    private var rank: Int {
        switch self {
        case .passed: 0
        case .skipped: 1
        case .failed: 2
        case .error: 3
        }
    }

    public static func < (a: Outcome, b: Outcome) -> Bool { a.rank < b.rank }
}
