extension JSONValue {
    /// Compact JSON text, member order kept.
    public var jsonText: String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Compact JSON text, cut off once it is longer than `limit` UTF-8 bytes (it may then
    /// end in the middle of a value). `redactor` masks each string and name before it is
    /// quoted, as far as the text goes.
    public func jsonText(atMost limit: Int, redactor: Redactor? = nil) -> String {
        var out = ""
        write(to: &out, indent: nil, level: 0, limit: limit, redactor: redactor)
        return out
    }

    /// Indented JSON text for people.
    public func prettyText(indent: Int = 2) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    func write(to out: inout String, indent: Int?, level: Int, limit: Int = .max, redactor: Redactor? = nil) {
        if out.utf8.count > limit { return }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n):
            if let redactor, case .string(let masked) = redactor.redact(self) { JSONValue.writeQuoted(masked, to: &out) } else { out += n.jsonText }
        case .string(let s): JSONValue.writeQuoted(redactor?.redact(s) ?? s, to: &out)
        case .array(let elements):
            if elements.isEmpty { out += "[]"; return }
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                JSONValue.newline(&out, indent: indent, level: level + 1)
                element.write(to: &out, indent: indent, level: level + 1, limit: limit, redactor: redactor)
                if out.utf8.count > limit { return }
            }
            JSONValue.newline(&out, indent: indent, level: level)
            out += "]"
        case .object(let object):
            if object.isEmpty { out += "{}"; return }
            out += "{"
            for (i, member) in object.members.enumerated() {
                if i > 0 { out += "," }
                JSONValue.newline(&out, indent: indent, level: level + 1)
                JSONValue.writeQuoted(redactor?.redact(member.key) ?? member.key, to: &out)
                out += indent == nil ? ":" : ": "
                member.value.write(to: &out, indent: indent, level: level + 1, limit: limit, redactor: redactor)
                if out.utf8.count > limit { return }
            }
            JSONValue.newline(&out, indent: indent, level: level)
            out += "}"
        }
    }

    private static func newline(_ out: inout String, indent: Int?, level: Int) {
        guard let indent else { return }
        out += "\n"
        out += String(repeating: " ", count: indent * level)
    }

    /// Writes `s` as a JSON string literal.
    public static func writeQuoted(_ s: String, to out: inout String) {
        out += "\""
        // Most text is printable ASCII without a quote or a backslash: written as it is.
        if s.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            out += s
            out += "\""
            return
        }
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                // Controls (C0, DEL, C1), U+2028/U+2029, the non-characters U+FFFE/U+FFFF and
                // the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
                // escaped: the text stays JSON, and is safe in a terminal and in YAML (TAP).
                let value = scalar.value
                if value < 0x20 || (0x7F...0x9F).contains(value) || value == 0x2028 || value == 0x2029 || value == 0xFEFF || value == 0xFFFE
                    || value == 0xFFFF || (0x202A...0x202E).contains(value) || (0x2066...0x2069).contains(value)
                {
                    let hex = String(value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }

    public static func quoted(_ s: String) -> String {
        var out = ""
        writeQuoted(s, to: &out)
        return out
    }
}

extension JSONValue: CustomStringConvertible {
    public var description: String { jsonText }
}
