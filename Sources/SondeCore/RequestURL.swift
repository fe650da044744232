/// How a request's URL is built from `base_url` and `url`, and made safe to send.
///
/// The rules (`docs/collections.md`, "URLs"):
/// - An absolute `url` (`scheme://…`) ignores `base_url`.
/// - Any other `url` is a path under `base_url`, joined with exactly one slash: `https://h/v2`
///   + `pods`, `https://h/v2/` + `/pods` and `https://h/v2/` + `//pods` all give
///   `https://h/v2/pods`. A `url` that starts with `?`
///   or `#` is appended as it is. A query in `base_url` is kept, after the url's own.
/// - Characters a URL cannot carry as they are (a space, a quote, `<`, `>`, non-ASCII) are
///   percent-encoded as UTF-8 the way the WHATWG URL standard's percent-encode sets say for
///   each part (path, query, fragment); `%` and everything else is left as written.
public enum RequestURL {
    /// `reference` resolved against `base` as above; `base` nil leaves `reference` as it is.
    public static func join(base: String?, _ reference: String) -> String {
        guard let base, !base.isEmpty, scheme(of: reference) == nil else { return reference }
        if reference.isEmpty { return base }
        if reference.hasPrefix("?") || reference.hasPrefix("#") { return base + reference }
        // The base's path, and its query (a fragment means nothing to a server).
        var basePath = Substring(base)
        var baseQuery: Substring?
        if let mark = basePath.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            if basePath[mark] == "?" {
                let rest = basePath[basePath.index(after: mark)...]
                baseQuery = rest.prefix { $0 != "#" }
            }
            basePath = basePath[..<mark]
        }
        while basePath.hasSuffix("/") { basePath = basePath.dropLast() }
        var path = Substring(reference)
        while path.hasPrefix("/") { path = path.dropFirst() }
        var joined = basePath + "/" + path
        if let baseQuery, !baseQuery.isEmpty {
            if let hash = joined.firstIndex(of: "#") {
                let fragment = joined[hash...]
                let head = joined[..<hash]
                joined = head + (head.contains("?") ? "&" : "?") + baseQuery + fragment
            } else {
                joined += (joined.contains("?") ? "&" : "?") + baseQuery
            }
        }
        return String(joined)
    }

    /// The scheme of an absolute URL (`https` in `https://h/`), lowercased; nil for anything else.
    public static func scheme(of url: String) -> String? {
        guard let separator = url.range(of: "://") else { return nil }
        let scheme = url[..<separator.lowerBound]
        guard let first = scheme.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic,
            scheme.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) })
        else { return nil }
        return scheme.lowercased()
    }

    /// The origin (RFC 6454): scheme, host and port, lowercased, with the scheme's default port
    /// made explicit; nil for a URL that is not absolute.
    public static func origin(of url: String) -> String? {
        guard let scheme = scheme(of: url), let separator = url.range(of: "://") else { return nil }
        var authority = url[separator.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority
        var port: Substring?
        if let colon = authority.lastIndex(of: ":"), !authority[colon...].contains("]") {
            host = authority[..<colon]
            port = authority[authority.index(after: colon)...]
        }
        let defaultPort = scheme == "https" ? "443" : scheme == "http" ? "80" : ""
        let effectivePort = port.flatMap { $0.isEmpty ? nil : String($0) } ?? defaultPort
        return "\(scheme)://\(host.lowercased()):\(effectivePort)"
    }

    /// The URL with what cannot be sent as written percent-encoded, part by part.
    public static func encode(_ url: String) -> String {
        guard url.utf8.contains(where: needsLook) else { return url }
        var out = ""
        var part = Part.path
        var bytes = Array(url.utf8)[...]
        // The scheme and authority are left alone: a host is not percent-encoded.
        if let separator = url.range(of: "://") {
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
            || byte == UInt8(ascii: "`") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "'")
    }

    private static func hex(_ nibble: UInt8) -> String {
        String(UnicodeScalar(nibble < 10 ? nibble + 48 : nibble + 55))
    }
}
