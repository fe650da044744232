import Foundation
import SondeCore

/// The ways servers write back what they received: each escaping a real server uses.
public enum Reflection {
    public static let styles = [
        "raw", "json", "json_ascii", "json_all", "json_go", "php", "html", "html_numeric", "html_hex", "percent_upper", "percent_lower",
        "form", "uri", "base64", "pretty", "json_twice", "percent_twice", "html_json", "base64_json",
        "html5_named", "html_numeric_bare", "quoted_printable", "js_escape", "iis_u", "css",
    ]

    /// Styles that reshape the value rather than escape it (a server that trims, changes case,
    /// doubles quotes, decomposes accents, or moves line breaks): only what is left of the
    /// secret's letters and digits can be recognised, and is masked.
    public static let reshapingStyles = ["csv", "sql", "nfd", "upper", "lower", "trimmed", "no_whitespace", "lines_as_spaces"]

    /// HTML's names for ASCII punctuation, as PHP's htmlentities(…, ENT_HTML5) writes them.
    static let html5Names: [Unicode.Scalar: String] = [
        "!": "excl", "\"": "quot", "#": "num", "$": "dollar", "%": "percnt", "&": "amp", "'": "apos", "(": "lpar", ")": "rpar",
        "*": "ast", "+": "plus", ",": "comma", ".": "period", "/": "sol", ":": "colon", ";": "semi", "<": "lt", "=": "equals",
        ">": "gt", "?": "quest", "@": "commat", "[": "lsqb", "\\": "bsol", "]": "rsqb", "^": "Hat", "_": "lowbar", "`": "grave",
        "{": "lcub", "|": "verbar", "}": "rcub", "\t": "Tab", "\n": "NewLine", "é": "eacute", "€": "euro",
    ]

    public static func write(_ text: String, style: String) -> String {
        switch style {
        case "json": return String(JSONValue.quoted(text).dropFirst().dropLast())
        // Python's json.dumps: every non-ASCII character as \uXXXX, lowercase, surrogate pairs.
        case "json_ascii": return jsonEscaped(text, escape: { $0.value > 0x7E }, uppercase: false, slash: false)
        // Every character as \uXXXX, uppercase.
        case "json_all": return jsonEscaped(text, escape: { _ in true }, uppercase: true, slash: false)
        // Go's encoding/json: <, >, & as \u003c, \u003e, \u0026.
        case "json_go": return jsonEscaped(text, escape: { "<>&".unicodeScalars.contains($0) || $0.value == 0x2028 || $0.value == 0x2029 }, uppercase: false, slash: false)
        // PHP's json_encode: \/ for a slash and \uXXXX for non-ASCII.
        case "php": return jsonEscaped(text, escape: { $0.value > 0x7E }, uppercase: false, slash: true)
        // Python's html.escape, as the html_escape filter writes it.
        case "html": return HTMLText.escape(text)
        case "html_numeric": return text.unicodeScalars.map { "&#\($0.value);" }.joined()
        case "html_hex": return text.unicodeScalars.map { "&#x\(String($0.value, radix: 16, uppercase: true));" }.joined()
        case "percent_upper": return percent(text, keep: Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8), uppercase: true, plus: false)
        case "percent_lower": return percent(text, keep: Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~".utf8), uppercase: false, plus: false)
        // application/x-www-form-urlencoded: + for a space.
        case "form": return percent(text, keep: Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.*".utf8), uppercase: true, plus: true)
        // encodeURI: reserved characters left as they are.
        case "uri": return percent(text, keep: Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'();/?:@&=+$,#".utf8), uppercase: true, plus: false)
        case "base64": return Data(text.utf8).base64EncodedString()
        // A JSON body written back indented, as many APIs pretty-print what they store.
        case "pretty": return (try? JSONValue.parse(text).prettyText()) ?? text
        // A JSON document holding the value, echoed inside a JSON string (httpbin's "data").
        case "json_twice": return write(write(text, style: "json"), style: "json")
        // A query encoded once more when passed on (a redirect's return URL, say).
        case "percent_twice": return write(write(text, style: "percent_upper"), style: "percent_upper")
        // A JSON value shown in an HTML page.
        case "html_json": return write(write(text, style: "json"), style: "html")
        // A JSON document holding the value, passed on base64-encoded (as AWS Lambda passes bodies).
        case "base64_json": return write("{\"password\":\"" + write(text, style: "json") + "\"}", style: "base64")
        case "html5_named": return text.unicodeScalars.map { html5Names[$0].map { "&\($0);" } ?? String($0) }.joined()
        // Numeric references without their `;` (HTML reads them), where no digit follows.
        case "html_numeric_bare":
            let scalars = Array(text.unicodeScalars)
            return scalars.indices.map { i -> String in
                let c = scalars[i]
                if c.properties.isAlphabetic || ("0"..."9").contains(c) { return String(c) }
                let nextIsDigit = i + 1 < scalars.count && ("0"..."9").contains(scalars[i + 1])
                return "&#\(c.value)" + (nextIsDigit ? ";" : "")
            }.joined()
        // RFC 2045: bytes outside printable ASCII, and `=`, as =XX; lines of at most 76 with soft breaks.
        case "quoted_printable":
            var out = "", line = 0
            for byte in text.utf8 {
                let piece = byte == UInt8(ascii: "=") || byte < 0x20 || byte > 0x7E
                    ? "=" + String(format: "%02X", byte) : String(Unicode.Scalar(byte))
                if line + piece.count > 75 { out += "=\r\n"; line = 0 }
                out += piece
                line += piece.count
            }
            return out
        // JavaScript's escape(): Latin-1 as %XX, the rest as %uXXXX (surrogate pairs beyond U+FFFF).
        case "js_escape", "iis_u":
            let keep = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@*_+-./".unicodeScalars)
            var out = ""
            for c in text.unicodeScalars {
                if keep.contains(c) && !(style == "iis_u" && !c.properties.isAlphabetic && !("0"..."9").contains(c)) {
                    out.unicodeScalars.append(c)
                } else if c.value < 0x100 && style == "js_escape" {
                    out += "%" + String(format: "%02X", c.value)
                } else if c.value > 0xFFFF {
                    let v = c.value - 0x10000
                    out += String(format: "%%u%04X%%u%04X", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))
                } else {
                    out += String(format: "%%u%04X", c.value)
                }
            }
            return out
        // CSS.escape: `\` and the hex code point and a space for what is not a letter or digit.
        case "css":
            return text.unicodeScalars.map { c -> String in
                c.properties.isAlphabetic || ("0"..."9").contains(c) ? String(c) : "\\" + String(c.value, radix: 16) + " "
            }.joined()
        case "csv": return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        case "sql": return "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
        case "nfd": return text.decomposedStringWithCanonicalMapping
        case "upper": return text.uppercased()
        case "lower": return text.lowercased()
        case "trimmed": return text.trimmingCharacters(in: .whitespacesAndNewlines)
        case "no_whitespace": return String(text.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init))
        case "lines_as_spaces": return text.replacingOccurrences(of: "\n", with: " ")
        default: return text
        }
    }

    static func jsonEscaped(_ text: String, escape: (Unicode.Scalar) -> Bool, uppercase: Bool, slash: Bool) -> String {
        var out = ""
        func unit(_ value: UInt32) {
            let hex = String(value, radix: 16, uppercase: uppercase)
            out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
        }
        for c in text.unicodeScalars {
            if c == "/" && slash { out += "\\/"; continue }
            if c == "\"" && !escape(c) { out += "\\\""; continue }
            if c == "\\" && !escape(c) { out += "\\\\"; continue }
            if c.value < 0x20 || escape(c) {
                if c.value > 0xFFFF {
                    let v = c.value - 0x10000
                    unit(0xD800 + (v >> 10))
                    unit(0xDC00 + (v & 0x3FF))
                } else {
                    unit(c.value)
                }
                continue
            }
            out.unicodeScalars.append(c)
        }
        return out
    }

    static func percent(_ text: String, keep: Set<UInt8>, uppercase: Bool, plus: Bool) -> String {
        var out = ""
        for byte in text.utf8 {
            if plus && byte == UInt8(ascii: " ") { out += "+"; continue }
            if keep.contains(byte) { out.unicodeScalars.append(Unicode.Scalar(byte)); continue }
            let hex = String(byte, radix: 16, uppercase: uppercase)
            out += "%" + (hex.count == 1 ? "0" : "") + hex
        }
        return out
    }
}
