/// One check's verdict (an expectation, or the implicit status check), with expected and
/// actual as people read them, already redacted. The runner makes it, the history keeps it,
/// every report shows it.
public struct CheckResult: Sendable, Equatable {
    /// What was checked: `status`, `header Content-Type`, a JSONPath, `body`, `duration`…
    public var subject: String
    public var expected: String
    public var actual: String
    public var passed: Bool
    /// Why it did not hold, when more than expected and actual can say.
    public var message: String?
    /// Where the expectation is written (for the implicit status check: its request).
    public var location: SourceLocation

    public init(subject: String, expected: String, actual: String, passed: Bool, message: String?, location: SourceLocation) {
        self.subject = subject
        self.expected = expected
        self.actual = actual
        self.passed = passed
        self.message = message
        self.location = location
    }
}
