/// The structure of a JSON document without its values: every `path: type` pair, arrays
/// collapsed to `[*]`, so that two responses with the same fields compare equal even when
/// their values and lengths differ.
///
/// An array whose elements differ in type gives that path every type, joined by `|`
/// (`$.items[*].ready: boolean|null`). Integers and decimals are both `number`, so a
/// latency of 1 then 1.5 is not a change of shape.
public struct JSONShape: Sendable, Equatable {
    /// Path to type names, sorted and joined by `|`.
    public private(set) var types: [String: String]

    public init(types: [String: String]) {
        self.types = types
    }

    public init(of document: JSONValue) {
        var walker = Walker()
        walker.walk(document, 0)
        var types: [String: String] = [:]
        for (id, path) in walker.paths.enumerated() {
            types[path] = Self.names.enumerated().filter { walker.types[id] & (1 << $0.offset) != 0 }.map(\.element).sorted().joined(separator: "|")
        }
        self.types = types
    }

    private static let names = ["null", "boolean", "number", "string", "array", "object"]

    /// The type of a path that `diff: { ignore: … }` left out: neither its change nor
    /// anything under it is a change of shape, whichever run ignored it.
    public static let ignored = "ignored"

    /// The shape of `document`, which is a body without the nodes at `ignored` (those
    /// `diff: { ignore: … }` selected): each of their paths that no other node has is `ignored`.
    public init(of document: JSONValue, ignored locations: [NormalizedPath]) {
        self.init(of: document)
        for location in locations {
            let path = location.elements.reduce("$") { path, element in
                switch element {
                case .name(let key): path + Self.segment(key)
                case .index: path + "[*]"
                }
            }
            if types[path] == nil { types[path] = Self.ignored }
        }
    }

    /// Paths as numbers while walking: a 5 MB list repeats the same few paths 41,000 times,
    /// so each is spelled once and found again by (parent, key).
    private struct Walker {
        var paths = ["$"]
        var types: [UInt8] = [0]
        var members: [Int: [String: Int]] = [:]
        var elements: [Int: Int] = [:]

        mutating func add(_ path: String) -> Int {
            paths.append(path)
            types.append(0)
            return paths.count - 1
        }

        mutating func walk(_ value: JSONValue, _ id: Int) {
            switch value {
            case .null: types[id] |= 1
            case .bool: types[id] |= 2
            case .number: types[id] |= 4
            case .string: types[id] |= 8
            case .array(let items):
                types[id] |= 16
                guard !items.isEmpty else { return }
                let element: Int
                if let known = elements[id] {
                    element = known
                } else {
                    element = add(paths[id] + "[*]")
                    elements[id] = element
                }
                for item in items { walk(item, element) }
            case .object(let object):
                types[id] |= 32
                for member in object.members {
                    let memberID: Int
                    if let known = members[id]?[member.key] {
                        memberID = known
                    } else {
                        memberID = add(paths[id] + JSONShape.segment(member.key))
                        members[id, default: [:]][member.key] = memberID
                    }
                    walk(member.value, memberID)
                }
            }
        }
    }

    /// `.name` for plain names, `['odd key']` otherwise, as JSONPath writes them.
    static func segment(_ key: String) -> String {
        let plain = !key.isEmpty && key.utf8.enumerated().allSatisfy { index, byte in
            byte == UInt8(ascii: "_") || (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (index > 0 && byte >= 48 && byte <= 57)
        }
        if plain { return "." + key }
        var escaped = ""
        for character in key {
            switch character {
            case "'": escaped += "\\'"
            case "\\": escaped += "\\\\"
            default: escaped.append(character)
            }
        }
        return "['" + escaped + "']"
    }

    /// One `path: type` line per path, sorted: what is stored and hashed.
    public var text: String {
        types.keys.sorted().map { "\($0): \(types[$0] ?? "")" }.joined(separator: "\n")
    }

    /// Reads `text` back.
    public init(text: String) {
        var types: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.range(of: ": ", options: .backwards) else { continue }
            types[String(line[..<colon.lowerBound])] = String(line[colon.upperBound...])
        }
        self.types = types
    }

    /// What changed from `old` to `self`. A path either shape marks `ignored`, and every path
    /// under it, is no change.
    public func changes(since old: JSONShape) -> ShapeChanges {
        var changes = ShapeChanges()
        let ignored = Set(types.filter { $0.value == Self.ignored }.keys).union(old.types.filter { $0.value == Self.ignored }.keys)
        func isIgnored(_ path: String) -> Bool {
            ignored.contains { path == $0 || (path.hasPrefix($0) && (path.dropFirst($0.count).first == "." || path.dropFirst($0.count).first == "[")) }
        }
        for (path, type) in types where !isIgnored(path) {
            if let was = old.types[path] {
                if was != type { changes.retyped.append(.init(path: path, old: was, new: type)) }
            } else {
                changes.added.append(path)
            }
        }
        changes.removed = old.types.keys.filter { types[$0] == nil && !isIgnored($0) }
        changes.added.sort()
        changes.removed.sort()
        changes.retyped.sort { $0.path < $1.path }
        return changes
    }
}

/// Paths added, removed and retyped between two shapes, each sorted.
public struct ShapeChanges: Sendable, Equatable {
    public struct Retyped: Sendable, Equatable {
        public var path: String
        public var old: String
        public var new: String

        public init(path: String, old: String, new: String) {
            self.path = path
            self.old = old
            self.new = new
        }
    }

    public var added: [String]
    public var removed: [String]
    public var retyped: [Retyped]

    public init(added: [String] = [], removed: [String] = [], retyped: [Retyped] = []) {
        self.added = added
        self.removed = removed
        self.retyped = retyped
    }

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && retyped.isEmpty }
}
