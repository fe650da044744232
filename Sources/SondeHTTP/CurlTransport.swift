import CCurl
import Foundation
import SondeCore
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
///
/// The cookie jar, DNS answers and TLS sessions live in a share handle (curl_share), the
/// connections in the multi handle: the easy handle can be replaced without losing them.
/// It is, after a request that set its own Host header: libcurl 7.88 keeps matching
/// cookies against that host on later requests of the handle (a cookie would go to
/// another host).
public final class CurlTransport: HTTPTransport {
    private var handle: UnsafeMutableRawPointer
    private let multi: UnsafeMutableRawPointer
    private let share: UnsafeMutableRawPointer
    private let options: TransportOptions
    /// Where curl writes its detailed message; ours for the handle's life.
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// Stops a transfer on the wire when the run is cancelled.
    private let cancellation: Cancellation?
    private var wakeUpToken: Int?

    /// libcurl's version text, e.g. `libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13`.
    public static var version: String {
        guard let text = curl_version() else { return "libcurl" }
        return String(cString: text)
    }

    private static let globalInit: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// `cancellation`: when cancelled, a transfer on the wire stops (`curl_multi_wakeup`).
    public init(options: TransportOptions = TransportOptions(), cancellation: Cancellation? = nil) throws {
        _ = Self.globalInit
        guard let handle = curl_easy_init() else { throw TransportError.failed("libcurl could not create a handle") }
        guard let multi = curl_multi_init() else {
            curl_easy_cleanup(handle)
            throw TransportError.failed("libcurl could not create a multi handle")
        }
        guard let share = curl_share_init() else {
            curl_multi_cleanup(multi)
            curl_easy_cleanup(handle)
            throw TransportError.failed("libcurl could not create a share handle")
        }
        for data in [CURL_LOCK_DATA_COOKIE, CURL_LOCK_DATA_DNS, CURL_LOCK_DATA_SSL_SESSION] {
            _ = sonde_curl_share_setopt_long(share, CURLSHOPT_SHARE, Int(data.rawValue))
        }
        self.handle = handle
        self.multi = multi
        self.share = share
        self.options = options
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        self.cancellation = cancellation
        let multiAddress = UInt(bitPattern: multi)
        wakeUpToken = cancellation?.onCancel {
            // curl_multi_wakeup is the one multi call safe from another thread.
            if let multi = UnsafeMutableRawPointer(bitPattern: multiAddress) { _ = curl_multi_wakeup(multi) }
        }
    }

    deinit {
        if let wakeUpToken { cancellation?.remove(wakeUpToken) }
        curl_multi_cleanup(multi)
        curl_easy_cleanup(handle)
        curl_share_cleanup(share)
        errorBuffer.deallocate()
    }

    public func send(_ request: HTTPRequest) throws -> HTTPResponse {
        try send(request, whileWaiting: {})
    }

    /// Sends the request, runs `whileWaiting` once it is on its way, then waits for the answer.
    /// Redirects are not followed here: the response carries where one points (`redirectURL`).
    public func send(_ request: HTTPRequest, whileWaiting: () -> Void) throws -> HTTPResponse {
        curl_easy_reset(handle)
        let accumulator = ResponseAccumulator()
        let context = Unmanaged.passUnretained(accumulator).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        var mime: OpaquePointer?
        var transferLists: [UnsafeMutablePointer<curl_slist>?] = []
        defer {
            curl_slist_free_all(headerList)
            for list in transferLists { curl_slist_free_all(list) }
            if let mime { curl_mime_free(mime) }
        }

        try set(CURLOPT_NOSIGNAL, 1)
        // A cancelled transfer is removed without waiting for a DNS lookup still running in
        // the resolver's thread (CURLOPT_QUICK_EXIT, libcurl 7.87): Ctrl-C stops at once.
        try set(CURLOPT_QUICK_EXIT, 1)
        try check(sonde_curl_setopt_pointer(handle, CURLOPT_SHARE, share))
        try set(CURLOPT_URL, request.url)
        // Only HTTP: a URL, or a Location a server sends, never reaches a file or another protocol.
        try set(CURLOPT_PROTOCOLS_STR, "http,https")
        try set(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")
        let transfer = request.transfer
        try set(CURLOPT_USERAGENT, transfer.userAgent ?? HTTPRequest.defaultUserAgent)
        // Every decoding this libcurl has (gzip, deflate, br, zstd), unless compressed: false.
        if transfer.compressed { try set(CURLOPT_ACCEPT_ENCODING, "") }
        try set(CURLOPT_COOKIEFILE, "")  // the cookie engine, in memory, for the whole run
        try set(CURLOPT_FOLLOWLOCATION, 0)  // the runner follows redirects (RFC 9110 §15.4)
        if let timeout = request.timeoutSeconds { try set(CURLOPT_TIMEOUT_MS, max(1, Int(min(timeout, 86_400) * 1000))) }
        if request.insecure {
            try set(CURLOPT_SSL_VERIFYPEER, 0)
            try set(CURLOPT_SSL_VERIFYHOST, 0)
        }
        // A request's own files and proxy win over the run's (--cacert, --cert, --key, --proxy).
        if let caFile = transfer.cacert ?? options.caFile { try set(CURLOPT_CAINFO, caFile) }
        if let certificate = transfer.cert ?? options.clientCertificate { try set(CURLOPT_SSLCERT, certificate) }
        if let key = transfer.key ?? options.clientKey { try set(CURLOPT_SSLKEY, key) }
        if let proxy = transfer.proxy ?? options.proxy { try set(CURLOPT_PROXY, proxy) }
        try applyTransfer(transfer, lists: &transferLists)
        try check(sonde_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))

        // Cookie fields the request sets join the jar's cookies in one Cookie header (RFC 6265
        // §5.4 allows one): libcurl merges CURLOPT_COOKIE with its engine's, a Cookie line of
        // the request's own would go out as a second header.
        let cookies = request.headers.filter { $0.name.equalsIgnoringASCIICase("Cookie") }.map(\.value).filter { !$0.isEmpty }
        if !cookies.isEmpty { try set(CURLOPT_COOKIE, cookies.joined(separator: "; ")) }
        for header in request.headers where !header.name.equalsIgnoringASCIICase("Cookie") {
            // libcurl takes `Name:` with nothing but blanks after it as "remove this header";
            // `Name;` sends the field with an empty value (RFC 9110 §5.5: blanks around a
            // value are not part of it).
            let blank = header.value.utf8.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            headerList = curl_slist_append(headerList, blank ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        // libcurl labels a POST body application/x-www-form-urlencoded; a body goes out with
        // the Content-Type the request gives it, or none.
        // libcurl 7.88 signs every field of the list for aws_sigv4, removals included (curl
        // issue 11664, fixed in 8.3): a signed request removes none, and its fields are the
        // ones sent.
        let signs: Bool = if case .awsSigV4 = request.transfer.auth { true } else { false }
        if case .bytes = request.body, !request.hasHeader("Content-Type"), !signs {
            headerList = curl_slist_append(headerList, "Content-Type:")
        }
        // curl adds "Expect: 100-continue" to large bodies; servers seldom want it.
        if !request.hasHeader("Expect"), !signs { headerList = curl_slist_append(headerList, "Expect:") }
        try check(sonde_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))

        switch request.body {
        case .none:
            break
        case .bytes(let body):
            try set(CURLOPT_POSTFIELDSIZE_LARGE, off: curl_off_t(body.count))
            if body.isEmpty {
                try set(CURLOPT_COPYPOSTFIELDS, "")
            } else {
                try check(body.withUnsafeBytes { sonde_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress)) })
            }
        case .multipart(let fields):
            mime = try makeMime(fields)
            try check(sonde_curl_setopt_pointer(handle, CURLOPT_MIMEPOST, UnsafeMutableRawPointer(mime)))
        }
        switch request.method {
        case "GET" where request.body == nil: try set(CURLOPT_HTTPGET, 1)
        case "HEAD": try set(CURLOPT_NOBODY, 1)
        case "POST" where request.body != nil: break
        default: try set(CURLOPT_CUSTOMREQUEST, request.method)
        }

        accumulator.maxBodySize = request.maxBodySize ?? .max
        try check(sonde_curl_setopt_write_function(handle, CURLOPT_WRITEFUNCTION, { data, size, count, context in
            guard let data, let context else { return 0 }
            let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
            // The body is capped as it arrives, decompressed: returning less than was handed
            // over stops the transfer (CURLE_WRITE_ERROR), before memory runs out.
            guard accumulator.body.count + size * count <= accumulator.maxBodySize else {
                accumulator.received += size * count
                accumulator.overflowed = true
                return 0
            }
            accumulator.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size * count))
            accumulator.received += size * count
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
        if request.recordsWire {
            // What libcurl really sent, read back from its debug callback (CURLOPT_DEBUGFUNCTION):
            // the header block it wrote, and the body bytes.
            try set(CURLOPT_VERBOSE, 1)
            try check(sonde_curl_setopt_debug_function(handle, { _, type, data, size, context in
                guard let data, let context else { return 0 }
                let accumulator = Unmanaged<ResponseAccumulator>.fromOpaque(context).takeUnretainedValue()
                let bytes = UnsafeRawBufferPointer(start: data, count: size)
                if type == CURLINFO_HEADER_OUT {
                    accumulator.sentHeaderBlock.append(contentsOf: bytes)
                } else if type == CURLINFO_DATA_OUT, accumulator.sentBody.count < ResponseAccumulator.sentBodyLimit {
                    accumulator.sentBody.append(contentsOf: bytes.prefix(ResponseAccumulator.sentBodyLimit - accumulator.sentBody.count))
                }
                return 0
            }))
            try check(sonde_curl_setopt_pointer(handle, CURLOPT_DEBUGDATA, context))
        }

        errorBuffer[0] = 0
        let code = try perform(whileWaiting)
        // Once everything is read off the handle.
        defer { if request.hasHeader("Host") { renewHandle() } }
        if accumulator.overflowed {
            throw TransportError(
                .bodyTooLarge,
                "the response body is larger than max_body_size (\(ByteSize(bytes: accumulator.maxBodySize))): the transfer was stopped after \(accumulator.received) bytes",
                code: Int(CURLE_WRITE_ERROR.rawValue))
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: UnsafeRawBufferPointer(start: errorBuffer, count: strlen(errorBuffer)), as: UTF8.self)
            let message = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            var files: [String] = []
            if code == CURLE_READ_ERROR, case .multipart(let fields)? = request.body {
                for field in fields { if case .file(let path) = field.content { files.append(path) } }
            }
            // libcurl does not say which file it could not read: the request's own are named.
            let named = files.isEmpty ? message : message + " (multipart file\(files.count == 1 ? "" : "s") \(files.joined(separator: ", ")))"
            throw TransportError(Self.kind(of: code), named, code: Int(code.rawValue))
        }

        var status = 0
        _ = sonde_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let timings = HTTPResponse.Timings(
            dns: info(CURLINFO_NAMELOOKUP_TIME_T), connect: info(CURLINFO_CONNECT_TIME_T), tls: info(CURLINFO_APPCONNECT_TIME_T),
            firstByte: info(CURLINFO_STARTTRANSFER_TIME_T), total: info(CURLINFO_TOTAL_TIME_T))
        var redirect: UnsafeMutablePointer<CChar>?
        let redirectURL = sonde_curl_getinfo_string(handle, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK ? redirect.map { String(cString: $0) } : nil
        var response = HTTPResponse(status: status, headers: accumulator.headers, body: accumulator.body, timings: timings, redirectURL: redirectURL)
        if request.transfer.readsCookieJar {
            var list: UnsafeMutablePointer<curl_slist>?
            if sonde_curl_getinfo_slist(handle, CURLINFO_COOKIELIST, &list) == CURLE_OK {
                var cookies: [JarCookie] = []
                var item = list
                while let node = item {
                    if let data = node.pointee.data, let cookie = JarCookie(netscapeLine: String(cString: data)) { cookies.append(cookie) }
                    item = node.pointee.next
                }
                curl_slist_free_all(list)
                response.cookieJar = cookies
            }
        }
        var ip: UnsafeMutablePointer<CChar>?
        if sonde_curl_getinfo_string(handle, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK, let ip { response.ip = String(cString: ip) }
        if request.transfer.readsCertificate { response.certificate = serverCertificate() }
        var version = 0
        _ = sonde_curl_getinfo_long(handle, CURLINFO_HTTP_VERSION, &version)
        switch version {
        case CURL_HTTP_VERSION_1_0: response.httpVersion = "1.0"
        case CURL_HTTP_VERSION_2_0: response.httpVersion = "2"
        case CURL_HTTP_VERSION_3: response.httpVersion = "3"
        default: response.httpVersion = "1.1"
        }
        if request.recordsWire {
            response.sentHeaders = ResponseAccumulator.fields(ofHeaderBlock: accumulator.sentHeaderBlock)
            response.sentBody = accumulator.sentBody
        }
        return response
    }

    /// `resolve` entries this transport put in the shared DNS cache: they stay there
    /// (CURLOPT_RESOLVE), so a later request without them removes them (`-HOST:PORT`).
    private var resolvedEntries: Set<String> = []

    /// What `HTTPRequest.Transfer` asks of libcurl; the lists it makes are freed by the caller
    /// after the transfer.
    private func applyTransfer(_ transfer: HTTPRequest.Transfer, lists: inout [UnsafeMutablePointer<curl_slist>?]) throws {
        if let version = transfer.httpVersion {
            let value: Int
            switch version {
            case .http1_0: value = CURL_HTTP_VERSION_1_0
            case .http1_1: value = CURL_HTTP_VERSION_1_1
            case .http2: value = CURL_HTTP_VERSION_2_0
            case .http2PriorKnowledge: value = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
            case .http3: value = CURL_HTTP_VERSION_3
            }
            try set(CURLOPT_HTTP_VERSION, value)
            // HTTP/1.0 has no persistent connection (RFC 9112 §9.3): one kept open after it
            // carried the next request in a way servers refuse (400 from SwiftNIO).
            if version == .http1_0 { try set(CURLOPT_FORBID_REUSE, 1) }
        }
        if let seconds = transfer.connectTimeout { try set(CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(min(seconds, 86_400) * 1000))) }
        if let ip = transfer.ipVersion { try set(CURLOPT_IPRESOLVE, ip == .v4 ? Int(CURL_IPRESOLVE_V4) : Int(CURL_IPRESOLVE_V6)) }
        if transfer.pathAsIs { try set(CURLOPT_PATH_AS_IS, 1) }
        if let rate = transfer.limitRate {
            try set(CURLOPT_MAX_RECV_SPEED_LARGE, off: curl_off_t(rate))
            try set(CURLOPT_MAX_SEND_SPEED_LARGE, off: curl_off_t(rate))
        }
        if !transfer.connectTo.isEmpty {
            var list: UnsafeMutablePointer<curl_slist>?
            for entry in transfer.connectTo { list = curl_slist_append(list, entry) }
            lists.append(list)
            try check(sonde_curl_setopt_slist(handle, CURLOPT_CONNECT_TO, list))
        }
        if !transfer.resolve.isEmpty || !resolvedEntries.isEmpty {
            let wanted = Set(transfer.resolve)
            let stale = resolvedEntries.subtracting(wanted)
            var list: UnsafeMutablePointer<curl_slist>?
            for entry in stale {
                // `HOST:PORT:ADDRESS` is removed as `-HOST:PORT`.
                let hostAndPort = entry.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).prefix(2).joined(separator: ":")
                list = curl_slist_append(list, "-" + hostAndPort)
            }
            for entry in transfer.resolve { list = curl_slist_append(list, entry) }
            lists.append(list)
            if list != nil { try check(sonde_curl_setopt_slist(handle, CURLOPT_RESOLVE, list)) }
            resolvedEntries = wanted
        }
        if transfer.readsCertificate {
            // The chain is known after a handshake: a reused connection would have none.
            try set(CURLOPT_CERTINFO, 1)
            try set(CURLOPT_FRESH_CONNECT, 1)
        }
        for cookie in transfer.seedCookies {
            // A Netscape cookie line: host only (no subdomains), path /, not secure, a session cookie.
            try set(CURLOPT_COOKIELIST, "\(cookie.host)\tFALSE\t/\tFALSE\t0\t\(cookie.name)\t\(cookie.value)")
        }
        switch transfer.auth {
        case nil: break
        case .digest(let username, let password), .ntlm(let username, let password):
            let isDigest: Bool = if case .digest = transfer.auth { true } else { false }
            try check(sonde_curl_setopt_ulong(handle, CURLOPT_HTTPAUTH, isDigest ? SONDE_CURLAUTH_DIGEST : SONDE_CURLAUTH_NTLM))
            try set(CURLOPT_USERNAME, username)
            try set(CURLOPT_PASSWORD, password)
        case .awsSigV4(let parameter, let accessKeyID, let secretAccessKey):
            try set(CURLOPT_AWS_SIGV4, parameter)
            try set(CURLOPT_USERNAME, accessKeyID)
            try set(CURLOPT_PASSWORD, secretAccessKey)
        case .netrc(let file, let optional):
            try set(CURLOPT_NETRC, Int(optional ? CURL_NETRC_OPTIONAL.rawValue : CURL_NETRC_REQUIRED.rawValue))
            if let file { try set(CURLOPT_NETRC_FILE, file) }
        }
    }

    /// The server's (first) certificate from CURLINFO_CERTINFO: OpenSSL's `Subject:`,
    /// `Issuer:`, `Start date:`, `Expire date:` and `Serial Number:` lines, dates made RFC 3339.
    private func serverCertificate() -> [String: String]? {
        var info: UnsafeMutablePointer<curl_certinfo>?
        guard sonde_curl_getinfo_certinfo(handle, CURLINFO_CERTINFO, &info) == CURLE_OK, let info, info.pointee.num_of_certs > 0,
            let lists = info.pointee.certinfo
        else { return nil }
        var fields: [String: String] = [:]
        var item = lists[0]
        while let node = item {
            if let data = node.pointee.data {
                let line = String(cString: data)
                if let colon = line.firstIndex(of: ":") {
                    let name = line[..<colon], value = String(line[line.index(after: colon)...])
                    switch name {
                    case "Subject": fields["subject"] = value
                    case "Issuer": fields["issuer"] = value
                    case "Start date": fields["start_date"] = Self.certificateDate(value)
                    case "Expire date": fields["expire_date"] = Self.certificateDate(value)
                    case "Serial Number": fields["serial_number"] = value
                    default: break
                    }
                }
            }
            item = node.pointee.next
        }
        return fields
    }

    /// `Nov 30 07:00:00 2026 GMT` (OpenSSL's ASN1_TIME_print) as an RFC 3339 date; the text
    /// as it is when it is not that.
    static func certificateDate(_ text: String) -> String {
        guard case .success(let date?) = DateText.parse(text.trimmingCharacters(in: .whitespaces), format: "%b %e %H:%M:%S %Y %Z") else { return text }
        return DateText.rfc3339(date)
    }

    /// A new easy handle on the same share and multi handles: cookies, DNS answers, TLS
    /// sessions and connections stay; what the old handle remembered of the request goes.
    private func renewHandle() {
        guard let fresh = curl_easy_init() else { return }
        curl_easy_cleanup(handle)
        handle = fresh
    }

    /// A multipart/form-data body on libcurl's mime API, which writes each part's header
    /// and escapes names and file names as HTML and RFC 7578 §4.2 say (`"` as %22, CR and
    /// LF as %0D %0A), so that no value can end the header line or start another.
    private func makeMime(_ fields: [MultipartField]) throws -> OpaquePointer {
        guard let mime = curl_mime_init(handle) else { throw TransportError.failed("libcurl could not create a multipart body") }
        do {
            for field in fields {
                guard let part = curl_mime_addpart(mime) else { throw TransportError.failed("libcurl could not add a multipart part") }
                try check(curl_mime_name(part, field.name))
                switch field.content {
                case .bytes(let bytes):
                    // curl_mime_data copies the bytes; an empty part still needs a pointer.
                    let data = bytes.isEmpty ? [0] : bytes
                    try check(data.withUnsafeBufferPointer { buffer in
                        buffer.withMemoryRebound(to: CChar.self) { curl_mime_data(part, $0.baseAddress, bytes.count) }
                    })
                case .file(let path):
                    try check(curl_mime_filedata(part, path))
                }
                // After filedata, which sets the file's own name: nil removes it, a name replaces it.
                try check(curl_mime_filename(part, field.filename))
                if let contentType = field.contentType { try check(curl_mime_type(part, contentType)) }
            }
        } catch {
            curl_mime_free(mime)
            throw error
        }
        return mime
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
            if cancellation?.isCancelled == true { throw TransportError(.transport, "the run was cancelled") }
            status = curl_multi_poll(multi, nil, 0, 1000, nil)
            if status == CURLM_OK { status = curl_multi_perform(multi, &running) }
        }
        whileWaiting()
        while status == CURLM_OK && running > 0 {
            // A cancelled run (Ctrl-C) stops the transfer: `cancel()` wakes the poll.
            if cancellation?.isCancelled == true { throw TransportError(.transport, "the run was cancelled") }
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

    /// The kind of problem a libcurl code stands for (libcurl-errors(3)).
    static func kind(of code: CURLcode) -> RequestProblem.Kind {
        switch code {
        case CURLE_OPERATION_TIMEDOUT: .timeout
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: .dns
        case CURLE_COULDNT_CONNECT: .connect
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER, CURLE_SSL_CACERT_BADFILE,
            CURLE_SSL_SHUTDOWN_FAILED, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CRL_BADFILE,
            CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED, CURLE_SSL_ENGINE_INITFAILED, CURLE_USE_SSL_FAILED:
            .tls
        case CURLE_GOT_NOTHING, CURLE_SEND_ERROR, CURLE_RECV_ERROR, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_HTTP3: .reset
        case CURLE_TOO_MANY_REDIRECTS: .tooManyRedirects
        case CURLE_FILESIZE_EXCEEDED: .bodyTooLarge
        case CURLE_READ_ERROR, CURLE_FILE_COULDNT_READ_FILE: .file
        default: .transport
        }
    }

    /// A `CURLINFO_*_TIME_T`: microseconds from the start of the transfer.
    private func info(_ what: CURLINFO) -> Duration {
        var microseconds: curl_off_t = 0
        _ = sonde_curl_getinfo_off(handle, what, &microseconds)
        return .microseconds(Int64(microseconds))
    }

    private func set(_ option: CURLoption, _ value: Int) throws { try check(sonde_curl_setopt_long(handle, option, value)) }
    private func set(_ option: CURLoption, _ value: String) throws { try check(sonde_curl_setopt_string(handle, option, value)) }
    private func set(_ option: CURLoption, off value: curl_off_t) throws { try check(sonde_curl_setopt_off(handle, option, value)) }

    private func check(_ code: CURLcode) throws {
        guard code == CURLE_OK else { throw TransportError(Self.kind(of: code), String(cString: curl_easy_strerror(code)), code: Int(code.rawValue)) }
    }
}

/// Collects the response's headers and body, and, for -v, what was sent.
private final class ResponseAccumulator {
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var sentHeaderBlock: [UInt8] = []
    var sentBody: [UInt8] = []
    /// The body's cap, and whether the response went past it (and how far it got).
    var maxBodySize = Int.max
    var overflowed = false
    var received = 0
    /// How much of a sent body is kept for -vv.
    static let sentBodyLimit = 1 << 20

    /// The field lines of the last header block libcurl wrote: after its request line, up to
    /// the empty line (an earlier block, before a 100 Continue or an authentication round, is left out).
    static func fields(ofHeaderBlock bytes: [UInt8]) -> [(name: String, value: String)] {
        let blocks = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n").filter { !$0.isEmpty }
        guard let block = blocks.last else { return [] }
        return block.components(separatedBy: "\r\n").dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
    }

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
        // A line that starts with a blank continues the previous field (obs-fold): RFC 9112
        // §5.2 says to read it as one space and the rest.
        if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t"), !headers.isEmpty {
            let rest = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            if !rest.isEmpty { headers[headers.count - 1].value += " " + rest }
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
