/// Text that came from a server, or was computed from it (a body, a header, a captured value,
/// a JSON key in a shape), made safe to write to a terminal: control characters are escaped,
/// so that no response can move the cursor, clear the screen, or write a line that looks
/// like Sonde's own.
///
/// C0 controls and DEL are written `\x1b`; C1 controls `\u009b`; the bidirectional
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), which can make text
/// read in another order than it is ("Trojan Source", CVE-2021-42574), `\u202e`. Line breaks
/// and tabs are escaped too by `escape`; `lines` splits a body at line breaks first and keeps
/// its tabs.
public enum TerminalText {
    /// One line: every control character escaped (a tab too, unless `keepingTabs`).
    public static func escape(_ text: String, keepingTabs: Bool = false) -> String {
        guard needsEscaping(text, keepingTabs: keepingTabs) else { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            if !scalar.isTerminalControl || (scalar == "\t" && keepingTabs) {
                out.unicodeScalars.append(scalar)
            } else if scalar.value <= 0x7F {
                out += "\\x" + hex(scalar.value, digits: 2)
            } else {
                out += "\\u" + hex(scalar.value, digits: 4)
            }
        }
        return out
    }

    /// The lines of a body (split at LF, CR LF or a lone CR), each escaped.
    public static func lines(_ text: String) -> [String] {
        var lines: [String] = []
        var current = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        var pendingCR = false
        while let scalar = scalars.next() {
            if pendingCR {
                pendingCR = false
                if scalar == "\n" { continue }
            }
            if scalar == "\n" || scalar == "\r" {
                lines.append(escape(String(current), keepingTabs: true))
                current = String.UnicodeScalarView()
                pendingCR = scalar == "\r"
                continue
            }
            current.append(scalar)
        }
        lines.append(escape(String(current), keepingTabs: true))
        return lines
    }

    static func needsEscaping(_ text: String, keepingTabs: Bool) -> Bool {
        var previous: UInt8 = 0, beforePrevious: UInt8 = 0
        for byte in text.utf8 {
            // C0 and DEL; C1 is 0xC2 0x80–0x9F in UTF-8; U+202A–U+202E is E2 80 AA–AE and
            // U+2066–U+2069 is E2 81 A6–A9.
            if (byte < 0x20 && !(byte == 0x09 && keepingTabs)) || byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte < 0xA0) { return true }
            if beforePrevious == 0xE2, (previous == 0x80 && (0xAA...0xAE).contains(byte)) || (previous == 0x81 && (0xA6...0xA9).contains(byte)) { return true }
            beforePrevious = previous
            previous = byte
        }
        return false
    }

    static func hex(_ value: UInt32, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
