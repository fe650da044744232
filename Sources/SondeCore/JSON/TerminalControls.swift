extension Unicode.Scalar {
    /// Whether a terminal would act on it rather than show it: C0 controls, DEL, C1 controls,
    /// and the bidirectional embeddings, overrides and isolates (U+202A–U+202E,
    /// U+2066–U+2069; "Trojan Source", CVE-2021-42574). What the terminal, shell lines and
    /// reports escape.
    public var isTerminalControl: Bool {
        switch value {
        case 0x00..<0x20, 0x7F..<0xA0, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
