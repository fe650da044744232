/// The result of an expression of value type: a JSON value, or Nothing (RFC 9535 section 2.4.1).
enum FilterValue {
    case nothing
    case value(JSONValue)
}

/// What one evaluation may spend, and why it stopped: `$..*..*` over a small document
/// selects a number of nodes that grows with the square of its size, and a pattern of
/// `match()` may backtrack without end.
final class PathEvaluation {
    /// Nodes an evaluation may visit (selected, tested or descended into).
    static let maxNodes = 1_000_000
    var visited = 0
    var error: JSONPathEvaluationError?

    /// Counts one node; false once the evaluation must stop (it then unwinds).
    @inline(__always) func visit() -> Bool {
        visited += 1
        if visited > Self.maxNodes {
            if error == nil {
                error = JSONPathEvaluationError(message: "the query visited more than \(Self.maxNodes) nodes of the document and was stopped")
            }
            return false
        }
        return error == nil
    }
}

/// A normalized path built as the evaluation goes down, one link a step, shared by the
/// nodes below it: spelled out only for the nodes a query returns.
final class PathLink: Sendable {
    let parent: PathLink?
    let element: NormalizedPath.Element

    init(_ parent: PathLink?, _ element: NormalizedPath.Element) {
        self.parent = parent
        self.element = element
    }

    static func path(_ link: PathLink?) -> NormalizedPath {
        var elements: [NormalizedPath.Element] = []
        var current = link
        while let node = current {
            elements.append(node.element)
            current = node.parent
        }
        return NormalizedPath(elements.reversed())
    }
}

extension PathQuery {
    /// Calls `emit` with each selected value and, when `tracking`, where it stands.
    func evaluate(root: JSONValue, current: JSONValue, tracking: Bool, run: PathEvaluation, emit: (JSONValue, PathLink?) -> Void) {
        let start = isAbsolute ? root : current
        evaluate(from: 0, value: start, path: nil, root: root, tracking: tracking, run: run, emit: emit)
    }

    private func evaluate(
        from segmentIndex: Int, value: JSONValue, path: PathLink?, root: JSONValue, tracking: Bool, run: PathEvaluation,
        emit: (JSONValue, PathLink?) -> Void
    ) {
        guard segmentIndex < segments.count else {
            emit(value, path)
            return
        }
        let segment = segments[segmentIndex]
        func next(_ child: JSONValue, _ childPath: PathLink?) {
            evaluate(from: segmentIndex + 1, value: child, path: childPath, root: root, tracking: tracking, run: run, emit: emit)
        }
        if segment.isDescendant {
            visitDescendants(of: value, path: path, tracking: tracking, run: run) { node, nodePath in
                for selector in segment.selectors {
                    selector.select(in: node, path: nodePath, root: root, tracking: tracking, run: run, emit: next)
                }
            }
        } else {
            for selector in segment.selectors {
                selector.select(in: value, path: path, root: root, tracking: tracking, run: run, emit: next)
            }
        }
    }

    /// The node itself, then its descendants, in document order.
    private func visitDescendants(
        of value: JSONValue, path: PathLink?, tracking: Bool, run: PathEvaluation, visit: (JSONValue, PathLink?) -> Void
    ) {
        guard run.visit() else { return }
        visit(value, path)
        switch value {
        case .array(let elements):
            for (i, element) in elements.enumerated() {
                if run.error != nil { return }
                visitDescendants(of: element, path: tracking ? PathLink(path, .index(i)) : nil, tracking: tracking, run: run, visit: visit)
            }
        case .object(let object):
            for member in object.members {
                if run.error != nil { return }
                visitDescendants(of: member.value, path: tracking ? PathLink(path, .name(member.key)) : nil, tracking: tracking, run: run, visit: visit)
            }
        default: break
        }
    }

    /// The query's nodes as a plain list of values (for filters and function arguments).
    func values(root: JSONValue, current: JSONValue, run: PathEvaluation) -> [JSONValue] {
        var out: [JSONValue] = []
        evaluate(root: root, current: current, tracking: false, run: run) { value, _ in out.append(value) }
        return out
    }
}

extension PathSelector {
    func select(
        in value: JSONValue, path: PathLink?, root: JSONValue, tracking: Bool, run: PathEvaluation, emit: (JSONValue, PathLink?) -> Void
    ) {
        switch self {
        case .name(let name):
            guard case .object(let object) = value, let child = object[name], run.visit() else { return }
            emit(child, tracking ? PathLink(path, .name(name)) : nil)
        case .wildcard:
            switch value {
            case .array(let elements):
                for (i, element) in elements.enumerated() {
                    guard run.visit() else { return }
                    emit(element, tracking ? PathLink(path, .index(i)) : nil)
                }
            case .object(let object):
                for member in object.members {
                    guard run.visit() else { return }
                    emit(member.value, tracking ? PathLink(path, .name(member.key)) : nil)
                }
            default: return
            }
        case .index(let i):
            guard case .array(let elements) = value else { return }
            let normalized = i >= 0 ? i : elements.count + i
            guard normalized >= 0, normalized < elements.count, run.visit() else { return }
            emit(elements[normalized], tracking ? PathLink(path, .index(normalized)) : nil)
        case .slice(let start, let end, let step):
            guard case .array(let elements) = value else { return }
            for i in PathSelector.sliceIndices(count: elements.count, start: start, end: end, step: step) {
                guard run.visit() else { return }
                emit(elements[i], tracking ? PathLink(path, .index(i)) : nil)
            }
        case .filter(let expression):
            switch value {
            case .array(let elements):
                for (i, element) in elements.enumerated() {
                    guard run.visit() else { return }
                    if expression.test(current: element, root: root, run: run), run.error == nil {
                        emit(element, tracking ? PathLink(path, .index(i)) : nil)
                    }
                }
            case .object(let object):
                for member in object.members {
                    guard run.visit() else { return }
                    if expression.test(current: member.value, root: root, run: run), run.error == nil {
                        emit(member.value, tracking ? PathLink(path, .name(member.key)) : nil)
                    }
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
    func test(current: JSONValue, root: JSONValue, run: PathEvaluation) -> Bool {
        switch self {
        case .or(let items): return items.contains { $0.test(current: current, root: root, run: run) }
        case .and(let items): return items.allSatisfy { $0.test(current: current, root: root, run: run) }
        case .not(let inner): return !inner.test(current: current, root: root, run: run)
        case .comparison(let left, let op, let right):
            return FilterExpression.compare(
                left.value(current: current, root: root, run: run), op, right.value(current: current, root: root, run: run))
        case .test(.query(let query), _):
            var found = false
            query.evaluate(root: root, current: current, tracking: false, run: run) { _, _ in found = true }
            return found
        case .test(.function(let call), _):
            switch call.function.result {
            case .logical: return call.logical(current: current, root: root, run: run)
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
    func value(current: JSONValue, root: JSONValue, run: PathEvaluation) -> FilterValue {
        switch self {
        case .literal(let v): return .value(v)
        case .query(let query):
            var result: FilterValue = .nothing
            var count = 0
            query.evaluate(root: root, current: current, tracking: false, run: run) { value, _ in
                count += 1
                result = count == 1 ? .value(value) : .nothing
            }
            return result
        case .function(let call): return call.value(current: current, root: root, run: run)
        }
    }
}

extension FunctionArgument {
    func value(current: JSONValue, root: JSONValue, run: PathEvaluation) -> FilterValue {
        switch self {
        case .operand(let operand): return operand.value(current: current, root: root, run: run)
        case .logical: return .nothing
        }
    }

    func nodes(current: JSONValue, root: JSONValue, run: PathEvaluation) -> [JSONValue] {
        guard case .operand(.query(let query)) = self else { return [] }
        return query.values(root: root, current: current, run: run)
    }
}

extension FunctionCall {
    func value(current: JSONValue, root: JSONValue, run: PathEvaluation) -> FilterValue {
        switch function {
        case .length:
            guard case .value(let v) = arguments[0].value(current: current, root: root, run: run) else { return .nothing }
            switch v {
            case .string(let s): return .value(.int(s.unicodeScalars.count))
            case .array(let a): return .value(.int(a.count))
            case .object(let o): return .value(.int(o.count))
            default: return .nothing
            }
        case .count:
            return .value(.int(arguments[0].nodes(current: current, root: root, run: run).count))
        case .value:
            let nodes = arguments[0].nodes(current: current, root: root, run: run)
            return nodes.count == 1 ? .value(nodes[0]) : .nothing
        case .match, .search:
            return .nothing
        }
    }

    /// match() and search(); a pattern that cannot run on the text (a limit of the regex
    /// engine) stops the evaluation with an error, never reads as "does not match".
    func logical(current: JSONValue, root: JSONValue, run: PathEvaluation) -> Bool {
        guard function == .match || function == .search,
            case .value(.string(let subject)) = arguments[0].value(current: current, root: root, run: run)
        else { return false }
        let regexp: IRegexp
        if let compiledPattern {
            regexp = compiledPattern
        } else {
            guard case .value(.string(let pattern)) = arguments[1].value(current: current, root: root, run: run),
                let compiled = IRegexp.cached(pattern, anchored: function == .match)
            else { return false }
            regexp = compiled
        }
        do {
            return try regexp.matches(subject)
        } catch {
            if run.error == nil {
                run.error = JSONPathEvaluationError(message: "\(function.rawValue)() with /\(regexp.pattern)/ could not run: \(error.message)")
            }
            return false
        }
    }
}
