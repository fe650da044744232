import SondeCore

extension Runner {
    /// The key of `failedCaptures` and of the captures in flight: the name alone in the
    /// collection's scope, and with its scope in an included file's.
    func captureKey(_ name: String, _ scope: Int) -> String {
        scope == 0 ? name : "\(scope)\u{1F}\(name)"
    }

    /// Calls `body` with each key a capture of `name` in `scope` sets: its own, and those of
    /// the scopes above that it reaches through `exports` (no list made: settling every
    /// request's captures goes through here).
    func forEachKey(of name: String, in scope: Int, _ body: (String) -> Void) {
        body(captureKey(name, scope))
        var at = scope
        while at != 0, plan.scopes[at].exports.contains(name), let parent = plan.scopes[at].parent {
            body(captureKey(name, parent))
            at = parent
        }
    }

    /// The captures a step took that its file exports, copied to the scope that included it
    /// (and further up while exported there too), secret as they were.
    func exportCaptures(_ request: RequestSpec, from scopeIndex: Int) {
        guard scopeIndex != 0 else { return }
        for capture in request.captures {
            var at = scopeIndex
            while plan.scopes[at].exports.contains(capture.name), let parent = plan.scopes[at].parent,
                let from = scopes[at], from.isCaptured(capture.name), let value = try? from.variable(capture.name),
                let target = scopes[parent]
            {
                target.capture(capture.name, value, isText: from.isText(capture.name), secret: from.isSecret(capture.name))
                at = parent
            }
        }
    }

    /// Makes scope `index` current, making it first when its first step is reached: the
    /// included file's variables, then `with:` rendered in the scope above (a value computed
    /// from a secret is secret), and its base URL (the including one's when it has none).
    func enter(_ index: Int) {
        if scopes[index] == nil { makeScope(index) }
        currentScope = index
        scope = scopes[index] ?? rootScope
        spec = scopeSpecs[index] ?? plan.collection
    }

    private func makeScope(_ index: Int) {
        let info = plan.scopes[index]
        guard let parentIndex = info.parent else { return }
        if scopes[parentIndex] == nil { makeScope(parentIndex) }
        let parent = scopes[parentIndex] ?? rootScope
        let child = parent.child(info.variables, secrets: info.secrets)
        for (name, value) in info.with {
            // A capture it reads did not pass (or was not taken): the steps that read this
            // name are skipped for it, as a request that reads the capture itself would be,
            // even when the failed request took a value.
            let references = value.templates.flatMap(\.references).filter { !$0.isEnvironment }
            if let failing = references.lazy.compactMap({ reference in
                self.failedCaptures[self.captureKey(reference.name, parentIndex)].map { (reference.name, $0) }
            }).first {
                failedCaptures[captureKey(name, index)] = (failing.1.request, failing.1.skipped, failing.1.name ?? failing.0)
                continue
            }
            if let owner = references.lazy.compactMap({ reference in parentIndex == 0 ? self.plan.leftOutCaptures[reference.name].map { (reference.name, $0) } : nil }).first,
                parent.source(of: owner.0) == nil
            {
                failedCaptures[captureKey(name, index)] = (owner.1, true, owner.0)
                continue
            }
            do {
                let rendered = try value.render(in: parent)
                child.capture(name, rendered, secret: value.templates.contains { $0.readsSecret(in: parent) })
            } catch {
                // A value that cannot be rendered leaves the name undefined in the include:
                // its steps that read it are errors that say so.
            }
        }
        for name in info.secrets {
            child.declareSecret(name)
            _ = try? child.variable(name)
        }
        var childSpec = info.collection
        if childSpec.baseURL == nil, let base = scopeSpecs[parentIndex]?.baseURL, let rendered = try? base.render(in: parent) {
            childSpec.baseURL = Template(literal: rendered)
        }
        scopes[index] = child
        scopeSpecs[index] = childSpec
    }

    /// A loop's iterations, each a step named `name [key]` with its item and whether the item
    /// is secret; or the problem that stops the loop (its list is not a list, or too long).
    func iterations(of step: PlanStep, _ loop: Loop) -> Result<[(step: PlanStep, item: JSONValue, secret: Bool)], RequestProblem> {
        var items: [JSONValue]
        var secret = false
        /// Per item of a list written in the file: whether it is computed from a secret.
        var secretItems: [Bool] = []
        do {
            switch loop.items {
            case .count(let count): items = (1...max(1, count)).map { .number(JSONNumber($0)) }
            case .data(_, let rows): items = rows
            case .list(let values):
                items = try values.map { try $0.render(in: scope) }
                secretItems = values.map { value in value.templates.contains { $0.readsSecret(in: scope) } }
            case .template(let template):
                let value = try template.renderValue(in: scope)
                secret = template.readsSecret(in: scope)
                guard case .array(let list) = value else {
                    let kind = value.typeName == "array" || value.typeName == "object" ? "an \(value.typeName)" : "a \(value.typeName)"
                    return .failure(RequestProblem(.template, redactor.redact("for_each: \(template.source) is \(kind), not a list")))
                }
                items = list
            }
        } catch {
            return .failure(RequestProblem(.template, redactor.redact("for_each: \((error as? TemplateError)?.message ?? "\(error)")")))
        }
        guard items.count <= Loop.maxIterations else {
            return .failure(RequestProblem(.template, "for_each: \(items.count) items, more than the \(Loop.maxIterations) a loop may have"))
        }
        var out: [(step: PlanStep, item: JSONValue, secret: Bool)] = []
        out.reserveCapacity(items.count)
        for (offset, item) in items.enumerated() {
            let secret = secret || (offset < secretItems.count && secretItems[offset])
            var key = "\(offset + 1)"
            if let template = loop.key {
                scope.bind(loop.binding, item, secret: secret)
                if let text = try? template.render(in: scope), !template.readsSecret(in: scope), Self.isLabel(text) { key = text }
            } else if !secret {
                switch item {
                case .string(let text) where Self.isLabel(text): key = text
                case .number(let number): key = number.jsonText
                default: break
                }
            }
            // A name no other step has (an earlier item's, another request's `get [1]`):
            // ` (2)`, ` (3)`, … until one is free.
            var chosen = key
            var count = 1
            while usedStepIDs.contains("\(step.id) [\(chosen)]") {
                count += 1
                chosen = "\(key) (\(count))"
            }
            usedStepIDs.insert("\(step.id) [\(chosen)]")
            var iteration = step
            iteration.id = "\(step.id) [\(chosen)]"
            iteration.name = "\(step.name) [\(chosen)]"
            out.append((iteration, item, secret))
        }
        return .success(out)
    }

    /// Text short and plain enough to name an iteration: 1 to 64 characters, no control
    /// characters, no brackets.
    static func isLabel(_ text: String) -> Bool {
        let scalars = text.unicodeScalars
        guard !scalars.isEmpty, scalars.count <= 64, !text.isBlank else { return false }
        // Invisible and line-breaking characters (zero-width, U+2028) would name two steps alike.
        return !scalars.contains { scalar in
            scalar.isTerminalControl || scalar == "[" || scalar == "]"
                || [.format, .lineSeparator, .paragraphSeparator, .control].contains(scalar.properties.generalCategory)
        }
    }
}
