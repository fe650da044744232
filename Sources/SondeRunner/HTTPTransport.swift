import SondeCore

/// One HTTP exchange as the runner asks for it, templates already rendered. The transport
/// sends exactly this and follows no redirect: the runner follows them (RFC 9110 §15.4).
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    /// In order; a name may repeat (each is sent as its own field line). An empty value is
    /// sent as `Name:` with nothing after it.
    public var headers: [(name: String, value: String)]
    public var body: HTTPBody?
    public var timeoutSeconds: Double?
    /// The most body bytes to read (after decompression); past it the transfer stops with
    /// an error. Nil: no limit.
    public var maxBodySize: Int?
    public var insecure: Bool
    /// Keep what went on the wire (the header block as the transport sent it, and the body)
    /// in the response, for -v and -vv.
    public var recordsWire: Bool
    /// The names (lowercased) of the header fields whose value was computed from a secret:
    /// they stay with their origin when a redirect leads elsewhere.
    public var secretHeaders: Set<String> = []
    /// Whether the body was computed from a secret: a 307 or 308 to another origin, which
    /// would send it there again, is not followed.
    public var bodyHoldsSecret = false
    /// How the request travels, rendered (`TransferSpec`), and the authentication libcurl does.
    public var transfer = Transfer()

    /// How a request travels: what `TransferSpec` says, rendered, with paths made absolute.
    public struct Transfer: Sendable {
        public var httpVersion: HTTPVersion?
        /// Seconds.
        public var connectTimeout: Double?
        public var connectTo: [String] = []
        public var resolve: [String] = []
        public var ipVersion: IPVersion?
        public var cert: String?
        public var key: String?
        public var cacert: String?
        public var proxy: String?
        public var compressed = true
        /// Bytes a second, each way.
        public var limitRate: Int?
        public var pathAsIs = false
        public var userAgent: String?
        public var auth: TransportAuth?
        /// Cookies put in the jar before the request, each for one host (`cookies:`).
        public var seedCookies: [(host: String, name: String, value: String)] = []
        /// Read the cookie jar after the response (`HTTPResponse.cookieJar`).
        public var readsCookieJar = false
        /// Read the server's certificate (`HTTPResponse.certificate`), on a new connection.
        public var readsCertificate = false

        public init() {}
    }

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: HTTPBody? = nil,
        timeoutSeconds: Double? = nil, maxBodySize: Int? = nil, insecure: Bool = false, recordsWire: Bool = false
    ) {
        self.maxBodySize = maxBodySize
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.insecure = insecure
        self.recordsWire = recordsWire
    }

    /// The User-Agent a request without `user_agent` (or a `User-Agent` header) sends.
    public static let defaultUserAgent = "sonde/0.1"

    /// Whether a header of this name is set (names compare ignoring ASCII case, RFC 9110 §5.1).
    public func hasHeader(_ name: String) -> Bool { headers.contains { $0.name.equalsIgnoringASCIICase(name) } }
}

/// A cookie of the jar, as libcurl lists it (the Netscape cookie file's fields).
public struct JarCookie: Sendable, Equatable {
    public var domain: String
    public var path: String
    public var secure: Bool
    public var httpOnly: Bool
    /// Seconds since 1970; nil for a session cookie.
    public var expires: Int?
    public var name: String
    public var value: String

    public init(domain: String, path: String, secure: Bool, httpOnly: Bool, expires: Int?, name: String, value: String) {
        self.domain = domain
        self.path = path
        self.secure = secure
        self.httpOnly = httpOnly
        self.expires = expires
        self.name = name
        self.value = value
    }

    /// A line of libcurl's CURLINFO_COOKIELIST: `[#HttpOnly_]domain TAB subdomains TAB path
    /// TAB secure TAB expires TAB name TAB value`; nil for anything else.
    public init?(netscapeLine line: String) {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 7 else { return nil }
        var domain = fields[0]
        httpOnly = domain.hasPrefix("#HttpOnly_")
        if httpOnly { domain.removeFirst("#HttpOnly_".count) }
        self.domain = domain.hasPrefix(".") ? String(domain.dropFirst()) : domain
        path = fields[2]
        secure = fields[3] == "TRUE"
        let seconds = Int(fields[4]) ?? 0
        expires = seconds == 0 ? nil : seconds
        name = fields[5]
        value = fields[6]
    }
}

/// Authentication libcurl does itself, with the request's credentials (rendered).
public enum TransportAuth: Sendable {
    /// RFC 7616 (CURLAUTH_DIGEST): a first request learns the challenge, a second answers it.
    case digest(username: String, password: String)
    case ntlm(username: String, password: String)
    /// CURLOPT_AWS_SIGV4 with `provider1[:provider2[:region[:service]]]`, and the keys as CURLOPT_USERPWD.
    case awsSigV4(parameter: String, accessKeyID: String, secretAccessKey: String)
    /// CURLOPT_NETRC (required, or optional) and CURLOPT_NETRC_FILE (nil: `~/.netrc`).
    case netrc(file: String?, optional: Bool)
}

/// A request's content.
public enum HTTPBody: Sendable {
    /// Sent as they are, with no Content-Type unless the request's headers give one.
    case bytes([UInt8])
    /// multipart/form-data (RFC 7578), built by the transport with its boundary.
    case multipart([MultipartField])

    /// The bytes, when the body is not multipart.
    public var bytes: [UInt8]? {
        if case .bytes(let bytes) = self { return bytes }
        return nil
    }
}

/// One part of a multipart/form-data body.
public struct MultipartField: Sendable {
    public var name: String
    /// The part's `filename` parameter; nil for a plain field.
    public var filename: String?
    public var contentType: String?
    public var content: Content

    public enum Content: Sendable {
        case bytes([UInt8])
        /// A file read by the transport as it sends (an absolute path).
        case file(String)
    }

    public init(name: String, filename: String? = nil, contentType: String? = nil, content: Content) {
        self.name = name
        self.filename = filename
        self.contentType = contentType
        self.content = content
    }
}

/// What came back, with the timing phases libcurl measures (seconds from the start).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var timings: Timings
    /// Where a redirect points, resolved against the request's URL (RFC 3986 §5); nil when
    /// the response is not a redirect or has no Location.
    public var redirectURL: String?
    /// With `recordsWire`: the header fields as the transport sent them (Host, User-Agent,
    /// Content-Length and the rest included), and the body bytes it sent.
    public var sentHeaders: [(name: String, value: String)]?
    public var sentBody: [UInt8]?
    /// The HTTP version the response came in: `1.0`, `1.1`, `2` or `3`.
    public var httpVersion = "1.1"
    /// The cookie jar after the response, when the request asked (`readsCookieJar`).
    public var cookieJar: [JarCookie]?
    /// The IP address the request went to (CURLINFO_PRIMARY_IP).
    public var ip: String?
    /// The fields of the server's certificate, when the request asked (`readsCertificate`):
    /// `CertificateField` raw values to text, dates as RFC 3339.
    public var certificate: [String: String]?

    public typealias Timings = RequestTimings

    public init(
        status: Int, headers: [(name: String, value: String)], body: [UInt8], timings: Timings, redirectURL: String? = nil,
        sentHeaders: [(name: String, value: String)]? = nil, sentBody: [UInt8]? = nil
    ) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timings = timings
        self.redirectURL = redirectURL
        self.sentHeaders = sentHeaders
        self.sentBody = sentBody
    }
}

/// The runner's only way to the network, so that unit tests can answer in memory.
public protocol HTTPTransport {
    func send(_ request: HTTPRequest) throws -> HTTPResponse

    /// Sends, and runs `whileWaiting` while the request is on the wire: the runner checks
    /// the previous response then. A transport that cannot overlap runs it first.
    func send(_ request: HTTPRequest, whileWaiting: () -> Void) throws -> HTTPResponse
}

extension HTTPTransport {
    public func send(_ request: HTTPRequest, whileWaiting: () -> Void) throws -> HTTPResponse {
        whileWaiting()
        return try send(request)
    }
}

/// A request that did not complete: refused, DNS, timeout, TLS, reset. Carries its kind
/// (the transport maps its own codes), the transport's own words (curl's) and code (a
/// CURLcode for libcurl).
public struct TransportError: Error, CustomStringConvertible, Sendable {
    public var kind: RequestProblem.Kind
    public var message: String
    /// libcurl's CURLcode (28 is a timeout), or 0.
    public var code: Int

    public init(_ kind: RequestProblem.Kind, _ message: String, code: Int = 0) {
        self.kind = kind
        self.message = message
        self.code = code
    }

    /// A failure of no particular kind (`.transport`).
    public static func failed(_ message: String, code: Int = 0) -> TransportError { TransportError(.transport, message, code: code) }

    public var description: String { message }
}
