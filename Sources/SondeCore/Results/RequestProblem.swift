/// Why a request did not complete, or did not pass for a reason other than a check: a kind
/// that programs act on (JUnit's failure or error, the history's `errorKind` column, the JSON
/// report's `errorKind`) and a sentence for people (already redacted).
public struct RequestProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The transfer took longer than the request's timeout (CURLE_OPERATION_TIMEDOUT).
        case timeout
        /// The host (or the proxy) has no address (CURLE_COULDNT_RESOLVE_HOST, _PROXY).
        case dns
        /// No connection could be made (CURLE_COULDNT_CONNECT).
        case connect
        /// The TLS handshake or the peer's certificate failed (CURLE_SSL_*, CURLE_PEER_FAILED_VERIFICATION).
        case tls
        /// The connection broke or the peer answered nothing (CURLE_GOT_NOTHING, _SEND_ERROR, _RECV_ERROR, _PARTIAL_FILE, HTTP/2 stream errors).
        case reset
        /// More redirects than `max_redirects` (RFC 9110 §15.4).
        case tooManyRedirects = "too-many-redirects"
        /// A redirect that is not followed: another protocol, a secret to another origin.
        case redirect
        /// The body is larger than `max_body_size` (CURLE_FILESIZE_EXCEEDED, or the transport's own limit).
        case bodyTooLarge = "body-too-large"
        /// Any other failure of the transfer (the transport's words say which).
        case transport
        /// A template could not be rendered (an undefined variable, a filter that failed).
        case template
        /// What was rendered cannot be sent as written (a header name, a NUL, a URL).
        case request
        /// A capture could not be taken from the response: the request fails.
        case capture
        /// A file the request sends cannot be read.
        case file
        /// Authentication could not be done (the OAuth 2 token request failed).
        case auth

        /// Whether the response itself is at fault (JUnit `<failure>`); otherwise the request
        /// could not be made or completed (JUnit `<error>`).
        public var isFailure: Bool { self == .capture }

        /// Whether the transfer failed (as opposed to what the collection asked for).
        public var isTransport: Bool {
            switch self {
            case .timeout, .dns, .connect, .tls, .reset, .tooManyRedirects, .redirect, .bodyTooLarge, .transport: true
            case .template, .request, .capture, .file, .auth: false
            }
        }
    }

    public var kind: Kind
    /// The sentence people read (`capture 'token': …`, `template: …`, libcurl's words).
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// The kind a sentence recorded before kinds were (history v6) most likely had: read
    /// from its first words, once, by the migration that added the kinds.
    public static func guessedKind(of message: String) -> Kind {
        if message.hasPrefix("template: ") || message.hasPrefix("skip: ") { return .template }
        if message.hasPrefix("multipart file ") || message.contains("(multipart file") { return .file }
        if message.hasPrefix("capture '") { return .capture }
        if message.hasPrefix("oauth2 ") || message.hasPrefix("token_url") { return .auth }
        if message.contains("(max_redirects)") { return .tooManyRedirects }
        if message.hasPrefix("a redirect was not followed") { return .redirect }
        if message.hasPrefix("header name ") || message.hasPrefix("the header '") || message.hasPrefix("the value of header ") { return .request }
        let lower = message.lowercased()
        if lower.contains("timed out") || lower.contains("timeout") { return .timeout }
        // Before "connect": "Connection reset by peer" is a reset.
        if lower.contains("empty reply") || lower.contains("recv failure") || lower.contains("send failure") || lower.contains("reset")
            || lower.contains("transfer closed")
        {
            return .reset
        }
        if lower.contains("resolve") { return .dns }
        if lower.contains("connect") { return .connect }
        if lower.contains("ssl") || lower.contains("tls") || lower.contains("certificate") { return .tls }
        if lower.contains("max_body_size") || lower.contains("too large") { return .bodyTooLarge }
        return .transport
    }
}

/// Why a request was not sent: a kind and a sentence for people.
public struct SkipReason: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// It reads a capture of a request that did not pass.
        case failedCapture = "failed-capture"
        /// Its `skip:` rendered true.
        case condition
        /// `--fail-fast`, after an earlier failure.
        case failFast = "fail-fast"
        /// A `setup:` step did not pass: the collection's requests are not sent.
        case setupFailed = "setup-failed"
        /// A loop (`for_each`) whose list is empty.
        case noItems = "no-items"
        /// It reads a capture that only steps this run's selection left out take (a teardown's).
        case leftOut = "left-out"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// `needs 'token', captured by request 'login', which did not pass` (or `which was skipped`).
    public static func failedCapture(_ name: String, capturedBy request: String, whichWasSkipped: Bool = false) -> SkipReason {
        SkipReason(.failedCapture, "needs '\(name)', captured by request '\(request)', which \(whichWasSkipped ? "was skipped" : "did not pass")")
    }

    /// `needs 'id', captured by request 'create', which this run's selection left out`.
    public static func leftOutCapture(_ name: String, capturedBy request: String) -> SkipReason {
        SkipReason(.leftOut, "needs '\(name)', captured by request '\(request)', which this run's selection (--request, --tag) left out")
    }

    /// `skip: {{ flag }} is true`.
    public static func condition(_ source: String) -> SkipReason {
        SkipReason(.condition, source == "true" ? "skip: true" : "skip: \(source) is true")
    }

    public static let failFast = SkipReason(.failFast, "--fail-fast: an earlier request failed")

    /// `setup step 'login' did not pass`.
    public static func setupFailed(_ step: String) -> SkipReason {
        SkipReason(.setupFailed, "setup step '\(step)' did not pass")
    }

    /// `for_each: {{ pods }} is an empty list` (`Loop.emptyMessage`).
    public static func noItems(_ loop: Loop) -> SkipReason {
        SkipReason(.noItems, loop.emptyMessage)
    }

    /// The kind of a sentence recorded before kinds were (history v6), by its first words.
    public static func guessedKind(of message: String) -> Kind {
        if message.hasPrefix("needs '") { return message.hasSuffix("left out") ? .leftOut : .failedCapture }
        if message.hasPrefix("--fail-fast") { return .failFast }
        if message.hasPrefix("setup step") { return .setupFailed }
        if message.hasPrefix("for_each:") { return .noItems }
        return .condition
    }
}
