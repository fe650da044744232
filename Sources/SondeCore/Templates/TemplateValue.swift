/// A JSON-shaped value from YAML whose strings may hold templates (a JSON body, a variable, an expected value).
public indirect enum TemplateValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(Template)
    case array([TemplateValue])
    case object([TemplateMember])

    public struct TemplateMember: Sendable, Hashable {
        /// The member's name, rendered like a value.
        public var key: Template
        public var value: TemplateValue

        public init(key: Template, value: TemplateValue) {
            self.key = key
            self.value = value
        }

        public init(key: String, value: TemplateValue) {
            self.init(key: Template(literal: key), value: value)
        }
    }

    /// A plain JSON value, its strings taken as literal text.
    public init(_ value: JSONValue) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n): self = .number(n)
        case .string(let s): self = .string(Template(literal: s))
        case .array(let items): self = .array(items.map(TemplateValue.init))
        case .object(let o): self = .object(o.members.map { TemplateMember(key: $0.key, value: TemplateValue($0.value)) })
        }
    }

    /// Every template inside, depth first.
    public var templates: [Template] {
        switch self {
        case .null, .bool, .number: return []
        case .string(let t): return [t]
        case .array(let items): return items.flatMap(\.templates)
        case .object(let members): return members.flatMap { [$0.key] + $0.value.templates }
        }
    }

    /// The value as checks compare it: a variable alone (`"{{ request_id }}"`) that holds
    /// text stays text; anything else is JSON (`render`).
    public func renderOperand(in context: some TemplateContext) throws(TemplateError) -> Operand {
        if case .string(let template) = self, let name = template.soleVariable, context.isText(name) {
            return .text(try template.render(in: context))
        }
        return .json(try render(in: context))
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
            var names = Set<ExactString>()
            for member in members {
                let key = try member.key.render(in: context)
                // Two names written apart that render alike would make two members of one name.
                if !names.insert(ExactString(key)).inserted {
                    throw TemplateError("two members of this object render to the name \(JSONValue.quoted(key)) (one is \(JSONValue.quoted(member.key.source)))", offset: 0)
                }
                out.append(key, try member.value.render(in: context))
            }
            return .object(out)
        }
    }
}
