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
