import Foundation
import SondeCore

extension SpecReader {
    /// What a predicate's operands are: any JSON value, or durations (`2s`) turned into milliseconds.
    enum OperandKind {
        case json
        case duration
    }

    /// A predicate: a plain value means equality; a mapping lists operators that must all hold.
    func predicate(_ node: Node, kind: OperandKind, _ what: String) -> ValuePredicate? {
        guard case .mapping = node else {
            return operand(node, kind: kind, what).map(ValuePredicate.equals)
        }
        guard let pairs = mapping(node, what) else { return nil }
        if pairs.isEmpty {
            report("\(what) has no operator; use a value, or a mapping such as { equals: … }", at: node)
            return nil
        }
        var parts: [ValuePredicate] = []
        var ok = true
        var filters: FilterChain?
        for pair in pairs {
            if pair.key == ValuePredicate.Operator.filters.rawValue {
                if let chain = filterChain(pair.value, "filters in \(what)") { filters = chain } else { ok = false }
                continue
            }
            guard let op = ValuePredicate.Operator(rawValue: pair.key) else {
                let valid = ValuePredicate.Operator.allCases.map(\.rawValue)
                if let suggestion = nearestName(to: pair.key, among: valid) {
                    report("unknown predicate operator '\(pair.key)' in \(what); did you mean '\(suggestion)'?", at: pair.keyNode)
                } else {
                    report("unknown predicate operator '\(pair.key)' in \(what); operators: \(valid.joined(separator: ", ")) (to compare with an object, write equals: {…})", at: pair.keyNode)
                }
                ok = false
                continue
            }
            if let part = operatorPredicate(op, pair.value, kind: kind, what) { parts.append(part) } else { ok = false }
        }
        guard ok else { return nil }
        if let filters {
            guard !parts.isEmpty else {
                report("filters in \(what) need a check of what they give, such as { filters: [count], equals: 2 }", at: node)
                return nil
            }
            return .filtered(filters, parts.count == 1 ? parts[0] : .all(parts))
        }
        return parts.count == 1 ? parts[0] : .all(parts)
    }

    /// `filters:`: one string of filters joined by `|` (`split('/') | nth(-1)`), or a list of
    /// them (`[ split('/'), nth(-1) ]`), as in templates. Errors are reported at their column.
    func filterChain(_ node: Node, _ what: String) -> FilterChain? {
        let items: [Node]
        switch node {
        case .scalar: items = [node]
        case .sequence(let list) where !list.isEmpty: items = Array(list)
        default:
            report("\(what) must be filters such as \"split('/') | nth(-1)\", or a list of them, found \(node.kindDescription)", at: node)
            return nil
        }
        var chain = FilterChain()
        for item in items {
            guard case .scalar(let scalar) = item else {
                report("\(what): each filter is a string such as nth(-1), found \(item.kindDescription)", at: item)
                return nil
            }
            do {
                let parsed = try FilterChain(parsing: scalar.string)
                for template in parsed.argumentTemplates {
                    recordedTemplates.append((template, YAMLSource.ScalarPosition(item), currentScope))
                }
                chain = chain.followed(by: parsed)
            } catch {
                report("\(what): \(error.message)", at: source.location(inside: item, offset: error.offset, value: scalar.string), length: error.length)
                return nil
            }
        }
        return chain
    }

    private func operatorPredicate(_ op: ValuePredicate.Operator, _ node: Node, kind: OperandKind, _ what: String) -> ValuePredicate? {
        let context = "'\(op.rawValue)' in \(what)"
        switch op {
        case .equals: return operand(node, kind: kind, context).map(ValuePredicate.equals)
        case .not_equals: return operand(node, kind: kind, context).map(ValuePredicate.notEquals)
        case .less: return comparable(node, kind: kind, context).map { .compare(.less, $0) }
        case .lessOrEqual: return comparable(node, kind: kind, context).map { .compare(.lessOrEqual, $0) }
        case .greater: return comparable(node, kind: kind, context).map { .compare(.greater, $0) }
        case .greaterOrEqual: return comparable(node, kind: kind, context).map { .compare(.greaterOrEqual, $0) }
        case .contains: return operand(node, kind: .json, context).map(ValuePredicate.contains)
        case .not_contains: return operand(node, kind: .json, context).map(ValuePredicate.notContains)
        case .starts_with: return template(node, context).map(ValuePredicate.startsWith)
        case .ends_with: return template(node, context).map(ValuePredicate.endsWith)
        case .matches:
            guard let pattern = literal(node, "the regex of \(context)"), compileRegex(pattern, at: node, context) != nil else { return nil }
            return .matches(pattern)
        case .exists: return bool(node, context).map(ValuePredicate.exists)
        case .empty: return bool(node, context).map(ValuePredicate.empty)
        case .type:
            guard let name = string(node, context) else { return nil }
            guard let type = JSONTypeName(rawValue: name) else {
                let valid = JSONTypeName.allCases.map(\.rawValue)
                let hint = nearestName(to: name, among: valid).map { "did you mean '\($0)'?" } ?? "types: \(valid.joined(separator: ", "))"
                report("unknown type '\(name)' for \(context); \(hint)", at: node)
                return nil
            }
            return .type(type)
        case .length:
            if case .mapping = node { return predicate(node, kind: .json, context).map(ValuePredicate.length) }
            guard let count = integer(node, context, range: 0...Int.max) else { return nil }
            return .length(.equals(.number(JSONNumber(count))))
        case .one_of:
            guard let items = sequence(node, context) else { return nil }
            var values: [TemplateValue] = []
            for item in items {
                guard let value = operand(item, kind: kind, context) else { return nil }
                values.append(value)
            }
            return .oneOf(values)
        case .each:
            return predicate(node, kind: kind, context).map(ValuePredicate.each)
        case .not:
            return predicate(node, kind: kind, context).map(ValuePredicate.not)
        case .filters:
            return nil  // read before the operators, in predicate(_:kind:_:)
        case .is_integer, .is_float, .is_number, .is_string, .is_boolean, .is_collection, .is_date, .is_iso_date, .is_uuid, .is_ipv4, .is_ipv6:
            guard let kindChecked = op.kind, let expected = bool(node, context) else { return nil }
            return .kind(kindChecked, expected)
        }
    }

    /// A value to compare with; for durations, `2s` becomes 2000 (milliseconds).
    func operand(_ node: Node, kind: OperandKind, _ what: String) -> TemplateValue? {
        switch kind {
        case .json: return templateValue(node)
        case .duration:
            return timeSpan(node, what).map { .number(JSONNumber($0.milliseconds)) }
        }
    }

    /// An operand of `<`, `<=`, `>`, `>=`: a number, a string, or a template.
    func comparable(_ node: Node, kind: OperandKind, _ what: String) -> TemplateValue? {
        guard let value = operand(node, kind: kind, what) else { return nil }
        switch value {
        case .number, .string: return value
        default:
            report("\(what) compares with a number or a string, found \(node.kindDescription)", at: node)
            return nil
        }
    }

    /// The pattern compiled as checks will run it (ICU, `BoundedRegex`); a syntax error is
    /// reported at its spot in the pattern, with ICU's reason.
    func compileRegex(_ pattern: String, at node: Node, _ context: String) -> BoundedRegex? {
        switch RegexCache.shared.regex(pattern) {
        case .success(let regex): return regex
        case .failure(let error):
            // ICU says where it gave up; for a bracket never closed, the bracket is the spot.
            let index = String.Index(utf16Offset: min(max(error.offset, 0), pattern.utf16.count), in: pattern)
            let offset = Self.unclosedBracket(pattern) ?? pattern.unicodeScalars.distance(from: pattern.unicodeScalars.startIndex, to: index)
            report("bad regex '\(pattern)' in \(context): \(error.message)", at: source.location(inside: node, offset: offset, value: pattern))
            return nil
        }
    }

    /// The offset (in scalars) of the last '(' or '[' that is never closed, if there is one.
    static func unclosedBracket(_ pattern: String) -> Int? {
        var open: [Int] = [], classStart: Int?
        var escaped = false
        for (i, c) in pattern.unicodeScalars.enumerated() {
            if escaped { escaped = false; continue }
            switch c {
            case "\\": escaped = true
            case "[" where classStart == nil: classStart = i
            case "]" where classStart != nil: classStart = nil
            case "(" where classStart == nil: open.append(i)
            case ")" where classStart == nil: _ = open.popLast()
            default: break
            }
        }
        return classStart ?? open.last
    }

}
