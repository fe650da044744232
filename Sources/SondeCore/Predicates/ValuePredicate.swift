/// A check on a value: a plain value means equality; a map of operators must all hold.
public indirect enum ValuePredicate: Sendable, Hashable {
    case all([ValuePredicate])
    case equals(TemplateValue)
    case notEquals(TemplateValue)
    case compare(ComparisonKind, TemplateValue)
    case contains(TemplateValue)
    case notContains(TemplateValue)
    case startsWith(Template)
    case endsWith(Template)
    case matches(String)
    case exists(Bool)
    case type(JSONTypeName)
    case length(ValuePredicate)
    case oneOf([TemplateValue])
    case each(ValuePredicate)
    case empty(Bool)

    public enum ComparisonKind: String, Sendable, Hashable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// Every operator name a collection may use, listed once.
    public enum Operator: String, Sendable, CaseIterable {
        case equals, not_equals, less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case contains, not_contains, starts_with, ends_with, matches, exists, type, length, one_of, each, empty
    }

    /// Every template the predicate reads.
    public var templates: [Template] {
        switch self {
        case .all(let items): return items.flatMap(\.templates)
        case .equals(let v), .notEquals(let v), .compare(_, let v), .contains(let v), .notContains(let v): return v.templates
        case .startsWith(let t), .endsWith(let t): return [t]
        case .oneOf(let values): return values.flatMap(\.templates)
        case .length(let p), .each(let p): return p.templates
        case .matches, .exists, .type, .empty: return []
        }
    }
}

/// The JSON types `type:` can name.
public enum JSONTypeName: String, Sendable, Hashable, CaseIterable {
    case string, number, boolean, null, array, object

    /// `a number`, `an array`, as messages say it.
    public var article: String {
        switch self {
        case .array, .object: return "an \(rawValue)"
        case .null: return "null"
        default: return "a \(rawValue)"
        }
    }
}
