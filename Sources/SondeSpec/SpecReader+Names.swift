import SondeCore

extension SpecReader {
    /// Every template must read a variable that some source defines or an earlier step of
    /// the plan captures (the steps in the order the runner sends them).
    ///
    /// An `env.NAME` that the process environment does not set, with no `| default(…)` after
    /// it, is reported here too, at its position, so that `sonde validate` finds it before
    /// anything is sent (variables' values are rendered at load, which reports theirs).
    /// `dotEnv` names the `.env` looked for, for the message of a name no source defines.
    func checkNames(_ spec: CollectionSpec, variables: [VariableDefinition], secrets: [String], environment: [String: String], dotEnv: String) {
        let defined = Set(variables.map(\.name))
        // Every request of every phase, read in place (a plan would copy every request), and
        // each one's rank in the order the steps run (`sortSteps`).
        let steps = allRequests
        // Where each name is first captured (or exported by an include): a name is known to
        // the steps after that one (a set of names per step grew with both, quadratic in a
        // collection of many captures).
        var capturer: [String: (request: String, rank: Int)] = [:]
        for (index, request) in steps.enumerated() where index < requestRanks.count {
            for capture in request.captures where (capturer[capture.name]?.rank ?? Int.max) > requestRanks[index] {
                capturer[capture.name] = ("request '\(request.name)'", requestRanks[index])
            }
        }
        for (index, entry) in includes.enumerated() where index < includeRanks.count {
            for name in entry.include.included?.spec.exports ?? [] where (capturer[name]?.rank ?? Int.max) > includeRanks[index] {
                capturer[name] = ("include '\(entry.include.path)'", includeRanks[index])
            }
        }

        // An included file that could not be read has said why; what it would have exported
        // is unknown, and a name it would have is not reported as undefined on top.
        let exportsUnknown = includes.contains { $0.include.included == nil }

        for (template, position, scope) in recordedTemplates {
            if scope != .variables {
                for reference in template.references where reference.isEnvironment && !reference.guarded && environment[reference.name] == nil {
                    let location = source.location(inside: position, offset: reference.offset, value: template.source)
                    report(
                        "environment variable '\(reference.name)' is not set (set it, or add `| default(…)` to make it optional)", at: location,
                        length: reference.length)
                }
            }
            var ownIndex: Int?
            var ownRank: Int?
            var inOwnExpect = false
            switch scope {
            case .request(let index, let inExpect) where index < steps.count && index < requestRanks.count:
                ownIndex = index
                ownRank = requestRanks[index]
                inOwnExpect = inExpect
            case .include(let index) where index < includeRanks.count:
                ownRank = includeRanks[index]
            case .defaults:
                ownRank = requestRanks.min()
            default: break
            }
            /// Defined, captured by an earlier step, or (in expect) by this step itself, or the
            /// variable its loop binds.
            func isAllowed(_ name: String) -> Bool {
                if defined.contains(name) { return true }
                guard let ownRank else { return false }
                if let first = capturer[name]?.rank, first < ownRank { return true }
                guard let ownIndex else { return false }
                if steps[ownIndex].loop?.binding == name { return true }
                return inOwnExpect && steps[ownIndex].captures.contains { $0.name == name }
            }
            for reference in template.references where !reference.isEnvironment && !reference.guarded && !exportsUnknown && !isAllowed(reference.name) {
                // The names this template may read, for a suggestion (only when one is missing).
                let allowed = defined.union(capturer.keys.filter(isAllowed))
                var message = "'\(reference.name)' is not defined"
                if let (request, _) = capturer[reference.name], scope == .defaults {
                    message += "; defaults apply to every request of the file, and it is captured by \(request), which does not run before the first one (capture it in a setup step or an include that comes first)"
                } else if let (request, rank) = capturer[reference.name], let ownRank {
                    message += rank == ownRank
                        ? "; it is captured from this request's own response, so only expect and later requests can use it"
                        : "; it is captured by \(request), which runs after this one"
                } else if let suggestion = nearestName(to: reference.name, among: allowed) {
                    message += "; did you mean '\(suggestion)'?"
                } else {
                    message += " (define it in vars, an environment file, \(dotEnv), or --var, or capture it in an earlier request"
                        + (reference.name == "data" ? "; a data file's rows come with --data FILE" : "") + ")"
                }
                let location = source.location(inside: position, offset: reference.offset, value: template.source)
                report(message, at: location, length: reference.name.unicodeScalars.count)
            }
        }

        let capturedAnywhere = Set(capturer.keys)
        for (name, node) in secretNodes where !defined.contains(name) && !capturedAnywhere.contains(name) {
            let hint = nearestName(to: name, among: defined.union(capturedAnywhere)).map { "; did you mean '\($0)'?" } ?? ""
            report("secret '\(name)' is neither a variable nor a capture\(hint)", at: node)
        }
        checkCycles(variables)
        checkFilePaths(variables, captured: capturedAnywhere)
    }

    /// A file's path reads no capture, directly or through variables: a server must never
    /// choose which local file is read and sent.
    private func checkFilePaths(_ variables: [VariableDefinition], captured: Set<String>) {
        var definitions: [String: [VariableDefinition]] = [:]
        for definition in variables { definitions[definition.name, default: []].append(definition) }
        for (template, node) in filePathNodes {
            // The names the path reads, and the names those read, without repeats.
            var seen = Set<String>()
            var pending = template.references.filter { !$0.isEnvironment }.map(\.name)
            var capturedName: String?
            while let name = pending.popLast(), capturedName == nil {
                guard seen.insert(name).inserted else { continue }
                if captured.contains(name) { capturedName = name }
                for definition in definitions[name] ?? [] {
                    pending += definition.value.templates.flatMap(\.references).filter { !$0.isEnvironment }.map(\.name)
                }
            }
            if let capturedName {
                report(
                    "'\(template.source)' cannot read '\(capturedName)', which a response sets (a capture): a server must not choose which file is read or where requests go; name it in the collection or a variable",
                    at: node)
            }
        }
    }

    /// A variable whose value reads itself, directly or through others, can never be rendered.
    private func checkCycles(_ variables: [VariableDefinition]) {
        var effective: [String: VariableDefinition] = [:]
        for definition in variables where (effective[definition.name]?.source ?? .collection) <= definition.source {
            effective[definition.name] = definition
        }
        let edges = effective.mapValues { definition in
            Set(definition.value.templates.flatMap(\.references).filter { !$0.isEnvironment }.map(\.name)).filter { effective[$0] != nil }
        }
        var state: [String: Int] = [:]  // 1 visiting, 2 done
        var reported = Set<String>()
        // Depth first, with a stack of its own (a chain of 10,000 variables must not overflow
        // the thread's): each frame is a name and the neighbours still to visit.
        for root in effective.keys.sorted() where state[root] == nil {
            var frames: [(name: String, next: [String])] = [(root, edges[root, default: []].sorted().reversed())]
            state[root] = 1
            while !frames.isEmpty {
                guard let next = frames[frames.count - 1].next.popLast() else {
                    state[frames.removeLast().name] = 2
                    continue
                }
                if state[next] == 1 {
                    let path = frames.map(\.name)
                    let cycle = Array(path.drop { $0 != next }) + [next]
                    if !reported.contains(next), let definition = effective[next], let location = definition.location {
                        reported.insert(next)
                        let shown = cycle.count > 8 ? cycle.prefix(4) + ["…"] + cycle.suffix(3) : cycle[...]
                        report("variable '\(next)' refers to itself: \(shown.joined(separator: " -> "))", at: location, length: next.count)
                    }
                } else if state[next] == nil {
                    state[next] = 1
                    frames.append((next, edges[next, default: []].sorted().reversed()))
                }
            }
        }
    }
}
