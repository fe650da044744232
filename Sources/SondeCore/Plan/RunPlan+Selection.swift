#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `sonde run --request NAME --tag T --skip-tag T`: the steps chosen, and every earlier step
/// whose captures they need.
public struct StepSelection: Sendable, Hashable {
    /// Glob patterns (`*`, `?`, `[…]`, as fnmatch(3) reads them) matched against a step's id
    /// (`login/login`), and against its include's names (`login` selects all its steps).
    public var requests: [String]
    public var tags: [String]
    public var skipTags: [String]

    public init(requests: [String] = [], tags: [String] = [], skipTags: [String] = []) {
        self.requests = requests
        self.tags = tags
        self.skipTags = skipTags
    }

    public var isEmpty: Bool { requests.isEmpty && tags.isEmpty && skipTags.isEmpty }

    /// As the command line wrote it: `--request 'get *' --tag smoke`.
    public var arguments: [String] {
        requests.map { "--request \($0)" } + tags.map { "--tag \($0)" } + skipTags.map { "--skip-tag \($0)" }
    }
}

extension RunPlan {
    /// Whether `pattern` (fnmatch(3)) matches the step's id, or the name of an include it
    /// comes through (`login` and `login/*` select every step of the include named `login`).
    /// A name written as it is matches too: `get [1]` is that request, not a glob class.
    func matches(_ pattern: String, _ step: PlanStep) -> Bool {
        func match(_ name: String) -> Bool { pattern == name || fnmatch(pattern, name, 0) == 0 }
        if match(step.id) { return true }
        var scope = step.scope
        while scopes.indices.contains(scope), let parent = scopes[scope].parent {
            if match(scopes[scope].name) { return true }
            scope = parent
        }
        return false
    }

    /// The first pattern or tag of `selection` that matches no step of any of `plans`, said
    /// with the names and tags there are; nil when each matches something.
    public static func unmatched(_ selection: StepSelection, in plans: [RunPlan]) -> String? {
        let main = plans.flatMap { $0.steps.filter { $0.phase == .main } }
        for pattern in selection.requests where !plans.contains(where: { plan in plan.steps.contains { $0.phase == .main && plan.matches(pattern, $0) } }) {
            let names = main.map(\.id)
            // A setup or teardown step always runs: choosing it says nothing.
            if let other = plans.lazy.compactMap({ plan in plan.steps.first { $0.phase != .main && plan.matches(pattern, $0) } }).first {
                return "--request '\(pattern)' matches '\(other.name)', a \(other.phase.rawValue) step: setup and teardown always run; choose among the requests (\(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", …" : ""))"
            }
            let hint = nearestName(to: pattern, among: names).map { "; did you mean '\($0)'?" } ?? ""
            return "--request '\(pattern)' matches no request\(hint) (the requests: \(names.prefix(12).joined(separator: ", "))\(names.count > 12 ? ", …" : ""))"
        }
        let allTags = Set(plans.flatMap { $0.steps.flatMap(\.tags) })
        for tag in selection.tags + selection.skipTags where !allTags.contains(tag) {
            let hint = nearestName(to: tag, among: Array(allTags)).map { "; did you mean '\($0)'?" } ?? ""
            let known = allTags.isEmpty ? " (no step has tags)" : " (the tags: \(allTags.sorted().joined(separator: ", ")))"
            return "no step has the tag '\(tag)'\(hint)\(known)"
        }
        return nil
    }

    /// The plan with only the steps `selection` chooses among `requests:` (setup and teardown
    /// always run), plus every earlier step whose captures a kept step reads (directly, or
    /// through an include's `with:`), each with `addedBecause`. Nil when it chooses none of
    /// this plan's requests (the collection is then not run).
    public func selecting(_ selection: StepSelection) -> RunPlan? {
        guard !selection.isEmpty else { return self }
        var kept = steps.map { step -> Bool in
            guard step.phase == .main else { return true }
            let chosen = (selection.requests.isEmpty && selection.tags.isEmpty)
                || selection.requests.contains { matches($0, step) } || step.tags.contains { selection.tags.contains($0) }
            return chosen && !step.tags.contains { selection.skipTags.contains($0) }
        }
        guard steps.indices.contains(where: { kept[$0] && steps[$0].phase == .main }) else { return nil }
        var reasons: [Int: String] = [:]
        let index = captureIndex()
        // From the last step back: a kept step's names are looked for among the steps before it.
        // A teardown step's are not: it cleans up what ran, and skips what did not.
        var position = steps.count - 1
        while position >= 0 {
            defer { position -= 1 }
            guard kept[position], steps[position].phase != .teardown else { continue }
            for (name, scope) in namesRead(by: position) {
                // Every earlier step that may take it: the nearest may be skipped or fail, and
                // the value then comes from one before it, as in a run of the whole collection.
                for provider in index.providers(of: name, in: scope, before: position) where !kept[provider] {
                    kept[provider] = true
                    reasons[provider] = "\(steps[position].name) needs \(name)"
                    // The provider's own needs are looked at when the loop reaches it (it is earlier).
                }
            }
        }
        var plan = self
        plan.steps = []
        for (position, step) in steps.enumerated() {
            guard kept[position] else {
                // What it would have captured (in the collection's scope, or exported to it).
                for capture in step.request.captures {
                    var at = step.scope
                    while at != 0, scopes[at].exports.contains(capture.name), let parent = scopes[at].parent { at = parent }
                    if at == 0 { plan.leftOutCaptures[capture.name] = step.name }
                }
                continue
            }
            var step = step
            step.addedBecause = reasons[position]
            plan.steps.append(step)
        }
        // A selection that ends up running every step ran the whole collection.
        plan.selection = plan.steps.count == steps.count ? [] : selection.arguments
        if plan.selection.isEmpty { plan.leftOutCaptures = [:] }
        return plan
    }

    /// The variables step `index` reads, each with the scope it is read in: its own
    /// templates in its scope, and, for the first step of an include, the include's `with:`
    /// in the scopes above.
    public func namesRead(by index: Int) -> [(name: String, scope: Int)] {
        let step = steps[index]
        var out: [(String, Int)] = []
        let templates = step.request.outgoingTemplates + step.request.expectations.flatMap(\.predicate.templates)
        for reference in templates.flatMap(\.references) where !reference.isEnvironment { out.append((reference.name, step.scope)) }
        var scope = step.scope
        while let parent = scopes[scope].parent {
            for reference in scopes[scope].with.flatMap(\.value.templates).flatMap(\.references) where !reference.isEnvironment {
                out.append((reference.name, parent))
            }
            scope = parent
        }
        return out
    }

    /// The latest step before `index` whose capture sets `name` in `scope`: one of that scope,
    /// or of an include below it that exports the name up to it.
    /// Where each name is captured, per scope it reaches: built once for a plan, so that
    /// finding what a step needs is a lookup, not a walk back over the steps.
    public struct CaptureIndex: Sendable {
        /// By scope and name: the positions of the steps that take it, in order.
        var positions: [String: [Int]] = [:]

        static func key(_ name: String, _ scope: Int) -> String { "\(scope)\u{1F}\(name)" }

        /// Every step before `index` whose capture sets `name` in `scope`, nearest first.
        public func providers(of name: String, in scope: Int, before index: Int) -> [Int] {
            guard let all = positions[Self.key(name, scope)] else { return [] }
            return all.filter { $0 < index }.reversed()
        }

        /// The nearest of them.
        public func provider(of name: String, in scope: Int, before index: Int) -> Int? {
            guard let all = positions[Self.key(name, scope)] else { return nil }
            return all.last { $0 < index }
        }
    }

    /// The plan's `CaptureIndex`: a capture counts in its step's scope and in each scope
    /// above that it is exported to.
    public func captureIndex() -> CaptureIndex {
        var index = CaptureIndex()
        for (position, step) in steps.enumerated() {
            for capture in step.request.captures {
                var at = step.scope
                while true {
                    index.positions[CaptureIndex.key(capture.name, at), default: []].append(position)
                    guard scopes.indices.contains(at), scopes[at].exports.contains(capture.name), let parent = scopes[at].parent else { break }
                    at = parent
                }
            }
        }
        return index
    }
}
