import SondeCore

/// Draws a diagnostic as compilers and Hurl do: where, what, the source line and a caret under the spot.
///
///     collections/x.yaml:14:7: error: unknown key 'expcet' in request 'login'; did you mean 'expect'?
///        |
///     14 |     expcet:
///        |     ^^^^^^
public struct DiagnosticRenderer: Sendable {
    public var colors: Bool

    public init(colors: Bool) {
        self.colors = colors
    }

    /// `sourceLine` is the text of the diagnostic's line when it can be read. The file's name,
    /// the message (which may quote the file) and the line are written with their control
    /// characters escaped (`TerminalText`): a collection cannot drive the terminal either.
    public func render(_ diagnostic: Diagnostic, sourceLine: String?) -> String {
        let location = diagnostic.location
        let label = diagnostic.severity == .warning ? yellow("warning:") : red("error:")
        var out = bold(TerminalText.escape("\(location)") + ":") + " " + label + " " + bold(TerminalText.escape(diagnostic.message)) + "\n"
        guard diagnostic.quotesSource, let sourceLine, !sourceLine.isEmpty else { return out }
        let gutter = String(location.line)
        let pad = String(repeating: " ", count: gutter.count)
        let scalars = Array(sourceLine.unicodeScalars)
        // Each character as shown (escaped, or a tab kept as a tab so that the caret line's
        // tabs line up with it), and the caret under the same character.
        let shown = scalars.map { $0 == "\t" ? "\t" : TerminalText.escape(String($0)) }
        var prefix = ""
        for piece in shown.prefix(max(0, location.column - 1)) { prefix += piece == "\t" ? "\t" : String(repeating: " ", count: piece.count) }
        let available = max(1, scalars.count - (location.column - 1))
        let carets = String(repeating: "^", count: max(1, min(diagnostic.length, available)))
        out += blue("\(pad) |") + "\n"
        out += blue("\(gutter) |") + " \(shown.joined())\n"
        out += blue("\(pad) |") + " \(prefix)" + red(carets) + "\n"
        return out
    }

    private func paint(_ text: String, _ code: String) -> String { colors ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    private func bold(_ text: String) -> String { paint(text, "1") }
    private func red(_ text: String) -> String { paint(text, "1;31") }
    private func blue(_ text: String) -> String { paint(text, "1;34") }
    private func yellow(_ text: String) -> String { paint(text, "1;33") }
}
