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
            for (key, _, value) in fields {
                switch key {
                case .jsonpath:
                    sourceCount += 1
                    if let text = string(value, "jsonpath in \(context)"), let path = jsonPath(text, at: value, context) {
                        captureSource = .jsonpath(path)
                    }
                case .header:
                    sourceCount += 1
                    if let name = literal(value, "the header name in \(context)") { captureSource = .header(name) }
                case .cookie:
                    sourceCount += 1
                    if let name = literal(value, "the cookie name in \(context)") { captureSource = .cookie(name) }
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
                report("\(context) takes exactly one of jsonpath, header, cookie, regex, status, duration, url", at: pair.value)
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
            if let captureSource { out.append(Capture(name: pair.key, source: captureSource, secret: secret, location: location)) }
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
            case .headers:
                guard let headers = mapping(value, "expect.headers of \(label)") else { continue }
                for header in headers {
                    rejectTemplate(header.key, at: header.keyNode, "a header name to check")
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
        guard let data = FileManager.default.contents(atPath: resolved) else {
            report("schema file '\(path)' for \(label) does not exist (looked for \(resolved))", at: node)
            return nil
        }
        if let json = try? JSONValue.parse([UInt8](data)) { return json }
        if let text = String(data: data, encoding: .utf8), let root = try? YAMLComposer.compose(text), let value = jsonValue(root) {
            return value
        }
        report("schema file '\(path)' for \(label) is neither JSON nor YAML", at: node)
        return nil
    }
}
