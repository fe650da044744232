import CYaml
import SondeCore

/// A YAML node as the reader walks it, with the position it was written at.
///
/// Composed by `YAMLComposer` from libyaml's events (libyaml is the parser Yams wraps),
/// so that what a file can make Sonde do is bounded here: how deep it nests, how far its
/// aliases expand, and which keys are duplicates (compared code point for code point).
indirect enum Node {
    case scalar(Scalar)
    case mapping(Mapping)
    case sequence(Sequence)
    /// Never composed (aliases are expanded, within bounds); kept so that readers say so if one comes.
    case alias

    /// 1-based line and column (in Unicode scalars), as libyaml counts them.
    struct Mark: Sendable, Equatable {
        var line: Int
        var column: Int
    }

    struct Scalar {
        var string: String
        /// The explicit tag (`tag:yaml.org,2002:str` for `!!str`), `!`, or empty.
        var tag: Tag
        var style: Style
        var mark: Mark?

        init(_ string: String, _ tag: Tag = Tag(rawValue: ""), _ style: Style = .plain, _ mark: Mark? = nil) {
            self.string = string
            self.tag = tag
            self.style = style
            self.mark = mark
        }

        enum Style: Equatable {
            case any, plain, singleQuoted, doubleQuoted, literal, folded
        }

        struct Tag: Equatable {
            var rawValue: String
            static let implicit = Tag(rawValue: "")
        }
    }

    /// A mapping's pairs in document order, with lookup of a plain key by its text.
    struct Mapping: RandomAccessCollection {
        var pairs: [(key: Node, value: Node)]
        var mark: Mark?

        var startIndex: Int { pairs.startIndex }
        var endIndex: Int { pairs.endIndex }
        subscript(position: Int) -> (key: Node, value: Node) { pairs[position] }

        /// The mapping without the pairs whose key is the scalar `key`.
        func removing(key: String) -> Mapping {
            var copy = self
            copy.pairs = pairs.filter { pair in
                if case .scalar(let scalar) = pair.key { return !scalar.string.isExactly(key) }
                return true
            }
            return copy
        }

        /// The value of the last pair whose key is the scalar `key`.
        subscript(key: String) -> Node? {
            pairs.last { pair in
                if case .scalar(let scalar) = pair.key { return scalar.string.isExactly(key) }
                return false
            }?.value
        }
    }

    struct Sequence: RandomAccessCollection {
        var nodes: [Node]
        var mark: Mark?

        var startIndex: Int { nodes.startIndex }
        var endIndex: Int { nodes.endIndex }
        subscript(position: Int) -> Node { nodes[position] }
    }

    var mark: Mark? {
        switch self {
        case .scalar(let scalar): return scalar.mark
        case .mapping(let mapping): return mapping.mark
        case .sequence(let sequence): return sequence.mark
        case .alias: return nil
        }
    }
}

/// Why a YAML text could not be composed, and where.
struct YAMLError: Error {
    var message: String
    var mark: Node.Mark
    var length = 1
}

/// Composes the first document of a YAML text into `Node`s, on libyaml's event API.
///
/// Bounded on every input: nesting deeper than `maxDepth` and aliases that would expand to
/// more than `maxAliasExpansion` nodes ("billion laughs") are errors; nodes are built with a
/// stack of their own, never by recursion. Duplicate keys in a mapping are errors, keys
/// compared code point for code point (`é` as one code point and as two are two keys).
enum YAMLComposer {
    static let maxDepth = 200
    static let maxAliasExpansion = 100_000

    /// A node being built: a class, so that adding a child mutates it in place (an enum
    /// frame popped and pushed back would copy its children once per child).
    private final class Frame {
        let isMapping: Bool
        var pairs: [(key: Node, value: Node)] = []
        var nodes: [Node] = []
        var pendingKey: Node?
        /// The scalar keys so far: compared one by one while there are few (most mappings
        /// have fewer than a dozen), hashed beyond that.
        private var keys: [String] = []
        private var keySet: Set<ExactString>?

        /// Adds a key; false if the mapping has it already (the same code points).
        func insertKey(_ key: String) -> Bool {
            if keySet == nil {
                if keys.contains(where: { $0.isExactly(key) }) { return false }
                keys.append(key)
                if keys.count > 16 { keySet = Set(keys.map(ExactString.init)) }
                return true
            }
            return keySet!.insert(ExactString(key)).inserted
        }
        let mark: Node.Mark
        let anchor: String?
        /// Items handed to an `ItemSink` instead of kept in `nodes`.
        var streamed = 0
        /// The nodes this one stands for, aliases expanded.
        var size = 1

        init(isMapping: Bool, mark: Node.Mark, anchor: String?) {
            self.isMapping = isMapping
            self.mark = mark
            self.anchor = anchor
        }
    }

    /// Where the items of a top-level sequence go as each is composed, instead of into the tree.
    struct ItemSink {
        /// The key of the root mapping whose sequence is streamed (`requests`).
        var key: String
        /// Called with each item, its index, and the root mapping's pairs before the key.
        /// The sequence's node in the tree is left empty, and `streamed` says how many went here.
        var take: (_ item: Node, _ index: Int, _ preceding: [(key: Node, value: Node)]) -> Void
    }

    /// The first document's root, or nil for an empty stream. With a `sink`, the items of the
    /// root mapping's `sink.key` sequence are handed over one by one and never held together
    /// (unless the sequence has an anchor, which an alias could copy): a collection of
    /// 20,000 requests is never one tree.
    static func compose(_ text: String, sink: ItemSink? = nil) throws(YAMLError) -> Node? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(message: "libyaml could not start", mark: .init(line: 1, column: 1)) }
        defer { yaml_parser_delete(&parser) }
        var text = text
        // libyaml reads the string's own UTF-8 bytes: no copy of a large file.
        let composed = text.withUTF8 { buffer -> Result<Node?, YAMLError> in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            do throws(YAMLError) { return .success(try compose(&parser, sink: sink)) } catch { return .failure(error) }
        }
        return try composed.get()
    }

    private static func compose(_ parser: inout yaml_parser_t, sink: ItemSink?) throws(YAMLError) -> Node? {
        var stack: [Frame] = []
        var anchors: [String: (node: Node, size: Int)] = [:]
        var expansion = 0
        var root: Node?
        var documents = 0

        /// Adds a finished node to its parent (or makes it the root); checks duplicate keys.
        func attach(_ node: Node, size: Int) throws(YAMLError) {
            guard let top = stack.last else {
                root = node
                return
            }
            top.size += size
            guard top.isMapping else {
                if let sink, stack.count == 2, top.anchor == nil, stack[0].isMapping, case .scalar(let key)? = stack[0].pendingKey,
                    key.string.isExactly(sink.key)
                {
                    sink.take(node, top.streamed, stack[0].pairs)
                    top.streamed += 1
                    return
                }
                top.nodes.append(node)
                return
            }
            if let key = top.pendingKey {
                top.pairs.append((key, node))
                top.pendingKey = nil
            } else {
                if case .scalar(let scalar) = node, !top.insertKey(scalar.string) {
                    throw YAMLError(message: "duplicate key '\(scalar.string)' in a mapping", mark: scalar.mark ?? top.mark, length: max(1, scalar.string.count))
                }
                top.pendingKey = node
            }
        }

        while true {
            var event = yaml_event_t()
            guard yaml_parser_parse(&parser, &event) == 1 else { throw error(parser) }
            defer { yaml_event_delete(&event) }
            let mark = Node.Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return root
            case YAML_DOCUMENT_START_EVENT:
                documents += 1
                if documents > 1 { throw YAMLError(message: "a collection is one YAML document; this is a second one (after ---)", mark: mark) }
            case YAML_SCALAR_EVENT:
                let scalarEvent = event.data.scalar
                let value = string(scalarEvent.value, Int(scalarEvent.length))
                let tag = scalarEvent.tag.map { String(cString: $0) } ?? ""
                let style: Node.Scalar.Style
                switch scalarEvent.style {
                case YAML_PLAIN_SCALAR_STYLE: style = .plain
                case YAML_SINGLE_QUOTED_SCALAR_STYLE: style = .singleQuoted
                case YAML_DOUBLE_QUOTED_SCALAR_STYLE: style = .doubleQuoted
                case YAML_LITERAL_SCALAR_STYLE: style = .literal
                case YAML_FOLDED_SCALAR_STYLE: style = .folded
                default: style = .any
                }
                let node = Node.scalar(Node.Scalar(value, Node.Scalar.Tag(rawValue: tag), style, mark))
                if let anchor = scalarEvent.anchor.map({ String(cString: $0) }) { anchors[anchor] = (node, 1) }
                try attach(node, size: 1)
            case YAML_SEQUENCE_START_EVENT:
                guard stack.count < maxDepth else { throw YAMLError(message: "the document nests deeper than \(maxDepth) levels", mark: mark) }
                stack.append(Frame(isMapping: false, mark: mark, anchor: event.data.sequence_start.anchor.map { String(cString: $0) }))
            case YAML_MAPPING_START_EVENT:
                guard stack.count < maxDepth else { throw YAMLError(message: "the document nests deeper than \(maxDepth) levels", mark: mark) }
                stack.append(Frame(isMapping: true, mark: mark, anchor: event.data.mapping_start.anchor.map { String(cString: $0) }))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let frame = stack.popLast() else { break }
                let node: Node = frame.isMapping ? .mapping(Node.Mapping(pairs: frame.pairs, mark: frame.mark)) : .sequence(Node.Sequence(nodes: frame.nodes, mark: frame.mark))
                if let anchor = frame.anchor { anchors[anchor] = (node, frame.size) }
                try attach(node, size: frame.size)
            case YAML_ALIAS_EVENT:
                let name = String(cString: event.data.alias.anchor)
                guard let target = anchors[name] else { throw YAMLError(message: "the alias *\(name) names no anchor before it", mark: mark) }
                // Each use of an alias stands for a copy of its node: bounded, so that a few
                // hundred bytes cannot stand for a billion nodes.
                expansion += target.size
                if expansion > maxAliasExpansion {
                    throw YAMLError(message: "aliases expand to more than \(maxAliasExpansion) nodes (*\(name) and the aliases before it)", mark: mark)
                }
                try attach(target.node, size: target.size)
            default:
                break
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<UInt8>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return String(decoding: UnsafeBufferPointer(start: pointer, count: length), as: UTF8.self)
    }

    /// libyaml's problem, at its mark.
    private static func error(_ parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        var message = "invalid YAML: \(problem)"
        if let context = parser.context.map({ String(cString: $0) }) {
            message += " (\(context) at line \(parser.context_mark.line + 1))"
        }
        let mark: Node.Mark
        if parser.error == YAML_READER_ERROR {
            // A reader error has an offset, not a line: the caller turns it into one.
            mark = Node.Mark(line: -1, column: Int(parser.problem_offset))
        } else {
            mark = Node.Mark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
        }
        return YAMLError(message: message, mark: mark)
    }
}
