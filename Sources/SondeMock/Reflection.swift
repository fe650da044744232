import Foundation
import SondeCore

/// The ways servers write back what they received: each escaping a real server uses.
public enum Reflection {
    public static let styles = [
        "raw", "json", "json_ascii", "json_all", "json_go", "php", "html", "html_numeric", "html_hex", "percent_upper", "percent_lower",
        "form", "uri", "base64", "pretty", "json_twice", "percent_twice", "html_json", "base64_json",
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
        case "html":
            var out = ""
            for c in text.unicodeScalars {
                switch c {
                case "&": out += "&amp;"
                case "<": out += "&lt;"
                case ">": out += "&gt;"
                case "\"": out += "&quot;"
                case "'": out += "&#x27;"
                default: out.unicodeScalars.append(c)
                }
            }
            return out
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
