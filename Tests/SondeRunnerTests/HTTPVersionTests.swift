import Foundation
import SondeCore
import SondeRunner
import SondeSpec
import SondeTestSupport
import Testing

/// HTTP versions and TLS options against nginx on loopback: HTTP/2 in clear with prior
/// knowledge, HTTP/2 over TLS by ALPN (and 1.1 when asked), a per-request CA, client
/// certificates for mutual TLS, and connect_to keeping the TLS name.
@Suite(.serialized, .enabled(if: NginxServer.unavailable == nil, "\(NginxServer.unavailable ?? "")"))
struct HTTPVersionTests {
    @Test func versionsAndTLSOptionsAgainstNginx() async throws {
        let nginx = try NginxServer()
        defer { nginx.stop() }
        let yaml = """
            base_url: "http://127.0.0.1:{{ plain }}"
            requests:
              - name: HTTP/1.1 in clear
                url: /
                expect: { version: "1.1", body: { starts_with: "proto=HTTP/1.1" } }
              - name: HTTP/2 in clear, prior knowledge
                url: "http://127.0.0.1:{{ h2c }}/"
                http_version: 2-prior-knowledge
                capture: { seen: { version: true } }
                expect: { version: "2", body: { starts_with: "proto=HTTP/2.0" }, vars: { seen: "2" } }
              - name: HTTP/2 over TLS, by ALPN
                url: "https://127.0.0.1:{{ tls }}/"
                cacert: certs/ca.pem
                http_version: 2
                expect: { version: "2" }
              - name: HTTP/1.1 over TLS when asked
                url: "https://127.0.0.1:{{ tls }}/"
                cacert: certs/ca.pem
                http_version: 1.1
                capture: { expires: { certificate: expire_date } }
                expect:
                  version: "1.1"
                  ip: 127.0.0.1
                  certificate:
                    subject: { contains: "CN = 127.0.0.1" }
                    issuer: { contains: Sonde Test CA }
                    start_date: { is_iso_date: true }
                    expire_date: { filters: [days_after_now], one_of: [1, 2] }
                    serial_number: { matches: '^[0-9a-f:]+$' }
                  vars: { expires: { is_iso_date: true } }
              - name: the public name, connected to loopback
                url: "https://api.sonde.test:{{ tls }}/"
                connect_to: "api.sonde.test:{{ tls }}:127.0.0.1:{{ tls }}"
                cacert: certs/ca.pem
                expect: { version: "2" }
              - name: mutual TLS with the client certificate
                url: "https://127.0.0.1:{{ mtls }}/"
                cacert: certs/ca.pem
                cert: certs/client.pem
                key: certs/client.key
                expect: { body: { contains: "CN=sonde-client" } }
              - name: mutual TLS without it
                url: "https://127.0.0.1:{{ mtls }}/"
                cacert: certs/ca.pem
                expect: { status: 400 }
              - name: a server the CA did not sign
                url: "https://127.0.0.1:{{ tls }}/"
            """
        let files = [
            "certs/ca.pem": try nginx.file("ca.pem"), "certs/client.pem": try nginx.file("client.pem"), "certs/client.key": try nginx.file("client.key"),
        ]
        let ports = ["plain=\(nginx.plainPort)", "h2c=\(nginx.h2cPort)", "tls=\(nginx.tlsPort)", "mtls=\(nginx.mutualTLSPort)"]
        let result = try await runCollection(yaml, baseURL: "http://127.0.0.1:\(nginx.plainPort)", assignments: ports, files: files)
        for request in result.requests.dropLast() { #expect(request.outcome == .passed, "\(describe(request))") }
        let unverified = try #require(result.requests.last)
        #expect(unverified.outcome == .error && unverified.problem?.kind == .tls, "\(describe(unverified))")
    }

    @Test func http3IsRefusedWhereLibcurlLacksIt() throws {
        let features = sonde_libcurl_features()
        let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))
        let yaml = "requests: [{ name: a, url: 'https://example.com/', http_version: 3 }]"
        if features.contains("HTTP3") {
            _ = try loader.load(text: yaml, file: "h3.yaml")
        } else {
            #expect(throws: DiagnosticsError.self) { try loader.load(text: yaml, file: "h3.yaml") }
            do {
                _ = try loader.load(text: yaml, file: "h3.yaml")
            } catch {
                #expect(error.diagnostics.first?.message.contains("HTTP/3 needs a libcurl built with it") == true, "\(error)")
                #expect(error.diagnostics.first?.location.column == 66, "\(error)")
            }
        }
    }
}

/// The features `curl --version` lists, from the curl the tests run beside.
func sonde_libcurl_features() -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
    process.arguments = ["--version"]
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return "" }
    process.waitUntilExit()
    return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
}
