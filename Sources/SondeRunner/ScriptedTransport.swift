import Foundation
import SondeCore

/// An `HTTPTransport` that answers from a script, in memory: unit tests of the runner, the
/// session and what is built on them run without a network or libcurl. It keeps every
/// request it was asked to send.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    /// Answers one request: a response, or a thrown `TransportError`.
    public typealias Responder = @Sendable (HTTPRequest) throws -> HTTPResponse

    /// When the previous request's checks run: before the send (as a transport that cannot
    /// overlap), or never while sending (so that they wait, as on a slow wire, until the
    /// runner needs them).
    public enum Overlap: Sendable {
        case beforeSend
        case never
    }

    private let lock = NSLock()
    private var responders: [Responder]
    private let fallback: Responder?
    private var requests: [HTTPRequest] = []
    public let overlap: Overlap

    /// `responders` answer the requests in order; after them, `fallback` answers (a
    /// request beyond both is a transport error).
    public init(_ responders: [Responder] = [], overlap: Overlap = .beforeSend, fallback: Responder? = nil) {
        self.responders = responders
        self.fallback = fallback
        self.overlap = overlap
    }

    /// Every request sent so far, in order.
    public var sent: [HTTPRequest] {
        lock.lock()
        defer { lock.unlock() }
        return requests
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        lock.lock()
        requests.append(request)
        let responder = responders.isEmpty ? fallback : responders.removeFirst()
        lock.unlock()
        guard let responder else { throw TransportError(.transport, "the script has no answer for \(request.method) \(request.url)") }
        return try responder(request)
    }

    public func send(_ request: HTTPRequest, whileWaiting: () -> Void) throws -> HTTPResponse {
        if overlap == .beforeSend { whileWaiting() }
        return try send(request)
    }

    /// A response with a JSON or text body and a total time.
    public static func response(
        _ status: Int, _ body: String = "", contentType: String = "application/json", headers: [(name: String, value: String)] = [],
        total: Duration = .milliseconds(1)
    ) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", contentType)] + headers, body: Array(body.utf8),
            timings: RequestTimings(firstByte: total / 2, total: total))
    }
}
