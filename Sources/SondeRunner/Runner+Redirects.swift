import Foundation
import SondeCore

/// A request sent, with the redirects followed to get its final response.
struct Transfer {
    var response: HTTPResponse
    /// The URL that gave `response`.
    var finalURL: String
    var redirects: [RedirectHop]
    /// The header fields the first request went out with: as the transport read them back
    /// (with -v), else as rendered.
    var sentHeaders: [(name: String, value: String)]
    var sentBody: [UInt8]?
    /// With -v: the header fields each redirect's request went out with, one list a hop.
    var hopHeaders: [[(name: String, value: String)]] = []
    /// The header fields of each redirect response, in order (their Set-Cookie lines, say).
    var hopResponseHeaders: [[(name: String, value: String)]] = []
}

extension Runner {
    /// The statuses whose Location is followed (RFC 9110 §15.4: 301, 302, 303, 307, 308).
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Header fields that describe a body: dropped with the body when a redirect turns the request into a GET.
    static let bodyHeaders = ["Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Content-Location"]

    /// Header fields that carry credentials: not sent to another origin unless `location_trusted`.
    static let credentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie"]

    /// Header fields that name the origin they were written for: never sent to another (as curl).
    static let originHeaders = ["Host"]

    /// Sends `http` and follows its redirects as browsers and curl's command line do (RFC 9110
    /// §15.4, the Fetch standard's HTTP-redirect fetch):
    /// - 303 turns any method but HEAD into a GET without a body; 301 and 302 turn a POST into
    ///   a GET without a body; 307 and 308 keep the method and the body.
    /// - Only `http` and `https` locations are followed; at most `request.maxRedirects`, then
    ///   the request is an error that shows the chain.
    /// - Authorization, Proxy-Authorization and Cookie headers the request set, and every
    ///   header whose value holds a secret, go to another origin only with `location_trusted`. The cookies servers set along the chain are in
    ///   the transport's cookie jar, which sends them where their Domain allows.
    ///
    /// `timeout` covers the whole chain: each hop has what is left of it.
    func transfer(_ http: HTTPRequest, for request: RequestSpec, whileWaiting: () -> Void) throws -> Transfer {
        var current = http
        let deadline = http.timeoutSeconds.map { Date().addingTimeInterval($0) }
        var response = try transport.send(current, whileWaiting: whileWaiting)
        var transfer = Transfer(
            response: response, finalURL: http.url, redirects: [], sentHeaders: response.sentHeaders ?? http.headers,
            sentBody: response.sentBody ?? http.body?.bytes)
        var elapsed = 0.0
        let origin = RequestURL.origin(of: http.url)
        while request.followRedirects, Self.redirectStatuses.contains(response.status), let target = response.redirectURL {
            // As browsers read a Location: backslashes as slashes, blanks and non-ASCII encoded.
            let location = RequestURL.removingDotSegments(RequestURL.encode(Self.slashes(target)))
            let hop = RedirectHop(url: current.url, status: response.status, location: location)
            guard transfer.redirects.count < request.maxRedirects else {
                let limit = request.maxRedirects == 1 ? "more than 1 redirect" : "more than \(request.maxRedirects) redirects"
                throw RunnerError("\(limit) (max_redirects): \(Self.chain(transfer.redirects + [hop]))")
            }
            if let problem = RequestURL.problem(withAbsolute: location) {
                throw RunnerError("a redirect was not followed: \(problem) (\(Self.chain(transfer.redirects + [hop])))")
            }
            transfer.redirects.append(hop)
            transfer.hopResponseHeaders.append(response.headers)
            let turnsIntoGet = (response.status == 303 && current.method != "HEAD") || ([301, 302].contains(response.status) && current.method == "POST")
            if turnsIntoGet {
                current.method = "GET"
                current.body = nil
                current.headers.removeAll { header in Self.bodyHeaders.contains { header.name.equalsIgnoringASCIICase($0) } }
            }
            if RequestURL.origin(of: location) != origin {
                // Credentials, and any header whose value holds a secret, stay with their origin.
                let dropped = request.locationTrusted ? Self.originHeaders : Self.originHeaders + Self.credentialHeaders
                current.headers.removeAll { header in
                    dropped.contains { header.name.equalsIgnoringASCIICase($0) }
                        || (!request.locationTrusted && redactor.redact(header.value) != header.value)
                }
            }
            current.url = location
            elapsed += response.timings.total
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                guard left > 0.001 else {
                    throw RunnerError("timed out after \(TimeSpan(milliseconds: (http.timeoutSeconds ?? 0) * 1000)) while following redirects: \(Self.chain(transfer.redirects))")
                }
                current.timeoutSeconds = left
            }
            response = try transport.send(current)
            transfer.finalURL = location
            if current.recordsWire { transfer.hopHeaders.append(response.sentHeaders ?? current.headers) }
        }
        if elapsed > 0 {
            // DNS, connect and TLS of the first exchange; first byte and total of the last,
            // counted from the start of the first.
            response.timings.dns = transfer.response.timings.dns
            response.timings.connect = transfer.response.timings.connect
            response.timings.tls = transfer.response.timings.tls
            response.timings.firstByte += elapsed
            response.timings.total += elapsed
        }
        transfer.response = response
        return transfer
    }

    /// A Location with backslashes before its query read as slashes, as the WHATWG URL
    /// standard reads them in http and https URLs (`http:\\h\p` is `http://h/p`).
    static func slashes(_ location: String) -> String {
        guard location.contains("\\") else { return location }
        let end = location.firstIndex { $0 == "?" || $0 == "#" } ?? location.endIndex
        return location[..<end].replacingOccurrences(of: "\\", with: "/") + location[end...]
    }

    /// `GET a -> 302 -> b -> 301 -> c`, for messages.
    static func chain(_ hops: [RedirectHop]) -> String {
        guard let first = hops.first else { return "" }
        return first.url + hops.map { " -> \($0.status) -> \($0.location)" }.joined()
    }
}
