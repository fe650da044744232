import Foundation

/// An I-Regexp (RFC 9485), as JSONPath's match() and search() use it, run by ICU with its
/// limits (`BoundedRegex`).
///
/// The pattern is checked against I-Regexp's grammar and translated: `.` matches
/// any character but CR and LF; `^` and `$` anchor, as the RFC 9535 compliance suite expects.
struct IRegexp: Sendable {
    private let regex: BoundedRegex
    /// The pattern as the query wrote it.
    let pattern: String

    /// Nil when `pattern` is not a valid I-Regexp.
    init?(_ pattern: String, anchored: Bool) {
        guard let translated = IRegexp.translate(pattern),
            case .success(let regex) = RegexCache.shared.regex(anchored ? "\\A(?:\(translated))\\z" : translated)
        else { return nil }
        self.regex = regex
        self.pattern = pattern
    }

    /// A pattern that comes from the document (a node's value) is compiled once for all the
    /// nodes that use it, through the bounded cache.
    static func cached(_ pattern: String, anchored: Bool) -> IRegexp? {
        IRegexp(pattern, anchored: anchored)
    }

    /// Throws when the match stopped at a limit of the regex engine.
    func matches(_ subject: String) throws(RegexError) -> Bool {
        try regex.matches(subject)
    }

    /// I-Regexp -> ICU syntax, or nil when the pattern is outside I-Regexp.
    static func translate(_ pattern: String) -> String? {
        var translator = Translator(scalars: Array(pattern.unicodeScalars))
        guard translator.regexp(), translator.index == translator.scalars.count else { return nil }
        return translator.out
    }

    private struct Translator {
        let scalars: [Unicode.Scalar]
        var index = 0
        var out = ""
        var depth = 0
        /// Set false by a malformed `{n,m}`.
        var validQuantifier = true

        var current: Unicode.Scalar? { index < scalars.count ? scalars[index] : nil }

        mutating func regexp() -> Bool {
            guard branch() else { return false }
            while current == "|" {
                index += 1
                out += "|"
                guard branch() else { return false }
            }
            return true
        }

        mutating func branch() -> Bool {
            while let c = current, c != "|", c != ")" {
                guard atom() else { return false }
                quantifier()
                if !validQuantifier { return false }
            }
            return true
        }

        mutating func quantifier() {
            guard let c = current else { return }
            switch c {
            case "*", "+", "?":
                out.unicodeScalars.append(c)
                index += 1
            case "{":
                index += 1
                var text = "{"
                var digits = 0
                while let d = current, d.properties.numericType != nil, d.isASCII {
                    text.unicodeScalars.append(d)
                    index += 1
                    digits += 1
                }
                guard digits > 0 else { validQuantifier = false; return }
                if current == "," {
                    text += ","
                    index += 1
                    while let d = current, d.properties.numericType != nil, d.isASCII {
                        text.unicodeScalars.append(d)
                        index += 1
                    }
                }
                guard current == "}" else { validQuantifier = false; return }
                index += 1
                out += text + "}"
            default: return
            }
        }

        mutating func atom() -> Bool {
            guard let c = current else { return false }
            switch c {
            case "(":
                index += 1
                out += "(?:"
                depth += 1
                guard regexp(), current == ")" else { return false }
                index += 1
                depth -= 1
                out += ")"
                return true
            case ".":
                index += 1
                out += "[^\\n\\r]"
                return true
            case "[": return charClassExpression()
            case "\\": return escape()
            case ")", "*", "+", "?", "]", "{", "|", "}": return false
            // The compliance suite reads ^ and $ as anchors, as ECMAScript and XSD-derived engines do.
            case "^":
                index += 1
                out += "^"
                return true
            case "$":
                index += 1
                out += "\\z"
                return true
            default:
                index += 1
                appendLiteral(c)
                return true
            }
        }

        mutating func appendLiteral(_ c: Unicode.Scalar) {
            if c.isASCII, !c.properties.isAlphabetic, !(c.value >= 0x30 && c.value <= 0x39), c.value > 0x20, c.value < 0x7F {
                out += "\\"
            }
            if c.value < 0x20 || c == "\u{7F}" {
                out += String(format: "\\x{%X}", c.value)
                return
            }
            out.unicodeScalars.append(c)
        }

        /// `\` followed by a single-character escape or a category escape.
        mutating func escape() -> Bool {
            index += 1
            guard let c = current else { return false }
            index += 1
            switch c {
            case "(", ")", "*", "+", "-", ".", "?", "[", "\\", "]", "^", "{", "|", "}":
                out += "\\"
                out.unicodeScalars.append(c)
                return true
            case "n": out += "\\n"; return true
            case "r": out += "\\r"; return true
            case "t": out += "\\t"; return true
            case "p", "P":
                guard current == "{" else { return false }
                index += 1
                var name = ""
                while let n = current, n != "}" {
                    name.unicodeScalars.append(n)
                    index += 1
                }
                guard current == "}", IRegexp.categories.contains(name) else { return false }
                index += 1
                out += "\\\(c){\(name)}"
                return true
            default: return false
            }
        }

        mutating func charClassExpression() -> Bool {
            index += 1
            out += "["
            if current == "^" {
                index += 1
                out += "^"
            }
            var first = true
            while let c = current, c != "]" {
                if c == "-" {
                    // A hyphen is literal only first or last.
                    let isLast = index + 1 < scalars.count && scalars[index + 1] == "]"
                    guard first || isLast else { return false }
                    index += 1
                    out += "\\-"
                    first = false
                    continue
                }
                guard classCharacterOrEscape(allowRange: true) else { return false }
                first = false
            }
            guard current == "]" else { return false }
            index += 1
            out += "]"
            return true
        }

        mutating func classCharacterOrEscape(allowRange: Bool) -> Bool {
            guard let c = current else { return false }
            if c == "\\" {
                let isCategory = index + 1 < scalars.count && (scalars[index + 1] == "p" || scalars[index + 1] == "P")
                guard escape() else { return false }
                if isCategory { return true }
            } else {
                if c == "[" { return false }
                index += 1
                appendLiteral(c)
            }
            if allowRange, current == "-", index + 1 < scalars.count, scalars[index + 1] != "]" {
                index += 1
                out += "-"
                guard let d = current, d != "[" else { return false }
                if d == "\\" {
                    let isCategory = index + 1 < scalars.count && (scalars[index + 1] == "p" || scalars[index + 1] == "P")
                    if isCategory { return false }
                    return escape()
                }
                index += 1
                appendLiteral(d)
            }
            return true
        }
    }

    static let categories: Set<String> = [
        "L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "Mn", "Mc", "Me", "N", "Nd", "Nl", "No",
        "P", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Z", "Zs", "Zl", "Zp",
        "S", "Sm", "Sc", "Sk", "So", "C", "Cc", "Cf", "Co", "Cn",
    ]
}
