/// A JSON value as it came off the wire: member order kept, numbers exact.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number, exact: integers of any size and decimals as they were written are kept
/// digit for digit (RFC 8259 §6 allows any; a double would round 2^53 + 1 and 1e400).
public struct JSONNumber: Sendable {
    enum Storage: Sendable {
        case int(Int64)
        /// JSON number text that is not an Int64 (a fraction, an exponent, a big integer), as written.
        case decimal(String)
        /// A value computed here (a duration, a conversion).
        case double(Double)
    }

    let storage: Storage

    public init(_ value: Int64) { storage = .int(value) }
    public init(_ value: Int) { storage = .int(Int64(value)) }
    public init(_ value: Double) { storage = .double(value) }

    /// A number from text that follows the JSON number grammar (RFC 8259 §6; the caller has
    /// checked it), kept exactly: an Int64 when it is one, else the text itself.
    public init(jsonText text: String) {
        if let value = Int64(text), text != "-0" { storage = .int(value) } else { storage = .decimal(text) }
    }

    /// The value as a double (the nearest; ±infinity beyond the doubles' range).
    public var double: Double {
        switch storage {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .decimal(let text): return Double(text) ?? .nan
        }
    }

    /// The value as an integer, when it is a whole number that fits (1.0 and 1e2 count, 1.5 does not).
    public var integer: Int64? {
        switch storage {
        case .int(let i): return i
        case .double(let d):
            guard d.rounded() == d, d >= -9_223_372_036_854_775_808, d < 9_223_372_036_854_775_808 else { return nil }
            return Int64(d)
        case .decimal:
            guard let exact = exact, !exact.infinite, exact.hugeExponent == nil, exact.exponent >= 0, exact.digits.count + exact.exponent <= 19 else { return nil }
            if exact.digits.isEmpty { return 0 }
            let text = (exact.negative ? "-" : "") + String(decoding: exact.digits, as: UTF8.self) + String(repeating: "0", count: exact.exponent)
            return Int64(text)
        }
    }

    /// Whether the value is a whole number, of any size.
    public var isWhole: Bool {
        guard let exact, !exact.infinite else { return false }
        if let huge = exact.hugeExponent { return !huge.negative }
        return exact.exponent >= 0
    }

    /// The number's JSON text: as it was written when it came from text; computed values
    /// in their shortest form (whole numbers below 10^15 without a fraction).
    public var jsonText: String {
        switch storage {
        case .int(let i): return String(i)
        case .decimal(let text): return text
        case .double(let d):
            if d.isNaN || d.isInfinite { return "null" }
            if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
            return "\(d)"
        }
    }

    /// The whole number as plain digits (`1e3` is `1000`); nil when it is not whole.
    public var integerText: String? {
        if let integer { return String(integer) }
        // A whole number too long to write out (`1e99999999999999999999`) has no plain digits here.
        guard let exact, !exact.infinite, exact.hugeExponent == nil, exact.exponent >= 0, exact.exponent < 1_000_000 else { return nil }
        return (exact.negative ? "-" : "") + String(decoding: exact.digits, as: UTF8.self) + String(repeating: "0", count: exact.exponent)
    }

    /// The whole part, cut toward zero, as plain digits (`7.9` is `7`, `-1e-3` is `0`); nil
    /// for infinity and NaN.
    public var truncated: JSONNumber? {
        if case .int = storage { return self }
        guard var exact, !exact.infinite else { return nil }
        if exact.digits.isEmpty { return JSONNumber(0) }
        if let huge = exact.hugeExponent { return huge.negative ? JSONNumber(0) : nil }
        if exact.exponent > 1_000_000 { return nil }
        if exact.exponent < 0 {
            let keep = exact.digits.count + exact.exponent
            if keep <= 0 { return JSONNumber(0) }
            exact.digits = Array(exact.digits[..<keep])
            exact.exponent = 0
        }
        let text = (exact.negative ? "-" : "") + String(decoding: exact.digits, as: UTF8.self) + String(repeating: "0", count: exact.exponent)
        return JSONNumber(jsonText: text)
    }

    /// The exact value as sign × digits × 10^exponent, digits without leading or trailing
    /// zeros (empty for zero); nil for NaN.
    var exact: ExactDecimal? {
        switch storage {
        case .int(let i): return ExactDecimal(text: String(i))
        case .decimal(let text): return ExactDecimal(text: text)
        case .double(let d):
            if d.isNaN { return nil }
            if d.isInfinite { return ExactDecimal(negative: d < 0, digits: [], exponent: 0, infinite: true) }
            // The shortest text that reads back as this double: the value a person wrote.
            return ExactDecimal(text: "\(d)")
        }
    }
}

/// A decimal number held exactly: (-1)^negative × digits × 10^exponent.
struct ExactDecimal: Equatable {
    var negative: Bool
    /// ASCII digits, no leading or trailing zeros; empty for zero.
    var digits: [UInt8]
    var exponent: Int
    var infinite = false
    /// The exponent, when it is too large for `exponent` (`1e99999999999999999999`).
    var hugeExponent: DecimalInteger?

    init(negative: Bool, digits: [UInt8], exponent: Int, infinite: Bool) {
        self.negative = negative
        self.digits = digits
        self.exponent = exponent
        self.infinite = infinite
    }

    /// From `-?digits(.digits)?([eE][+-]?digits)?`; nil for anything else.
    init?(text: String) {
        var bytes = Array(text.utf8)[...]
        negative = bytes.first == UInt8(ascii: "-")
        if negative || bytes.first == UInt8(ascii: "+") { bytes = bytes.dropFirst() }
        var mantissa: [UInt8] = []
        var fractionDigits = 0
        var seenDot = false
        var sawDigit = false
        while let byte = bytes.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if byte == UInt8(ascii: ".") {
                if seenDot { return nil }
                seenDot = true
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                sawDigit = true
                mantissa.append(byte)
                if seenDot { fractionDigits += 1 }
            } else {
                return nil
            }
        }
        guard sawDigit else { return nil }
        var exponent = 0
        if !bytes.isEmpty {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            guard !bytes.isEmpty, bytes.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            let significant = bytes.drop { $0 == UInt8(ascii: "0") }
            if significant.count > 17 {
                // Beyond any Int arithmetic below: kept exact as decimal digits.
                hugeExponent = DecimalInteger(negative: exponentNegative, digits: significant)
            } else {
                for byte in significant { exponent = exponent * 10 + Int(byte - UInt8(ascii: "0")) }
                if exponentNegative { exponent = -exponent }
            }
        }
        exponent -= fractionDigits
        var start = 0
        while start < mantissa.count, mantissa[start] == UInt8(ascii: "0") { start += 1 }
        var end = mantissa.count
        while end > start, mantissa[end - 1] == UInt8(ascii: "0") {
            end -= 1
            exponent += 1
        }
        digits = Array(mantissa[start..<end])
        if let huge = hugeExponent {
            // The adjustments made to `exponent` (fraction digits, trailing zeros) go to the huge one.
            hugeExponent = huge.adding(exponent)
            exponent = 0
        }
        self.exponent = digits.isEmpty ? 0 : exponent
        if digits.isEmpty {
            negative = false
            hugeExponent = nil
        }
    }

    /// Whether the exponent is so large (positive) that the value is beyond any Int, or so
    /// small (negative) that it is below any fraction written out.
    var hugePositive: Bool { hugeExponent.map { !$0.negative } ?? false }

    /// -1, 0 or 1.
    func compare(_ other: ExactDecimal) -> Int {
        if negative != other.negative { return negative ? -1 : 1 }
        let sign = negative ? -1 : 1
        if infinite || other.infinite { return infinite == other.infinite ? 0 : (infinite ? sign : -sign) }
        if digits.isEmpty || other.digits.isEmpty {
            if digits.isEmpty && other.digits.isEmpty { return 0 }
            return digits.isEmpty ? -1 : 1  // zero against a non-zero of this sign (zero is never negative)
        }
        // The place of the first digit decides, then the digits themselves.
        if hugeExponent != nil || other.hugeExponent != nil {
            let magnitude = (hugeExponent ?? DecimalInteger(exponent)).adding(digits.count)
            let otherMagnitude = (other.hugeExponent ?? DecimalInteger(other.exponent)).adding(other.digits.count)
            let order = DecimalInteger.compare(magnitude, otherMagnitude)
            if order != 0 { return order * sign }
        } else {
            let magnitude = digits.count + exponent, otherMagnitude = other.digits.count + other.exponent
            if magnitude != otherMagnitude { return magnitude < otherMagnitude ? -sign : sign }
        }
        for (a, b) in zip(digits, other.digits) where a != b { return a < b ? -sign : sign }
        if digits.count == other.digits.count { return 0 }
        return digits.count < other.digits.count ? -sign : sign
    }
}

/// A whole number of any size in decimal digits, for exponents beyond Int.
struct DecimalInteger: Equatable {
    var negative: Bool
    /// Most significant first, no leading zeros; empty for zero.
    var magnitude: [UInt8]

    init(negative: Bool, digits: some Collection<UInt8>) {
        magnitude = Array(digits.drop { $0 == UInt8(ascii: "0") })
        self.negative = negative && !magnitude.isEmpty
    }

    init(_ value: Int) {
        self.init(negative: value < 0, digits: Array(String(value.magnitude).utf8))
    }

    func adding(_ value: Int) -> DecimalInteger {
        let other = DecimalInteger(value)
        if negative == other.negative { return DecimalInteger(negative: negative, digits: Self.add(magnitude, other.magnitude)) }
        // Opposite signs: the larger magnitude keeps its sign.
        if Self.compareMagnitudes(magnitude, other.magnitude) >= 0 {
            return DecimalInteger(negative: negative, digits: Self.subtract(magnitude, other.magnitude))
        }
        return DecimalInteger(negative: other.negative, digits: Self.subtract(other.magnitude, magnitude))
    }

    static func compare(_ a: DecimalInteger, _ b: DecimalInteger) -> Int {
        if a.negative != b.negative { return a.negative ? -1 : 1 }
        let order = compareMagnitudes(a.magnitude, b.magnitude)
        return a.negative ? -order : order
    }

    static func compareMagnitudes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.count != b.count { return a.count < b.count ? -1 : 1 }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return 0
    }

    static func add(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var carry: UInt8 = 0
        var i = a.count - 1, j = b.count - 1
        while i >= 0 || j >= 0 || carry > 0 {
            let sum = (i >= 0 ? a[i] - 48 : 0) + (j >= 0 ? b[j] - 48 : 0) + carry
            out.append(sum % 10 + 48)
            carry = sum / 10
            i -= 1
            j -= 1
        }
        return out.reversed()
    }

    /// `a - b` for `a >= b`.
    static func subtract(_ a: [UInt8], _ b: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var borrow = 0
        var i = a.count - 1, j = b.count - 1
        while i >= 0 {
            var difference = Int(a[i] - 48) - (j >= 0 ? Int(b[j] - 48) : 0) - borrow
            borrow = difference < 0 ? 1 : 0
            if difference < 0 { difference += 10 }
            out.append(UInt8(difference) + 48)
            i -= 1
            j -= 1
        }
        return out.reversed()
    }
}

extension JSONNumber: Equatable, Comparable, Hashable {
    /// Numbers are equal when their values are (`1` equals `1.0`, RFC 9535 §2.3.5.2.2),
    /// exactly at any size: integers beyond 2^53 and decimals are never rounded to compare them.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool { compare(lhs, rhs) == 0 }

    /// The mathematical order, exact for every pair of numbers.
    public static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool { compare(lhs, rhs) == -1 }

    /// -1, 0 or 1 as `a` is below, equal to or above `b`; nil when either is not a number (NaN).
    public static func compare(_ a: JSONNumber, _ b: JSONNumber) -> Int? {
        switch (a.storage, b.storage) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        default:
            guard let x = a.exact, let y = b.exact else { return nil }
            return x.compare(y)
        }
    }

    public func hash(into hasher: inout Hasher) {
        // Equal numbers hash alike: a whole number that fits by its value, anything else by its nearest double.
        if let i = integer { hasher.combine(i) } else { hasher.combine(double) }
    }
}

/// A JSON object's members in document order, with lookup by name.
public struct JSONObject: Sendable {
    public private(set) var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) {
        self.members = members
    }

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    /// The value of the member named `key`; with duplicate names, the last one wins (as in most parsers).
    public subscript(key: String) -> JSONValue? {
        get {
            var i = members.count - 1
            while i >= 0 {
                // Names compare scalar for scalar (RFC 8259 §8.3), not by canonical equivalence.
                if members[i].key.isExactly(key) { return members[i].value }
                i -= 1
            }
            return nil
        }
        set {
            if let i = members.lastIndex(where: { $0.key.isExactly(key) }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    public mutating func append(_ key: String, _ value: JSONValue) {
        members.append((key, value))
    }
}

extension JSONObject: Equatable, Hashable {
    /// Objects are equal when they have the same names with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.members {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for key in keys.sorted() { hasher.combine(key) }
    }
}

extension JSONValue: Equatable, Hashable {
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a.unicodeScalars.elementsEqual(b.unicodeScalars)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let b): hasher.combine(b)
        case .number(let n): hasher.combine(n)
        case .string(let s): hasher.combine(s)
        case .array(let a): hasher.combine(a)
        case .object(let o): hasher.combine(o)
        }
    }
}

extension JSONValue {
    /// The JSON type name used in messages, schemas and shape fingerprints.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .number: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var numberValue: JSONNumber? {
        if case .number(let n) = self { return n }
        return nil
    }

    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    public subscript(index: Int) -> JSONValue? {
        guard case .array(let a) = self, a.indices.contains(index) else { return nil }
        return a[index]
    }

    public static func int(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }
    public static func double(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(JSONNumber(value)) }
    public init(floatLiteral value: Double) { self = .number(JSONNumber(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}
