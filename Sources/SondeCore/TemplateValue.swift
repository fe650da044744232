/// A JSON-shaped value from YAML whose strings may hold templates (a JSON body, a variable, an expected value).
public indirect enum TemplateValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(Template)
    case array([TemplateValue])
    case object([TemplateMember])

    public struct TemplateMember: Sendable, Hashable {
        public var key: String
        public var value: TemplateValue

        public init(key: String, value: TemplateValue) {
            self.key = key
            self.value = value
        }
    }

    /// Every template inside, depth first.
    public var templates: [Template] {
        switch self {
        case .null, .bool, .number: return []
        case .string(let t): return [t]
        case .array(let items): return items.flatMap(\.templates)
        case .object(let members): return members.flatMap(\.value.templates)
        }
    }

    /// Renders every template; a string that is one template alone keeps the value's JSON type.
    public func render(in context: some TemplateContext) throws(TemplateError) -> JSONValue {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let t): return try t.renderValue(in: context)
        case .array(let items):
            var out: [JSONValue] = []
            out.reserveCapacity(items.count)
            for item in items { out.append(try item.render(in: context)) }
            return .array(out)
        case .object(let members):
            var out = JSONObject()
            for member in members { out.append(member.key, try member.value.render(in: context)) }
            return .object(out)
        }
    }

    /// The value when it has no templates at all.
    public var constantValue: JSONValue? {
        switch self {
        case .null: return .null
        case .bool(let b): return .bool(b)
        case .number(let n): return .number(n)
        case .string(let t): return t.literalValue.map(JSONValue.string)
        case .array(let items):
            var out: [JSONValue] = []
            for item in items {
                guard let value = item.constantValue else { return nil }
                out.append(value)
            }
            return .array(out)
        case .object(let members):
            var out = JSONObject()
            for member in members {
                guard let value = member.value.constantValue else { return nil }
                out.append(member.key, value)
            }
            return .object(out)
        }
    }
}

/// A length of time as collections write it: `250ms`, `2s`, `1.5s`, `1m`, `1h`.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var milliseconds: Double

    public init(milliseconds: Double) { self.milliseconds = milliseconds }

    public var seconds: Double { milliseconds / 1000 }

    /// Nil unless `text` is a number followed by a unit.
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [(String, Double)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (unit, factor) in units where trimmed.hasSuffix(unit) {
            let number = trimmed.dropLast(unit.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value >= 0
            else { continue }
            milliseconds = value * factor
            return
        }
        return nil
    }

    public var description: String {
        if milliseconds >= 1000, milliseconds.truncatingRemainder(dividingBy: 1000) == 0 { return "\(Int(milliseconds / 1000))s" }
        if milliseconds.rounded() == milliseconds { return "\(Int(milliseconds))ms" }
        return String(format: "%.1fms", milliseconds)
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.milliseconds < b.milliseconds }
}
