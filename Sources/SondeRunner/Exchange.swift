import Foundation
import SondeCore

/// A response with what checks and captures read from it, each computed once.
final class Exchange {
    let response: HTTPResponse
    lazy var text: String = String(decoding: response.body, as: UTF8.self)
    var json: Result<JSONValue, JSONParseError> {
        if let parsedJSON { return parsedJSON }
        let parsed = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(response.body) }
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

    init(response: HTTPResponse) {
        self.response = response
    }

    /// The total time in milliseconds, to a tenth, as captures and expectations see it.
    var durationMilliseconds: Double { (response.timings.total * 10_000).rounded() / 10 }

    var jsonError: String {
        if case .failure(let error) = json { return "the body is not JSON: \(error.message) (line \(error.line), column \(error.column))" }
        return ""
    }

    /// A header's value; several headers of one name are joined with ", " as RFC 9110 allows.
    func header(_ name: String) -> String? {
        let values = response.headers.filter { $0.name.equalsIgnoringASCIICase(name) }.map(\.value)
        return values.isEmpty ? nil : values.joined(separator: ", ")
    }

    func cookie(_ name: String) -> String? {
        for header in response.headers where header.name.equalsIgnoringASCIICase("Set-Cookie") {
            let pair = header.value.split(separator: ";", maxSplits: 1).first ?? ""
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == name { return String(parts[1]) }
        }
        return nil
    }

    enum CaptureOutcome {
        case success(JSONValue)
        case failure(String)
    }

    func capture(_ capture: Capture) -> CaptureOutcome {
        switch capture.source {
        case .status: return .success(.int(response.status))
        case .duration: return .success(.double(durationMilliseconds))
        case .header(let name):
            return header(name).map { .success(.string($0)) } ?? .failure("no header '\(name)' in the response")
        case .cookie(let name):
            return cookie(name).map { .success(.string($0)) } ?? .failure("the response sets no cookie '\(name)'")
        case .regex(let pattern, let group):
            guard let regex = RegexCache.shared.regex(pattern) else { return .failure("bad regex") }
            let body = text
            guard let match = regex.firstMatch(in: body, range: NSRange(location: 0, length: body.utf16.count)),
                let range = Range(match.range(at: group), in: body)
            else { return .failure("/\(pattern)/ does not match the body") }
            return .success(.string(String(body[range])))
        case .jsonpath(let path):
            guard case .success(let document) = json else { return .failure(jsonError) }
            let values = path.values(in: document)
            if path.isSingular {
                return values.first.map(CaptureOutcome.success) ?? .failure("\(path.text) selected nothing")
            }
            return .success(.array(values))
        }
    }
}
