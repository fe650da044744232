import Foundation

/// How a request's URL is built from `base_url` and `url`, and made safe to send.
///
/// The rules (`docs/collections.md`, "URLs"):
/// - An absolute `url` (`scheme://…`) ignores `base_url`.
/// - Any other `url` is a path under `base_url`, joined with exactly one slash: `https://h/v2`
///   + `pods`, `https://h/v2/` + `/pods` and `https://h/v2/` + `//pods` all give
///   `https://h/v2/pods`; a url of only `?query` or `#fragment` adds to `base_url`'s path.
/// - Queries join with `&`, the url's first, then `base_url`'s (an API key, say); the
///   fragment is the url's.
/// - Characters a URL cannot carry as they are (a space, a quote, `<`, `>`, non-ASCII) are
///   percent-encoded as UTF-8 the way the WHATWG URL standard's percent-encode sets say for
///   each part (path, query, fragment); `%` and everything else is left as written.
public enum RequestURL {
    /// `reference` resolved against `base` as above; `base` nil leaves `reference` as it is.
    public static func join(base: String?, _ reference: String) -> String {
        guard let base, !base.isEmpty, scheme(of: reference) == nil else { return reference }
        let b = parts(base), r = parts(reference)
        var path = b.path
        if !r.path.isEmpty {
            while path.hasSuffix("/") || path.hasSuffix("\\") { path = path.dropLast() }
            var tail = r.path
            // A backslash is a slash in an http(s) path (see `encode`): one slash still joins.
            while tail.hasPrefix("/") || tail.hasPrefix("\\") { tail = tail.dropFirst() }
            path = path + "/" + tail
        }
        // The url's own query first, then the base's (an API key, say); the base's fragment is dropped.
        let queries = [r.query, b.query].compactMap { $0 }.filter { !$0.isEmpty }
        var out = String(path)
        if !queries.isEmpty { out += "?" + queries.joined(separator: "&") }
        if let fragment = r.fragment { out += "#" + fragment }
        return out
    }

    /// A URL's text before `?`, between `?` and `#`, and after `#`.
    /// Found in the UTF-8, as every delimiter here: a URL is bytes, and walking it by
    /// `Character` cost more than sending the request.
    static func parts(_ url: String) -> (path: Substring, query: Substring?, fragment: Substring?) {
        var rest = Substring(url)
        var fragment: Substring?
        if let hash = rest.utf8.firstIndex(of: UInt8(ascii: "#")) {
            fragment = rest[rest.utf8.index(after: hash)...]
            rest = rest[..<hash]
        }
        var query: Substring?
        if let mark = rest.utf8.firstIndex(of: UInt8(ascii: "?")) {
            query = rest[rest.utf8.index(after: mark)...]
            rest = rest[..<mark]
        }
        return (rest, query, fragment)
    }

    /// The authority of an absolute URL: what stands between `://` and the first `/`, `?` or `#`.
    static func authority(of url: String, after separator: Range<String.Index>) -> Substring {
        let rest = url[separator.upperBound...]
        let end = rest.utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        return rest[..<end]
    }

    /// The host and port of an authority (`user@host:port`), without the userinfo; the port
    /// nil without a colon after the host (an IPv6 literal's colons are inside `[…]`).
    static func hostAndPort(_ authority: Substring) -> (host: Substring, port: Substring?) {
        var authority = authority
        if let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) { authority = authority[authority.utf8.index(after: at)...] }
        guard let colon = authority.utf8.lastIndex(of: UInt8(ascii: ":")), !authority.utf8[colon...].contains(UInt8(ascii: "]")) else {
            return (authority, nil)
        }
        return (authority[..<colon], authority[authority.utf8.index(after: colon)...])
    }

    /// The scheme of an absolute URL (`https` in `https://h/`), lowercased; nil for anything else.
    public static func scheme(of url: String) -> String? {
        guard let separator = url.firstRange(ofExactly: "://") else { return nil }
        let scheme = url[..<separator.lowerBound]
        guard isScheme(scheme) else { return nil }
        return scheme.lowercased()
    }

    /// Whether `text` is a URI scheme (RFC 3986 §3.1): a letter, then letters, digits, `+`,
    /// `-` and `.`.
    public static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) }
    }

    /// The scheme a reference starts with (RFC 3986 §3.1: a letter, then letters, digits,
    /// `+`, `-`, `.`, then `:`), lowercased, with or without `//` after it; nil otherwise.
    public static func referenceScheme(of reference: String) -> String? {
        guard let colon = reference.utf8.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let scheme = reference[..<colon]
        guard let first = scheme.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic,
            scheme.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "+-.".unicodeScalars.contains($0)) })
        else { return nil }
        return scheme.lowercased()
    }

    /// The URL with its query's `name=value` pairs in byte order of name, then value (as AWS
    /// SigV4's canonical query string orders them); the fragment kept.
    public static func sortingQuery(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        let rest = url[url.index(after: question)...]
        let hash = rest.firstIndex(of: "#") ?? rest.endIndex
        let pairs = rest[..<hash].split(separator: "&", omittingEmptySubsequences: true).sorted { a, b in
            let (an, av) = a.firstIndex(of: "=").map { (a[..<$0], a[$0...]) } ?? (a[...], "")
            let (bn, bv) = b.firstIndex(of: "=").map { (b[..<$0], b[$0...]) } ?? (b[...], "")
            return an.utf8.lexicographicallyPrecedes(bn.utf8) || (an.utf8.elementsEqual(bn.utf8) && av.utf8.lexicographicallyPrecedes(bv.utf8))
        }
        return url[...question] + pairs.joined(separator: "&") + rest[hash...]
    }

    /// The host of an absolute URL, lowercased, without brackets around an IPv6 address; nil
    /// for a URL that is not absolute.
    public static func host(of url: String) -> String? {
        guard scheme(of: url) != nil, let separator = url.firstRange(ofExactly: "://") else { return nil }
        var host = hostAndPort(authority(of: url, after: separator)).host
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        return host.lowercased()
    }

    /// The origin (RFC 6454): scheme, host and port, lowercased, with the scheme's default port
    /// made explicit; nil for a URL that is not absolute.
    public static func origin(of url: String) -> String? {
        guard let scheme = scheme(of: url), let separator = url.firstRange(ofExactly: "://") else { return nil }
        let (host, port) = hostAndPort(authority(of: url, after: separator))
        let defaultPort = scheme == "https" ? "443" : scheme == "http" ? "80" : ""
        let effectivePort = port.flatMap { $0.isEmpty ? nil : String($0) } ?? defaultPort
        return "\(scheme)://\(host.lowercased()):\(effectivePort)"
    }

    /// The URL with its path's `.` and `..` segments resolved (RFC 3986 §5.2.4), as libcurl
    /// and browsers send it: `/v2/api/../../echo` is `/echo`, so that what is shown, recorded
    /// and captured is the URL requested.
    public static func removingDotSegments(_ url: String) -> String {
        guard url.firstRange(ofExactly: "/.") != nil || url.firstRange(ofExactly: "/%2e") != nil || url.firstRange(ofExactly: "/%2E") != nil else { return url }
        var authorityEnd = url.startIndex
        if let separator = url.firstRange(ofExactly: "://") {
            authorityEnd = url[separator.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        }
        let rest = url[authorityEnd...]
        let pathEnd = rest.firstIndex { $0 == "?" || $0 == "#" } ?? rest.endIndex
        let path = rest[..<pathEnd]
        guard path.hasPrefix("/") else { return url }
        var output: [Substring] = []
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            let last = index == segments.count - 1
            // `%2e` is a dot here too, as the WHATWG URL standard reads it.
            switch segment.lowercased() {
            case ".", "%2e":
                if last { output.append("") }
            case "..", ".%2e", "%2e.", "%2e%2e":
                if !output.isEmpty { output.removeLast() }
                if last { output.append("") }
            default:
                output.append(segment)
            }
        }
        return String(url[..<authorityEnd]) + "/" + output.joined(separator: "/") + rest[pathEnd...]
    }

    /// A Location (or any reference) resolved against the URL that sent it, as browsers
    /// resolve it (RFC 3986 §5.2, with the WHATWG URL standard's reading of http and https):
    /// tabs and line breaks dropped, backslashes before the query read as slashes, `http:/x`
    /// and `http:x` relative when the base is http too, `//host/x` on the base's scheme,
    /// `#f` on the base's URL; then dot segments resolved and what must be encoded encoded.
    public static func resolve(_ location: String, against base: String) -> String {
        var reference = String(String.UnicodeScalarView(location.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }))
        reference = reference.trimmingCharacters(in: CharacterSet(charactersIn: " ").union(.controlCharacters))
        let queryStart = reference.firstIndex { $0 == "?" || $0 == "#" } ?? reference.endIndex
        reference = String(reference[..<queryStart].replacingOccurrences(of: "\\", with: "/") + reference[queryStart...])
        let baseScheme = scheme(of: base) ?? "http"
        // `http:x`, `http:/x`: the base's own scheme without `//` is a relative reference.
        if let colon = reference.firstIndex(of: ":"), reference[..<colon].lowercased() == baseScheme,
            !reference[reference.index(after: colon)...].hasPrefix("//")
        {
            reference = String(reference[reference.index(after: colon)...])
        }
        let resolved: String
        if scheme(of: reference) != nil || referenceScheme(of: reference) != nil {
            // Absolute: `https://…`, and any other scheme (`file:/etc/passwd`, `data:`,
            // `javascript:`), which the check of schemes then refuses.
            resolved = reference
        } else if reference.hasPrefix("//") {
            resolved = baseScheme + ":" + reference
        } else {
            let b = parts(base)
            let authorityEnd: String.Index = {
                guard let separator = base.firstRange(ofExactly: "://") else { return base.startIndex }
                return base[separator.upperBound...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? base.endIndex
            }()
            let origin = String(base[..<authorityEnd])
            let basePath = b.path[authorityEnd...]
            let r = parts(reference)
            var path: String
            var query = r.query
            if r.path.isEmpty {
                path = String(basePath)
                if query == nil { query = b.query }
            } else if r.path.hasPrefix("/") {
                path = String(r.path)
            } else {
                let directory = basePath.lastIndex(of: "/").map { String(basePath[...$0]) } ?? "/"
                path = directory + r.path
            }
            if path.isEmpty { path = "/" }
            resolved = origin + path + (query.map { "?" + $0 } ?? "") + (r.fragment.map { "#" + $0 } ?? "")
        }
        return removingDotSegments(encode(resolved))
    }

    /// The user name and password of a URL's userinfo (`https://user:pass@host/`),
    /// percent-decoded as libcurl decodes them for Basic authentication; nil without a password.
    public static func credentials(of url: String) -> (user: String, password: String)? {
        guard let separator = url.firstRange(ofExactly: "://") else { return nil }
        let authority = authority(of: url, after: separator)
        guard let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")) else { return nil }
        let userinfo = authority[..<at]
        guard let colon = userinfo.firstIndex(of: ":") else { return nil }
        let user = String(userinfo[..<colon]), password = String(userinfo[userinfo.index(after: colon)...])
        return (user.removingPercentEncoding ?? user, password.removingPercentEncoding ?? password)
    }

    /// The texts a URL's credentials travel as, all secrets: the password and `user:password`,
    /// as written (percent-encoded) and decoded, and the base64 of the pair libcurl sends
    /// (Basic authentication, `Proxy-Authorization`). Empty without a password.
    public static func credentialSecrets(of url: String) -> [String] {
        guard let (user, password) = credentials(of: url), !password.isEmpty else { return [] }
        var out = [password, "\(user):\(password)", Data("\(user):\(password)".utf8).base64EncodedString()]
        if let separator = url.firstRange(ofExactly: "://") {
            let authority = authority(of: url, after: separator)
            let userinfo = authority.lastIndex(of: "@").map { String(authority[..<$0]) } ?? ""
            if userinfo != "\(user):\(password)", let colon = userinfo.firstIndex(of: ":") {
                out += [String(userinfo[userinfo.index(after: colon)...]), userinfo]
            }
        }
        return out
    }

    /// The URL with the password of its userinfo (`https://user:pass@host/`) replaced by the
    /// redactor's mask, for messages and the request line of a URL that could not be rendered.
    public static func maskingPassword(_ url: String) -> String {
        guard let separator = url.firstRange(ofExactly: "://") else { return url }
        let authority = authority(of: url, after: separator)
        guard let at = authority.utf8.lastIndex(of: UInt8(ascii: "@")), let colon = authority[..<at].utf8.firstIndex(of: UInt8(ascii: ":")),
            authority.utf8.index(after: colon) < at
        else { return url }
        return String(url[..<authority.index(after: colon)]) + Redactor.mask + String(url[at...])
    }

    /// Why an absolute URL cannot be sent, or nil: Sonde sends only `http` and `https`
    /// (a URL a server sent must not reach a file or another protocol), to a host without
    /// blanks or controls, on a port from 1 to 65535.
    public static func problem(withAbsolute url: String) -> String? {
        // (`localhost:8080/x` is a host and a port without a scheme, not the scheme `localhost`.)
        if let scheme = referenceScheme(of: url), scheme != "http" && scheme != "https",
            let colon = url.utf8.firstIndex(of: UInt8(ascii: ":")), !(url[url.utf8.index(after: colon)...].first?.isNumber ?? false)
        {
            return "\(JSONValue.quoted(maskingPassword(url))) uses \(scheme):, and only http and https are sent"
        }
        guard let scheme = scheme(of: url), let separator = url.firstRange(ofExactly: "://") else {
            return "\(JSONValue.quoted(maskingPassword(url))) is not an absolute URL (scheme://host/path)"
        }
        guard scheme == "http" || scheme == "https" else {
            return "\(JSONValue.quoted(maskingPassword(url))) uses \(scheme):, and only http and https are sent"
        }
        let (host, port) = hostAndPort(authority(of: url, after: separator))
        if let port, !port.isEmpty {
            guard port.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let number = Int(port), (1...65535).contains(number) else {
                return "\(JSONValue.quoted(maskingPassword(url))) has the port \(JSONValue.quoted(String(port))), which is not a number from 1 to 65535"
            }
        }
        if host.isEmpty { return "\(JSONValue.quoted(maskingPassword(url))) has no host" }
        // An IP literal is `[…]` whole; any other host has no colon (`h:1:2` is two ports).
        let bracketed = host.utf8.first == UInt8(ascii: "[")
        if bracketed ? host.utf8.last != UInt8(ascii: "]") : host.utf8.contains(UInt8(ascii: ":")) {
            return "\(JSONValue.quoted(maskingPassword(url))) has a malformed host or port"
        }
        if host.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return "\(JSONValue.quoted(maskingPassword(url))) has a blank or a control character in its host"
        }
        return nil
    }

    /// The URL with what cannot be sent as written percent-encoded, part by part, and a
    /// backslash in its path read as a slash (`PercentEncoding.encodeURL`).
    public static func encode(_ url: String) -> String { PercentEncoding.encodeURL(url) }
}
