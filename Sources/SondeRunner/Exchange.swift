import Foundation
import SondeCore

/// A response with what checks and captures read from it, each computed once.
final class Exchange {
    let response: HTTPResponse
    /// The URL that answered, after redirects, and the redirects followed.
    let url: String
    let redirects: [RedirectHop]
    /// The header fields of the redirect responses before this one, in order.
    let redirectHeaders: [[(name: String, value: String)]]
    /// The `charset` of the response's Content-Type; none for JSON, which is UTF-8 whatever
    /// the label says (RFC 8259 §8.1 and §11: "adding one really has no effect").
    lazy var charset: String? = {
        let contentTypes = response.headers.filter { $0.name.equalsIgnoringASCIICase("Content-Type") }.map(\.value)
        guard let last = contentTypes.last else { return nil }
        let mediaType = TextDecoding.mediaType(of: last).lowercased()
        guard mediaType != "application/json", !mediaType.hasSuffix("+json") else { return nil }
        return TextDecoding.charset(ofContentTypes: contentTypes)
    }()
    /// The body as text, decoded with its charset (`TextDecoding`), as checks read it; fails
    /// for a charset this system cannot decode.
    lazy var decodedText: Result<String, TextDecoding.UnknownCharset> = Result { () throws(TextDecoding.UnknownCharset) -> String in
        try TextDecoding.decode(response.body, charset: charset)
    }
    /// The body as text for people: decoded, or read as UTF-8 when its charset is unknown.
    var text: String {
        if case .success(let text) = decodedText { return text }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// The body as -vv and failure excerpts show it: its text, or for a binary body a summary
    /// (`<binary body, 4,213 bytes, image/png>`), never the bytes.
    var displayText: String {
        let contentType = header("Content-Type")
        return BodySummary.isBinary(response.body, contentType: contentType) ? BodySummary.binary(response.body.count, contentType: contentType) : text
    }
    var json: Result<JSONValue, JSONParseError> {
        if let parsedJSON { return parsedJSON }
        let parsed: Result<JSONValue, JSONParseError>
        switch Result(catching: { () throws(TextDecoding.UnknownCharset) in try TextDecoding.utf8Bytes(response.body, charset: charset) }) {
        case .success(let bytes): parsed = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(bytes) }
        case .failure(let error): parsed = .failure(JSONParseError(message: error.message, offset: 0, line: 1, column: 1))
        }
        parsedJSON = parsed
        return parsed
    }

    /// Where the body's JSON shape can be worked out later: the document if the checks
    /// parsed it already, else the body, if it looks like JSON.
    func shapeSource(_ redactor: Redactor) -> ShapeSource? {
        guard let first = response.body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[")
        else { return nil }
        if let parsed = parsedJSON {
            guard case .success(let document) = parsed else { return nil }
            return .document(document, redactor)
        }
        return .body(response.body, redactor)
    }

    /// The parsed body, if something asked for it already.
    private(set) var parsedJSON: Result<JSONValue, JSONParseError>?

    init(response: HTTPResponse, url: String = "", redirects: [RedirectHop] = [], redirectHeaders: [[(name: String, value: String)]] = []) {
        self.response = response
        self.url = url
        self.redirects = redirects
        self.redirectHeaders = redirectHeaders
    }

    /// The total time in milliseconds, to a tenth, as captures and expectations see it.
    var durationMilliseconds: Double { (response.timings.total.inSeconds * 10_000).rounded() / 10 }

    var jsonError: String {
        if case .failure(let error) = json {
            if case .failure(let charsetError) = decodedText, error.message == charsetError.message { return charsetError.message }
            return "the body is not JSON: \(error.message) (line \(error.line), column \(error.column))"
        }
        return ""
    }

    /// Every field line of a header, in order.
    func headerLines(_ name: String) -> [String] {
        response.headers.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
    }

    /// The fields of the last `Set-Cookie` of the cookie `name` (split at `;`), looked for
    /// as `cookie(_:)` does; nil when no response sets it.
    func setCookieFields(_ name: String) -> [Substring]? {
        for headers in [response.headers] + redirectHeaders.reversed() {
            var found: [Substring]?
            for header in headers where header.name.equalsIgnoringASCIICase("Set-Cookie") {
                let fields = header.value.split(separator: ";", omittingEmptySubsequences: false)
                let pair = fields.first ?? ""
                guard let equals = pair.firstIndex(of: "="), pair[..<equals].trimmingCharacters(in: .whitespaces) == name else { continue }
                found = fields
            }
            if let found { return found }
        }
        return nil
    }

    /// A cookie's value or attribute as `Set-Cookie` writes it (RFC 6265 §5.2): Secure and
    /// HttpOnly as booleans, Max-Age as a number when it is one, the rest as text; nil
    /// when the cookie is not set, or (for Expires, Max-Age, Domain, Path, SameSite) has no
    /// such attribute.
    func cookieAttribute(_ name: String, _ attribute: CookieAttribute) -> Operand? {
        guard let fields = setCookieFields(name) else { return nil }
        if attribute == .value {
            let pair = fields[0]
            guard let equals = pair.firstIndex(of: "=") else { return nil }
            return .text(pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces))
        }
        var found: Operand?
        for field in fields.dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0].trimmingCharacters(in: .whitespaces)
            guard key.equalsIgnoringASCIICase(attribute.rawValue) else { continue }
            let value = parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : ""
            switch attribute {
            case .secure, .httpOnly: found = .json(.bool(true))
            case .maxAge: found = Int(value).map { .json(.int($0)) } ?? .text(value)
            default: found = .text(value)  // the last of a name wins (RFC 6265 §5.3 step 11)
            }
        }
        if found == nil, attribute == .secure || attribute == .httpOnly { return .json(.bool(false)) }
        return found
    }

    /// A cookie of the jar after the response, or one of its attributes (Expires as an RFC
    /// 3339 date, nothing for a session cookie); of several of one name, the one for the
    /// host the request ended at, else the last listed.
    func jarCookie(_ name: String, _ attribute: CookieAttribute) -> Operand? {
        // An expired cookie (one a response deleted with Max-Age=0) is gone, whatever libcurl still lists.
        let now = Int(Date().timeIntervalSince1970)
        let named = (response.cookieJar ?? []).filter { $0.name == name && ($0.expires.map { $0 > now } ?? true) }
        let host = RequestURL.host(of: url) ?? ""
        guard let cookie = named.last(where: { $0.domain == host }) ?? named.last else { return nil }
        switch attribute {
        case .value: return .text(cookie.value)
        case .domain: return .text(cookie.domain)
        case .path: return .text(cookie.path)
        case .secure: return .json(.bool(cookie.secure))
        case .httpOnly: return .json(.bool(cookie.httpOnly))
        case .expires: return cookie.expires.map { .text(DateText.rfc3339(Date(timeIntervalSince1970: Double($0)))) }
        case .maxAge, .sameSite: return nil
        }
    }

    /// The response's HTTP version: `1.0`, `1.1`, `2` or `3`.
    var version: String { response.httpVersion }

    /// Whether the body's text holds a secret the redactor knows: searched once for each
    /// number of secrets known (several XPath and digest checks read one body).
    func holdsSecret(_ redactor: Redactor) -> Bool {
        guard !redactor.isEmpty else { return false }
        if let known = secretSearch, known.secrets == redactor.count { return known.holds }
        let body = text
        let holds = redactor.redact(body) != body
        secretSearch = (redactor.count, holds)
        return holds
    }
    private var secretSearch: (secrets: Int, holds: Bool)?

    /// The SHA-256 or MD5 of the body's bytes, lowercase hex.
    func digest(_ kind: BodyDigest) -> String {
        kind == .sha256 ? Digest.sha256(response.body) : Digest.md5(response.body)
    }

    /// An XPath expression on the body: read as HTML when its Content-Type says HTML, else as XML.
    func xpath(_ expression: String) -> Result<XPathQuery.Value, XPathQuery.Failure> {
        let type = header("Content-Type").map { TextDecoding.mediaType(of: $0).lowercased() } ?? ""
        return XPathQuery.evaluate(expression, in: response.body, html: type == "text/html")
    }

    /// A header's value; several headers of one name are joined with ", " as RFC 9110 allows.
    func header(_ name: String) -> String? {
        let values = response.headers.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// What the response says of the cookie `name`: the value its Set-Cookie gives (RFC 6265
    /// §5.2: the text up to the first `;`, split at the first `=`, both sides trimmed; `""`
    /// for `name=`), or that it deletes it (Max-Age of zero or less, or an Expires in the
    /// past). The last Set-Cookie of the name wins, as in a cookie jar; the final response
    /// first, then each redirect response before it, from the last (a login that answers
    /// 302 with the session cookie).
    func cookie(_ name: String) -> CookieFinding {
        guard let fields = setCookieFields(name) else { return .absent }
        let pair = fields[0]
        let value = pair.firstIndex(of: "=").map { pair[pair.index(after: $0)...].trimmingCharacters(in: .whitespaces) } ?? ""
        return Self.deletes(fields.dropFirst()).map(CookieFinding.deleted) ?? .value(value)
    }

    enum CookieFinding {
        case value(String)
        /// The attribute that deletes it (`Max-Age=0`).
        case deleted(String)
        case absent
    }

    /// The attribute that makes a Set-Cookie a deletion (RFC 6265 §5.2.1, §5.2.2), if one does.
    static func deletes(_ attributes: ArraySlice<Substring>) -> String? {
        for attribute in attributes {
            let parts = attribute.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2 else { continue }
            if parts[0].equalsIgnoringASCIICase("Max-Age"), let seconds = Int(parts[1]), seconds <= 0 { return "Max-Age=\(parts[1])" }
            if parts[0].equalsIgnoringASCIICase("Expires"), let date = HTTPDate.parse(parts[1]), date < Date() { return "Expires=\(parts[1])" }
        }
        return nil
    }

    enum CaptureOutcome {
        case success(Operand)
        case failure(String)
    }

    func capture(_ capture: Capture) -> CaptureOutcome {
        switch capture.source {
        case .status: return .success(.json(.int(response.status)))
        case .duration: return .success(.json(.double(durationMilliseconds)))
        case .header(let name):
            return header(name).map { .success(.text($0)) } ?? .failure("no header '\(name)' in the response")
        case .cookie(let name):
            switch cookie(name) {
            case .value(let value): return .success(.text(value))
            case .deleted(let attribute): return .failure("the response deletes the cookie '\(name)' (\(attribute))")
            case .absent:
                let where_ = redirects.isEmpty ? "the response sets" : "neither the response nor its \(redirects.count) redirect\(redirects.count == 1 ? "" : "s") set"
                return .failure("\(where_) no cookie '\(name)'")
            }
        case .url: return .success(.text(url))
        case .version: return .success(.text(version))
        case .ip: return response.ip.map { .success(.text($0)) } ?? .failure("the transport does not say which address it connected to")
        case .certificate(let field):
            guard let value = response.certificate?[field.rawValue] else { return .failure("no server certificate (\(field.rawValue)): the request was not made over TLS") }
            return .success(.text(value))
        case .digest(let kind): return .success(.text(digest(kind)))
        case .cookieAttribute(let name, let attribute):
            guard setCookieFields(name) != nil else { return .failure("the response sets no cookie '\(name)'") }
            return cookieAttribute(name, attribute).map(CaptureOutcome.success) ?? .failure("the cookie '\(name)' has no \(attribute.rawValue) attribute")
        case .xpath(let expression):
            switch xpath(expression) {
            case .failure(let error): return .failure(error.message)
            case .success(.nodes([])): return .failure("\(expression) selected nothing")
            case .success(let value): return .success(.json(value.json))
            }
        case .regex(let pattern, let group):
            let body: String
            switch decodedText {
            case .success(let text): body = text
            case .failure(let error): return .failure(error.message)
            }
            let groups: [Range<String.Index>?]?
            do {
                groups = try RegexCache.shared.regex(pattern).get().firstMatch(in: body)
            } catch {
                return .failure("/\(pattern)/ could not be applied: \(error.message)")
            }
            guard let groups else { return .failure("/\(pattern)/ does not match the body") }
            guard group < groups.count, let range = groups[group] else { return .failure("/\(pattern)/ matches, but its group \(group) took no part") }
            return .success(.text(String(body[range])))
        case .jsonpath(let path):
            guard case .success(let document) = json else { return .failure(jsonError) }
            let values: [JSONValue]
            do {
                values = try path.values(in: document)
            } catch {
                return .failure("\(path.text): \(error.message)")
            }
            if path.isSingular {
                return values.first.map { .success(.json($0)) } ?? .failure("\(path.text) selected nothing")
            }
            return .success(.json(.array(values)))
        }
    }
}

/// How bodies that are not text are shown.
enum BodySummary {
    /// Media types whose bodies are text, whatever bytes they hold.
    static func isTextual(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let type = TextDecoding.mediaType(of: contentType).lowercased()
        return type.hasPrefix("text/") || type.hasSuffix("+json") || type.hasSuffix("+xml") || type.hasSuffix("/json") || type.hasSuffix("/xml")
            || ["application/javascript", "application/x-www-form-urlencoded", "application/yaml", "application/x-yaml", "application/graphql"].contains(type)
    }

    /// A body that is not of a textual media type and holds a NUL byte or is not UTF-8.
    /// A textual one is text in its charset (UTF-16 holds NUL bytes), shown decoded and escaped.
    static func isBinary(_ bytes: [UInt8], contentType: String?) -> Bool {
        if isTextual(contentType) { return false }
        if bytes.contains(0) { return true }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return false
            case .error: return true
            }
        }
    }

    /// `<binary body, 4,213 bytes, image/png>`.
    static func binary(_ count: Int, contentType: String?) -> String {
        let type = contentType.map { ", " + TextDecoding.mediaType(of: $0) } ?? ""
        return "<binary body, \(grouped(count)) bytes\(type)>"
    }

    /// 4213 as `4,213`.
    static func grouped(_ number: Int) -> String {
        let digits = Array(String(number))
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { out += "," }
            out.append(digit)
        }
        return out
    }
}

/// A context that reads as `base` does and learns no secret: for values computed from a
/// secret that are checked, never shown nor sent (`expect.vars`).
struct SecretsUnnoted<Base: TemplateContext>: TemplateContext {
    let base: Base
    init(_ base: Base) { self.base = base }
    func variable(_ name: String) throws(TemplateError) -> JSONValue? { try base.variable(name) }
    func environment(_ name: String) -> String? { base.environment(name) }
    func isText(_ name: String) -> Bool { base.isText(name) }
    func isSecret(_ name: String) -> Bool { base.isSecret(name) }
    func noteSecret(_ value: JSONValue) {}
    func isCaptured(_ name: String) -> Bool { base.isCaptured(name) }
    var sources: TemplateSources { base.sources }
}
