extension JSONValue {
    /// The document without the nodes at these locations (as a JSONPath query gives them):
    /// members removed from their objects, items from their arrays. A location that names no
    /// node, or the root itself, removes nothing.
    public func removing(_ locations: [NormalizedPath]) -> JSONValue {
        var copy = self
        // Deeper and later locations first, so that removing one never moves another.
        for location in locations.sorted(by: { Self.removesFirst($0.elements, $1.elements) }) where !location.elements.isEmpty {
            copy.remove(location.elements[...])
        }
        return copy
    }

    private mutating func remove(_ path: ArraySlice<NormalizedPath.Element>) {
        guard let first = path.first else { return }
        let rest = path.dropFirst()
        switch (self, first) {
        case (.object(var object), .name(let name)):
            guard var child = object[name] else { return }
            if rest.isEmpty {
                object[name] = nil
            } else {
                child.remove(rest)
                object[name] = child
            }
            self = .object(object)
        case (.array(var items), .index(let index)) where items.indices.contains(index):
            if rest.isEmpty {
                items.remove(at: index)
            } else {
                items[index].remove(rest)
            }
            self = .array(items)
        default: return
        }
    }

    /// Orders locations so that a child comes before its parent and a later item before an
    /// earlier one of the same array.
    private static func removesFirst(_ a: [NormalizedPath.Element], _ b: [NormalizedPath.Element]) -> Bool {
        for (x, y) in zip(a, b) where x != y {
            switch (x, y) {
            case (.index(let i), .index(let j)): return i > j
            case (.name(let m), .name(let n)): return Array(m.unicodeScalars.map(\.value)).lexicographicallyPrecedes(n.unicodeScalars.map(\.value))
            case (.index, .name): return true
            case (.name, .index): return false
            }
        }
        return a.count > b.count
    }
}
