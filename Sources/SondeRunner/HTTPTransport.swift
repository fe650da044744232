import SondeCore

/// One HTTP exchange as the runner asks for it, templates already rendered.
public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    public var timeoutSeconds: Double?
    public var followRedirects: Bool
    public var insecure: Bool

    public init(
        method: String, url: String, headers: [(name: String, value: String)] = [], body: [UInt8]? = nil,
        timeoutSeconds: Double? = nil, followRedirects: Bool = true, insecure: Bool = false
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutSeconds = timeoutSeconds
        self.followRedirects = followRedirects
        self.insecure = insecure
    }
}

/// What came back, with the timing phases libcurl measures (seconds from the start).
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var timings: Timings

    public typealias Timings = RequestTimings

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], timings: Timings) {
        self.status = status
        self.headers = headers
        self.body = body
        self.timings = timings
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
