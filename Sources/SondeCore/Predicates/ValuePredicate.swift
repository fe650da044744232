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
    /// Holds when the predicate does not (`not: { matches: '^5' }`).
    case not(ValuePredicate)
    /// `is_integer: true`, `is_uuid: false`: whether the value is of a kind.
    case kind(ValueKind, Bool)
    /// The filters, then the predicate on what they give (`filters: [ count ]`).
    case filtered(FilterChain, ValuePredicate)

    public enum ComparisonKind: String, Sendable, Hashable, CaseIterable {
        case less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    }

    /// Every operator name a collection may use, listed once.
    public enum Operator: String, Sendable, CaseIterable {
        case equals, not_equals, less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
        case contains, not_contains, starts_with, ends_with, matches, exists, type, length, one_of, each, empty
        case not, filters
        case is_integer, is_float, is_number, is_string, is_boolean, is_collection, is_date, is_iso_date, is_uuid, is_ipv4, is_ipv6

        /// The kind an `is_…` operator checks.
        public var kind: ValueKind? { ValueKind(rawValue: String(rawValue.dropFirst(3))) }
    }

    /// Every template the predicate reads.
    public var templates: [Template] {
        switch self {
        case .all(let items): return items.flatMap(\.templates)
        case .equals(let v), .notEquals(let v), .compare(_, let v), .contains(let v), .notContains(let v): return v.templates
        case .startsWith(let t), .endsWith(let t): return [t]
        case .oneOf(let values): return values.flatMap(\.templates)
        case .length(let p), .each(let p), .not(let p): return p.templates
        case .filtered(let chain, let p): return chain.argumentTemplates + p.templates
        case .matches, .exists, .type, .empty, .kind: return []
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

/// What the `is_…` predicates check.
public enum ValueKind: String, Sendable, Hashable, CaseIterable {
    /// A number written without a fraction or an exponent (`1`, not `1.0`).
    case integer
    /// A number written with a fraction or an exponent (`1.0`, `2e3`).
    case float
    case number, string, boolean
    /// A list or an object.
    case collection
    /// Text that is an RFC 3339 date-time or an HTTP-date (RFC 9110 §5.6.7), as `to_date` gives.
    case date
    /// Text that is an RFC 3339 date-time (`2026-11-30T06:27:20Z`).
    case iso_date
    /// Text that is an RFC 9562 UUID (`8-4-4-4-12` hex digits, any case).
    case uuid
    /// Text that is an IPv4 address in dotted-decimal form.
    case ipv4
    /// Text that is an IPv6 address (RFC 4291 §2.2).
    case ipv6

    /// `an integer`, `a UUID`, as messages say it.
    public var article: String {
        switch self {
        case .integer: return "an integer"
        case .float: return "a float"
        case .number: return "a number"
        case .string: return "a string"
        case .boolean: return "a boolean"
        case .collection: return "a list or an object"
        case .date: return "a date"
        case .iso_date: return "an RFC 3339 date-time"
        case .uuid: return "a UUID"
        case .ipv4: return "an IPv4 address"
        case .ipv6: return "an IPv6 address"
        }
    }
}
