extension JSONValue {
    /// Compact JSON text, member order kept.
    public var jsonText: String {
        var out = ""
        write(to: &out, indent: nil, level: 0)
        return out
    }

    /// Compact JSON text, cut off once it is longer than `limit` UTF-8 bytes (it may then
    /// end in the middle of a value).
    public func jsonText(atMost limit: Int) -> String {
        var out = ""
        write(to: &out, indent: nil, level: 0, limit: limit)
        return out
    }

    /// Indented JSON text for people.
    public func prettyText(indent: Int = 2) -> String {
        var out = ""
        write(to: &out, indent: indent, level: 0)
        return out
    }

    func write(to out: inout String, indent: Int?, level: Int, limit: Int = .max) {
        if out.utf8.count > limit { return }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n.jsonText
        case .string(let s): JSONValue.writeQuoted(s, to: &out)
        case .array(let elements):
            if elements.isEmpty { out += "[]"; return }
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                JSONValue.newline(&out, indent: indent, level: level + 1)
                element.write(to: &out, indent: indent, level: level + 1, limit: limit)
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
                JSONValue.writeQuoted(member.key, to: &out)
                out += indent == nil ? ":" : ": "
                member.value.write(to: &out, indent: indent, level: level + 1, limit: limit)
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
                if scalar.value < 0x20 {
                    out += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
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

extension String {
    /// Equal ignoring ASCII case, as HTTP header names compare (RFC 9110); no Foundation, no locale.
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        let a = utf8
        let b = other.utf8
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) where x != y {
            let lowerX = x >= 65 && x <= 90 ? x + 32 : x
            let lowerY = y >= 65 && y <= 90 ? y + 32 : y
            if lowerX != lowerY { return false }
        }
        return true
    }
}
