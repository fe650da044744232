import Foundation
import SondeCore

/// What `defaults` gives every request, before the request's own keys.
struct RequestDefaults {
    var headers: [NamedTemplate] = []
    var query: [NamedTemplate] = []
    var timeout: TimeSpan?
    var delay: TimeSpan?
    var retry: RetryPolicy?
    var followRedirects: Bool?
    var maxRedirects: Int?
    var locationTrusted: Bool?
    var maxBodySize: ByteSize?
    var insecure: Bool?
    var auth: Auth?
    var diffIgnore: [JSONPath]?
    var transfer = TransferSpec()
}

extension SpecReader {
    func defaults(_ node: Node) -> RequestDefaults {
        var defaults = RequestDefaults()
        let outer = currentScope
        currentScope = .defaults
        defer { currentScope = outer }
        guard let pairs = keyed(node, DefaultsKey.self, "defaults") else { return defaults }
        for (key, _, value) in pairs {
            switch key {
            case .headers: defaults.headers = namedTemplates(value, "defaults.headers")
            case .query: defaults.query = namedTemplates(value, "defaults.query")
            case .timeout: defaults.timeout = timeout(value, "defaults.timeout")
            case .delay: defaults.delay = timeSpan(value, "defaults.delay")
            case .retry: defaults.retry = retry(value, "defaults.retry")
            case .follow_redirects: defaults.followRedirects = bool(value, "defaults.follow_redirects")
            case .max_redirects: defaults.maxRedirects = integer(value, "defaults.max_redirects", range: 0...1000)
            case .location_trusted: defaults.locationTrusted = bool(value, "defaults.location_trusted")
            case .max_body_size: defaults.maxBodySize = byteSize(value, "defaults.max_body_size")
            case .insecure: defaults.insecure = bool(value, "defaults.insecure")
            case .auth: defaults.auth = auth(value, "defaults.auth")
            case .diff: defaults.diffIgnore = diffIgnore(value, "defaults.diff")
            default:
                if let transferKey = key.transferKey { transfer(transferKey, value, into: &defaults.transfer, "defaults.\(key.rawValue)") }
            }
        }
        return defaults
    }

    /// A mapping of names to template strings (headers, query, form): names are templates
    /// too; numbers and booleans are written as text; a list sends the field once per value.
    func namedTemplates(_ node: Node, _ what: String) -> [NamedTemplate] {
        guard let pairs = mapping(node, what) else { return [] }
        var out: [NamedTemplate] = []
        for pair in pairs {
            guard let name = template(pair.key, at: pair.keyNode) else { continue }
            let values: [Node]
            switch pair.value {
            case .scalar: values = [pair.value]
            case .sequence(let items): values = Array(items)
            default:
                report("'\(pair.key)' in \(what) must be a string or a list of strings, found \(pair.value.kindDescription)", at: pair.value)
                continue
            }
            for value in values {
                guard case .scalar(let scalar) = value else {
                    report("each value of '\(pair.key)' in \(what) must be a string, found \(value.kindDescription)", at: value)
                    continue
                }
                if case .null = YAMLScalarValue(scalar) {
                    report("'\(pair.key)' in \(what) has no value (null); write \"\" for an empty one", at: value.mark == nil ? pair.keyNode : value)
                    continue
                }
                if let t = template(scalar.string, at: value) { out.append(NamedTemplate(name: name, value: t)) }
            }
        }
        return out
    }

    /// A request as written, without what `defaults` gives it (`applying(_:to:ownKeys:)` adds
    /// that once the defaults are read: they may come after `requests`), and the keys it sets.
    func request(_ node: Node, index: Int, fallbackName: String) -> (spec: RequestSpec, ownKeys: RequestKey.Set)? {
        guard case .mapping = node else {
            report("\(fallbackName) must be a mapping with at least name and url, found \(node.kindDescription)", at: node)
            return nil
        }
        var name: String?
        if case .mapping(let m) = node, let nameNode = m["name"] {
            name = string(nameNode, "the name of \(fallbackName)")
            if let name { rejectTemplate(name, at: nameNode, "the name of \(fallbackName)") }
            if name?.isBlank == true {
                report("\(fallbackName) has an empty name", at: nameNode)
                name = nil
            }
        } else {
            report("\(fallbackName) has no name; every request needs a unique name", at: node)
        }
        let label = name.map { "request '\($0)'" } ?? fallbackName
        guard let pairs = keyed(node, RequestKey.self, label) else { return nil }

        var spec = RequestSpec(name: name ?? fallbackName, location: source.location(of: node), url: Template(literal: ""))
        var hasURL = false
        var bodyKeys: [(RequestKey, Node)] = []
        var ownHeaders: [NamedTemplate] = []
        var ownQuery: [NamedTemplate] = []
        var expectNode: Node?
        currentScope = .request(index: index, inExpect: false)
        defer { currentScope = .collection }
        for (key, keyNode, value) in pairs {
            switch key {
            case .name: break
            case .method:
                if let method = string(value, "method of \(label)") { spec.method = self.method(method, at: value, label) }
            case .url:
                hasURL = true
                if let t = template(value, "url of \(label)") {
                    spec.url = t
                    checkURL(t, at: value, label)
                }
            case .query: ownQuery = namedTemplates(value, "query of \(label)")
            case .headers: ownHeaders = namedTemplates(value, "headers of \(label)")
            case .json, .form, .body, .multipart:
                bodyKeys.append((key, keyNode))
                switch key {
                case .json:
                    spec.body = templateValue(value).map(RequestBody.json)
                    rejectNumbersBeyondDoubles(in: value, "the json body of \(label)")
                case .form: spec.body = .form(namedTemplates(value, "form of \(label)"))
                case .body: spec.body = requestBody(value, label)
                default: spec.body = multipart(value, label).map(RequestBody.multipart)
                }
            case .timeout: spec.timeout = timeout(value, "timeout of \(label)")
            case .delay: spec.delay = timeSpan(value, "delay of \(label)")
            case .retry: spec.retry = retry(value, "retry of \(label)")
            case .skip:
                if case .scalar(let scalar) = value, case .bool(let b) = YAMLScalarValue(scalar) {
                    spec.skip = Template(literal: b ? "true" : "false")
                } else {
                    spec.skip = template(value, "skip of \(label)")
                    if let literal = spec.skip?.literalValue, Booleans.parse(text: literal) == nil {
                        report("skip of \(label) must be true or false (or yes/no, on/off, 1/0), found \(describe(value))", at: value)
                    }
                }
            case .follow_redirects: spec.followRedirects = bool(value, "follow_redirects of \(label)") ?? true
            case .max_redirects: spec.maxRedirects = integer(value, "max_redirects of \(label)", range: 0...1000) ?? RequestSpec.defaultMaxRedirects
            case .location_trusted: spec.locationTrusted = bool(value, "location_trusted of \(label)") ?? false
            case .max_body_size: spec.maxBodySize = byteSize(value, "max_body_size of \(label)") ?? RequestSpec.defaultMaxBodySize
            case .insecure: spec.insecure = bool(value, "insecure of \(label)") ?? false
            case .auth: spec.auth = auth(value, "auth of \(label)")
            case .capture: spec.captures = captures(value, label)
            case .expect: expectNode = value
            case .diff: spec.diffIgnore = diffIgnore(value, "diff of \(label)") ?? []
            case .for_each: spec.loop = forEach(value, label)
            case .repeat: loopOrPolling(value, label, into: &spec, index: index)
            case .tags: spec.tags = tags(value, "tags of \(label)")
            default:
                if let transferKey = key.transferKey { transfer(transferKey, value, into: &spec.transfer, "\(key.rawValue) of \(label)") }
            }
        }
        if !hasURL && name != nil { report("\(label) has no url", at: node) }
        checkLoopKeys(pairs, spec, label)
        if bodyKeys.count > 1 {
            let names = bodyKeys.map { "'\($0.0.rawValue)'" }.joined(separator: " and ")
            report("\(label) has \(names): a request has at most one body", at: bodyKeys[1].1)
        }
        spec.headers = ownHeaders
        spec.query = ownQuery
        checkHeaders(node, label, own: ownHeaders, body: spec.body, method: spec.method)
        if let expectNode {
            currentScope = .request(index: index, inExpect: true)
            spec.expectations = expectations(expectNode, label)
        }
        var ownKeys = RequestKey.Set()
        for pair in pairs { ownKeys.insert(pair.key) }
        return (spec, ownKeys)
    }

    /// What `defaults` gives a request that does not set it itself.
    func applying(_ defaults: RequestDefaults, to spec: inout RequestSpec, ownKeys: RequestKey.Set) {
        spec.defaultHeaders = defaults.headers
        spec.defaultQuery = defaults.query
        if !ownKeys.contains(.timeout) { spec.timeout = defaults.timeout }
        if !ownKeys.contains(.delay) { spec.delay = defaults.delay }
        if !ownKeys.contains(.retry) { spec.retry = defaults.retry }
        if !ownKeys.contains(.follow_redirects) { spec.followRedirects = defaults.followRedirects ?? true }
        if !ownKeys.contains(.max_redirects) { spec.maxRedirects = defaults.maxRedirects ?? RequestSpec.defaultMaxRedirects }
        if !ownKeys.contains(.location_trusted) { spec.locationTrusted = defaults.locationTrusted ?? false }
        if !ownKeys.contains(.max_body_size) { spec.maxBodySize = defaults.maxBodySize ?? RequestSpec.defaultMaxBodySize }
        if !ownKeys.contains(.insecure) { spec.insecure = defaults.insecure ?? false }
        if !ownKeys.contains(.auth) { spec.auth = defaults.auth }
        if !ownKeys.contains(.diff) { spec.diffIgnore = defaults.diffIgnore ?? [] }
        if !defaults.transfer.isEmpty { spec.transfer = spec.transfer.over(defaults.transfer) }
    }

    /// One key of how a request travels, into `transfer`.
    func transfer(_ key: TransferKey, _ value: Node, into transfer: inout TransferSpec, _ what: String) {
        /// A template a response must not choose: where requests go, and which files are read.
        func guarded(_ node: Node) -> Template? {
            guard let t = template(node, what) else { return nil }
            if !t.references.isEmpty { filePathNodes.append((t, node)) }
            return t
        }
        func list(_ node: Node, parts: Int) -> [Template]? {
            let items: [Node] = if case .sequence(let s) = node { Array(s) } else { [node] }
            if items.isEmpty {
                report("\(what) is an empty list; leave it out", at: node)
                return nil
            }
            var out: [Template] = []
            for item in items {
                guard let t = guarded(item) else { return nil }
                if let literal = t.literalValue, !Self.isTransferEntry(literal, resolve: key == .resolve) {
                    let shape = key == .resolve ? "HOST:PORT:ADDRESS[,ADDRESS…]" : "HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT"
                    report("\(what) must be \(shape), ports in digits (as curl's --\(key == .resolve ? "resolve" : "connect-to")), found '\(literal)'", at: item)
                    return nil
                }
                out.append(t)
            }
            return out
        }
        switch key {
        case .http_version:
            guard case .scalar(let scalar) = value else {
                report("\(what) is one of 1.0, 1.1, 2, 2-prior-knowledge, 3; found \(value.kindDescription)", at: value)
                return
            }
            let text = YAMLScalarValue(scalar).json.interpolated
            guard let version = HTTPVersion(rawValue: text) else {
                report("\(what) is one of 1.0, 1.1, 2, 2-prior-knowledge, 3; found '\(scalar.string)'", at: value)
                return
            }
            if version == .http3, !CurlFeatures.hasHTTP3 {
                report("\(what): HTTP/3 needs a libcurl built with it, and this one (\(CurlFeatures.version)) is not", at: value)
                return
            }
            transfer.httpVersion = version
        case .connect_timeout:
            guard let span = timeSpan(value, what) else { return }
            guard span.milliseconds > 0, span.milliseconds <= RequestSpec.longestWait.milliseconds else {
                report("\(what) is \(describe(value)): it must be more than 0 and at most 24h (leave it out, and `timeout` alone bounds the request)", at: value)
                return
            }
            transfer.connectTimeout = span
        case .connect_to: transfer.connectTo = list(value, parts: 4)
        case .resolve: transfer.resolve = list(value, parts: 3)
        case .ipv4, .ipv6:
            guard let flag = bool(value, what) else { return }
            let version: IPVersion = key == .ipv4 ? .v4 : .v6
            if flag {
                if let other = transfer.ipVersion, other != version {
                    report("\(what): ipv4 and ipv6 cannot both be true", at: value)
                    return
                }
                transfer.ipVersion = version
            } else if transfer.ipVersion == version {
                transfer.ipVersion = nil
            }
        case .cert, .key, .cacert:
            guard let t = guarded(value) else { return }
            if let literalPath = t.literalValue, readableFile(literalPath, at: value, what) == nil { return }
            switch key {
            case .cert: transfer.cert = t
            case .key: transfer.key = t
            default: transfer.cacert = t
            }
        case .proxy:
            guard let t = guarded(value) else { return }
            if let literal = t.literalValue, let scheme = RequestURL.scheme(of: literal),
                !TransferSpec.proxySchemes.contains(scheme.lowercased())
            {
                report("\(what) uses \(scheme):, and a proxy is http, https, socks4, socks4a, socks5 or socks5h", at: value)
                return
            }
            transfer.proxy = t
        case .compressed: transfer.compressed = bool(value, what)
        case .limit_rate:
            guard let size = byteSize(value, what) else { return }
            guard size.bytes > 0 else {
                report("\(what) must be more than 0 bytes a second (leave it out for no limit)", at: value)
                return
            }
            transfer.limitRate = size
        case .path_as_is: transfer.pathAsIs = bool(value, what)
        case .cookies:
            // Each written name and value checked at its own position.
            var pairs: [(key: String, keyNode: Node, value: Node)] = []
            if case .mapping = value { pairs = mapping(value, what) ?? [] }
            for pair in pairs {
                if case .sequence = pair.value {
                    report("\(what): '\(pair.key)' has a list; a cookie has one value", at: pair.value)
                }
                if pair.key.firstRange(ofExactly: "{{") == nil, !HTTPSyntax.isToken(pair.key) {
                    report("\(what): '\(pair.key)' is not a cookie name (RFC 6265 §4.1.1: a token)", at: pair.keyNode)
                }
                if case .scalar(let scalar) = pair.value, scalar.string.firstRange(ofExactly: "{{") == nil, !HTTPSyntax.isCookieValue(scalar.string) {
                    report("\(what): the value of '\(pair.key)' has a character a cookie cannot hold (RFC 6265 §4.1.1: no blank, '\"', ',', ';' or '\\')", at: pair.value)
                }
            }
            transfer.cookies = namedTemplates(value, what)
        case .user_agent:
            guard let t = template(value, what) else { return }
            if let literal = t.literalValue, literal.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) {
                report("\(what) has a line break or a NUL, which would end its header line", at: value)
                return
            }
            transfer.userAgent = t
        }
    }

    /// A number in a JSON body that no double can hold (`1e999`) would reach most servers as
    /// infinity or an error (RFC 8259 §6: interoperable numbers are doubles): refused here.
    func rejectNumbersBeyondDoubles(in node: Node, _ what: String) {
        var stack = [node]
        while let current = stack.popLast() {
            switch current {
            case .scalar(let scalar):
                if case .number(let n) = YAMLScalarValue(scalar).json, n.double.isInfinite {
                    report("\(scalar.string) in \(what) is beyond what a JSON number carries between systems (a double: about ±1.8e308)", at: current)
                }
            case .mapping(let mapping): for pair in mapping { stack.append(pair.value) }
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .alias: break
            }
        }
    }

    /// What is known of headers and the body before anything is rendered: no framing header
    /// (libcurl frames the body), no body on HEAD (it would not be sent), a multipart body
    /// only with a multipart type, no line break in a content type written out.
    func checkHeaders(_ node: Node, _ label: String, own: [NamedTemplate], body: RequestBody?, method: String) {
        guard case .mapping(let pairs) = node else { return }
        let headersNode = pairs["headers"]
        for header in own {
            guard let name = header.name.literalValue else { continue }
            if ["Content-Length", "Transfer-Encoding"].contains(where: { name.equalsIgnoringASCIICase($0) }) {
                report("headers of \(label): '\(name)' is written by libcurl, which frames the body; remove it", at: headersNode ?? node)
            }
            if name.equalsIgnoringASCIICase("Content-Type"), case .multipart = body, let value = header.value.literalValue,
                !value.lowercased().hasPrefix("multipart/")
            {
                report("headers of \(label): a multipart body needs a multipart/* Content-Type, not '\(value)'", at: headersNode ?? node)
            }
        }
        if method == "HEAD", body != nil {
            report("\(label) is a HEAD request with a body, which is never sent (RFC 9110 §9.3.2)", at: pairs["body"] ?? pairs["json"] ?? pairs["form"] ?? pairs["multipart"] ?? node)
        }
        if case .multipart(let parts) = body {
            for part in parts {
                guard let type = part.contentType?.literalValue, type.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else { continue }
                report("multipart field '\(part.name.source)' of \(label): its content_type has a line break or a NUL, which would end its header line", at: pairs["multipart"] ?? node)
            }
        }
    }

    /// What is known of a URL before it is rendered: a relative one needs a base_url (known
    /// once the collection's keys are read: reported then, from `relativeURLs`), and an
    /// absolute one written out must be one Sonde can send (`RequestURL.problem`).
    func checkURL(_ url: Template, at node: Node, _ label: String) {
        guard !url.source.hasPrefix("{{") else { return }
        let prefix = url.source.firstRange(ofExactly: "{{").map { String(url.source[..<$0.lowerBound]) } ?? url.source
        if RequestURL.scheme(of: prefix.firstRange(ofExactly: "://") != nil ? prefix : url.source) != nil {
            guard let literal = url.literalValue else {
                if let scheme = RequestURL.scheme(of: prefix), scheme != "http" && scheme != "https" {
                    report("url of \(label) uses \(scheme):, and only http and https are sent", at: node)
                }
                return
            }
            if let problem = RequestURL.problem(withAbsolute: RequestURL.encode(literal)) { report("url of \(label): \(problem)", at: node) }
        } else if !collectionHasBaseURL {
            relativeURLs.append(Diagnostic(
                "url of \(label) is not absolute (\(JSONValue.quoted(url.source)) has no scheme://) and the collection has no base_url",
                at: source.location(of: node), length: node.spanLength))
        }
    }

    func method(_ text: String, at node: Node, _ label: String) -> String {
        let method = text.uppercased()
        guard !standardMethods.contains(method) else { return method }
        guard method.allSatisfy({ $0.isASCII && ($0.isLetter || $0 == "-" || $0 == "_") }), !method.isEmpty else {
            report("method '\(text)' of \(label) is not an HTTP method", at: node)
            return method
        }
        if let suggestion = nearestName(to: method, among: standardMethods) {
            report("unknown method '\(text)' in \(label); did you mean '\(suggestion)'?", at: node)
        }
        return method
    }

    /// `diff: { ignore: [JSONPath, …] }`: what `sonde diff` leaves out of the body and shape
    /// comparisons (a token that is new on every login).
    func diffIgnore(_ node: Node, _ what: String) -> [JSONPath]? {
        guard let pairs = keyed(node, DiffKey.self, what) else { return nil }
        var paths: [JSONPath] = []
        for (key, _, value) in pairs {
            switch key {
            case .ignore:
                let items: [Node]
                switch value {
                case .sequence(let sequence): items = Array(sequence)
                case .scalar: items = [value]
                default:
                    report("ignore in \(what) must be a JSONPath or a list of them, found \(value.kindDescription)", at: value)
                    continue
                }
                for item in items {
                    guard let text = string(item, "ignore in \(what)") else { continue }
                    if let path = jsonPath(text, at: item, "ignore in \(what)") { paths.append(path) }
                }
            }
        }
        return paths
    }

    func retry(_ node: Node, _ what: String) -> RetryPolicy? {
        guard let pairs = keyed(node, RetryKey.self, what) else { return nil }
        var policy = RetryPolicy(count: 0, delay: TimeSpan(milliseconds: 1000))
        var hasCount = false
        for (key, _, value) in pairs {
            switch key {
            case .count:
                policy.count = integer(value, "count in \(what)", range: 0...1000) ?? 0
                hasCount = true
            case .delay: policy.delay = timeSpan(value, "delay in \(what)") ?? policy.delay
            case .until_status: policy.untilStatus = statusList(value, "until_status in \(what)")
            }
        }
        if !hasCount { report("\(what) needs a count (how many times to try again)", at: node) }
        return policy
    }

    func statusList(_ node: Node, _ what: String) -> [Int]? {
        if case .sequence(let items) = node {
            let codes = items.compactMap { integer($0, what, range: 100...599) }
            return codes.count == items.count ? codes : nil
        }
        return integer(node, what, range: 100...599).map { [$0] }
    }

    func auth(_ node: Node, _ what: String) -> Auth? {
        guard let pairs = keyed(node, AuthKey.self, what) else { return nil }
        guard pairs.count == 1, let (key, _, value) = pairs.first else {
            if !pairs.isEmpty { report("\(what) takes one of \(AuthKey.allCases.map(\.rawValue).joined(separator: ", "))", at: node) }
            return nil
        }
        switch key {
        case .bearer:
            return template(value, "bearer in \(what)").map(Auth.bearer)
        case .basic, .digest, .ntlm:
            guard let fields = keyed(value, BasicAuthKey.self, "\(key.rawValue) in \(what)") else { return nil }
            var username: Template?, password: Template?
            for (field, _, fieldValue) in fields {
                switch field {
                case .username: username = template(fieldValue, "username in \(what)")
                case .password: password = template(fieldValue, "password in \(what)")
                }
            }
            guard let username, let password else {
                report("\(key.rawValue) in \(what) needs username and password", at: value)
                return nil
            }
            switch key {
            case .digest: return .digest(username: username, password: password)
            case .ntlm:
                guard CurlFeatures.hasNTLM else {
                    report("ntlm in \(what): the libcurl Sonde runs on was built without NTLM", at: value)
                    return nil
                }
                return .ntlm(username: username, password: password)
            default: return .basic(username: username, password: password)
            }
        case .aws_sigv4:
            let context = "aws_sigv4 in \(what)"
            guard let fields = keyed(value, AWSSigV4Key.self, context) else { return nil }
            var found: [AWSSigV4Key: Template] = [:]
            for (field, _, fieldValue) in fields {
                if let t = template(fieldValue, "\(field.rawValue) in \(context)") { found[field] = t }
            }
            for (field, fieldNode) in [(AWSSigV4Key.provider, found[.provider]), (.region, found[.region]), (.service, found[.service])] {
                // libcurl reads provider:region:service as one text split at ':'.
                if let literal = fieldNode?.literalValue, literal.contains(":") && field != .provider || literal.isEmpty {
                    report("\(field.rawValue) in \(context) must be a name without ':', found '\(literal)'", at: value)
                    return nil
                }
            }
            guard let region = found[.region], let service = found[.service], let id = found[.access_key_id], let secret = found[.secret_access_key] else {
                let missing = [AWSSigV4Key.region, .service, .access_key_id, .secret_access_key].filter { found[$0] == nil }.map(\.rawValue)
                report("\(context) needs \(missing.joined(separator: ", "))", at: value)
                return nil
            }
            return .awsSigV4(
                provider: found[.provider] ?? Template(literal: "aws:amz"), region: region, service: service, accessKeyID: id,
                secretAccessKey: secret, sessionToken: found[.session_token])
        case .netrc:
            let context = "netrc in \(what)"
            if case .scalar = value {
                switch bool(value, context) {
                case true: return .netrc(file: nil, optional: false)
                case false:
                    report("\(context): false sends no credentials and does not turn off --netrc; leave the auth out, or give another", at: value)
                    return nil
                case nil: return nil
                }
            }
            guard let fields = keyed(value, NetrcKey.self, context) else { return nil }
            var file: Template?
            var optional = false
            for (field, _, fieldValue) in fields {
                switch field {
                case .file:
                    file = template(fieldValue, "file in \(context)")
                    if let file {
                        if !file.references.isEmpty { filePathNodes.append((file, fieldValue)) }
                        if let literalPath = file.literalValue { _ = readableFile(literalPath, at: fieldValue, context) }
                    }
                case .optional: optional = bool(fieldValue, "optional in \(context)") ?? false
                }
            }
            return .netrc(file: file, optional: optional)
        case .oauth2_client_credentials:
            let context = "oauth2_client_credentials in \(what)"
            guard let fields = keyed(value, OAuth2Key.self, context) else { return nil }
            var found: [OAuth2Key: Template] = [:]
            for (field, _, fieldValue) in fields {
                if let t = template(fieldValue, "\(field.rawValue) in \(context)") { found[field] = t }
            }
            guard let url = found[.token_url], let id = found[.client_id], let secret = found[.client_secret] else {
                let missing = [OAuth2Key.token_url, .client_id, .client_secret].filter { found[$0] == nil }.map(\.rawValue)
                report("\(context) needs \(missing.joined(separator: ", "))", at: value)
                return nil
            }
            return .oauth2ClientCredentials(tokenURL: url, clientID: id, clientSecret: secret, scope: found[.scope])
        }
    }

    func multipart(_ node: Node, _ label: String) -> [MultipartPart]? {
        guard let pairs = mapping(node, "multipart of \(label)") else { return nil }
        var parts: [MultipartPart] = []
        for pair in pairs {
            let context = "multipart field '\(pair.key)' of \(label)"
            guard let name = template(pair.key, at: pair.keyNode) else { continue }
            if case .scalar(let scalar) = pair.value {
                if let t = template(scalar.string, at: pair.value) { parts.append(MultipartPart(name: name, value: t, isFile: false)) }
                continue
            }
            guard let fields = keyed(pair.value, MultipartKey.self, context) else { continue }
            var part = MultipartPart(name: name, value: Template(literal: ""), isFile: false)
            var sources = 0
            for (field, _, value) in fields {
                switch field {
                case .value:
                    part.value = template(value, "value in \(context)") ?? part.value
                    sources += 1
                case .file:
                    guard let path = template(value, "file in \(context)") else { continue }
                    part.value = path
                    part.isFile = true
                    sources += 1
                    if !path.references.isEmpty { filePathNodes.append((path, value)) }
                    // A path known now is checked now; a template is resolved when the request is sent.
                    if let literalPath = path.literalValue {
                        let resolved = resolveRelative(literalPath)
                        var isDirectory: ObjCBool = false
                        if !FileManager.default.isReadableFile(atPath: resolved) {
                            report("file '\(literalPath)' for \(context) cannot be read (looked for \(resolved))", at: value)
                        } else if FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory), isDirectory.boolValue {
                            report("file '\(literalPath)' for \(context) is a folder, not a file (\(resolved))", at: value)
                        }
                    }
                case .content_type: part.contentType = template(value, "content_type in \(context)")
                case .filename: part.filename = template(value, "filename in \(context)")
                }
            }
            if sources != 1 { report("\(context) takes exactly one of value or file", at: pair.value) }
            parts.append(part)
        }
        return parts
    }

    /// A path written in a collection, relative to the collection's folder.
    func resolveRelative(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent(path).path
    }

    /// A `resolve` entry (`HOST:PORT:ADDRESS[,ADDRESS…]`, the host not empty) or a
    /// `connect_to` one (`HOST:PORT:CONNECT-TO-HOST:CONNECT-TO-PORT`, any part but the
    /// separators may be empty), IPv6 addresses in brackets, ports in digits.
    static func isTransferEntry(_ text: String, resolve: Bool) -> Bool {
        var fields: [Substring] = []
        var rest = Substring(text)
        // Split at colons outside brackets.
        while !rest.isEmpty || fields.count < (resolve ? 3 : 4) {
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                let after = rest.index(after: close)
                let end = rest[after...].firstIndex(of: ":") ?? rest.endIndex
                fields.append(rest[..<end])
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else if let colon = rest.firstIndex(of: ":"), !(resolve && fields.count == 2) {
                fields.append(rest[..<colon])
                rest = rest[rest.index(after: colon)...]
            } else {
                fields.append(rest)
                rest = ""
            }
            if fields.count > 4 { return false }
            if rest.isEmpty { break }
        }
        func isPort(_ s: Substring, emptyAllowed: Bool) -> Bool {
            s.isEmpty ? emptyAllowed : s.count <= 5 && s.allSatisfy(\.isASCIIDigit) && Int(s).map { $0 <= 65_535 } == true
        }
        /// A host name or address: no blank, no control, no comma.
        func isHost(_ s: Substring) -> Bool { s.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "," } }
        /// An IPv4 or IPv6 address, in brackets or not (curl's --resolve takes addresses only).
        func isAddress(_ s: Substring) -> Bool {
            let bare = s.hasPrefix("[") && s.hasSuffix("]") ? s.dropFirst().dropLast() : s
            var buffer = [UInt8](repeating: 0, count: 16)
            return inet_pton(AF_INET, String(bare), &buffer) == 1 || inet_pton(AF_INET6, String(bare), &buffer) == 1
        }
        if resolve {
            return fields.count == 3 && !fields[0].isEmpty && isHost(fields[0]) && isPort(fields[1], emptyAllowed: false)
                && !fields[2].isEmpty && fields[2].split(separator: ",", omittingEmptySubsequences: false).allSatisfy(isAddress)
        }
        return fields.count == 4 && isHost(fields[0]) && isPort(fields[1], emptyAllowed: true) && isHost(fields[2]) && isPort(fields[3], emptyAllowed: true)
    }
}
