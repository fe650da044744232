import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP listener on 127.0.0.1 that answers every connection with bytes given as they are,
/// and keeps the bytes of each request it read: for tests where what is on the wire matters
/// (a folded header, a response no HTTP library would write, a smuggled second request).
public final class RawServer: @unchecked Sendable {
    public let port: Int
    private let socket: Int32
    private let lock = NSLock()
    private var received: [[UInt8]] = []
    private let respond: @Sendable ([UInt8]) -> [UInt8]

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// The bytes of every request read so far, one entry a connection.
    public var requests: [[UInt8]] {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Answers each request with `response(request bytes)`, then closes the connection.
    public init(response: @escaping @Sendable ([UInt8]) -> [UInt8]) throws {
        respond = response
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw RawServerError("socket: \(errno)") }
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(socket, 16) == 0 else {
            close(socket)
            throw RawServerError("bind or listen: \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.socket = socket
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    /// Answers every request with `bytes`.
    public convenience init(answering bytes: [UInt8]) throws {
        try self.init(response: { _ in bytes })
    }

    public func stop() {
        shutdown(socket, Int32(SHUT_RDWR))
        close(socket)
    }

    private func acceptLoop() {
        while true {
            let client = accept(socket, nil, nil)
            guard client >= 0 else { return }
            var request: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            // Read the head, then as much body as Content-Length says.
            while true {
                let count = read(client, &buffer, buffer.count)
                if count <= 0 { break }
                request += buffer[..<count]
                if let end = Self.headEnd(request) {
                    let head = String(decoding: request[..<end], as: UTF8.self).lowercased()
                    let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    if request.count >= end + 4 + length { break }
                }
            }
            lock.lock()
            received.append(request)
            lock.unlock()
            let answer = respond(request)
            answer.withUnsafeBytes { _ = write(client, $0.baseAddress, $0.count) }
            close(client)
        }
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
        return nil
    }
}

public struct RawServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
