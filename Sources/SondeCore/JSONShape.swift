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
        var found: [String: Set<String>] = [:]
        Self.walk(document, path: "$", into: &found)
        types = found.mapValues { $0.sorted().joined(separator: "|") }
    }

    private static func walk(_ value: JSONValue, path: String, into found: inout [String: Set<String>]) {
        found[path, default: []].insert(typeName(value))
        switch value {
        case .object(let object):
            for member in object.members { walk(member.value, path: path + segment(member.key), into: &found) }
        case .array(let items):
            let elements = path + "[*]"
            for item in items { walk(item, path: elements, into: &found) }
        default:
            break
        }
    }

    private static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// `.name` for plain names, `['odd key']` otherwise, as JSONPath writes them.
    private static func segment(_ key: String) -> String {
        let plain = !key.isEmpty && key.unicodeScalars.enumerated().allSatisfy { index, scalar in
            scalar == "_" || (scalar.isASCII && (scalar.properties.isAlphabetic || (index > 0 && ("0"..."9").contains(scalar))))
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

    /// What changed from `old` to `self`.
    public func changes(since old: JSONShape) -> ShapeChanges {
        var changes = ShapeChanges()
        for (path, type) in types {
            if let was = old.types[path] {
                if was != type { changes.retyped.append(.init(path: path, old: was, new: type)) }
            } else {
                changes.added.append(path)
            }
        }
        changes.removed = old.types.keys.filter { types[$0] == nil }
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
