import Foundation

/// nginx from Debian on loopback, for what SondeMock does not speak: HTTP/2 in clear (prior
/// knowledge), HTTP/2 over TLS by ALPN, and mutual TLS. It runs in the foreground as one
/// process (`master_process off`) from a temporary folder, with a CA, a server certificate
/// (for `127.0.0.1` and `api.sonde.test`) and a client certificate made by the `openssl` CLI.
/// `make test` installs both (`nginx-light`, `openssl`).
public final class NginxServer: @unchecked Sendable {
    /// HTTP/1.1 in clear.
    public let plainPort: Int
    /// HTTP/2 in clear, prior knowledge only (`listen … http2` without TLS).
    public let h2cPort: Int
    /// TLS with ALPN offering h2 and http/1.1.
    public let tlsPort: Int
    /// TLS that requires a client certificate signed by the test CA.
    public let mutualTLSPort: Int
    /// The folder holding `ca.pem`, `client.pem`, `client.key` (and the server's files).
    public let folder: URL
    private let process: Process

    /// Why nginx cannot run here, or nil when it can: tests skip with this line.
    public static var unavailable: String? {
        for tool in ["/usr/sbin/nginx", "/usr/bin/openssl"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is not installed (make test installs nginx-light and openssl)"
        }
        return nil
    }

    public init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-nginx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Self.makeCertificates(in: folder)
        let ports = try (0..<4).map { _ in try Self.freePort() }
        (plainPort, h2cPort, tlsPort, mutualTLSPort) = (ports[0], ports[1], ports[2], ports[3])
        let f = folder.path
        let body = #"return 200 "proto=$server_protocol client=$ssl_client_s_dn\n";"#
        let config = """
            daemon off;
            master_process off;
            pid \(f)/nginx.pid;
            error_log \(f)/error.log warn;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(f)/body;
                proxy_temp_path \(f)/proxy;
                fastcgi_temp_path \(f)/fastcgi;
                uwsgi_temp_path \(f)/uwsgi;
                scgi_temp_path \(f)/scgi;
                default_type text/plain;
                server { listen 127.0.0.1:\(plainPort); location / { \(body) } }
                server { listen 127.0.0.1:\(h2cPort) http2; location / { \(body) } }
                server {
                    listen 127.0.0.1:\(tlsPort) ssl http2;
                    ssl_certificate \(f)/server.pem;
                    ssl_certificate_key \(f)/server.key;
                    location / { \(body) }
                }
                server {
                    listen 127.0.0.1:\(mutualTLSPort) ssl;
                    ssl_certificate \(f)/server.pem;
                    ssl_certificate_key \(f)/server.key;
                    ssl_client_certificate \(f)/ca.pem;
                    ssl_verify_client on;
                    location / { \(body) }
                }
            }
            """
        try config.write(to: folder.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/nginx")
        process.arguments = ["-c", "\(f)/nginx.conf", "-p", f, "-e", "\(f)/error.log"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !ports.allSatisfy(Self.accepts) {
            guard process.isRunning, Date() < deadline else {
                let log = (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
                stop()
                throw RawServerError("nginx did not start: \(log)")
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
    }

    /// Killed, not asked to stop: nginx without a master process never unblocks the signals
    /// the test process's thread had blocked when it started, so SIGTERM would wait forever.
    public func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// The bytes of a file of the folder (`ca.pem`, `client.pem`, `client.key`).
    public func file(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
    }

    /// A CA (`ca.pem`, `ca.key`), a server certificate for 127.0.0.1 signed by it (`server.pem`,
    /// `server.key`) and a client certificate (`client.pem`, `client.key`), in `folder`.
    public static func makeCertificates(in folder: URL) throws {
        let f = folder.path
        try "subjectAltName=IP:127.0.0.1,DNS:api.sonde.test,DNS:localhost\n".write(
            to: folder.appendingPathComponent("server.ext"), atomically: true, encoding: .utf8)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        let steps: [[String]] = [
            ["req", "-x509"] + key + ["-keyout", "\(f)/ca.key", "-out", "\(f)/ca.pem", "-days", "2", "-subj", "/CN=Sonde Test CA"],
            ["req"] + key + ["-keyout", "\(f)/server.key", "-out", "\(f)/server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "\(f)/server.csr", "-CA", "\(f)/ca.pem", "-CAkey", "\(f)/ca.key", "-CAcreateserial",
                "-out", "\(f)/server.pem", "-days", "2", "-extfile", "\(f)/server.ext"],
            ["req"] + key + ["-keyout", "\(f)/client.key", "-out", "\(f)/client.csr", "-subj", "/CN=sonde-client"],
            ["x509", "-req", "-in", "\(f)/client.csr", "-CA", "\(f)/ca.pem", "-CAkey", "\(f)/ca.key", "-CAcreateserial",
                "-out", "\(f)/client.pem", "-days", "2"],
        ]
        for arguments in steps {
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            openssl.arguments = arguments
            openssl.standardOutput = FileHandle.nullDevice
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            guard openssl.terminationStatus == 0 else { throw RawServerError("openssl \(arguments.prefix(2).joined(separator: " ")) failed") }
        }
    }

    /// A port nothing listens on now (bound, then released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw RawServerError("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
