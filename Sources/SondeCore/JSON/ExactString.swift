/// A string that compares and hashes by its Unicode scalars, for dictionary keys.
///
/// Swift's `String` compares by canonical equivalence: `"é"` (U+00E9) equals `"e\u{301}"`.
/// A collection or a server that writes one means that one, so caches of what the file says
/// and lookups of what a server sent key by the exact text.
public struct ExactString: Hashable, Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (lhs: ExactString, rhs: ExactString) -> Bool { lhs.text.utf8.elementsEqual(rhs.text.utf8) }

    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Equal scalar for scalar (not by canonical equivalence, as `==` is).
    public func isExactly(_ other: String) -> Bool { utf8.elementsEqual(other.utf8) }
}
