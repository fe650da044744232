#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a text is not JSON, and where (a byte offset, and line and column for people).
public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let offset: Int
    public let line: Int
    public let column: Int

    public init(message: String, offset: Int, line: Int, column: Int) {
        self.message = message
        self.offset = offset
        self.line = line
        self.column = column
    }

    public var description: String { "invalid JSON at line \(line), column \(column) (byte \(offset)): \(message)" }
}

extension JSONValue {
    /// Parses JSON text (RFC 8259). Nesting deeper than `maxDepth` is an error, never a stack overflow.
    public static func parse(_ bytes: some Collection<UInt8>, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result(catching: { () throws(JSONParseError) -> JSONValue in try parse(buffer: buffer, maxDepth: maxDepth) })
        }
        if let contiguous { return try contiguous.get() }
        let copy = Array(bytes)
        let result = copy.withUnsafeBufferPointer { buffer in
            Result(catching: { () throws(JSONParseError) -> JSONValue in try parse(buffer: buffer, maxDepth: maxDepth) })
        }
        return try result.get()
    }

    public static func parse(_ text: String, maxDepth: Int = 512) throws(JSONParseError) -> JSONValue {
        var text = text
        text.makeContiguousUTF8()
        return try parse(text.utf8, maxDepth: maxDepth)
    }

    static func parse(buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) throws(JSONParseError) -> JSONValue {
        var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
        return try parser.parseDocument()
    }
}

private enum Byte {
    static let space: UInt8 = 0x20, tab: UInt8 = 0x09, lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
    static let quote: UInt8 = 0x22, backslash: UInt8 = 0x5C, slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C, colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
    static let minus: UInt8 = 0x2D, plus: UInt8 = 0x2B, dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30, nine: UInt8 = 0x39
    static let e: UInt8 = 0x65, E: UInt8 = 0x45
}

/// A byte-level recursive-descent parser: no Foundation, one pass, strings without escapes copied once.
struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    let maxDepth: Int
    var index = 0
    var depth = 0
    /// The elements and members of the arrays and objects being parsed, innermost last: each
    /// array or object is made once, of its exact size, when it closes. Appending to arrays
    /// of their own grew each by doubling, and a 5 MB document kept a third of it unused.
    private var elements: [JSONValue] = []
    private var members: [(key: String, value: JSONValue)] = []

    init(bytes: UnsafeBufferPointer<UInt8>, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if index < bytes.count { throw error("unexpected content after the JSON value") }
        return value
    }

    func error(_ message: String, at offset: Int? = nil) -> JSONParseError {
        let offset = min(offset ?? index, bytes.count)
        var line = 1, lineStart = 0
        for i in 0..<offset where bytes[i] == Byte.lf {
            line += 1
            lineStart = i + 1
        }
        // Columns count characters, not bytes: skip UTF-8 continuation bytes.
        var column = 1
        for i in lineStart..<offset where bytes[i] & 0xC0 != 0x80 { column += 1 }
        return JSONParseError(message: message, offset: offset, line: line, column: column)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while index < bytes.count {
            let b = bytes[index]
            guard b == Byte.space || b == Byte.lf || b == Byte.cr || b == Byte.tab else { return }
            index += 1
        }
    }

    mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case Byte.openBrace: return try parseObject()
        case Byte.openBracket: return try parseArray()
        case Byte.quote: return .string(try parseString())
        case Byte.minus, Byte.zero...Byte.nine: return .number(try parseNumber())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: throw error("unexpected character \(describe(bytes[index])), expected a value")
        }
    }

    func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "0x" + String(byte, radix: 16, uppercase: true)
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw error("invalid literal, expected '\(literal)'", at: start) }
        let expected = literal.utf8Start
        for i in 0..<count where bytes[index + i] != expected[i] {
            throw error("invalid literal, expected '\(literal)'", at: start)
        }
        index += count
    }

    mutating func enter() throws(JSONParseError) {
        depth += 1
        if depth > maxDepth { throw error("nesting is deeper than \(maxDepth) levels") }
    }

    mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == Byte.closeBracket {
            index += 1
            depth -= 1
            return .array([])
        }
        let start = elements.count
        while true {
            skipWhitespace()
            let element = try parseValue()
            elements.append(element)
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an array, expected ',' or ']'") }
            switch bytes[index] {
            case Byte.comma: index += 1
            case Byte.closeBracket:
                index += 1
                depth -= 1
                let array = Array(elements[start...])
                elements.removeSubrange(start...)
                return .array(array)
            default: throw error("unexpected character \(describe(bytes[index])) in an array, expected ',' or ']'")
            }
        }
    }

    mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1
        skipWhitespace()
        if index < bytes.count, bytes[index] == Byte.closeBrace {
            index += 1
            depth -= 1
            return .object(JSONObject())
        }
        let start = members.count
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an object, expected a member name") }
            guard bytes[index] == Byte.quote else {
                throw error("unexpected character \(describe(bytes[index])) in an object, expected a member name in double quotes")
            }
            let key = try parseString()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == Byte.colon else { throw error("expected ':' after the member name") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append((key, value))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of input in an object, expected ',' or '}'") }
            switch bytes[index] {
            case Byte.comma: index += 1
            case Byte.closeBrace:
                index += 1
                depth -= 1
                let object = JSONObject(Array(members[start...]))
                members.removeSubrange(start...)
                return .object(object)
            default: throw error("unexpected character \(describe(bytes[index])) in an object, expected ',' or '}'")
            }
        }
    }

    mutating func parseString() throws(JSONParseError) -> String {
        let start = index
        index += 1
        var asciiOnly = true
        // Fast path: no escapes, so the bytes between the quotes are the string.
        while index < bytes.count {
            let b = bytes[index]
            if b == Byte.quote {
                let slice = UnsafeBufferPointer(rebasing: bytes[(start + 1)..<index])
                index += 1
                if asciiOnly { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string", at: start)
                }
                return s
            }
            if b == Byte.backslash { break }
            if b < 0x20 { throw error("unescaped control character \(describe(b)) in a string") }
            if b >= 0x80 { asciiOnly = false }
            index += 1
        }
        guard index < bytes.count else { throw error("unterminated string", at: start) }
        // Slow path: decode escapes into a byte buffer.
        var out: [UInt8] = Array(bytes[(start + 1)..<index])
        while index < bytes.count {
            let b = bytes[index]
            switch b {
            case Byte.quote:
                index += 1
                guard let s = String(validating: out, as: UTF8.self) else {
                    throw error("invalid UTF-8 in a string", at: start)
                }
                return s
            case Byte.backslash:
                index += 1
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case Byte.quote, Byte.backslash, Byte.slash: out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"): appendScalar(try parseUnicodeEscape(), to: &out)
                default: throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))' in a string", at: index - 2)
                }
            default:
                if b < 0x20 { throw error("unescaped control character \(describe(b)) in a string") }
                out.append(b)
                index += 1
            }
        }
        throw error("unterminated string", at: start)
    }

    mutating func parseHex4() throws(JSONParseError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[index]
            let digit: UInt8
            switch b {
            case Byte.zero...Byte.nine: digit = b - Byte.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = b - UInt8(ascii: "A") + 10
            default: throw error("invalid hex digit \(describe(b)) in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// Reads the four hex digits after `\u`, joining a surrogate pair; a lone surrogate becomes U+FFFD.
    mutating func parseUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let first = try parseHex4()
        if first >= 0xD800 && first < 0xDC00 {
            if bytes.count - index >= 6, bytes[index] == Byte.backslash, bytes[index + 1] == UInt8(ascii: "u") {
                let saved = index
                index += 2
                let second = try parseHex4()
                if second >= 0xDC00 && second < 0xE000 {
                    let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    return Unicode.Scalar(combined) ?? "\u{FFFD}"
                }
                index = saved
            }
            return "\u{FFFD}"
        }
        return Unicode.Scalar(first) ?? "\u{FFFD}"
    }

    func appendScalar(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
        UTF8.encode(scalar) { out.append($0) }
    }

    mutating func parseNumber() throws(JSONParseError) -> JSONNumber {
        let start = index
        var isInteger = true
        if bytes[index] == Byte.minus { index += 1 }
        guard index < bytes.count, bytes[index] >= Byte.zero, bytes[index] <= Byte.nine else {
            throw error("invalid number: expected a digit", at: index)
        }
        if bytes[index] == Byte.zero {
            index += 1
            if index < bytes.count, bytes[index] >= Byte.zero, bytes[index] <= Byte.nine {
                throw error("invalid number: leading zero", at: start)
            }
        } else {
            while index < bytes.count, bytes[index] >= Byte.zero, bytes[index] <= Byte.nine { index += 1 }
        }
        if index < bytes.count, bytes[index] == Byte.dot {
            isInteger = false
            index += 1
            let digitsStart = index
            while index < bytes.count, bytes[index] >= Byte.zero, bytes[index] <= Byte.nine { index += 1 }
            if index == digitsStart { throw error("invalid number: expected a digit after '.'") }
        }
        if index < bytes.count, bytes[index] == Byte.e || bytes[index] == Byte.E {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == Byte.plus || bytes[index] == Byte.minus { index += 1 }
            let digitsStart = index
            while index < bytes.count, bytes[index] >= Byte.zero, bytes[index] <= Byte.nine { index += 1 }
            if index == digitsStart { throw error("invalid number: expected a digit in the exponent") }
        }
        let length = index - start
        if isInteger {
            let negative = bytes[start] == Byte.minus
            let digits = negative ? length - 1 : length
            if digits <= 18 {
                var value: Int64 = 0
                for i in (negative ? start + 1 : start)..<index { value = value * 10 + Int64(bytes[i] - Byte.zero) }
                return JSONNumber(negative ? -value : value)
            }
        }
        // Anything else is kept as written, exactly.
        return JSONNumber(jsonText: String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }
}
