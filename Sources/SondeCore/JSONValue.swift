/// A JSON value as it came off the wire: member order kept, numbers exact.
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON number that keeps integers exact, even beyond 2^53.
public struct JSONNumber: Sendable {
    enum Storage: Sendable {
        case int(Int64)
        case double(Double)
        /// An integer literal too large for Int64, kept digit for digit.
        case bigInteger(String, Double)
    }

    let storage: Storage

    public init(_ value: Int64) { storage = .int(value) }
    public init(_ value: Int) { storage = .int(Int64(value)) }
    public init(_ value: Double) { storage = .double(value) }
    init(bigInteger digits: String) { storage = .bigInteger(digits, Double(digits) ?? .nan) }

    /// The value as a double; exact for every integer up to 2^53.
    public var double: Double {
        switch storage {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bigInteger(_, let d): return d
        }
    }

    /// The value as an integer, when it is one (1.0 counts, 1.5 does not).
    public var integer: Int64? {
        switch storage {
        case .int(let i): return i
        case .double(let d):
            guard d.rounded() == d, d >= -9_223_372_036_854_775_808, d < 9_223_372_036_854_775_808 else { return nil }
            return Int64(d)
        case .bigInteger: return nil
        }
    }

    /// The shortest JSON text for the number.
    public var jsonText: String {
        switch storage {
        case .int(let i): return String(i)
        case .bigInteger(let digits, _): return digits
        case .double(let d):
            if d.isNaN || d.isInfinite { return "null" }
            if d.rounded() == d, abs(d) < 1e15 { return String(Int64(d)) }
            return "\(d)"
        }
    }
}

extension JSONNumber: Equatable, Comparable, Hashable {
    /// Numbers are equal when their values are (`1` equals `1.0`, RFC 9535 §2.3.5.2.2),
    /// exactly at any size: integers beyond 2^53 are never rounded to compare them.
    public static func == (lhs: JSONNumber, rhs: JSONNumber) -> Bool { compare(lhs, rhs) == 0 }

    /// The mathematical order, exact for integers of any size and for an integer against a float.
    public static func < (lhs: JSONNumber, rhs: JSONNumber) -> Bool { compare(lhs, rhs) == -1 }

    /// -1, 0 or 1 as `a` is below, equal to or above `b`; nil when either is not a number (NaN).
    public static func compare(_ a: JSONNumber, _ b: JSONNumber) -> Int? {
        switch (a.storage, b.storage) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)):
            if x.isNaN || y.isNaN { return nil }
            return x < y ? -1 : (x > y ? 1 : 0)
        default:
            guard let x = a.exactParts, let y = b.exactParts else { return nil }
            if let order = x.compare(y) { return order }
            return x.fraction < y.fraction ? -1 : (x.fraction > y.fraction ? 1 : 0)
        }
    }

    /// The value split into an exact integer part (decimal digits) and what is left (a
    /// fraction of the same sign, exact, since subtracting a double's integer part is exact).
    var exactParts: ExactParts? {
        switch storage {
        case .int(let i): return ExactParts(negative: i < 0, digits: String(i.magnitude), infinite: false, fraction: 0)
        case .bigInteger(let text, _):
            let negative = text.hasPrefix("-")
            var digits = Substring(negative || text.hasPrefix("+") ? text.dropFirst() : Substring(text))
            while digits.count > 1, digits.first == "0" { digits = digits.dropFirst() }
            return ExactParts(negative: negative && digits != "0", digits: String(digits), infinite: false, fraction: 0)
        case .double(let d):
            if d.isNaN { return nil }
            if d.isInfinite { return ExactParts(negative: d < 0, digits: "", infinite: true, fraction: 0) }
            let whole = d.rounded(.towardZero)
            return ExactParts(negative: d < 0 && whole != 0, digits: Self.integerDigits(of: whole.magnitude), infinite: false, fraction: d - whole)
        }
    }

    struct ExactParts {
        var negative: Bool
        /// The integer part's magnitude in decimal, no leading zeros.
        var digits: String
        var infinite: Bool
        var fraction: Double

        /// The order of the integer parts, or nil when they are equal (the fractions decide).
        func compare(_ other: ExactParts) -> Int? {
            let sign = negative ? -1 : 1
            if negative != other.negative {
                // -0.5 and 0.3 both have the integer part 0; the fractions decide.
                if !infinite, !other.infinite, digits == "0", other.digits == "0" { return nil }
                return negative ? -1 : 1
            }
            if infinite || other.infinite {
                if infinite && other.infinite { return 0 }
                return infinite ? sign : -sign
            }
            if digits.utf8.count != other.digits.utf8.count { return digits.utf8.count < other.digits.utf8.count ? -sign : sign }
            if digits == other.digits { return nil }
            return digits.utf8.lexicographicallyPrecedes(other.digits.utf8) ? -sign : sign
        }
    }

    /// The exact decimal digits of a whole, non-negative double (every double of 2^53 and
    /// more is whole, and is its significand times a power of two).
    static func integerDigits(of whole: Double) -> String {
        if whole < 9_223_372_036_854_775_808 { return String(UInt64(whole)) }
        // Little-endian base-10^9 limbs: the significand, doubled `exponent` times.
        var limbs: [UInt64] = []
        var significand = UInt64(whole.significandBitPattern) | (1 << 52)
        while significand > 0 {
            limbs.append(significand % 1_000_000_000)
            significand /= 1_000_000_000
        }
        for _ in 0..<(Int(whole.exponent) - 52) {
            var carry: UInt64 = 0
            for i in limbs.indices {
                let doubled = limbs[i] * 2 + carry
                limbs[i] = doubled % 1_000_000_000
                carry = doubled / 1_000_000_000
            }
            if carry > 0 { limbs.append(carry) }
        }
        var out = String(limbs.last ?? 0)
        for limb in limbs.dropLast().reversed() {
            let text = String(limb)
            out += String(repeating: "0", count: 9 - text.count) + text
        }
        return out
    }

    public func hash(into hasher: inout Hasher) {
        // Equal numbers hash alike: an integer by its value, anything else by its nearest double.
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
                if members[i].key == key { return members[i].value }
                i -= 1
            }
            return nil
        }
        set {
            if let i = members.lastIndex(where: { $0.key == key }) {
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
