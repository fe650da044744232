import Foundation
import SondeCore

extension Runner {
    /// The request as it goes on the wire: templates rendered, base URL, query, auth and body applied.
    ///
    /// Throws `RunnerError` for what cannot be sent as written (a header name that is not a
    /// token, a line break in a field, an unreadable file), and `TemplateError`.
    func render(_ request: RequestSpec) throws -> HTTPRequest {
        // 1. The URL: joined with base_url, encoded where it must be (RequestURL), then the query.
        let base = try spec.baseURL.map { try $0.render(in: scope) }
        let written = try request.url.renderURL(in: scope)
        try Self.checkLine(base ?? "", "base_url", spec.baseURL?.source)
        try Self.checkLine(written, "the url", request.url.source)
        let joined = RequestURL.encode(RequestURL.join(base: base, written))
        // path_as_is: `/../` and `/./` go out as written (a test of the server's own handling).
        var url = request.transfer.pathAsIs == true ? joined : RequestURL.removingDotSegments(joined)
        // A password in the URL is a credential: libcurl sends it as Basic authentication.
        for value in RequestURL.credentialSecrets(of: url) { scope.noteSecret(.string(value)) }
        if let problem = RequestURL.problem(withAbsolute: url) {
            throw RunnerError(spec.baseURL == nil && RequestURL.scheme(of: url) == nil ? "\(problem), and the collection has no base_url" : problem)
        }
        let query = try merged(request.defaultQuery, request.query, ignoringCase: false)
        for field in query { try Self.checkLine(field.name, "a query field's name", writtenName(field.name, in: request.defaultQuery + request.query)) }
        if !query.isEmpty {
            let pairs = PercentEncoding.pairs(query)
            let hash = url.firstIndex(of: "#") ?? url.endIndex
            let head = url[..<hash]
            let separator = !head.contains("?") ? "?" : (head.hasSuffix("?") || head.hasSuffix("&") ? "" : "&")
            url = head + separator + pairs + url[hash...]
        }

        // 2. Headers (a default gives way to a header of the same name), then what auth and the body add.
        let ownHeaders = try rendered(request.headers)
        var headers = try merged(request.defaultHeaders, request.headers, ignoringCase: true, own: ownHeaders)
        for header in headers {
            do {
                try Self.checkField(header.name, header.value)
            } catch {
                // Name the template the header came from, when the error is in its value.
                let template = (request.defaultHeaders + request.headers).last { (try? $0.name.render(in: scope))?.equalsIgnoringASCIICase(header.name) == true }
                throw RunnerError("\(error)" + (template.map { " (written \(JSONValue.quoted($0.name.source)): \(JSONValue.quoted($0.value.source)))" } ?? ""))
            }
        }
        let ownContentType = ownHeaders.contains { $0.name.equalsIgnoringASCIICase("Content-Type") }
        func setHeader(_ name: String, _ value: String, override: Bool) {
            if let i = headers.firstIndex(where: { $0.name.equalsIgnoringASCIICase(name) }) {
                if override {
                    headers.removeAll { $0.name.equalsIgnoringASCIICase(name) }
                    headers.insert((name, value), at: min(i, headers.count))
                }
            } else {
                headers.append((name, value))
            }
        }
        var transportAuth: TransportAuth?
        if let auth = request.auth {
            switch auth {
            case .bearer(let template):
                // Credentials are secrets, however they were written.
                let token = try template.render(in: scope)
                scope.noteSecret(.string(token))
                setHeader("Authorization", "Bearer " + token, override: true)
            case .basic(let username, let password):
                let user = try username.render(in: scope), secret = try password.render(in: scope)
                let credentials = Data("\(user):\(secret)".utf8).base64EncodedString()
                for value in [secret, "\(user):\(secret)", credentials] { scope.noteSecret(.string(value)) }
                setHeader("Authorization", "Basic " + credentials, override: true)
            case .oauth2ClientCredentials(let tokenURL, let clientID, let clientSecret, let scopeTemplate):
                // A relative token_url is joined with base_url, as a request's url is.
                let writtenTokenURL = try tokenURL.renderURL(in: scope)
                try Self.checkLine(writtenTokenURL, "token_url", tokenURL.source)
                let absoluteTokenURL = RequestURL.removingDotSegments(RequestURL.encode(RequestURL.join(base: base, writtenTokenURL)))
                if let problem = RequestURL.problem(withAbsolute: absoluteTokenURL) { throw RunnerError("token_url: \(problem)", kind: .auth) }
                let token = try oauthToken(
                    url: absoluteTokenURL, clientID: try clientID.render(in: scope),
                    clientSecret: try clientSecret.render(in: scope), scope: try scopeTemplate?.render(in: scope))
                setHeader("Authorization", "Bearer " + token, override: true)
            case .digest(let username, let password), .ntlm(let username, let password):
                let user = try username.render(in: scope), secret = try password.render(in: scope)
                scope.noteSecret(.string(secret))
                headers.removeAll { $0.name.equalsIgnoringASCIICase("Authorization") }
                if case .digest = auth { transportAuth = .digest(username: user, password: secret) } else { transportAuth = .ntlm(username: user, password: secret) }
            case .awsSigV4(let provider, let region, let service, let accessKeyID, let secretAccessKey, let sessionToken):
                let id = try accessKeyID.render(in: scope), secret = try secretAccessKey.render(in: scope)
                scope.noteSecret(.string(secret))
                let parts = [try provider.render(in: scope), try region.render(in: scope), try service.render(in: scope)]
                for part in parts { try Self.checkLine(part, "a part of aws_sigv4", nil) }
                if let sessionToken {
                    let token = try sessionToken.render(in: scope)
                    scope.noteSecret(.string(token))
                    setHeader("x-amz-security-token", token, override: true)
                }
                headers.removeAll { $0.name.equalsIgnoringASCIICase("Authorization") }
                transportAuth = .awsSigV4(parameter: parts.joined(separator: ":"), accessKeyID: id, secretAccessKey: secret)
            case .netrc(let file, let optional):
                let netrcPath = try file.map { try path($0.render(in: scope)) }
                if let netrcPath, !FileManager.default.isReadableFile(atPath: netrcPath) {
                    throw RunnerError("the netrc file \(netrcPath) cannot be read", kind: .file)
                }
                transportAuth = .netrc(file: netrcPath, optional: optional)
            }
            if let value = headers.first(where: { $0.name.equalsIgnoringASCIICase("Authorization") })?.value {
                do {
                    try Self.checkField("Authorization", value)
                } catch {
                    throw RunnerError("\(error) (the Authorization header of the request's auth, written \(JSONValue.quoted(auth.templates.map(\.source).joined(separator: ", "))))")
                }
            }
        }

        // 3. The body, labelled by its kind unless the request says otherwise; a raw body has no Content-Type of its own.
        var body: HTTPBody?
        switch request.body {
        case .none:
            // A default Content-Type labels bodies; a request without one goes out without it.
            if !ownContentType { headers.removeAll { $0.name.equalsIgnoringASCIICase("Content-Type") } }
        case .json(let value):
            body = .bytes(Array(try value.render(in: scope).jsonText.utf8))
            setHeader("Content-Type", "application/json", override: false)
        case .form(let fields):
            let form = try rendered(fields)
            for field in form { try Self.checkLine(field.name, "a form field's name", writtenName(field.name, in: fields)) }
            body = .bytes(Array(PercentEncoding.pairs(form).utf8))
            // A default Content-Type (written for JSON, most often) does not relabel a form.
            setHeader("Content-Type", "application/x-www-form-urlencoded", override: !ownContentType)
        case .raw(let template):
            body = .bytes(Array(try template.render(in: scope).utf8))
        case .bytes(let bytes):
            body = .bytes(bytes)
        case .templatedFile(let template, let mediaType):
            body = .bytes(Array(try template.render(in: scope).utf8))
            setHeader("Content-Type", mediaType, override: !ownContentType)
        case .file(let pathTemplate):
            let written = try pathTemplate.render(in: scope)
            let path = written.hasPrefix("/") ? written : URL(fileURLWithPath: spec.file).deletingLastPathComponent().appendingPathComponent(written).path
            // A regular file only (as the loader reads every file a collection names): a device
            // or a pipe (`/dev/zero`) would be read without end.
            guard (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular,
                let data = FileManager.default.contents(atPath: path)
            else {
                throw RunnerError("body file '\(written)' cannot be read as a file (\(path))", kind: .file)
            }
            body = .bytes([UInt8](data))
            setHeader("Content-Type", MediaType.forFileExtension(URL(fileURLWithPath: path).pathExtension), override: !ownContentType)
        case .multipart(let parts):
            body = .multipart(try multipart(parts))
            // libcurl writes multipart/form-data with its boundary; a request may ask for
            // another multipart type (libcurl adds the boundary), never for a default's type.
            if let own = ownHeaders.last(where: { $0.name.equalsIgnoringASCIICase("Content-Type") }) {
                guard own.value.lowercased().hasPrefix("multipart/") else {
                    throw RunnerError("a multipart body needs a multipart/* Content-Type, not \(JSONValue.quoted(own.value))")
                }
            } else {
                headers.removeAll { $0.name.equalsIgnoringASCIICase("Content-Type") }
            }
        }
        var http = HTTPRequest(
            method: request.method, url: url, headers: headers, body: body, timeoutSeconds: (request.timeout ?? RequestSpec.defaultTimeout).seconds,
            maxBodySize: request.maxBodySize.bytes, insecure: request.insecure, recordsWire: options.keepExchanges || options.curlArguments != nil)
        // SigV4 signs the query sorted (its canonical form); libcurl 7.88 signs it as written,
        // so it is sent sorted, and the server's canonical form is the one signed.
        if case .awsSigV4? = transportAuth { http.url = RequestURL.sortingQuery(http.url) }
        http.transfer = try transfer(request.transfer)
        http.transfer.auth = transportAuth ?? (request.auth == nil ? options.defaultAuth : nil)
        // What libcurl writes for that auth is learned from the wire, to be masked (`noteTransportCredentials`).
        if http.transfer.auth != nil { http.recordsWire = true }
        http.transfer.readsCookieJar = request.expectations.contains { if case .cookieJar = $0.subject { true } else { false } }
        http.transfer.readsCertificate = request.expectations.contains { if case .certificate = $0.subject { true } else { false } }
            || request.captures.contains { if case .certificate = $0.source { true } else { false } }
        if let cookies = request.transfer.cookies, !cookies.isEmpty {
            guard let host = RequestURL.host(of: url) else { throw RunnerError("cookies: the URL has no host to keep them for") }
            for cookie in cookies {
                let name = try cookie.name.render(in: scope), value = try cookie.value.render(in: scope)
                guard HTTPSyntax.isToken(name) else {
                    throw RunnerError("cookies: \(JSONValue.quoted(name)) is not a cookie name (RFC 6265 §4.1.1: a token)")
                }
                guard HTTPSyntax.isCookieValue(value) else {
                    throw RunnerError("cookies: the value of \(JSONValue.quoted(name)) has a character a cookie cannot hold (a control, a blank, '\"', ',', ';' or '\\')")
                }
                if cookie.value.readsSecret(in: scope) { scope.noteSecret(.string(value)) }
                http.transfer.seedCookies.append((host, name, value))
            }
        }
        // 4. Taint: which fields and whether the body were computed from a secret.
        for field in request.defaultHeaders + request.headers where field.name.readsSecret(in: scope) || field.value.readsSecret(in: scope) {
            if let name = try? field.name.render(in: scope) { http.secretHeaders.insert(name.lowercased()) }
        }
        if request.auth != nil { http.secretHeaders.insert("authorization") }
        http.bodyHoldsSecret = request.body?.templates.contains { $0.readsSecret(in: scope) } ?? false
        return http
    }

    /// A path written in the collection, relative to the collection's folder.
    func path(_ written: String) -> String {
        written.hasPrefix("/") ? written : URL(fileURLWithPath: spec.file).deletingLastPathComponent().appendingPathComponent(written).path
    }

    /// How the request travels, rendered; nothing here may hold a line break or a NUL,
    /// which libcurl would read as the end of the option.
    func transfer(_ written: TransferSpec) throws -> HTTPRequest.Transfer {
        var out = HTTPRequest.Transfer()
        // Most requests set none of it.
        if written.isEmpty { return out }
        out.httpVersion = written.httpVersion
        out.connectTimeout = written.connectTimeout?.seconds
        out.ipVersion = written.ipVersion
        out.compressed = written.compressed ?? true
        out.pathAsIs = written.pathAsIs ?? false
        out.limitRate = written.limitRate.map(\.bytes)
        func render(_ template: Template, _ what: String) throws -> String {
            let text = try template.render(in: scope)
            try Self.checkLine(text, what, template.source)
            return text
        }
        out.connectTo = try (written.connectTo ?? []).map { try render($0, "connect_to") }
        out.resolve = try (written.resolve ?? []).map { try render($0, "resolve") }
        out.cert = try written.cert.map { path(try render($0, "cert")) }
        out.key = try written.key.map { path(try render($0, "key")) }
        out.cacert = try written.cacert.map { path(try render($0, "cacert")) }
        out.proxy = try written.proxy.map { try render($0, "proxy") }
        out.userAgent = try written.userAgent.map { try render($0, "user_agent") }
        // A proxy's credentials go in Proxy-Authorization, which -v shows and a proxy may echo.
        for value in RequestURL.credentialSecrets(of: out.proxy ?? "") { scope.noteSecret(.string(value)) }
        if let proxy = out.proxy, let scheme = RequestURL.scheme(of: proxy),
            !TransferSpec.proxySchemes.contains(scheme.lowercased())
        {
            throw RunnerError("the proxy uses \(scheme):, and a proxy is http, https, socks4, socks4a, socks5 or socks5h")
        }
        return out
    }

    /// Default fields, then the request's own: a default is left out when the request has a
    /// field of the same rendered name (ignoring ASCII case for headers).
    func merged(
        _ defaults: [NamedTemplate], _ own: [NamedTemplate], ignoringCase: Bool, own renderedOwn: [(name: String, value: String)]? = nil
    ) throws -> [(name: String, value: String)] {
        let ownFields = try renderedOwn ?? rendered(own)
        guard !defaults.isEmpty else { return ownFields }
        let kept = try rendered(defaults).filter { field in
            !ownFields.contains { ignoringCase ? $0.name.equalsIgnoringASCIICase(field.name) : $0.name.isExactly(field.name) }
        }
        return kept + ownFields
    }

    /// Names and values with their templates rendered, in order (headers, query, form fields).
    func rendered(_ items: [NamedTemplate]) throws -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        out.reserveCapacity(items.count)
        for item in items { out.append((try item.name.render(in: scope), try item.value.render(in: scope))) }
        return out
    }

    /// A header field as RFC 9110 §5 allows it: the name a token, the value without CR, LF or
    /// NUL (§5.5), so that no value can end the line and start another header or request.
    static func checkField(_ name: String, _ value: String) throws {
        guard HTTPSyntax.isToken(name) else {
            throw RunnerError("header name \(JSONValue.quoted(name)) is not a valid field name (RFC 9110 §5.1: letters, digits and !#$%&'*+-.^_`|~)")
        }
        if framingHeaders.contains(where: { name.equalsIgnoringASCIICase($0) }) {
            throw RunnerError("the header '\(name)' is not sent: libcurl frames the body (RFC 9112 §6), and a length of its own could cut a request in two")
        }
        if let bad = value.unicodeScalars.first(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
            let what = bad == "\0" ? "a NUL character" : "a line break"
            throw RunnerError("the value of header '\(name)' contains \(what), which would end the header line (RFC 9110 §5.5); it was not sent")
        }
        // Other controls are not field content either (RFC 9110 §5.5: visible characters, spaces and tabs).
        if let bad = value.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
            throw RunnerError(
                "the value of header '\(name)' contains the control character U+\(String(format: "%04X", bad.value)), which a field value cannot hold (RFC 9110 §5.5); it was not sent")
        }
    }

    /// How the field that rendered to `name` was written (the last of that name), for messages.
    func writtenName(_ name: String, in fields: [NamedTemplate]) -> String? {
        fields.last { (try? $0.name.render(in: scope)) == name }?.name.source
    }

    /// Text that goes on a request line or into a name, where CR, LF or NUL would end it
    /// and start another header or request (or cut it short): nothing is sent.
    /// Text that libcurl reads as a C string, which a NUL would cut short.
    static func checkNUL(_ text: String, _ what: String, _ template: String?) throws {
        guard text.utf8.contains(0) else { return }
        let written = template.map { " (written \(JSONValue.quoted($0)))" } ?? ""
        throw RunnerError("\(what)\(written) renders to text with a NUL character; it was not sent")
    }

    static func checkLine(_ text: String, _ what: String, _ template: String?) throws {
        guard let bad = text.unicodeScalars.first(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else { return }
        let kind = bad == "\0" ? "a NUL character" : "a line break"
        let written = template.map { " (written \(JSONValue.quoted($0)))" } ?? ""
        throw RunnerError("\(what)\(written) renders to text with \(kind); it was not sent")
    }

    /// Header fields that say where a body ends: only the transport writes them.
    static let framingHeaders = ["Content-Length", "Transfer-Encoding"]

    /// The parts of a multipart body; a file is read by the transport, relative to the collection.
    func multipart(_ parts: [MultipartPart]) throws -> [MultipartField] {
        let folder = URL(fileURLWithPath: spec.file).deletingLastPathComponent()
        var fields: [MultipartField] = []
        for part in parts {
            let name = try part.name.render(in: scope)
            let value = try part.value.render(in: scope)
            var contentType = try part.contentType?.render(in: scope)
            // Names and filenames go into the part's header block quoted, with `"`, CR and LF
            // percent-encoded by libcurl as browsers do (WHATWG's multipart/form-data encoding);
            // a NUL would cut them short. The content_type is written as it is.
            try Self.checkNUL(name, "a multipart field's name", part.name.source)
            if let contentType { try Self.checkLine(contentType, "the content_type of multipart field \(JSONValue.quoted(name))", part.contentType?.source) }
            if part.isFile {
                let path = value.hasPrefix("/") ? value : folder.appendingPathComponent(value).path
                var isDirectory: ObjCBool = false
                guard FileManager.default.isReadableFile(atPath: path), FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory),
                    !isDirectory.boolValue
                else {
                    throw RunnerError("multipart file '\(value)' cannot be read as a file (\(path))", kind: .file)
                }
                let filename = try part.filename?.render(in: scope) ?? URL(fileURLWithPath: path).lastPathComponent
                try Self.checkNUL(filename, "the filename of multipart field \(JSONValue.quoted(name))", part.filename?.source)
                contentType = contentType ?? MediaType.forFileExtension(URL(fileURLWithPath: filename).pathExtension)
                fields.append(MultipartField(name: name, filename: filename, contentType: contentType, content: .file(path)))
            } else {
                let filename = try part.filename?.render(in: scope)
                if let filename { try Self.checkNUL(filename, "the filename of multipart field \(JSONValue.quoted(name))", part.filename?.source) }
                fields.append(MultipartField(name: name, filename: filename, contentType: contentType, content: .bytes(Array(value.utf8))))
            }
        }
        return fields
    }

    /// OAuth 2 client credentials (RFC 6749 section 4.4): fetched once per run and token URL, then reused.
    func oauthToken(url: String, clientID: String, clientSecret: String, scope requestedScope: String?) throws -> String {
        let key = "\(url) \(clientID) \(requestedScope ?? "")"
        if let token = oauthTokens[key] { return token }
        scope.noteSecret(.string(clientSecret))
        var fields = [(name: "grant_type", value: "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret)]
        if let requestedScope { fields.append(("scope", requestedScope)) }
        let form = PercentEncoding.pairs(fields)
        let response: HTTPResponse
        do {
            response = try transport.send(HTTPRequest(
                method: "POST", url: url, headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                body: .bytes(Array(form.utf8)), timeoutSeconds: 30, maxBodySize: 1 << 20))
        } catch let error as TransportError {
            // The request itself could not be made: it is authentication that failed.
            throw RunnerError("oauth2 token request to \(url) failed: \(error.message)", kind: .auth)
        }
        guard response.status == 200, let json = try? JSONValue.parse(response.body), let token = json["access_token"]?.stringValue else {
            throw RunnerError("oauth2 token request to \(url) failed: HTTP \(response.status)", kind: .auth)
        }
        scope.noteSecret(.string(token))
        oauthTokens[key] = token
        return token
    }
}

/// What stops a request before it is sent: what was rendered cannot be sent as written
/// (`.request`), a file cannot be read (`.file`), a token cannot be had (`.auth`).
struct RunnerError: Error, CustomStringConvertible {
    let description: String
    let kind: RequestProblem.Kind

    init(_ description: String, kind: RequestProblem.Kind = .request) {
        self.description = description
        self.kind = kind
    }
}
