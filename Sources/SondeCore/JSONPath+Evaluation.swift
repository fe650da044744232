/// The result of an expression of value type: a JSON value, or Nothing (RFC 9535 section 2.4.1).
enum FilterValue {
    case nothing
    case value(JSONValue)
}

extension PathQuery {
    /// Calls `emit` with each selected value and, when `tracking`, its normalized path.
    func evaluate(root: JSONValue, current: JSONValue, tracking: Bool, emit: (JSONValue, NormalizedPath) -> Void) {
        let start = isAbsolute ? root : current
        evaluate(from: 0, value: start, path: NormalizedPath(), root: root, tracking: tracking, emit: emit)
    }

    private func evaluate(
        from segmentIndex: Int, value: JSONValue, path: NormalizedPath, root: JSONValue, tracking: Bool,
        emit: (JSONValue, NormalizedPath) -> Void
    ) {
        guard segmentIndex < segments.count else {
            emit(value, path)
            return
        }
        let segment = segments[segmentIndex]
        func next(_ child: JSONValue, _ childPath: NormalizedPath) {
            evaluate(from: segmentIndex + 1, value: child, path: childPath, root: root, tracking: tracking, emit: emit)
        }
        if segment.isDescendant {
            visitDescendants(of: value, path: path, tracking: tracking) { node, nodePath in
                for selector in segment.selectors {
                    selector.select(in: node, path: nodePath, root: root, tracking: tracking, emit: next)
                }
            }
        } else {
            for selector in segment.selectors {
                selector.select(in: value, path: path, root: root, tracking: tracking, emit: next)
            }
        }
    }

    /// The node itself, then its descendants, in document order.
    private func visitDescendants(
        of value: JSONValue, path: NormalizedPath, tracking: Bool, visit: (JSONValue, NormalizedPath) -> Void
    ) {
        visit(value, path)
        switch value {
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                visitDescendants(of: element, path: tracking ? path.appending(.index(i)) : path, tracking: tracking, visit: visit)
            }
        case .object(let object):
            for member in object.members {
                visitDescendants(of: member.value, path: tracking ? path.appending(.name(member.key)) : path, tracking: tracking, visit: visit)
            }
        default: break
        }
    }

    /// The query's nodes as a plain list of values (for filters and function arguments).
    func values(root: JSONValue, current: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        evaluate(root: root, current: current, tracking: false) { value, _ in out.append(value) }
        return out
    }
}

extension PathSelector {
    func select(
        in value: JSONValue, path: NormalizedPath, root: JSONValue, tracking: Bool, emit: (JSONValue, NormalizedPath) -> Void
    ) {
        switch self {
        case .name(let name):
            guard case .object(let object) = value, let child = object[name] else { return }
            emit(child, tracking ? path.appending(.name(name)) : path)
        case .wildcard:
            switch value {
            case .array(let elements):
                for (i, element) in elements.enumerated() { emit(element, tracking ? path.appending(.index(i)) : path) }
            case .object(let object):
                for member in object.members { emit(member.value, tracking ? path.appending(.name(member.key)) : path) }
            default: return
            }
        case .index(let i):
            guard case .array(let elements) = value else { return }
            let normalized = i >= 0 ? i : elements.count + i
            guard normalized >= 0, normalized < elements.count else { return }
            emit(elements[normalized], tracking ? path.appending(.index(normalized)) : path)
        case .slice(let start, let end, let step):
            guard case .array(let elements) = value else { return }
            for i in PathSelector.sliceIndices(count: elements.count, start: start, end: end, step: step) {
                emit(elements[i], tracking ? path.appending(.index(i)) : path)
            }
        case .filter(let expression):
            switch value {
            case .array(let elements):
                for (i, element) in elements.enumerated() where expression.test(current: element, root: root) {
                    emit(element, tracking ? path.appending(.index(i)) : path)
                }
            case .object(let object):
                for member in object.members where expression.test(current: member.value, root: root) {
                    emit(member.value, tracking ? path.appending(.name(member.key)) : path)
                }
            default: return
            }
        }
    }

    /// The indexes an array slice selects (RFC 9535 section 2.3.4.2.2).
    static func sliceIndices(count: Int, start: Int?, end: Int?, step: Int?) -> [Int] {
        let step = step ?? 1
        guard step != 0, count > 0 else { return [] }
        func normalize(_ i: Int) -> Int { i >= 0 ? i : count + i }
        var indices: [Int] = []
        if step > 0 {
            let lower = min(max(normalize(start ?? 0), 0), count)
            let upper = min(max(normalize(end ?? count), 0), count)
            var i = lower
            while i < upper {
                indices.append(i)
                i += step
            }
        } else {
            let upper = min(max(normalize(start ?? count - 1), -1), count - 1)
            let lower = min(max(end.map(normalize) ?? -1, -1), count - 1)
            var i = upper
            while lower < i {
                indices.append(i)
                i += step
            }
        }
        return indices
    }
}

extension FilterExpression {
    func test(current: JSONValue, root: JSONValue) -> Bool {
        switch self {
        case .or(let items): return items.contains { $0.test(current: current, root: root) }
        case .and(let items): return items.allSatisfy { $0.test(current: current, root: root) }
        case .not(let inner): return !inner.test(current: current, root: root)
        case .comparison(let left, let op, let right):
            return FilterExpression.compare(
                left.value(current: current, root: root), op, right.value(current: current, root: root))
        case .test(.query(let query), _):
            var found = false
            query.evaluate(root: root, current: current, tracking: false) { _, _ in found = true }
            return found
        case .test(.function(let call), _):
            switch call.function.result {
            case .logical: return call.logical(current: current, root: root)
            case .nodes, .value: return false
            }
        case .test(.literal, _): return false
        }
    }

    static func compare(_ left: FilterValue, _ op: ComparisonOperator, _ right: FilterValue) -> Bool {
        switch op {
        case .equal: return equal(left, right)
        case .notEqual: return !equal(left, right)
        case .less: return less(left, right)
        case .lessOrEqual: return less(left, right) || equal(left, right)
        case .greater: return less(right, left)
        case .greaterOrEqual: return less(right, left) || equal(left, right)
        }
    }

    static func equal(_ left: FilterValue, _ right: FilterValue) -> Bool {
        switch (left, right) {
        case (.nothing, .nothing): return true
        case (.value(let a), .value(let b)): return a == b
        default: return false
        }
    }

    static func less(_ left: FilterValue, _ right: FilterValue) -> Bool {
        guard case .value(let a) = left, case .value(let b) = right else { return false }
        switch (a, b) {
        case (.number(let x), .number(let y)): return x < y
        case (.string(let x), .string(let y)): return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        default: return false
        }
    }
}

extension FilterOperand {
    func value(current: JSONValue, root: JSONValue) -> FilterValue {
        switch self {
        case .literal(let v): return .value(v)
        case .query(let query):
            var result: FilterValue = .nothing
            var count = 0
            query.evaluate(root: root, current: current, tracking: false) { value, _ in
                count += 1
                result = count == 1 ? .value(value) : .nothing
            }
            return result
        case .function(let call): return call.value(current: current, root: root)
        }
    }
}

extension FunctionArgument {
    func value(current: JSONValue, root: JSONValue) -> FilterValue {
        switch self {
        case .operand(let operand): return operand.value(current: current, root: root)
        case .logical: return .nothing
        }
    }

    func nodes(current: JSONValue, root: JSONValue) -> [JSONValue] {
        guard case .operand(.query(let query)) = self else { return [] }
        return query.values(root: root, current: current)
    }
}

extension FunctionCall {
    func value(current: JSONValue, root: JSONValue) -> FilterValue {
        switch function {
        case .length:
            guard case .value(let v) = arguments[0].value(current: current, root: root) else { return .nothing }
            switch v {
            case .string(let s): return .value(.int(s.unicodeScalars.count))
            case .array(let a): return .value(.int(a.count))
            case .object(let o): return .value(.int(o.count))
            default: return .nothing
            }
        case .count:
            return .value(.int(arguments[0].nodes(current: current, root: root).count))
        case .value:
            let nodes = arguments[0].nodes(current: current, root: root)
            return nodes.count == 1 ? .value(nodes[0]) : .nothing
        case .match, .search:
            return .nothing
        }
    }

    func logical(current: JSONValue, root: JSONValue) -> Bool {
        guard function == .match || function == .search,
            case .value(.string(let subject)) = arguments[0].value(current: current, root: root)
        else { return false }
        if let compiledPattern { return compiledPattern.matches(subject) }
        guard case .value(.string(let pattern)) = arguments[1].value(current: current, root: root),
            let regexp = IRegexp(pattern, anchored: function == .match)
        else { return false }
        return regexp.matches(subject)
    }
}
