import Foundation
import SondeCore

extension SpecReader {
    func captures(_ node: Node, _ label: String) -> [Capture] {
        guard let pairs = mapping(node, "capture of \(label)") else { return [] }
        var out: [Capture] = []
        for pair in pairs {
            let context = "capture '\(pair.key)' of \(label)"
            if !isValidVariableName(pair.key) {
                report("capture name '\(pair.key)' cannot be used in {{ }}: use letters, digits, '_' and '-', starting with a letter", at: pair.keyNode)
            }
            let location = source.location(of: pair.keyNode)
            if case .scalar(let scalar) = pair.value {
                // Shorthand: a string starting with `$` is a JSONPath.
                guard scalar.string.hasPrefix("$") else {
                    report("\(context) must be a JSONPath starting with '$' or a mapping such as { header: Location }", at: pair.value)
                    continue
                }
                if let path = jsonPath(scalar.string, at: pair.value, context) {
                    out.append(Capture(name: pair.key, source: .jsonpath(path), secret: false, location: location))
                }
                continue
            }
            guard let fields = keyed(pair.value, CaptureKey.self, context) else { continue }
            var captureSource: Capture.Source?
            var sourceCount = 0
            var secret = false
            var group: Int?
            var groupNode: Node?
            var regexNode: Node?
            var filters: FilterChain?
            for (key, _, value) in fields {
                switch key {
                case .jsonpath:
                    sourceCount += 1
                    if let text = string(value, "jsonpath in \(context)"), let path = jsonPath(text, at: value, context) {
                        captureSource = .jsonpath(path)
                    }
                case .xpath:
                    sourceCount += 1
                    if let expression = xpath(value, context) { captureSource = .xpath(expression) }
                case .header:
                    sourceCount += 1
                    if let name = literal(value, "the header name in \(context)") { captureSource = .header(name) }
                case .cookie:
                    sourceCount += 1
                    if let written = literal(value, "the cookie name in \(context)"), let (name, attribute) = cookieName(written, at: value, context) {
                        captureSource = attribute == .value ? .cookie(name) : .cookieAttribute(name, attribute)
                    }
                case .certificate:
                    sourceCount += 1
                    if let field = certificateField(value, "certificate in \(context)") { captureSource = .certificate(field) }
                case .version, .ip, .sha256, .md5:
                    sourceCount += 1
                    switch bool(value, "\(key.rawValue) in \(context)") {
                    case true: captureSource = key == .version ? .version : key == .ip ? .ip : .digest(key == .sha256 ? .sha256 : .md5)
                    case false: report("\(key.rawValue): false in \(context) captures nothing; write \(key.rawValue): true", at: value)
                    case nil: break
                    }
                case .filters:
                    filters = filterChain(value, "filters in \(context)")
                case .regex:
                    sourceCount += 1
                    regexNode = value
                    if let pattern = literal(value, "the regex in \(context)") { captureSource = .regex(pattern, group: 1) }
                case .group:
                    groupNode = value
                    group = integer(value, "group in \(context)", range: 0...99)
                case .status:
                    sourceCount += 1
                    switch bool(value, "status in \(context)") {
                    case true: captureSource = .status
                    case false: report("status: false in \(context) captures nothing; write status: true", at: value)
                    case nil: break
                    }
                case .duration:
                    sourceCount += 1
                    switch bool(value, "duration in \(context)") {
                    case true: captureSource = .duration
                    case false: report("duration: false in \(context) captures nothing; write duration: true", at: value)
                    case nil: break
                    }
                case .url:
                    sourceCount += 1
                    switch bool(value, "url in \(context)") {
                    case true: captureSource = .url
                    case false: report("url: false in \(context) captures nothing; write url: true", at: value)
                    case nil: break
                    }
                case .secret:
                    secret = bool(value, "secret in \(context)") ?? false
                }
            }
            if sourceCount != 1 {
                report("\(context) takes exactly one of jsonpath, xpath, header, cookie, regex, status, duration, url, version, ip, certificate, sha256, md5", at: pair.value)
                continue
            }
            if case .regex(let pattern, _) = captureSource, let regexNode {
                guard let regex = compileRegex(pattern, at: regexNode, context) else { continue }
                let chosen = group ?? (regex.groupCount > 0 ? 1 : 0)
                if chosen > regex.groupCount {
                    report("\(context) asks for group \(chosen) but the regex has \(regex.groupCount)", at: groupNode ?? regexNode)
                }
                captureSource = .regex(pattern, group: chosen)
            } else if let groupNode, regexNode == nil {
                report("group applies to a regex capture only", at: groupNode)
            }
            if let captureSource { out.append(Capture(name: pair.key, source: captureSource, secret: secret, location: location, filters: filters)) }
        }
        return out
    }

    /// Parses a JSONPath written in the file, reporting a syntax error at its exact column.
    func jsonPath(_ text: String, at node: Node, _ context: String) -> JSONPath? {
        if let known = parsedPaths[ExactString(text)] { return known }
        if text.firstRange(ofExactly: "{{") != nil {
            rejectTemplate(text, at: node, "a JSONPath (in \(context))")
            return nil
        }
        do {
            let path = try JSONPath(text)
            parsedPaths[ExactString(text)] = path
            return path
        } catch {
            report("malformed JSONPath '\(text)' in \(context): \(error.message)",
                at: source.location(inside: node, offset: error.column - 1, value: text))
            return nil
        }
    }

    func expectations(_ node: Node, _ label: String) -> [Expectation] {
        guard let pairs = keyed(node, ExpectKey.self, "expect of \(label)") else { return [] }
        var out: [Expectation] = []
        for (key, keyNode, value) in pairs {
            let location = source.location(of: keyNode)
            switch key {
            case .status:
                let context = "expect.status of \(label)"
                switch value {
                case .sequence:
                    if let codes = statusList(value, context) {
                        out.append(Expectation(subject: .status, predicate: .oneOf(codes.map { .number(JSONNumber($0)) }), location: location))
                    }
                case .scalar(let scalar) where scalar.string.firstRange(ofExactly: "{{") != nil:
                    if let t = template(value, context) { out.append(Expectation(subject: .status, predicate: .equals(.string(t)), location: location)) }
                case .scalar:
                    if let code = integer(value, context, range: 100...599) {
                        out.append(Expectation(subject: .status, predicate: .equals(.number(JSONNumber(code))), location: location))
                    }
                default:
                    if let p = predicate(value, kind: .json, context) { out.append(Expectation(subject: .status, predicate: p, location: location)) }
                }
            case .xpath:
                guard let expressions = mapping(value, "expect.xpath of \(label)") else { continue }
                for entry in expressions {
                    let context = "expect.xpath of \(label)"
                    let expression = xpath(entry.keyNode, context)
                    let p = predicate(entry.value, kind: .json, "'\(entry.key)' in \(context)")
                    if let expression, let p { out.append(Expectation(subject: .xpath(expression), predicate: p, location: source.location(of: entry.keyNode))) }
                }
            case .vars:
                guard let entries = mapping(value, "expect.vars of \(label)") else { continue }
                for entry in entries {
                    // A name (`order_id`, `user.id`) or an expression (`order_id | int`) is short
                    // for the template `{{ … }}`; anything with `{{` is a template as written.
                    let written = entry.key.firstRange(ofExactly: "{{") != nil ? entry.key : "{{ \(entry.key) }}"
                    guard let t = template(written, at: entry.keyNode) else { continue }
                    if let p = predicate(entry.value, kind: .json, "'\(entry.key)' in expect.vars of \(label)") {
                        out.append(Expectation(subject: .template(t), predicate: p, location: source.location(of: entry.keyNode)))
                    }
                }
            case .cookies, .cookie_jar:
                // The response's Set-Cookie fields, or the jar after it: the same names, the jar
                // without the attributes it does not keep.
                let context = "expect.\(key.rawValue) of \(label)"
                guard let cookies = mapping(value, context) else { continue }
                for cookie in cookies {
                    rejectTemplate(cookie.key, at: cookie.keyNode, "a cookie name to check")
                    guard let (name, attribute) = cookieName(cookie.key, at: cookie.keyNode, context) else { continue }
                    if key == .cookie_jar, attribute == .maxAge || attribute == .sameSite {
                        report("\(context): the cookie jar keeps no \(attribute.rawValue) (it keeps Value, Domain, Path, Secure, HttpOnly, Expires); check the response's with expect.cookies", at: cookie.keyNode)
                        continue
                    }
                    if let p = predicate(cookie.value, kind: .json, "'\(cookie.key)' in \(context)") {
                        let subject: Expectation.Subject = key == .cookies ? .cookie(name, attribute) : .cookieJar(name, attribute)
                        out.append(Expectation(subject: subject, predicate: p, location: source.location(of: cookie.keyNode)))
                    }
                }
            case .ip:
                if let p = predicate(value, kind: .json, "expect.ip of \(label)") { out.append(Expectation(subject: .ip, predicate: p, location: location)) }
            case .certificate:
                guard let fields = mapping(value, "expect.certificate of \(label)") else { continue }
                for field in fields {
                    let context = "expect.certificate of \(label)"
                    guard let name = certificateField(field.keyNode, context) else { continue }
                    if let p = predicate(field.value, kind: .json, "'\(field.key)' in \(context)") {
                        out.append(Expectation(subject: .certificate(name), predicate: p, location: source.location(of: field.keyNode)))
                    }
                }
            case .version:
                let context = "expect.version of \(label)"
                if case .scalar(let scalar) = value, case let version = YAMLScalarValue(scalar).json.interpolated {
                    guard ["1.0", "1.1", "2", "3"].contains(version) else {
                        report("\(context) is an HTTP version: 1.0, 1.1, 2 or 3, found \(scalar.string)", at: value)
                        continue
                    }
                    out.append(Expectation(subject: .version, predicate: .equals(.string(Template(literal: version))), location: location))
                } else if let p = predicate(value, kind: .json, context) {
                    out.append(Expectation(subject: .version, predicate: p, location: location))
                }
            case .sha256, .md5:
                let kind: BodyDigest = key == .sha256 ? .sha256 : .md5
                let context = "expect.\(key.rawValue) of \(label)"
                if case .scalar(let scalar) = value, scalar.string.firstRange(ofExactly: "{{") == nil {
                    let digest = scalar.string.lowercased()
                    guard digest.count == kind.hexLength, digest.allSatisfy({ $0.isHexDigit && $0.isASCII }) else {
                        report("\(context) is \(kind.hexLength) hex digits (the body's \(kind == .sha256 ? "SHA-256" : "MD5")), found \(scalar.string)", at: value)
                        continue
                    }
                    out.append(Expectation(subject: .digest(kind), predicate: .equals(.string(Template(literal: digest))), location: location))
                } else if let p = predicate(value, kind: .json, context) {
                    out.append(Expectation(subject: .digest(kind), predicate: p, location: location))
                }
            case .bytes:
                if let check = bytesPredicate(value, "expect.bytes of \(label)") {
                    out.append(Expectation(subject: .bytes(check), predicate: .exists(true), location: location))
                }
            case .headers:
                guard let headers = mapping(value, "expect.headers of \(label)") else { continue }
                for header in headers {
                    rejectTemplate(header.key, at: header.keyNode, "a header name to check")
                    if !header.key.isEmpty, !HTTPSyntax.isToken(header.key), header.key.firstRange(ofExactly: "{{") == nil {
                        report("expect.headers of \(label): '\(header.key)' is not a header name (RFC 9110 §5.1: a token), so no response has it", at: header.keyNode)
                        continue
                    }
                    if let p = predicate(header.value, kind: .json, "expect.headers.\(header.key) of \(label)") {
                        out.append(Expectation(subject: .header(header.key), predicate: p, location: source.location(of: header.keyNode)))
                    }
                }
            case .jsonpath:
                guard let paths = mapping(value, "expect.jsonpath of \(label)") else { continue }
                for entry in paths {
                    let context = "expect.jsonpath of \(label)"
                    let path = jsonPath(entry.key, at: entry.keyNode, context)
                    let p = predicate(entry.value, kind: .json, "'\(entry.key)' in \(context)")
                    if let path, let p {
                        out.append(Expectation(subject: .jsonpath(path), predicate: p, location: source.location(of: entry.keyNode)))
                    }
                }
            case .body, .duration, .url, .redirects:
                let subject: Expectation.Subject = key == .body ? .body : key == .duration ? .duration : key == .url ? .url : .redirects
                if let p = predicate(value, kind: key == .duration ? .duration : .json, "expect.\(key.rawValue) of \(label)") {
                    out.append(Expectation(subject: subject, predicate: p, location: location))
                }
            case .schema:
                if let schema = schema(value, label) {
                    out.append(Expectation(subject: .schema(schema), predicate: .exists(true), location: location))
                }
            }
        }
        return out
    }

    /// Reports `{{` in every string of a tree that is not templated (an inline schema).
    func rejectTemplates(in node: Node, _ what: String) {
        switch node {
        case .scalar(let scalar): rejectTemplate(scalar.string, at: node, what)
        case .sequence(let items): for item in items { rejectTemplates(in: item, what) }
        case .mapping(let pairs): for (key, value) in pairs { rejectTemplates(in: key, what); rejectTemplates(in: value, what) }
        case .alias: break
        }
    }

    /// An inline JSON Schema, or a path to a JSON or YAML file relative to the collection.
    func schema(_ node: Node, _ label: String) -> JSONValue? {
        if case .mapping = node {
            rejectTemplates(in: node, "a string in the inline schema of \(label)")
            guard let value = jsonValue(node) else {
                report("expect.schema of \(label) must be plain JSON (no aliases)", at: node)
                return nil
            }
            return value
        }
        guard let path = literal(node, "the schema file of \(label)") else { return nil }
        let resolved = resolveRelative(path)
        let data: Data
        switch LocalFile.contents(atPath: resolved) {
        case .success(let bytes): data = bytes
        case .failure(let problem) where problem.kind == .missing:
            report("schema file '\(path)' for \(label) does not exist (looked for \(resolved))", at: node)
            return nil
        case .failure(let problem):
            report("schema file '\(path)' for \(label) cannot be read: \(problem) (\(resolved))", at: node)
            return nil
        }
        if let json = try? JSONValue.parse([UInt8](data)) { return json }
        if let text = String(data: data, encoding: .utf8), let root = try? YAMLComposer.compose(text), let value = jsonValue(root) {
            return value
        }
        report("schema file '\(path)' for \(label) is neither JSON nor YAML", at: node)
        return nil
    }

    /// An XPath expression (not a template), compiled now so that a syntax error is found before anything is sent.
    func xpath(_ node: Node, _ context: String) -> String? {
        guard let expression = literal(node, "the XPath in \(context)") else { return nil }
        if let problem = XPathQuery.syntaxError(expression) {
            report("\(problem) in \(context)", at: node)
            return nil
        }
        return expression
    }

    /// One of `CertificateField`'s names.
    func certificateField(_ node: Node, _ context: String) -> CertificateField? {
        guard let name = string(node, context) else { return nil }
        guard let field = CertificateField(rawValue: name) else {
            let names = CertificateField.allCases.map(\.rawValue)
            let hint = nearestName(to: name, among: names).map { "; did you mean '\($0)'?" } ?? " (fields: \(names.joined(separator: ", ")))"
            report("\(context): unknown certificate field '\(name)'\(hint)", at: node)
            return nil
        }
        return field
    }

    /// `session` or `session[Max-Age]`: a cookie's name, and its value or one attribute.
    func cookieName(_ written: String, at node: Node, _ context: String) -> (String, CookieAttribute)? {
        guard let (name, attribute) = CookieAttribute.split(written) else {
            let names = CookieAttribute.allCases.map(\.rawValue).joined(separator: ", ")
            report("\(context): '\(written)' names no cookie attribute; write name[Attribute] with one of \(names)", at: node)
            return nil
        }
        guard !name.isEmpty else {
            report("\(context): '\(written)' has no cookie name before the brackets", at: node)
            return nil
        }
        return (name, attribute)
    }

    /// `bytes:`: bytes (`{ hex: … }`, `{ base64: … }`, `{ file: … }`) the body must equal, or
    /// a mapping of operators on bytes: equals, not_equals, starts_with, ends_with,
    /// contains, not_contains (each with bytes), length (a number or a predicate), empty.
    func bytesPredicate(_ node: Node, _ context: String) -> BytesPredicate? {
        guard case .mapping(let pairs) = node else {
            report("\(context) is bytes ({ hex: … }, { base64: … }, { file: … }) or a mapping of operators, found \(node.kindDescription)", at: node)
            return nil
        }
        if BytesKey.allCases.contains(where: { pairs[$0.rawValue] != nil }) {
            return bytesOperand(node, context).map(BytesPredicate.equals)
        }
        let allowed: [ValuePredicate.Operator] = [.equals, .not_equals, .starts_with, .ends_with, .contains, .not_contains, .length, .empty]
        var parts: [BytesPredicate] = []
        guard let entries = mapping(node, context) else { return nil }
        for entry in entries {
            guard let op = ValuePredicate.Operator(rawValue: entry.key), allowed.contains(op) else {
                let names = allowed.map(\.rawValue) + BytesKey.allCases.map(\.rawValue)
                let hint = nearestName(to: entry.key, among: names).map { "; did you mean '\($0)'?" } ?? " (operators on bytes: \(names.joined(separator: ", ")))"
                report("unknown operator '\(entry.key)' in \(context)\(hint)", at: entry.keyNode)
                return nil
            }
            let what = "'\(op.rawValue)' in \(context)"
            switch op {
            case .length:
                if case .mapping = entry.value {
                    guard let p = predicate(entry.value, kind: .json, what) else { return nil }
                    parts.append(.length(p))
                } else {
                    guard let count = integer(entry.value, what, range: 0...Int.max) else { return nil }
                    parts.append(.length(.equals(.number(JSONNumber(count)))))
                }
            case .empty:
                guard let b = bool(entry.value, what) else { return nil }
                parts.append(.empty(b))
            default:
                guard let bytes = bytesOperand(entry.value, what) else { return nil }
                switch op {
                case .equals: parts.append(.equals(bytes))
                case .not_equals: parts.append(.notEquals(bytes))
                case .starts_with: parts.append(.startsWith(bytes))
                case .ends_with: parts.append(.endsWith(bytes))
                case .contains: parts.append(.contains(bytes))
                default: parts.append(.notContains(bytes))
                }
            }
        }
        if parts.isEmpty {
            report("\(context) has no operator", at: node)
            return nil
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }
}
