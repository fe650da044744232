/// How a request travels, as the collection writes it (a request's keys, or `defaults`);
/// libcurl does the work. Nil: not set here (a request's own value wins over a default's).
public struct TransferSpec: Sendable, Hashable {
    /// `http_version` (CURLOPT_HTTP_VERSION).
    public var httpVersion: HTTPVersion?
    /// `connect_timeout`: the most the connection (TCP and TLS) may take (CURLOPT_CONNECTTIMEOUT_MS);
    /// `timeout` still bounds the whole request.
    public var connectTimeout: TimeSpan?
    /// `connect_to`: `HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT` (CURLOPT_CONNECT_TO).
    public var connectTo: [Template]?
    /// `resolve`: `HOST:PORT:ADDRESS[,ADDRESS]…` (CURLOPT_RESOLVE).
    public var resolve: [Template]?
    /// `ipv4: true` or `ipv6: true` (CURLOPT_IPRESOLVE).
    public var ipVersion: IPVersion?
    /// `cert`, `key`, `cacert`: PEM files, relative to the collection (CURLOPT_SSLCERT,
    /// CURLOPT_SSLKEY, CURLOPT_CAINFO); they win over `--cert`, `--key`, `--cacert`.
    public var cert: Template?
    public var key: Template?
    public var cacert: Template?
    /// `proxy` (CURLOPT_PROXY): wins over `--proxy`.
    public var proxy: Template?
    /// `compressed`: ask for gzip, deflate, brotli and zstd and decode them (CURLOPT_ACCEPT_ENCODING); default true.
    public var compressed: Bool?
    /// `limit_rate`: bytes a second, each way (CURLOPT_MAX_RECV_SPEED_LARGE, CURLOPT_MAX_SEND_SPEED_LARGE).
    public var limitRate: ByteSize?
    /// `path_as_is`: send `/../` and `/./` as written (CURLOPT_PATH_AS_IS); default false.
    public var pathAsIs: Bool?
    /// `user_agent` (CURLOPT_USERAGENT); a `User-Agent` header wins over it.
    public var userAgent: Template?
    /// `cookies`: put in the collection's cookie jar for the request's host before it is
    /// sent (CURLOPT_COOKIELIST), so that this request and later ones send them.
    public var cookies: [NamedTemplate]?

    public init() {}

    /// The schemes a `proxy` may have (CURLOPT_PROXY's).
    public static let proxySchemes = ["http", "https", "socks4", "socks4a", "socks5", "socks5h"]

    /// This request's values, and the defaults' where it has none.
    public func over(_ defaults: TransferSpec) -> TransferSpec {
        var out = self
        out.httpVersion = httpVersion ?? defaults.httpVersion
        out.connectTimeout = connectTimeout ?? defaults.connectTimeout
        out.connectTo = connectTo ?? defaults.connectTo
        out.resolve = resolve ?? defaults.resolve
        out.ipVersion = ipVersion ?? defaults.ipVersion
        out.cert = cert ?? defaults.cert
        out.key = key ?? defaults.key
        out.cacert = cacert ?? defaults.cacert
        out.proxy = proxy ?? defaults.proxy
        out.compressed = compressed ?? defaults.compressed
        out.limitRate = limitRate ?? defaults.limitRate
        out.pathAsIs = pathAsIs ?? defaults.pathAsIs
        out.userAgent = userAgent ?? defaults.userAgent
        // Cookies merge by name: a request's own wins over a default's of the same name.
        if let defaultCookies = defaults.cookies {
            let own = cookies ?? []
            out.cookies = defaultCookies.filter { cookie in !own.contains { $0.name == cookie.name } } + own
        }
        return out
    }

    public var isEmpty: Bool { self == TransferSpec() }

    public var templates: [Template] {
        (connectTo ?? []) + (resolve ?? []) + [cert, key, cacert, proxy, userAgent].compactMap { $0 } + (cookies ?? []).flatMap(\.templates)
    }
}

/// The HTTP versions a request can ask for (CURLOPT_HTTP_VERSION).
public enum HTTPVersion: String, Sendable, Hashable, CaseIterable {
    case http1_0 = "1.0"
    case http1_1 = "1.1"
    /// HTTP/2: over TLS by ALPN, in clear by an upgrade from HTTP/1.1 (falls back to 1.1).
    case http2 = "2"
    /// HTTP/2 in clear without an upgrade (RFC 9113 §3.3).
    case http2PriorKnowledge = "2-prior-knowledge"
    /// HTTP/3 over QUIC, when the linked libcurl has it.
    case http3 = "3"
}

public enum IPVersion: String, Sendable, Hashable {
    case v4, v6
}
