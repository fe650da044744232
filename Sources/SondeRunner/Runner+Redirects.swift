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
}

extension Runner {
    /// The statuses whose Location is followed (RFC 9110 §15.4: 301, 302, 303, 307, 308).
    static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Header fields that describe a body: dropped with the body when a redirect turns the request into a GET.
    static let bodyHeaders = ["Content-Type", "Content-Length", "Content-Encoding", "Content-Language", "Content-Location"]

    /// Header fields that carry credentials: not sent to another origin unless `location_trusted`.
    static let credentialHeaders = ["Authorization", "Proxy-Authorization", "Cookie"]

    /// Sends `http` and follows its redirects as browsers and curl's command line do (RFC 9110
    /// §15.4, the Fetch standard's HTTP-redirect fetch):
    /// - 303 turns any method but HEAD into a GET without a body; 301 and 302 turn a POST into
    ///   a GET without a body; 307 and 308 keep the method and the body.
    /// - Only `http` and `https` locations are followed; at most `request.maxRedirects`, then
    ///   the request is an error that shows the chain.
    /// - Authorization, Proxy-Authorization and Cookie headers the request set go to another
    ///   origin only with `location_trusted`. The cookies servers set along the chain are in
    ///   the transport's cookie jar, which sends them where their Domain allows.
    func transfer(_ http: HTTPRequest, for request: RequestSpec, whileWaiting: () -> Void) throws -> Transfer {
        var current = http
        var response = try transport.send(current, whileWaiting: whileWaiting)
        var transfer = Transfer(
            response: response, finalURL: http.url, redirects: [], sentHeaders: response.sentHeaders ?? http.headers,
            sentBody: response.sentBody ?? http.body?.bytes)
        var elapsed = 0.0
        let origin = RequestURL.origin(of: http.url)
        while request.followRedirects, Self.redirectStatuses.contains(response.status), let location = response.redirectURL {
            let hop = RedirectHop(url: current.url, status: response.status, location: location)
            guard transfer.redirects.count < request.maxRedirects else {
                throw RunnerError("more than \(request.maxRedirects) redirects (max_redirects): \(Self.chain(transfer.redirects + [hop]))")
            }
            guard let scheme = RequestURL.scheme(of: location), scheme == "http" || scheme == "https" else {
                throw RunnerError("a redirect to \(JSONValue.quoted(location)) was not followed: only http and https are (\(Self.chain(transfer.redirects + [hop])))")
            }
            transfer.redirects.append(hop)
            let turnsIntoGet = (response.status == 303 && current.method != "HEAD") || ([301, 302].contains(response.status) && current.method == "POST")
            if turnsIntoGet {
                current.method = "GET"
                current.body = nil
                current.headers.removeAll { header in Self.bodyHeaders.contains { header.name.equalsIgnoringASCIICase($0) } }
            }
            if !request.locationTrusted, RequestURL.origin(of: location) != origin {
                current.headers.removeAll { header in Self.credentialHeaders.contains { header.name.equalsIgnoringASCIICase($0) } }
            }
            current.url = location
            elapsed += response.timings.total
            response = try transport.send(current)
            transfer.finalURL = location
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

    /// `GET a -> 302 -> b -> 301 -> c`, for messages.
    static func chain(_ hops: [RedirectHop]) -> String {
        guard let first = hops.first else { return "" }
        return first.url + hops.map { " -> \($0.status) -> \($0.location)" }.joined()
    }
}
