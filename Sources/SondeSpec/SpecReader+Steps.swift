import SondeCore

extension SpecReader {
    /// `- include: common/login.yaml` with `name:`, `with:` and `tags:`. The file is read by
    /// the loader once this one is (`CollectionLoader.resolveIncludes`).
    func include(_ node: Node, phase: Phase) -> Include? {
        guard let pairs = keyed(node, IncludeKey.self, "an include") else { return nil }
        var path: String?
        var pathNode = node
        var include = Include(path: "", file: "", location: source.location(of: node))
        let index = includes.count
        for (key, _, value) in pairs {
            switch key {
            case .include:
                pathNode = value
                path = literal(value, "include")
                if path?.isBlank == true {
                    report("include names no file", at: value)
                    path = nil
                }
            case .name:
                if let name = literal(value, "the name of an include") {
                    if name.isBlank { report("the name of an include is empty; remove it to use the included collection's name", at: value) } else { include.name = name }
                }
            case .with:
                guard let withPairs = mapping(value, "with") else { continue }
                let outer = currentScope
                currentScope = .include(index: index)
                defer { currentScope = outer }
                for pair in withPairs {
                    guard isValidVariableName(pair.key) else {
                        report("'\(pair.key)' in with cannot be used in {{ }}: use letters, digits, '_' and '-', starting with a letter", at: pair.keyNode)
                        continue
                    }
                    if let template = templateValue(pair.value) { include.with.append((pair.key, template)) }
                }
                withNodes[index] = value
            case .tags: include.tags = tags(value, "tags of an include")
            }
        }
        guard let path else { return nil }
        include.path = path
        include.file = path.hasPrefix("/") ? PathText.normalized(path) : PathText.normalized(PathText.joining(PathText.folder(of: file), path))
        includePathNodes[index] = pathNode
        return include
    }

    /// `tags: [smoke, slow]` (or one tag as a string): names without templates or spaces.
    func tags(_ node: Node, _ what: String) -> [String] {
        let items: [Node] = if case .sequence(let sequence) = node { Array(sequence) } else { [node] }
        var out: [String] = []
        for item in items {
            guard let tag = literal(item, "a tag in \(what)") else { continue }
            if tag.isBlank || tag.unicodeScalars.contains(where: { $0 == " " || $0 == "," || $0.properties.generalCategory == .control }) {
                report("a tag is one word (no spaces or commas), found \(describe(item))", at: item)
                continue
            }
            if !out.contains(tag) { out.append(tag) }
        }
        return out
    }

    /// `for_each:` a list, a template whose value is a list, or `{ items | data, as, name }`.
    func forEach(_ node: Node, _ label: String) -> Loop? {
        let location = source.location(of: node)
        switch node {
        case .sequence(let items):
            let values = items.compactMap { templateValue($0) }
            guard values.count == items.count else { return nil }
            return Loop(items: .list(values), location: location)
        case .scalar:
            guard let template = template(node, "for_each of \(label)") else { return nil }
            guard !template.references.isEmpty else {
                report("for_each of \(label) is \(describe(node)): write a list, a template whose value is a list ('{{ pods }}'), or { data: FILE }", at: node)
                return nil
            }
            return Loop(items: .template(template), location: location)
        default:
            guard let pairs = keyed(node, ForEachKey.self, "for_each of \(label)") else { return nil }
            var loop = Loop(items: .list([]), location: location)
            var sources: [Node] = []
            for (key, _, value) in pairs {
                switch key {
                case .items:
                    sources.append(value)
                    if case .sequence = value, let inner = forEach(value, label) { loop.items = inner.items }
                    if case .scalar = value, let inner = forEach(value, label) { loop.items = inner.items }
                    if case .mapping = value { report("items of for_each in \(label) is a list or a template whose value is a list", at: value) }
                case .data:
                    sources.append(value)
                    guard let path = literal(value, "data of for_each in \(label)") else { continue }
                    let resolved = path.hasPrefix("/") ? path : PathText.joining(PathText.folder(of: file), path)
                    do {
                        let (rows, digest) = try DataFile.rowsAndDigest(ofFile: resolved)
                        loop.items = .data(file: PathText.normalized(resolved), rows: rows)
                        dataDigests.append((PathText.normalized(resolved), digest))
                    } catch {
                        // The data file's own position, and where the collection names it.
                        for diagnostic in error.diagnostics {
                            var diagnostic = diagnostic
                            diagnostic.message += " (the data of for_each in \(label), \(source.location(of: value)))"
                            diagnostic.quotesSource = false
                            report(diagnostic)
                        }
                    }
                case .as:
                    if let name = literal(value, "as of for_each in \(label)") {
                        if isValidVariableName(name) {
                            loop.binding = name
                        } else {
                            report("as of for_each in \(label): '\(name)' cannot be used in {{ }}: use letters, digits, '_' and '-', starting with a letter", at: value)
                        }
                    }
                case .name:
                    loop.key = template(value, "name of for_each in \(label)")
                }
            }
            if sources.count != 1 {
                report("for_each of \(label) takes one of items and data", at: sources.count > 1 ? sources[1] : node)
            }
            return loop
        }
    }

    /// `repeat: N` (a loop over 1…N), or `repeat: { until, max, delay }` (polling).
    func loopOrPolling(_ node: Node, _ label: String, into spec: inout RequestSpec, index: Int) {
        if case .scalar = node {
            guard let count = integer(node, "repeat of \(label)", range: 1...Loop.maxIterations) else { return }
            spec.loop = Loop(items: .count(count), location: source.location(of: node))
            return
        }
        guard let pairs = keyed(node, RepeatKey.self, "repeat of \(label)") else { return }
        var polling = RepeatUntil(expectations: [], max: RepeatUntil.defaultMax, delay: RepeatUntil.defaultDelay)
        var hasUntil = false
        for (key, _, value) in pairs {
            switch key {
            case .until:
                hasUntil = true
                let outer = currentScope
                currentScope = .request(index: index, inExpect: true)
                polling.expectations = expectations(value, "until of \(label)")
                currentScope = outer
                if polling.expectations.isEmpty, case .mapping(let m) = value, m.count == 0 {
                    report("until of \(label) is empty: name what must hold (status, jsonpath, …)", at: value)
                }
            case .max: polling.max = integer(value, "max of repeat in \(label)", range: 1...Loop.maxIterations) ?? polling.max
            case .delay: polling.delay = timeSpan(value, "delay of repeat in \(label)") ?? polling.delay
            }
        }
        guard hasUntil else {
            report("repeat of \(label) is `repeat: N`, or a mapping with until (what must hold), max and delay", at: node)
            return
        }
        spec.repeatUntil = polling
    }

    /// Keys that do not go together on one step.
    func checkLoopKeys(_ pairs: [(key: RequestKey, keyNode: Node, value: Node)], _ spec: RequestSpec, _ label: String) {
        let keys = pairs.map(\.key)
        if keys.contains(.for_each), let repeatPair = pairs.first(where: { $0.key == .repeat }), case .scalar = repeatPair.value {
            report("\(label) has for_each and repeat: N; a step loops one way (repeat: N is for_each over 1…N)", at: repeatPair.keyNode)
        }
        if spec.repeatUntil != nil, let retryPair = pairs.first(where: { $0.key == .retry }) {
            report("\(label) has retry and repeat: until; repeat sends again until its checks hold, which is what retry would do", at: retryPair.keyNode)
        }
    }

    /// Once every key is read: the requests of each phase apart, each include placed among
    /// them, and the rank of each step in the order the steps run (setup, requests, teardown).
    /// `included`: each include's loaded file, in the order read. Called once, when the
    /// included files are read: until then every request of every phase is in
    /// `collection.requests`, in the order read.
    func sortSteps(included: [IncludedCollection?]) {
        for (index, loaded) in included.enumerated() where index < includes.count { includes[index].include.included = loaded }
        allRequests = collection.requests
        requestRanks = Array(repeating: 0, count: allRequests.count)
        includeRanks = Array(repeating: 0, count: includes.count)
        var setup: [CollectionStep] = [], teardown: [CollectionStep] = []
        var main: [RequestSpec] = []
        var mainIncludes: [(before: Int, include: Include)] = []
        var rank = 0
        for phase in [Phase.setup, .main, .teardown] {
            for step in stepOrder where step.phase == phase {
                if step.isInclude {
                    includeRanks[step.index] = rank
                    let include = includes[step.index].include
                    switch phase {
                    case .setup: setup.append(.include(include))
                    case .main: mainIncludes.append((main.count, include))
                    case .teardown: teardown.append(.include(include))
                    }
                } else {
                    requestRanks[step.index] = rank
                    let request = allRequests[step.index]
                    switch phase {
                    case .setup: setup.append(.request(request))
                    case .main: main.append(request)
                    case .teardown: teardown.append(.request(request))
                    }
                }
                rank += 1
            }
        }
        collection.requests = main
        collection.includes = mainIncludes
        collection.setup = setup
        collection.teardown = teardown
    }

    /// Where `with:` of include `index` names `name`.
    func withKeyLocation(_ name: String, include index: Int) -> SourceLocation? {
        guard let node = withNodes[index], case .mapping(let mapping) = node else { return nil }
        for (key, _) in mapping {
            if case .scalar(let scalar) = key, scalar.string == name { return source.location(of: key) }
        }
        return nil
    }

}
