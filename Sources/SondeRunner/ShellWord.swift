/// Words for a POSIX shell (bash for `$'…'`): what `--curl` and `sonde demo` print, so that
/// a line pasted into a shell passes each argument exactly.
public enum ShellWord {
    /// A shell word that is `text` exactly.
    public static func quoted(_ text: String) -> String { quoted(Array(text.utf8)) }

    public static func quoted(_ bytes: [UInt8]) -> String {
        if !bytes.isEmpty, bytes.allSatisfy({ plain.contains($0) }) { return String(decoding: bytes, as: UTF8.self) }
        let text = String(validating: bytes, as: UTF8.self)
        if let text, !text.unicodeScalars.contains(where: \.isTerminalControl) {
            return "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
        }
        // bash's ANSI-C quoting: every byte that is not plain printable ASCII as \xHH.
        var out = "$'"
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\\"): out += #"\\"#
            case UInt8(ascii: "'"): out += #"\'"#
            case UInt8(ascii: "\n"): out += #"\n"#
            case UInt8(ascii: "\t"): out += #"\t"#
            case UInt8(ascii: "\r"): out += #"\r"#
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out + "'"
    }

    /// Characters that need no quoting in a POSIX shell word.
    private static let plain = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./:=@%+,".utf8)
}

private extension String {
    func leftPadded(to width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
