import Foundation
import SondeCore

/// Walks a YAML tree into model values, collecting every problem instead of stopping at the first.
final class SpecReader {
    let source: YAMLSource
    private(set) var diagnostics: [Diagnostic] = []

    /// Which names a template may read depends on where it stands.
    enum TemplateScope: Equatable {
        case collection
        /// A variable's value (`vars`): rendered when the collection is loaded, which reports
        /// what it cannot read.
        case variables
        /// In request `index`; `inExpect` when in its expectations, which may read its own captures.
        case request(index: Int, inExpect: Bool)
        /// In the `with:` of include `index` (of `includes`).
        case include(index: Int)
        /// In `defaults`, which every request of the file takes: a capture they read must be
        /// taken before the file's first request (by a setup step or an include).
        case defaults
    }

    var currentScope: TemplateScope = .collection
    /// Every template read that reads a variable, with where it stands, for the check of names.
    var recordedTemplates: [(template: Template, position: YAMLSource.ScalarPosition, scope: TemplateScope)] = []
    var secretNodes: [(name: String, node: Node)] = []
    /// The templates that name a file to read (a multipart part's `file`), which no response may choose.
    var filePathNodes: [(template: Template, node: Node)] = []
    /// Templates and JSONPaths already parsed, by text: large collections repeat the same
    /// few thousands of times. Only successes are kept; a failure is parsed again, so that
    /// each occurrence is reported at its own position.
    var parsedTemplates: [ExactString: Template] = [:]
    var parsedPaths: [ExactString: JSONPath] = [:]

    /// The collection as it is read (`collection(_:)`, `requestSink`). Stored, not lazy: a
    /// lazy property is mutated by a copy, and its requests are appended one by one.
    var collection: CollectionSpec
    /// The root's pairs already read, before `requests` when its items were streamed.
    var readPairs = 0
    var streamedRequests = 0
    var defaultsNode: Node?
    var requestsNode: Node?
    var collectionHasBaseURL = false
    /// The keys each request of `collection` sets itself, in order.
    var requestKeys: [RequestKey.Set] = []
    /// Each request's name, with the line it is written on.
    var requestNames: [String: Int] = [:]
    /// Relative URLs read before `base_url` was: reported if the collection has none.
    var relativeURLs: [Diagnostic] = []
    /// The data files its loops read, each with the SHA-256 of its bytes: part of what the
    /// collection's recorded hash covers.
    var dataDigests: [(file: String, digest: String)] = []
    /// Of an included file without `base_url`: its relative URLs, for the including one.
    var unresolvedRelativeURLs: [Diagnostic] = []
    /// The file is read to be included: its relative URLs take the including one's base URL,
    /// and it has no `setup` or `teardown` of its own.
    var isIncluded = false
    /// The phase of each request of `collection.requests` while the file is read (every phase
    /// in one list, in the order read); `collection(_:)` sorts them out.
    var requestPhases: [Phase] = []
    /// The includes read, in order, with their phases.
    var includes: [(phase: Phase, include: Include)] = []
    /// Every step in the order read: a request's or an include's index, and its phase.
    var stepOrder: [(phase: Phase, isInclude: Bool, index: Int)] = []
    /// Once read: every request of every phase (as `.request(index:)` scopes count them), and
    /// each request's and include's rank in the order the steps run.
    var allRequests: [RequestSpec] = []
    var requestRanks: [Int] = []
    var includeRanks: [Int] = []
    /// `exports:` items, for the loader to check that the file captures them.
    var exportNodes: [(name: String, node: Node)] = []
    /// Each include's `with:` and path nodes, by the include's index, for messages.
    var withNodes: [Int: Node] = [:]
    var includePathNodes: [Int: Node] = [:]

    init(source: YAMLSource) {
        self.source = source
        collection = CollectionSpec(
            name: URL(fileURLWithPath: source.file).deletingPathExtension().lastPathComponent, file: source.file,
            location: SourceLocation(file: source.file, line: 1, column: 1))
    }

    var file: String { source.file }

    func report(_ message: String, at node: Node, length: Int? = nil) {
        diagnostics.append(Diagnostic(message, at: source.location(of: node), length: length ?? node.spanLength))
    }

    func report(_ message: String, at location: SourceLocation, length: Int = 1) {
        diagnostics.append(Diagnostic(message, at: location, length: length))
    }

    func report(_ diagnostic: Diagnostic) { diagnostics.append(diagnostic) }

    // MARK: Structure

    /// The pairs of a mapping with string keys; reports (and returns nil for) anything else.
    func mapping(_ node: Node, _ what: String) -> [(key: String, keyNode: Node, value: Node)]? {
        guard case .mapping(let mapping) = node else {
            report("\(what) must be a mapping, found \(node.kindDescription)", at: node)
            return nil
        }
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report("keys in \(what) must be plain names, found \(keyNode.kindDescription)", at: keyNode)
                continue
            }
            pairs.append((scalar.string, keyNode, value))
        }
        return pairs
    }

    /// A mapping whose keys must all be one of `Key`'s cases; unknown keys are reported with the nearest valid one.
    func keyed<Key: RawRepresentable & CaseIterable>(
        _ node: Node, _ keys: Key.Type, _ what: String
    ) -> [(key: Key, keyNode: Node, value: Node)]? where Key.RawValue == String {
        guard let pairs = mapping(node, what) else { return nil }
        var out: [(key: Key, keyNode: Node, value: Node)] = []
        for pair in pairs {
            if let key = Key(rawValue: pair.key) {
                out.append((key, pair.keyNode, pair.value))
            } else {
                reportUnknownKey(pair.key, at: pair.keyNode, in: what, valid: Key.allCases.map(\.rawValue))
            }
        }
        return out
    }

    func reportUnknownKey(_ key: String, at node: Node, in what: String, valid: [String]) {
        if let suggestion = nearestName(to: key, among: valid) {
            report("unknown key '\(key)' in \(what); did you mean '\(suggestion)'?", at: node)
        } else {
            report("unknown key '\(key)' in \(what); valid keys: \(valid.joined(separator: ", "))", at: node)
        }
    }

    func sequence(_ node: Node, _ what: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report("\(what) must be a list, found \(node.kindDescription)", at: node)
            return nil
        }
        return Array(sequence)
    }

    // MARK: Scalars

    func string(_ node: Node, _ what: String) -> String? {
        guard case .scalar(let scalar) = node else {
            report("\(what) must be a string, found \(node.kindDescription)", at: node)
            return nil
        }
        return scalar.string
    }

    func bool(_ node: Node, _ what: String) -> Bool? {
        if case .scalar(let scalar) = node, case .bool(let value) = YAMLScalarValue(scalar) { return value }
        report("\(what) must be true or false, found \(describe(node))", at: node)
        return nil
    }

    func integer(_ node: Node, _ what: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, case .int(let value) = YAMLScalarValue(scalar) else {
            report("\(what) must be a whole number, found \(describe(node))", at: node)
            return nil
        }
        if let range, !range.contains(Int(value)) {
            report("\(what) must be between \(range.lowerBound) and \(range.upperBound), found \(value)", at: node)
            return nil
        }
        return Int(value)
    }

    /// A duration, at most `RequestSpec.longestWait` (a day): a longer one is a mistake, and
    /// too large for the clock libcurl counts in.
    /// A timeout: a duration that is more than zero (`0s` would fail every request at once).
    func timeout(_ node: Node, _ what: String) -> TimeSpan? {
        guard let span = timeSpan(node, what) else { return nil }
        guard span.milliseconds > 0 else {
            report("\(what) is \(describe(node)): a timeout must be more than 0 (leave it out for the default, 30s)", at: node)
            return nil
        }
        return span
    }

    func timeSpan(_ node: Node, _ what: String) -> TimeSpan? {
        guard case .scalar(let scalar) = node, let span = TimeSpan(parsing: scalar.string) else {
            report("bad duration \(describe(node)) for \(what): write a number and a unit, e.g. 250ms, 2s, 1m", at: node)
            return nil
        }
        guard span <= RequestSpec.longestWait else {
            report("\(what) is \(describe(node)), longer than \(RequestSpec.longestWait) (the longest a collection may wait)", at: node)
            return nil
        }
        return span
    }

    /// A size in bytes: `512`, `10MB`, `64KiB`.
    func byteSize(_ node: Node, _ what: String) -> ByteSize? {
        guard case .scalar(let scalar) = node, let size = ByteSize(parsing: scalar.string), size.bytes > 0 else {
            report("bad size \(describe(node)) for \(what): write a whole number of bytes and a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. 512KiB, 10MB, 1GiB", at: node)
            return nil
        }
        return size
    }

    func describe(_ node: Node) -> String {
        if case .scalar(let scalar) = node { return "'\(scalar.string)'" }
        return "(\(node.kindDescription))"
    }

    // MARK: Templates

    /// A string scalar as a template; parse errors are reported at the spot in the file.
    func template(_ node: Node, _ what: String) -> Template? {
        guard case .scalar(let scalar) = node else {
            report("\(what) must be a string, found \(node.kindDescription)", at: node)
            return nil
        }
        return template(scalar.string, at: node)
    }

    func template(_ text: String, at node: Node) -> Template? {
        do {
            let template: Template
            if let known = parsedTemplates[ExactString(text)] {
                template = known
            } else {
                template = try Template(parsing: text)
                parsedTemplates[ExactString(text)] = template
            }
            if !template.references.isEmpty { recordedTemplates.append((template, YAMLSource.ScalarPosition(node), currentScope)) }
            return template
        } catch {
            report(error.message, at: source.location(inside: node, offset: error.offset, value: text), length: error.length)
            return nil
        }
    }

    /// Reports `{{` where text is not a template (a request's name, a JSONPath, a regex, a
    /// header name to check): it would be taken literally, which is never what was meant.
    /// Returns false when it reported.
    @discardableResult
    func rejectTemplate(_ text: String, at node: Node, _ what: String) -> Bool {
        guard let braces = text.firstRange(ofExactly: "{{") else { return true }
        let offset = text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: braces.lowerBound)
        report("\(what) is not a template: '{{' here would be taken as two literal braces",
            at: source.location(inside: node, offset: offset, value: text), length: 2)
        return false
    }

    /// A string that is not a template; nil, reported, when it holds `{{` (`rejectTemplate`).
    func literal(_ node: Node, _ what: String) -> String? {
        guard let text = string(node, what), rejectTemplate(text, at: node, what) else { return nil }
        return text
    }

    /// Any YAML value as a JSON-shaped value whose strings may hold templates.
    func templateValue(_ node: Node) -> TemplateValue? {
        switch node {
        case .scalar(let scalar):
            if case .double(let d) = YAMLScalarValue(scalar), !d.isFinite {
                report("'\(scalar.string)' is a YAML number JSON cannot hold; quote it for the text", at: node)
                return nil
            }
            if case .badTag(let tag, let text) = YAMLScalarValue(scalar) {
                report("\(JSONValue.quoted(text)) cannot be read as \(tag) (YAML tags: !!str, !!int, !!float, !!bool, !!null)", at: node)
                return nil
            }
            switch YAMLScalarValue(scalar).json {
            case .string(let s): return template(s, at: node).map(TemplateValue.string)
            case .bool(let b): return .bool(b)
            case .number(let n): return .number(n)
            default: return .null
            }
        case .sequence(let sequence):
            var items: [TemplateValue] = []
            var ok = true
            for item in sequence {
                if let value = templateValue(item) { items.append(value) } else { ok = false }
            }
            return ok ? .array(items) : nil
        case .mapping(let mapping):
            var members: [TemplateValue.TemplateMember] = []
            var ok = true
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    report("keys must be strings, found \(key.kindDescription)", at: key)
                    ok = false
                    continue
                }
                let name = template(keyScalar.string, at: key)
                if let name, let converted = templateValue(value) {
                    members.append(.init(key: name, value: converted))
                } else {
                    ok = false
                }
            }
            return ok ? .object(members) : nil
        case .alias:
            report("YAML aliases are not supported here", at: node)
            return nil
        }
    }

    /// A YAML value as plain JSON (a schema, say): no templates.
    func jsonValue(_ node: Node) -> JSONValue? {
        switch node {
        case .scalar(let scalar):
            return YAMLScalarValue(scalar).json
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for item in sequence {
                guard let value = jsonValue(item) else { return nil }
                items.append(value)
            }
            return .array(items)
        case .mapping(let mapping):
            var object = JSONObject()
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key, let converted = jsonValue(value) else { return nil }
                object.append(keyScalar.string, converted)
            }
            return .object(object)
        case .alias:
            return nil
        }
    }

    /// A name usable in `{{ }}`: letters, digits, `_` and `-`, not starting with a digit.
    func isValidVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "-") }
            && name != "env"
    }
}

extension Node {
    /// How many characters to underline for this node: a scalar's text on its first line, else 1.
    var spanLength: Int {
        guard case .scalar(let scalar) = self else { return 1 }
        let firstLine = scalar.string.split(separator: "\n", omittingEmptySubsequences: false).first ?? ""
        let quotes = (scalar.style == .singleQuoted || scalar.style == .doubleQuoted) ? 2 : 0
        return max(1, firstLine.unicodeScalars.count + quotes)
    }
}
