import Foundation

/// A JSON Schema (draft-07 and 2020-12 keywords) that checks instances and says where they break.
///
/// Supported: type, enum, const, properties, required, additionalProperties, patternProperties,
/// propertyNames, min/maxProperties, dependentRequired, items (schema or list), prefixItems,
/// min/maxItems, uniqueItems, contains, min/maxLength, pattern, minimum, maximum,
/// exclusiveMinimum, exclusiveMaximum, multipleOf, allOf, anyOf, oneOf, not, if/then/else,
/// and local `$ref`s (`#`, `#/definitions/…`, `#/$defs/…`). `format` is an annotation only.
public struct JSONSchema: Sendable {
    public let root: JSONValue

    public init(_ root: JSONValue) {
        self.root = root
    }

    /// One way the instance breaks the schema.
    public struct Violation: Sendable, Equatable, CustomStringConvertible {
        public var path: NormalizedPath
        public var message: String

        public var description: String { "\(path): \(message)" }
    }

    /// The most schema nodes one validation checks: `$ref`s that fan out (`{allOf: [{$ref:
    /// "#"}, {$ref: "#"}]}`) would otherwise take hours; past it, validation stops with a violation.
    public static let maxSteps = 200_000
    /// The deepest a validation goes into schemas and values (and so into the stack).
    public static let maxDepth = 64

    public func validate(_ instance: JSONValue) -> [Violation] {
        var violations: [Violation] = []
        let budget = Budget()
        check(instance, against: root, at: NormalizedPath(), depth: 0, budget: budget, into: &violations)
        if budget.steps > Self.maxSteps {
            violations.append(Violation(path: NormalizedPath(), message: "validation stopped after \(Self.maxSteps) steps: the schema's $refs fan out too far"))
        }
        if budget.tooDeep {
            violations.append(Violation(path: NormalizedPath(), message: "validation stopped at depth \(Self.maxDepth): the schema or the value nests deeper"))
        }
        return violations
    }

    /// What one validation has spent.
    final class Budget {
        var steps = 0
        var tooDeep = false
        var exhausted: Bool { steps > JSONSchema.maxSteps }
    }

    private func resolve(_ reference: String) -> JSONValue? {
        guard reference.hasPrefix("#") else { return nil }
        var node = root
        for token in reference.dropFirst().split(separator: "/") {
            let key = token.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            let decoded = key.removingPercentEncoding ?? key
            if let index = Int(decoded), case .array(let items) = node, items.indices.contains(index) {
                node = items[index]
            } else if let next = node[decoded] {
                node = next
            } else {
                return nil
            }
        }
        return node
    }

    private static func matchesType(_ value: JSONValue, _ type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number):
            return true
        case ("integer", .number(let n)): return n.integer != nil
        default: return false
        }
    }

    private func check(_ value: JSONValue, against schema: JSONValue, at path: NormalizedPath, depth: Int, budget: Budget, into out: inout [Violation]) {
        func fail(_ message: String) { out.append(Violation(path: path, message: message)) }
        budget.steps += 1
        if budget.exhausted { return }
        if case .bool(let allowed) = schema {
            if !allowed { fail("no value is allowed here") }
            return
        }
        guard depth < Self.maxDepth else {
            budget.tooDeep = true
            return
        }
        guard case .object(let keywords) = schema else { return }

        if let reference = keywords["$ref"]?.stringValue {
            if let target = resolve(reference) {
                check(value, against: target, at: path, depth: depth + 1, budget: budget, into: &out)
            } else {
                fail("unresolvable $ref '\(reference)'")
            }
        }
        if let type = keywords["type"] {
            let types = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !types.contains(where: { Self.matchesType(value, $0) }) {
                fail("expected \(types.joined(separator: " or ")), found \(value.typeName)")
                return
            }
        }
        if let options = keywords["enum"]?.arrayValue, !options.contains(value) {
            let listed = options.prefix(12).map(\.jsonText).joined(separator: ", ")
            fail("\(value.jsonText) is not one of \(listed)\(options.count > 12 ? ", …" : "")")
        }
        if let constant = keywords["const"], constant != value { fail("expected \(constant.jsonText), found \(value.jsonText)") }

        switch value {
        case .object(let object): checkObject(object, keywords, at: path, depth: depth, budget: budget, into: &out)
        case .array(let items): checkArray(items, keywords, at: path, depth: depth, budget: budget, into: &out)
        case .string(let s): checkString(s, keywords, fail: fail)
        case .number(let n): checkNumber(n, keywords, fail: fail)
        default: break
        }

        if let all = keywords["allOf"]?.arrayValue {
            for sub in all { check(value, against: sub, at: path, depth: depth + 1, budget: budget, into: &out) }
        }
        if let any = keywords["anyOf"]?.arrayValue {
            var failures: [[Violation]] = []
            for sub in any {
                var inner: [Violation] = []
                check(value, against: sub, at: path, depth: depth + 1, budget: budget, into: &inner)
                if inner.isEmpty { failures = []; break }
                failures.append(inner)
            }
            if !failures.isEmpty { out += Self.explain(failures, at: path) }
        }
        if let one = keywords["oneOf"]?.arrayValue {
            var passing = 0
            var failures: [[Violation]] = []
            for sub in one {
                var inner: [Violation] = []
                check(value, against: sub, at: path, depth: depth + 1, budget: budget, into: &inner)
                if inner.isEmpty { passing += 1 } else { failures.append(inner) }
            }
            if passing == 0 { out += Self.explain(failures, at: path) }
            if passing > 1 { fail("matches \(passing) of the forms where exactly one is allowed") }
        }
        if let not = keywords["not"] {
            var inner: [Violation] = []
            check(value, against: not, at: path, depth: depth + 1, budget: budget, into: &inner)
            if inner.isEmpty { fail(keywords["errorMessage"]?.stringValue ?? "matches a form that is not allowed") }
        }
        if let condition = keywords["if"] {
            var inner: [Violation] = []
            check(value, against: condition, at: path, depth: depth + 1, budget: budget, into: &inner)
            if inner.isEmpty, let then = keywords["then"] {
                check(value, against: then, at: path, depth: depth + 1, budget: budget, into: &out)
            } else if !inner.isEmpty, let otherwise = keywords["else"] {
                check(value, against: otherwise, at: path, depth: depth + 1, budget: budget, into: &out)
            }
        }
    }

    /// Why no alternative fitted: the one that got furthest into the value (its errors lie deeper),
    /// or when every one failed at the value itself, all their reasons together.
    private static func explain(_ failures: [[Violation]], at path: NormalizedPath) -> [Violation] {
        let deep = failures.filter { branch in branch.contains { $0.path.elements.count > path.elements.count } || branch.count > 1 }
        if let best = deep.min(by: { $0.count < $1.count }) { return best }
        var reasons: [String] = []
        for message in failures.flatMap({ $0.map(\.message) }) where !reasons.contains(message) { reasons.append(message) }
        return [Violation(path: path, message: reasons.joined(separator: "; or "))]
    }

    private func checkObject(_ object: JSONObject, _ keywords: JSONObject, at path: NormalizedPath, depth: Int, budget: Budget, into out: inout [Violation]) {
        for name in keywords["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[name] == nil {
            out.append(Violation(path: path, message: "missing required property '\(name)'"))
        }
        if let min = keywords["minProperties"]?.numberValue?.integer, object.count < min {
            out.append(Violation(path: path, message: "needs at least \(min) properties, has \(object.count)"))
        }
        if let max = keywords["maxProperties"]?.numberValue?.integer, object.count > max {
            out.append(Violation(path: path, message: "allows at most \(max) properties, has \(object.count)"))
        }
        if let dependent = keywords["dependentRequired"]?.objectValue {
            for (name, needs) in dependent.members where object[name] != nil {
                for need in needs.arrayValue?.compactMap(\.stringValue) ?? [] where object[need] == nil {
                    out.append(Violation(path: path, message: "'\(name)' needs '\(need)'"))
                }
            }
        }
        let properties = keywords["properties"]?.objectValue
        let patterns = keywords["patternProperties"]?.objectValue
        for member in object.members {
            let childPath = path.appending(.name(member.key))
            var covered = false
            if let sub = properties?[member.key] {
                covered = true
                check(member.value, against: sub, at: childPath, depth: depth + 1, budget: budget, into: &out)
            }
            for (pattern, sub) in patterns?.members ?? [] {
                do {
                    guard try RegexCache.shared.matches(pattern, member.key) else { continue }
                } catch {
                    out.append(Violation(path: childPath, message: "patternProperties /\(pattern)/ could not be applied: \(error.message)"))
                    continue
                }
                covered = true
                check(member.value, against: sub, at: childPath, depth: depth + 1, budget: budget, into: &out)
            }
            if let names = keywords["propertyNames"] {
                var inner: [Violation] = []
                check(.string(member.key), against: names, at: childPath, depth: depth + 1, budget: budget, into: &inner)
                if !inner.isEmpty { out.append(Violation(path: childPath, message: "invalid name '\(member.key)': \(inner[0].message)")) }
            }
            if !covered, let additional = keywords["additionalProperties"] {
                if additional == .bool(false) {
                    let known = properties?.keys ?? []
                    let hint = nearestName(to: member.key, among: known).map { "; did you mean '\($0)'?" } ?? ""
                    out.append(Violation(path: childPath, message: "unknown property '\(member.key)'\(hint)"))
                } else {
                    check(member.value, against: additional, at: childPath, depth: depth + 1, budget: budget, into: &out)
                }
            }
        }
    }

    private func checkArray(_ items: [JSONValue], _ keywords: JSONObject, at path: NormalizedPath, depth: Int, budget: Budget, into out: inout [Violation]) {
        var prefixCount = 0
        if let prefix = keywords["prefixItems"]?.arrayValue ?? keywords["items"]?.arrayValue {
            prefixCount = prefix.count
            for (i, sub) in prefix.enumerated() where i < items.count {
                check(items[i], against: sub, at: path.appending(.index(i)), depth: depth + 1, budget: budget, into: &out)
            }
        }
        if let sub = keywords["items"], sub.arrayValue == nil {
            for i in prefixCount..<max(prefixCount, items.count) {
                check(items[i], against: sub, at: path.appending(.index(i)), depth: depth + 1, budget: budget, into: &out)
            }
        }
        if let min = keywords["minItems"]?.numberValue?.integer, items.count < min {
            out.append(Violation(path: path, message: "needs at least \(min) items, has \(items.count)"))
        }
        if let max = keywords["maxItems"]?.numberValue?.integer, items.count > max {
            out.append(Violation(path: path, message: "allows at most \(max) items, has \(items.count)"))
        }
        if keywords["uniqueItems"] == .bool(true), Set(items).count != items.count {
            out.append(Violation(path: path, message: "items must be unique"))
        }
        if let contains = keywords["contains"] {
            let found = items.contains { item in
                var inner: [Violation] = []
                check(item, against: contains, at: path, depth: depth + 1, budget: budget, into: &inner)
                return inner.isEmpty
            }
            if !found { out.append(Violation(path: path, message: "no item matches 'contains'")) }
        }
    }

    private func checkString(_ s: String, _ keywords: JSONObject, fail: (String) -> Void) {
        let length = s.unicodeScalars.count
        if let min = keywords["minLength"]?.numberValue?.integer, length < min { fail("must be at least \(min) characters long") }
        if let max = keywords["maxLength"]?.numberValue?.integer, length > max { fail("must be at most \(max) characters long") }
        if let pattern = keywords["pattern"]?.stringValue {
            do {
                if try !RegexCache.shared.matches(pattern, s) {
                    fail(keywords["patternMessage"]?.stringValue.map { "'\(s)' \($0)" } ?? "'\(s)' does not match /\(pattern)/")
                }
            } catch {
                fail("pattern /\(pattern)/ could not be applied: \(error.message)")
            }
        }
    }

    private func checkNumber(_ n: JSONNumber, _ keywords: JSONObject, fail: (String) -> Void) {
        // Bounds compare exactly, as every number in Sonde does.
        if let min = keywords["minimum"]?.numberValue, n < min { fail("must be ≥ \(min.jsonText), found \(n.jsonText)") }
        if let max = keywords["maximum"]?.numberValue, max < n { fail("must be ≤ \(max.jsonText), found \(n.jsonText)") }
        if let min = keywords["exclusiveMinimum"]?.numberValue, !(min < n) { fail("must be > \(min.jsonText), found \(n.jsonText)") }
        if let max = keywords["exclusiveMaximum"]?.numberValue, !(n < max) { fail("must be < \(max.jsonText), found \(n.jsonText)") }
        if let step = keywords["multipleOf"]?.numberValue?.double, step > 0 {
            let x = n.double
            let quotient = x / step
            if abs(quotient - quotient.rounded()) > 1e-9 { fail("must be a multiple of \(JSONNumber(step).jsonText)") }
        }
    }
}
