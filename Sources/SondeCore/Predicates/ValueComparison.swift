/// A value as a check compares it: JSON, which keeps its type, or text as HTTP carries it
/// (a header, a cookie, the raw body, a regex capture, the final URL).
public enum Operand: Sendable, Hashable {
    case json(JSONValue)
    case text(String)

    /// The value as JSON: text is a JSON string.
    public var json: JSONValue {
        switch self {
        case .json(let value): return value
        case .text(let text): return .string(text)
        }
    }

    /// The text of a string or of text; nil for other JSON types.
    public var string: String? {
        switch self {
        case .json(.string(let s)), .text(let s): return s
        case .json: return nil
        }
    }

    /// How messages name its type: JSON's names, and `text` for text.
    public var typeName: String {
        switch self {
        case .json(let value): return value.typeName
        case .text: return "text"
        }
    }
}

/// How checks compare values: the rules of `docs/collections.md`, "Comparing values".
///
/// - JSON against JSON compares with the JSON types: a string never equals a number or a
///   boolean, even when their texts match. Numbers compare by value (`1` equals `1.0`, as
///   RFC 9535 §2.3.5.2.2 says), exactly at any size (`JSONNumber.compare`). Arrays compare
///   element by element, objects member by member in any order.
/// - Text against a JSON value compares the text with that value's JSON spelling: with a
///   string, the two texts; with a number, the text read as a JSON number (RFC 8259 §6),
///   by value (`Content-Length: 42` holds for the header `42`, and `{ ">": 10 }` too); with
///   `true`, `false` or `null`, that word. Text never equals an array or an object.
/// - Ordering (`<`, `<=`, `>`, `>=`) is defined for two numbers, for two strings or texts
///   (by Unicode code points), and for text against a number (the text read as a number).
///   Wherever both are defined, equality and ordering agree.
public enum ValueComparison {
    public static func equal(_ a: Operand, _ b: Operand) -> Bool {
        switch (a, b) {
        case (.json(let x), .json(let y)): return x == y
        case (.text(let x), .text(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.text(let text), .json(let value)), (.json(let value), .text(let text)): return equal(text: text, value)
        }
    }

    static func equal(text: String, _ value: JSONValue) -> Bool {
        switch value {
        case .string(let s): return text.unicodeScalars.elementsEqual(s.unicodeScalars)
        case .number(let n): return number(fromText: text).map { $0 == n } ?? false
        case .bool(let b): return text == (b ? "true" : "false")
        case .null: return text == "null"
        case .array, .object: return false
        }
    }

    /// -1, 0 or 1; nil when the two have no order (a boolean, a list, a string against a number).
    public static func order(_ a: Operand, _ b: Operand) -> Int? {
        switch (a, b) {
        case (.json(.number(let x)), .json(.number(let y))): return JSONNumber.compare(x, y)
        case (.text(let text), .json(.number(let n))):
            return number(fromText: text).flatMap { JSONNumber.compare($0, n) }
        case (.json(.number(let n)), .text(let text)):
            return number(fromText: text).flatMap { JSONNumber.compare(n, $0) }
        case (.json(.string), .json(.string)), (.text, .text), (.text, .json(.string)), (.json(.string), .text):
            guard let x = a.string, let y = b.string else { return nil }
            if x.unicodeScalars.elementsEqual(y.unicodeScalars) { return 0 }
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars) ? -1 : 1
        default:
            return nil
        }
    }

    /// Text read as one JSON number (RFC 8259 §6, surrounding whitespace allowed); nil otherwise.
    public static func number(fromText text: String) -> JSONNumber? {
        guard let first = text.utf8.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }),
            first == UInt8(ascii: "-") || (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9"))
        else { return nil }
        guard case .number(let n)? = try? JSONValue.parse(text) else { return nil }
        return n
    }
}
