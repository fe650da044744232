import Foundation

/// The expression inside `{{ }}`.
indirect enum TemplateExpression: Sendable, Hashable {
    case variable(name: String, path: [String], offset: Int, length: Int)
    case environment(name: String, offset: Int, length: Int)
    case literal(JSONValue)
    case call(TemplateFunction, arguments: [TemplateExpression], offset: Int)
    case filter(TemplateExpression, TemplateFilter, arguments: [TemplateExpression], offset: Int)

    func collectReferences(into out: inout [TemplateReference], guarded: Bool) {
        switch self {
        case .variable(let name, _, let offset, let length):
            out.append(TemplateReference(name: name, isEnvironment: false, offset: offset, length: length, guarded: guarded))
        case .environment(let name, let offset, let length):
            out.append(TemplateReference(name: name, isEnvironment: true, offset: offset, length: length, guarded: guarded))
        case .literal: break
        case .call(_, let arguments, _):
            for argument in arguments { argument.collectReferences(into: &out, guarded: guarded) }
        case .filter(let base, let filter, let arguments, _):
            base.collectReferences(into: &out, guarded: guarded || filter == .default)
            for argument in arguments { argument.collectReferences(into: &out, guarded: guarded) }
        }
    }

    /// Where the expression starts in its template's source (unicode scalars).
    var offset: Int {
        switch self {
        case .variable(_, _, let offset, _), .environment(_, let offset, _), .call(_, _, let offset): offset
        case .filter(let base, _, _, _): base.offset
        case .literal: 0
        }
    }

    /// Whether the last filter applied is `urlencode`.
    var endsInURLEncode: Bool {
        if case .filter(_, .urlencode, _, _) = self { return true }
        return false
    }

    func evaluate(in context: some TemplateContext) throws(TemplateError) -> JSONValue {
        try evaluateTracked(in: context).value
    }

    /// The value, and whether it is secret: read from a secret variable, or computed from
    /// one (a filter or a function over a secret), which is secret too.
    func evaluateTracked(in context: some TemplateContext) throws(TemplateError) -> (value: JSONValue, secret: Bool) {
        switch self {
        case .literal(let value): return (value, false)
        case .variable(let name, let path, let offset, let length):
            guard var value = try context.variable(name) else {
                throw TemplateError("'\(name)' is not defined", offset: offset, length: name.unicodeScalars.count, undefinedName: name)
            }
            for key in path {
                if let index = Int(key), case .array(let elements) = value, elements.indices.contains(index) {
                    value = elements[index]
                } else if case .object(let object) = value, let member = object[key] {
                    value = member
                } else {
                    throw TemplateError("'\(name)' has no member '\(key)'", offset: offset, length: length)
                }
            }
            return (value, context.isSecret(name))
        case .environment(let name, let offset, let length):
            guard let value = context.environment(name) else {
                throw TemplateError("environment variable '\(name)' is not set (add `| default(…)` to make it optional)", offset: offset, length: length)
            }
            return (.string(value), false)
        case .call(let function, let arguments, let offset):
            var values: [JSONValue] = []
            var secret = false
            for argument in arguments {
                let evaluated = try argument.evaluateTracked(in: context)
                values.append(evaluated.value)
                secret = secret || evaluated.secret
            }
            do {
                return (try function.call(values, offset: offset, sources: context.sources), secret)
            } catch where secret {
                throw TemplateError("\(function.rawValue)(): the call failed on a secret value (not shown)", offset: offset)
            }
        case .filter(let base, let filter, let arguments, let offset):
            if filter == .default {
                let input: (value: JSONValue, secret: Bool)
                do {
                    input = try base.evaluateTracked(in: context)
                } catch {
                    return try arguments[0].evaluateTracked(in: context)
                }
                if input.value == .null { return try arguments[0].evaluateTracked(in: context) }
                return input
            }
            let input = try base.evaluateTracked(in: context)
            var values: [JSONValue] = []
            var secret = input.secret
            for argument in arguments {
                let evaluated = try argument.evaluateTracked(in: context)
                values.append(evaluated.value)
                secret = secret || evaluated.secret
            }
            do {
                return (try filter.apply(to: input.value, values, offset: offset, sources: context.sources), secret)
            } catch where secret {
                // The message would quote the value: say what failed, not what it was given.
                throw TemplateError("\(filter.rawValue): the filter failed on a secret value (not shown)", offset: offset)
            }
        }
    }
}

/// The functions a template can call.
package enum TemplateFunction: String, Sendable, Hashable, CaseIterable {
    case uuid, now, timestamp, random_int

    var arity: Int { self == .random_int ? 2 : 0 }

    /// The function's value; the time and randomness come from `sources`.
    func call(_ arguments: [JSONValue], offset: Int, sources: TemplateSources) throws(TemplateError) -> JSONValue {
        switch self {
        case .uuid: return .string(sources.uuid().uuidString.lowercased())
        case .now:
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return .string(formatter.string(from: sources.now()))
        case .timestamp: return .int(Int(sources.now().timeIntervalSince1970))
        case .random_int:
            guard let low = arguments[0].numberValue?.integer, let high = arguments[1].numberValue?.integer else {
                throw TemplateError("random_int(a, b) takes two integers", offset: offset)
            }
            guard low <= high else { throw TemplateError("random_int(\(low), \(high)): the first bound is above the second", offset: offset) }
            return .number(JSONNumber(sources.randomInteger(low...high)))
        }
    }
}

/// What template functions read from outside the collection: the clock (`now()`,
/// `timestamp()`) and randomness (`uuid()`, `random_int(a, b)`). A run passes `.system`;
/// tests pass fixed ones, so that everything in SondeCore is a function of its inputs.
public struct TemplateSources: Sendable {
    public var now: @Sendable () -> Date
    public var uuid: @Sendable () -> UUID
    /// A uniformly drawn integer in the range, both bounds included.
    public var randomInteger: @Sendable (ClosedRange<Int64>) -> Int64

    public init(
        now: @escaping @Sendable () -> Date, uuid: @escaping @Sendable () -> UUID,
        randomInteger: @escaping @Sendable (ClosedRange<Int64>) -> Int64
    ) {
        self.now = now
        self.uuid = uuid
        self.randomInteger = randomInteger
    }

    /// The system clock and the system's random generator.
    public static let system = TemplateSources(now: { Date() }, uuid: { UUID() }, randomInteger: { Int64.random(in: $0) })
}
