import Foundation
import SondeCore

extension SpecReader {
    /// `body:`: a template (text), or a mapping of `BodyKey`s: `{ file: payload.bin }` (sent
    /// as it is, read when the request is sent), `{ file: order.json, templated: true }` (read
    /// now, its text a template; a `.json` file's strings are templates as in `json:`), or
    /// `{ base64: … }` / `{ hex: … }` (bytes written out).
    func requestBody(_ node: Node, _ label: String) -> RequestBody? {
        guard case .mapping = node else { return template(node, "body of \(label)").map(RequestBody.raw) }
        let context = "body of \(label)"
        guard let fields = keyed(node, BodyKey.self, context) else { return nil }
        var templated = false
        var templatedNode: Node?
        var chosen: (key: BodyKey, node: Node)?
        for (key, _, value) in fields {
            switch key {
            case .templated:
                templated = bool(value, "templated in \(context)") ?? false
                templatedNode = value
            case .file, .base64, .hex:
                if let chosen {
                    report("\(context) takes one of file, base64 and hex, found \(chosen.key.rawValue) and \(key.rawValue)", at: value)
                    return nil
                }
                chosen = (key, value)
            }
        }
        guard let chosen else {
            report("\(context) needs one of file, base64 and hex", at: node)
            return nil
        }
        if templated, chosen.key != .file, let templatedNode {
            report("templated in \(context) applies to a file; \(chosen.key.rawValue) bytes are sent as written", at: templatedNode)
        }
        switch chosen.key {
        case .base64, .hex:
            return literalBytes(chosen.key, chosen.node, context).map(RequestBody.bytes)
        case .templated: return nil
        case .file:
            guard let path = template(chosen.node, "file in \(context)") else { return nil }
            if !path.references.isEmpty { filePathNodes.append((path, chosen.node)) }
            guard templated else {
                if let literalPath = path.literalValue { _ = readableFile(literalPath, at: chosen.node, context) }
                return .file(path)
            }
            // A templated file is read now, so that its templates are checked before anything is sent.
            guard let literalPath = path.literalValue else {
                report("the file of a templated \(context) is read when the collection is loaded: its path cannot be a template", at: chosen.node)
                return nil
            }
            guard let resolved = readableFile(literalPath, at: chosen.node, context, limit: LocalFile.limit), case .success(let data) = LocalFile.contents(atPath: resolved)
            else { return nil }
            guard let text = String(data: data, encoding: .utf8) else {
                report("file '\(literalPath)' for \(context) is not UTF-8 text, so it cannot be templated; leave templated out to send its bytes", at: chosen.node)
                return nil
            }
            let mediaType = MediaType.forFileExtension(URL(fileURLWithPath: literalPath).pathExtension)
            if mediaType == "application/json" {
                let value: JSONValue
                do {
                    value = try JSONValue.parse(text)
                } catch {
                    report("file '\(literalPath)' for \(context) is not JSON: \(error.message) (line \(error.line), column \(error.column) of the file)", at: chosen.node)
                    return nil
                }
                return templateValue(fromJSON: value, file: literalPath, at: chosen.node).map(RequestBody.json)
            }
            do {
                return .templatedFile(try Template(parsing: text), mediaType: mediaType)
            } catch {
                let (line, column) = Self.lineAndColumn(ofScalar: error.offset, in: text)
                report("file '\(literalPath)' for \(context): \(error.message) (line \(line), column \(column) of the file)", at: chosen.node)
                return nil
            }
        }
    }

    /// A JSON document whose strings are templates, as a `json:` body; an error names the
    /// string's place in the document.
    private func templateValue(fromJSON value: JSONValue, file: String, at node: Node) -> TemplateValue? {
        var failed = false
        func convert(_ value: JSONValue, _ path: String) -> TemplateValue {
            switch value {
            case .string(let text):
                do {
                    let template = try Template(parsing: text)
                    if !template.references.isEmpty { recordedTemplates.append((template, YAMLSource.ScalarPosition(node), currentScope)) }
                    return .string(template)
                } catch {
                    report("file '\(file)', at \(path): \(error.message)", at: node)
                    failed = true
                    return .string(Template(literal: text))
                }
            case .array(let items): return .array(items.enumerated().map { convert($0.element, "\(path)[\($0.offset)]") })
            case .object(let object):
                return .object(object.members.map { member in
                    // Keys are templates too, as in `json:`.
                    var key = Template(literal: member.key)
                    switch Result(catching: { () throws(TemplateError) in try Template(parsing: member.key) }) {
                    case .success(let parsed):
                        key = parsed
                        if !parsed.references.isEmpty { recordedTemplates.append((parsed, YAMLSource.ScalarPosition(node), currentScope)) }
                    case .failure(let error):
                        report("file '\(file)', the key at \(path): \(error.message)", at: node)
                        failed = true
                    }
                    return TemplateValue.TemplateMember(key: key, value: convert(member.value, "\(path)['\(member.key)']"))
                })
            default: return TemplateValue(value)
            }
        }
        let converted = convert(value, "$")
        return failed ? nil : converted
    }

    /// The bytes of `{ base64: … }` or `{ hex: … }` (written in the file), or of `{ file: … }`
    /// (read now; its path is not a template), for a `bytes` check.
    func bytesOperand(_ node: Node, _ context: String) -> [UInt8]? {
        guard case .mapping = node else {
            report("\(context) compares with bytes: write { hex: … }, { base64: … } or { file: … }, found \(node.kindDescription)", at: node)
            return nil
        }
        guard let fields = keyed(node, BytesKey.self, context) else { return nil }
        guard fields.count == 1, let (key, _, value) = fields.first else {
            report("\(context) takes exactly one of file, base64 and hex", at: node)
            return nil
        }
        switch key {
        case .base64: return literalBytes(.base64, value, context)
        case .hex: return literalBytes(.hex, value, context)
        case .file:
            guard let path = literal(value, "the file of \(context)"), let resolved = readableFile(path, at: value, context) else { return nil }
            // As large as a response may be (max_body_size): no limit of its own.
            guard case .success(let data) = LocalFile.contents(atPath: resolved, limit: .max) else {
                report("file '\(path)' for \(context) cannot be read (\(resolved))", at: value)
                return nil
            }
            return [UInt8](data)
        }
    }

    /// Bytes written as base64 (RFC 4648 §4, or the URL-safe alphabet of §5; padding and
    /// blanks optional) or hex digits.
    private func literalBytes(_ key: BodyKey, _ node: Node, _ context: String) -> [UInt8]? {
        guard let text = literal(node, "\(key.rawValue) in \(context)") else { return nil }
        if key == .hex {
            switch BytesPredicate.bytes(fromHex: text) {
            case .success(let bytes): return bytes
            case .failure(let bad):
                report("hex in \(context) is not hex bytes: expected pairs of 0-9 and a-f", at: source.location(inside: node, offset: bad.offset, value: text))
                return nil
            }
        }
        var compact = text.filter { !$0.isWhitespace }.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while compact.count % 4 != 0 { compact += "=" }
        guard let data = Data(base64Encoded: compact) else {
            let bad = text.unicodeScalars.firstIndex { !($0.properties.isAlphabetic && $0.isASCII) && !("0"..."9").contains($0) && !"+/-_= \n\t".unicodeScalars.contains($0) }
            let offset = bad.map { text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: $0) } ?? 0
            report("base64 in \(context) is not base64 (RFC 4648)", at: source.location(inside: node, offset: offset, value: text))
            return nil
        }
        return [UInt8](data)
    }

    /// The path resolved, when it names a readable file (not a folder); reported otherwise.
    /// The resolved path of a file a collection names, when it is a regular file (of at most
    /// `limit` bytes); otherwise nil, and reported at `node` (`LocalFile`).
    func readableFile(_ path: String, at node: Node, _ context: String, limit: Int = .max) -> String? {
        let resolved = resolveRelative(path)
        switch LocalFile.problem(atPath: resolved, limit: limit)?.kind {
        case nil: return resolved
        case .missing?: report("file '\(path)' for \(context) cannot be read (looked for \(resolved))", at: node)
        case .folder?: report("file '\(path)' for \(context) is a folder, not a file (\(resolved))", at: node)
        case .notRegular?: report("file '\(path)' for \(context) is not a regular file (a device or a pipe: \(resolved))", at: node)
        case .tooLarge?: report("file '\(path)' for \(context) is larger than \(LocalFile.limit >> 20) MiB (\(resolved))", at: node)
        }
        return nil
    }

    /// The 1-based line and column of a scalar offset in text, for errors inside another file.
    static func lineAndColumn(ofScalar offset: Int, in text: String) -> (Int, Int) {
        var line = 1, column = 1
        for (index, c) in text.unicodeScalars.enumerated() {
            if index >= offset { break }
            if c == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        return (line, column)
    }
}
