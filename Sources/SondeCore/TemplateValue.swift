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
}
