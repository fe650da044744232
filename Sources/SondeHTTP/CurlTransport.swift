import CCurl
import Foundation
import SondeRunner

/// Options that apply to every request of a run (TLS files, proxy).
public struct TransportOptions: Sendable {
    public var caFile: String?
    public var clientCertificate: String?
    public var clientKey: String?
    public var proxy: String?

    public init(caFile: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil, proxy: String? = nil) {
        self.caFile = caFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
        self.proxy = proxy
    }
}

/// The HTTP transport on libcurl: one easy handle per collection run, so that the
/// connection, TLS session, DNS answers and cookies carry from request to request.
/// Transfers go through a multi handle, so that the runner can do other work (the
/// previous request's checks) while a request is on the wire, on the same thread.
/// Not thread-safe: one run, one thread, one transport.
public final class CurlTransport: HTTPTransport {
    private let handle: UnsafeMutableRawPointer
    private let multi: UnsafeMutableRawPointer
    private let options: TransportOptions
    /// Where curl writes its detailed message; ours for the handle's life.
    private let errorBuffer: UnsafeMutablePointer<CChar>

    /// libcurl's version text, e.g. `libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13`.
    public static var version: String {
        guard let text = curl_version() else { return "libcurl" }
        return String(cString: text)
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    public init(options: TransportOptions = TransportOptions()) throws {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else { throw TransportError.failed("libcurl could not create a handle") }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(handle)
            throw TransportError.failed("libcurl could not create a multi handle")
        }
        self.handle = handle
        self.multi = multi
        self.options = options
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        curl_multi_cleanup(multi)
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        try send(request, whileWaiting: {})
    }

    /// Sends the request, runs `whileWaiting` once it is on its way, then waits for the answer.
    public func send(_ request: HTTPRequest, whileWaiting: () -> Void) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let accumulator = ResponseAccumulator()
        let context = Unmanaged.passUnretained(accumulator).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        try set(CURLOPT_NOSIGNAL, 1)
        try set(CURLOPT_URL, request.url)
        try set(CURLOPT_USERAGENT, "sonde/0.1")
        try set(CURLOPT_ACCEPT_ENCODING, "")  // every decoding this libcurl has: gzip, deflate, br
        try set(CURLOPT_COOKIEFILE, "")  // the cookie engine, in memory, for the whole run
        try set(CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
        try set(CURLOPT_MAXREDIRS, 20)
        if let timeout = request.timeoutSeconds { try set(CURLOPT_TIMEOUT_MS, Int(timeout * 1000)) }
        if request.insecure {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        if let caFile = options.caFile { try set(CURLOPT_CAINFO, caFile) }
        if let certificate = options.clientCertificate { try set(CURLOPT_SSLCERT, certificate) }
        if let key = options.clientKey { try set(CURLOPT_SSLKEY, key) }
        if let proxy = options.proxy { try set(CURLOPT_PROXY, proxy) }
        try check(sonde_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        for header in request.headers {
            headerList = curl_slist_append(headerList, "\(header.name): \(header.value)")
        }
        // curl adds "Expect: 100-continue" to large bodies; servers seldom want it.
        headerList = curl_slist_append(headerList, "Expect:")
        try check(sonde_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        if let body = request.body {
            try set(CURLOPT_POSTFIELDSIZE_LARGE, off: curl_off_t(body.count))
            if body.isEmpty {
                try set(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                try check(body.withUnsafeBytes { sonde_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) })
            }
        }
        switch request.method {
        case "GET" where request.body == nil: try set(CURLOPT_HTTPGET, 1)
        case "HEAD": try set(CURLOPT_NOBODY, 1)
        case "POST" where request.body != nil: break
        default: try set(CURLOPT_CUSTOMREQUEST, request.method)
        }

        try check(sonde_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            accumulator.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }))
        try check(sonde_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        try check(sonde_curl_setopt_write_function(handle, CURLOPT_HEADERFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            accumulator.headerLine(UnsafeRawBufferPointer(start: data, count: size * count))
            return size * count
        }))
        try check(sonde_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        errorBuffer[0] = 0
        let code = try perform(whileWaiting)
        guard code == CURLE_OK else {
            let detail = String(decoding: UnsafeRawBufferPointer(start: errorBuffer, count: strlen(errorBuffer)), as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw TransportError.failed(message, code: Int(code.rawValue))
        }

        var status = 0
        _ = sonde_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let timings = HTTPResponse.Timings(
            dns: info(CURLINFO_NAMELOOKUP_TIME_T), connect: info(CURLINFO_CONNECT_TIME_T), tls: info(CURLINFO_APPCONNECT_TIME_T),
            firstByte: info(CURLINFO_STARTTRANSFER_TIME_T), total: info(CURLINFO_TOTAL_TIME_T))
        return HTTPResponse(status: status, headers: accumulator.headers, body: accumulator.body, timings: timings)
    }

    /// curl_easy_perform, through the multi handle: the first call puts the request on the
    /// wire (or starts connecting); `whileWaiting` runs; then poll until the transfer ends.
    private func perform(_ whileWaiting: () -> Void) throws -> CURLcode {
        guard curl_multi_add_handle(multi, handle) == CURLM_OK else { throw TransportError.failed("libcurl could not start the transfer") }
        defer { curl_multi_remove_handle(multi, handle) }
        var running: Int32 = 0
        var status = curl_multi_perform(multi, &running)
        // On a new connection the first call only starts connecting: go on until libcurl
        // has sent the request (it notes the pre-transfer time just before), then do the work.
        var sent: curl_off_t = 0
        while status == CURLM_OK && running > 0 && sonde_curl_getinfo_off(handle, CURLINFO_PRETRANSFER_TIME_T, &sent) == CURLE_OK && sent == 0 {
            status = curl_multi_poll(multi, nil, 0, 1000, nil)
            if status == CURLM_OK { status = curl_multi_perform(multi, &running) }
        }
        whileWaiting()
        while status == CURLM_OK && running > 0 {
            status = curl_multi_poll(multi, nil, 0, 1000, nil)
            if status == CURLM_OK { status = curl_multi_perform(multi, &running) }
        }
        guard status == CURLM_OK else { throw TransportError.failed(String(cString: curl_multi_strerror(status))) }
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            if message.pointee.msg == CURLMSG_DONE { return message.pointee.data.result }
        }
        return CURLE_OK
    }

    /// A timing phase, in seconds from the start of the transfer.
    private func info(_ what: CURLINFO) -> Double {
        var microseconds: curl_off_t = 0
        _ = sonde_curl_getinfo_off(handle, what, &microseconds)
        return Double(microseconds) / 1_000_000
    }

    private func set(_ option: CURLoption, _ value: Int) throws { try check(sonde_curl_setopt_long(handle, option, value)) }
    private func set(_ option: CURLoption, _ value: String) throws { try check(sonde_curl_setopt_string(handle, option, value)) }
    private func set(_ option: CURLoption, off value: curl_off_t) throws { try check(sonde_curl_setopt_off(handle, option, value)) }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw TransportError.failed(String(cString: curl_easy_strerror(code)), code: Int(code.rawValue)) }
    }
}

/// Collects the last response's headers (after redirects) and its body.
private final class ResponseAccumulator {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []

    /// One header line as libcurl hands it over, CRLF included; parsed on bytes, since it
    /// runs for every header of every response.
    func headerLine(_ raw: UnsafeRawBufferPointer) {
        var end = raw.count
        while end > 0, raw[end - 1] == UInt8(ascii: "\r") || raw[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        let line = UnsafeRawBufferPointer(rebasing: raw[0..<end])
        if line.starts(with: "HTTP/".utf8) {
            headers = []  // a new response (a redirect was followed, or 100 Continue)
            body = []
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        var start = colon + 1
        while start < end, line[start] == UInt8(ascii: " ") || line[start] == UInt8(ascii: "\t") { start += 1 }
        var stop = end
        while stop > start, line[stop - 1] == UInt8(ascii: " ") || line[stop - 1] == UInt8(ascii: "\t") { stop -= 1 }
        let name = String(decoding: UnsafeRawBufferPointer(rebasing: line[..<colon]), as: UTF8.self)
        let value = String(decoding: UnsafeRawBufferPointer(rebasing: line[start..<stop]), as: UTF8.self)
        headers.append((name, value))
    }
}

/// A request that did not complete: refused, DNS, timeout, TLS, reset. Carries curl's own words.
public enum TransportError: Error, CustomStringConvertible, Sendable {
    case failed(String, code: Int = 0)

    public var description: String {
        switch self {
        case .failed(let message, _): return message
        }
    }
}
