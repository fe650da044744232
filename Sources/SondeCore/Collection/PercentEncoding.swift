/// Percent-encoding (RFC 3986 §2.1): of values, for `| urlencode`, query strings and forms,
/// and of request URLs, by the WHATWG URL standard's percent-encode sets.
public enum PercentEncoding {
    /// `name=value&…`, both sides encoded: a query string or an urlencoded form body.
    public static func pairs(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { encode($0.name) + "=" + encode($0.value) }.joined(separator: "&")
    }

    /// Percent-encodes all but RFC 3986's unreserved characters.
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    /// The URL with what cannot be sent as written percent-encoded, part by part, and a
    /// backslash in its path read as a slash.
    public static func encodeURL(_ url: String) -> String {
        guard url.utf8.contains(where: needsLook) else { return url }
        var out = ""
        var part = Part.path
        var bytes = Array(url.utf8)[...]
        // The scheme and authority are left alone: a host is not percent-encoded.
        if let separator = url.firstRange(ofExactly: "://") {
            let authorityStart = url.utf8.distance(from: url.utf8.startIndex, to: separator.upperBound)
            var end = authorityStart
            while end < bytes.count, bytes[end] != UInt8(ascii: "/"), bytes[end] != UInt8(ascii: "?"), bytes[end] != UInt8(ascii: "#") { end += 1 }
            out += String(decoding: bytes[..<end], as: UTF8.self)
            bytes = bytes[end...]
        }
        for byte in bytes {
            if byte == UInt8(ascii: "?") && part == .path {
                part = .query
            } else if byte == UInt8(ascii: "#") && part != .fragment {
                part = .fragment
                out += "#"
                continue
            } else if byte == UInt8(ascii: "\\") && part == .path {
                // The WHATWG URL standard reads a backslash in an http(s) path as a slash, as
                // it does in a Location: the same path, whichever way it was written.
                out += "/"
                continue
            } else if part.encodes(byte) {
                out += "%" + hex(byte >> 4) + hex(byte & 0x0F)
                continue
            }
            out.unicodeScalars.append(Unicode.Scalar(byte))
        }
        return out
    }

    private enum Part {
        case path, query, fragment

        /// The WHATWG URL standard's percent-encode sets: C0 controls, space and non-ASCII
        /// always; then `"` `<` `>` and, by part, `` ` `` `{` `}` (path), `'` (query of a
        /// special scheme), `` ` `` (fragment).
        func encodes(_ byte: UInt8) -> Bool {
            if byte <= 0x20 || byte >= 0x7F { return true }
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"): return true
            case UInt8(ascii: "`"): return self != .query
            case UInt8(ascii: "{"), UInt8(ascii: "}"): return self == .path
            case UInt8(ascii: "'"): return self == .query
            default: return false
            }
        }
    }

    private static func needsLook(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "<") || byte == UInt8(ascii: ">")
            || byte == UInt8(ascii: "\\")
            || byte == UInt8(ascii: "`") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "'")
    }

    private static func hex(_ nibble: UInt8) -> String {
        String(UnicodeScalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}
