import Foundation

/// A string that compares and hashes by its Unicode scalars, for dictionary keys.
///
/// Swift's `String` compares by canonical equivalence: `"é"` (U+00E9) equals `"e\u{301}"`.
/// A collection or a server that writes one means that one, so caches of what the file says
/// and lookups of what a server sent key by the exact text.
public struct ExactString: Hashable, Sendable {
    public let text: String

    public init(_ text: String) { self.text = text }

    public static func == (lhs: ExactString, rhs: ExactString) -> Bool { lhs.text.isExactly(rhs.text) }

    public func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}

extension String {
    /// Equal scalar for scalar (not by canonical equivalence, as `==` is).
    public func isExactly(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        // Native strings compare as one block of bytes; others byte by byte.
        let compared = utf8.withContiguousStorageIfAvailable { left in
            other.utf8.withContiguousStorageIfAvailable { right in
                left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0
            }
        }
        return (compared ?? nil) ?? utf8.elementsEqual(other.utf8)
    }
}

extension StringProtocol {
    /// Whether the text is empty or only blanks: tabs and Unicode's space separators, what
    /// Foundation's `CharacterSet.whitespaces` holds.
    public var isBlank: Bool {
        unicodeScalars.allSatisfy { $0 == "\t" || $0.properties.generalCategory == .spaceSeparator }
    }

    /// Where `needle` first stands, compared byte for byte in UTF-8; nil if it does not, or is
    /// empty. Foundation's `range(of:)` goes through NSString and compares by canonical
    /// equivalence: on a URL it cost thirty times as much.
    public func firstRange(ofExactly needle: String) -> Range<String.Index>? {
        var needle = needle
        let offset: Int? = needle.withUTF8 { pattern in
            // Text not stored as contiguous UTF-8 is searched in a copy.
            utf8.withContiguousStorageIfAvailable { ExactSearch.offset(of: pattern, in: $0) } ?? {
                var copy = String(self)
                return copy.withUTF8 { ExactSearch.offset(of: pattern, in: $0) }
            }()
        }
        guard let offset else { return nil }
        let start = utf8.index(utf8.startIndex, offsetBy: offset)
        return start..<utf8.index(start, offsetBy: needle.utf8.count)
    }
}

/// Byte search for `firstRange(ofExactly:)`.
enum ExactSearch {
    static func offset(of pattern: UnsafeBufferPointer<UInt8>, in text: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let needle = pattern.baseAddress, let haystack = text.baseAddress, pattern.count > 0, pattern.count <= text.count else { return nil }
        let first = Int32(pattern[0])
        var from = 0
        let lastStart = text.count - pattern.count
        while from <= lastStart, let found = memchr(haystack + from, first, lastStart - from + 1) {
            let offset = UnsafeRawPointer(haystack).distance(to: UnsafeRawPointer(found))
            if memcmp(haystack + offset, needle, pattern.count) == 0 { return offset }
            from = offset + 1
        }
        return nil
    }
}
