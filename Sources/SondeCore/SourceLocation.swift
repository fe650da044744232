/// Where something stands in a collection file: 1-based line and column (in characters).
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (a: SourceLocation, b: SourceLocation) -> Bool {
        (a.file, a.line, a.column) < (b.file, b.line, b.column)
    }
}

/// A problem a person can act on: where, what, and how long a span to underline.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String
    /// How many characters to underline from `location.column`.
    public var length: Int
    public var severity: Severity
    /// Whether the line of the file may be shown under the message: not for `.env` (where
    /// secrets live) nor for a line that holds a secret's value.
    public var quotesSource: Bool

    public enum Severity: String, Sendable, Hashable {
        /// Nothing is sent.
        case error
        /// Said, and the run goes on.
        case warning
    }

    public init(_ message: String, at location: SourceLocation, length: Int = 1, severity: Severity = .error, quotesSource: Bool = true) {
        self.location = location
        self.message = message
        self.length = max(1, length)
        self.severity = severity
        self.quotesSource = quotesSource
    }

    public var description: String { "\(location): \(severity == .warning ? "warning: " : "")\(message)" }
}

/// Every problem found in one or more files, reported together.
public struct DiagnosticsError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]

    public init(_ diagnostics: [Diagnostic]) {
        self.diagnostics = diagnostics.sorted { $0.location < $1.location }
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// The valid name nearest to a mistyped one, by edit distance, as Hurl's did_you_mean does.
public func nearestName(to word: String, among candidates: some Sequence<String>) -> String? {
    var best: (name: String, distance: Int)?
    for candidate in candidates {
        let distance = editDistance(word.lowercased(), candidate.lowercased())
        if distance <= max(1, min(3, candidate.count / 3 + 1)), distance < (best?.distance ?? .max) {
            best = (candidate, distance)
        }
    }
    return best?.name
}

/// Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var d = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
    for i in 0...a.count { d[i][0] = i }
    for j in 0...b.count { d[0][j] = j }
    for i in 1...a.count {
        for j in 1...b.count {
            let cost = a[i - 1] == b[j - 1] ? 0 : 1
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
            if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
            }
        }
    }
    return d[a.count][b.count]
}
