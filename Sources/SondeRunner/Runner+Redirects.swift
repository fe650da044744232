import Foundation
import SondeCore

/// A request sent, with the redirects followed to get its final response.
struct Transfer {
    var response: HTTPResponse
    /// The URL that gave `response`.
    var finalURL: String
    var redirects: [RedirectHop]
    /// The same hops as shown: each Location with its secrets masked before it was resolved,
    /// as resolving may rewrite a secret past recognition (dot segments, `\` for `/`).
    var shownRedirects: [RedirectHop] = []
    /// `finalURL` as shown.
    var shownFinalURL: String
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

    /// The longest Location followed, in bytes (browsers stop near 2 MB; servers far sooner).
    static let longestURL = 65_536

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
            response: response, finalURL: http.url, redirects: [], shownFinalURL: http.url, sentHeaders: response.sentHeaders ?? http.headers,
            sentBody: response.sentBody ?? http.body?.bytes)
        var elapsed = Duration.zero
        let origin = RequestURL.origin(of: http.url)
        while request.followRedirects, Self.redirectStatuses.contains(response.status),
            let target = response.headers.last(where: { $0.name.equalsIgnoringASCIICase("Location") })?.value ?? response.redirectURL
        {
            // Resolved as browsers resolve a Location (RequestURL.resolve), not as libcurl does.
            let location = RequestURL.resolve(target, against: current.url)
            // A password a server put in a Location is a secret too, unless it is a short or
            // plain word: a server must not choose what is masked everywhere (`200`, `ok`).
            if let (user, password) = RequestURL.credentials(of: location), !password.isEmpty, !Redactor.isWeak(password) {
                for value in [password, "\(user):\(password)", Data("\(user):\(password)".utf8).base64EncodedString()] { scope.noteSecret(.string(value)) }
            }
            let masked = redactor.redact(target)
            // Resolving a masked Location percent-encodes its mask: shown as the mask it is.
            let shownLocation = masked == target
                ? location : RequestURL.resolve(masked, against: transfer.shownFinalURL).replacingOccurrences(of: Self.encodedMask, with: Redactor.mask)
            let turnsIntoGet = (response.status == 303 && current.method != "HEAD") || ([301, 302].contains(response.status) && current.method == "POST")
            let hop = RedirectHop(url: current.url, status: response.status, location: location, method: turnsIntoGet ? "GET" : current.method)
            let shownHop = RedirectHop(url: transfer.shownFinalURL, status: hop.status, location: shownLocation, method: hop.method)
            let shown = transfer.shownRedirects
            guard transfer.redirects.count < request.maxRedirects else {
                let limit = request.maxRedirects == 1 ? "more than 1 redirect" : "more than \(request.maxRedirects) redirects"
                throw RedirectError("\(limit) (max_redirects): \(Self.chain(shown + [shownHop]))", hops: shown + [shownHop], kind: .tooManyRedirects)
            }
            if location.utf8.count > Self.longestURL {
                throw RedirectError(
                    "a redirect was not followed: its Location is \(location.utf8.count) bytes long, more than \(Self.longestURL) "
                        + "(in the answer \(hop.status) to \(shown.isEmpty ? transfer.shownFinalURL : Self.chain(shown)))",
                    hops: shown)
            }
            if masked != target, Self.maskCount(redactor.redact(location)) < Self.maskCount(masked) {
                // Resolving rewrote a secret (`\` read as `/`, a dot segment removed): the
                // rewritten text would no longer be recognised, wherever the server echoes it.
                throw RedirectError(
                    "a redirect was not followed: resolving its Location would rewrite a secret it holds (\(Self.chain(shown + [shownHop])))",
                    hops: shown + [shownHop])
            }
            if let problem = RequestURL.problem(withAbsolute: location) {
                throw RedirectError("a redirect was not followed: \(redactor.redact(problem)) (\(Self.chain(shown + [shownHop])))", hops: shown + [shownHop])
            }
            transfer.redirects.append(hop)
            transfer.shownRedirects.append(shownHop)
            transfer.hopResponseHeaders.append(response.headers)
            if turnsIntoGet {
                current.method = "GET"
                current.body = nil
                current.headers.removeAll { header in Self.bodyHeaders.contains { header.name.equalsIgnoringASCIICase($0) } }
            }
            if RequestURL.origin(of: location) != origin {
                // Credentials, and any header computed from a secret or holding one, stay with their origin.
                let dropped = request.locationTrusted ? Self.originHeaders : Self.originHeaders + Self.credentialHeaders
                current.headers.removeAll { header in
                    dropped.contains { header.name.equalsIgnoringASCIICase($0) }
                        || (!request.locationTrusted
                            && (http.secretHeaders.contains(header.name.lowercased()) || redactor.redact(header.name + ": " + header.value) != header.name + ": " + header.value))
                }
                // So do the credentials libcurl answers a challenge with (a .netrc names its hosts itself).
                if !request.locationTrusted, let auth = current.transfer.auth {
                    if case .netrc = auth {} else { current.transfer.auth = nil }
                }
                // A body sent again (307, 308) goes to another origin only when trusted.
                if !request.locationTrusted, current.body != nil, http.bodyHoldsSecret || bodyHoldsSecret(current.body) {
                    throw RedirectError(
                        "a redirect to another origin was not followed: it would send the request body, which holds a secret, to \(RequestURL.origin(of: shownLocation) ?? shownLocation) (set location_trusted: true to allow it) (\(Self.chain(transfer.shownRedirects)))",
                        hops: transfer.shownRedirects)
                }
            }
            current.url = location
            // Cookies were put in the jar once; the jar sends them where they belong.
            current.transfer.seedCookies = []
            elapsed += response.timings.total
            if let deadline {
                let left = deadline.timeIntervalSinceNow
                guard left > 0.001 else {
                    throw RedirectError(Self.timedOut(http, transfer.shownRedirects), hops: transfer.shownRedirects, kind: .timeout)
                }
                current.timeoutSeconds = left
            }
            do {
                response = try transport.send(current)
            } catch let error as TransportError where error.kind == .timeout && deadline != nil {
                // CURLE_OPERATION_TIMEDOUT: the time was the chain's, say so.
                throw RedirectError(Self.timedOut(http, transfer.shownRedirects), hops: transfer.shownRedirects, kind: .timeout)
            } catch {
                throw RedirectError(
                    "\(error) (following redirects: \(Self.chain(transfer.shownRedirects)))", hops: transfer.shownRedirects,
                    kind: (error as? TransportError)?.kind ?? .transport)
            }
            transfer.finalURL = location
            transfer.shownFinalURL = shownLocation
            if current.recordsWire { transfer.hopHeaders.append(response.sentHeaders ?? current.headers) }
        }
        if elapsed > .zero {
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

    /// Whether a body's bytes hold a secret as the redactor knows them (a secret captured
    /// after the body's templates were rendered, or a file's content).
    func bodyHoldsSecret(_ body: HTTPBody?) -> Bool {
        guard case .bytes(let bytes)? = body else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        return redactor.redact(text) != text
    }

    static func maskCount(_ text: String) -> Int {
        text.components(separatedBy: Redactor.mask).count - 1
    }

    static func timedOut(_ http: HTTPRequest, _ hops: [RedirectHop]) -> String {
        "timed out after \(TimeSpan(milliseconds: (http.timeoutSeconds ?? 0) * 1000)) (timeout, for the whole chain) while following redirects: \(chain(hops))"
    }

    /// The mask as resolving a Location percent-encodes it.
    static let encodedMask = RequestURL.encode("/" + Redactor.mask).dropFirst().description

    /// `GET a -> 302 -> b -> 301 -> c`, for messages.
    static func chain(_ hops: [RedirectHop]) -> String {
        guard let first = hops.first else { return "" }
        return first.url + hops.map { " -> \($0.status) -> \($0.location)" }.joined()
    }
}

/// A request that ended while following redirects: the hops so far are recorded with it.
struct RedirectError: Error, CustomStringConvertible {
    let description: String
    /// The hops as shown (`Transfer.shownRedirects`).
    let hops: [RedirectHop]
    let kind: RequestProblem.Kind

    init(_ description: String, hops: [RedirectHop], kind: RequestProblem.Kind = .redirect) {
        self.description = description
        self.hops = hops
        self.kind = kind
    }
}
