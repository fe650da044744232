import Foundation
import SondeCore

/// A response with what checks and captures read from it, each computed once.
final class Exchange {
    let response: HTTPResponse
    /// The URL that answered, after redirects, and the redirects followed.
    let url: String
    let redirects: [RedirectHop]
    /// The `charset` of the response's Content-Type.
    lazy var charset: String? = TextDecoding.charset(ofContentType: header("Content-Type"))
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

    init(response: HTTPResponse, url: String = "", redirects: [RedirectHop] = []) {
        self.response = response
        self.url = url
        self.redirects = redirects
    }

    /// The total time in milliseconds, to a tenth, as captures and expectations see it.
    var durationMilliseconds: Double { (response.timings.total * 10_000).rounded() / 10 }

    var jsonError: String {
        if case .failure(let error) = json {
            if case .failure(let charsetError) = decodedText, error.message == charsetError.message { return charsetError.message }
            return "the body is not JSON: \(error.message) (line \(error.line), column \(error.column))"
        }
        return ""
    }

    /// A header's value; several headers of one name are joined with ", " as RFC 9110 allows.
    func header(_ name: String) -> String? {
        let values = response.headers.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    /// The value of the cookie `name` that the response sets (RFC 6265 §5.2: the text up to
    /// the first `;`, split at the first `=`, both sides trimmed); `""` for `name=`. The last
    /// one wins when a response sets a name twice, as a cookie jar would keep it.
    func cookie(_ name: String) -> String? {
        var found: String?
        for header in response.headers where header.name.equalsIgnoringASCIICase("Set-Cookie") {
            let pair = header.value.prefix { $0 != ";" }
            guard let equals = pair.firstIndex(of: "=") else { continue }
            if pair[..<equals].trimmingCharacters(in: .whitespaces) == name {
                found = pair[pair.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return found
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
            return cookie(name).map { .success(.text($0)) } ?? .failure("the response sets no cookie '\(name)'")
        case .url: return .success(.text(url))
        case .regex(let pattern, let group):
            guard let regex = RegexCache.shared.regex(pattern) else { return .failure("bad regex") }
            let body: String
            switch decodedText {
            case .success(let text): body = text
            case .failure(let error): return .failure(error.message)
            }
            guard let match = regex.firstMatch(in: body, range: NSRange(location: 0, length: body.utf16.count)),
                let range = Range(match.range(at: group), in: body)
            else { return .failure("/\(pattern)/ does not match the body") }
            return .success(.text(String(body[range])))
        case .jsonpath(let path):
            guard case .success(let document) = json else { return .failure(jsonError) }
            let values = path.values(in: document)
            if path.isSingular {
                return values.first.map { .success(.json($0)) } ?? .failure("\(path.text) selected nothing")
            }
            return .success(.json(.array(values)))
        }
    }
}
