import Foundation
import SondeCore

/// Where a run's variables come from beyond the collection itself.
public struct VariableOptions: Sendable {
    /// `--env NAME`: environments/NAME.yaml beside the collection.
    public var environmentName: String?
    /// `--env-file PATH`.
    public var environmentFile: String?
    /// `--var name=value`, in order.
    public var assignments: [String]
    /// The process environment, for `{{ env.NAME }}`.
    public var processEnvironment: [String: String]
    /// `--data [NAME=]FILE`, in order: each file's rows (CSV, JSON, YAML) as the list
    /// variable NAME (`data` unless said), for `for_each: "{{ data }}"`.
    public var dataFiles: [String]

    public init(
        environmentName: String? = nil, environmentFile: String? = nil, assignments: [String] = [],
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment, dataFiles: [String] = []
    ) {
        self.dataFiles = dataFiles
        self.environmentName = environmentName
        self.environmentFile = environmentFile
        self.assignments = assignments
        self.processEnvironment = processEnvironment
    }
}

/// A collection ready to run: its model, every variable definition, and its text (which
/// `PlannedCollection` turns into its hash).
public struct LoadedCollection: Sendable {
    public var spec: CollectionSpec
    /// Every definition from every source; `VariableScope` picks the winner per name.
    public var variables: [VariableDefinition]
    /// Secret names from the collection and the environment file.
    public var secrets: [String]
    public var environmentName: String?
    public var text: String
    public var processEnvironment: [String: String]
    /// What was said and passed over: a line of `.env` that cannot be read, a weak secret.
    public var warnings: [Diagnostic] = []
    /// Every variable name a template of the collection or of a variable's value reads
    /// (captures included): a `--var` that no collection reads is worth a warning.
    public var readNames: Set<String> = []
    /// The text of every file it includes, each after its path: what the collection's hash
    /// covers beside its own text (a change in an included login is a change of the plan).
    public var includedText = ""
    /// Relative URLs of a file read to be included (and of the files it includes) that no
    /// `base_url` of its own resolves: an error of the collection that includes it, unless
    /// that one has a `base_url`.
    public var unresolvedRelativeURLs: [Diagnostic] = []

    /// A fresh scope for one run.
    public func makeScope() -> VariableScope {
        VariableScope(variables, environment: processEnvironment, secrets: secrets)
    }

    /// The values of the secrets known before anything is sent (variables declared secret,
    /// and what they compute), so that every collection of a run can mask them.
    public func declaredSecretValues() -> [JSONValue] {
        let scope = makeScope()
        for name in secrets { _ = try? scope.variable(name) }
        return scope.secretValues
    }
}

/// Reads collection files into validated models; every problem is reported with file:line:column.
public struct CollectionLoader: Sendable {
    public var options: VariableOptions

    public init(options: VariableOptions = VariableOptions()) {
        self.options = options
    }

    public func load(file path: String) throws(DiagnosticsError) -> LoadedCollection {
        try load(text: Self.text(ofFile: path), file: path)
    }

    /// The file's text; its bytes are let go before it is read (a long collection's are megabytes).
    static func text(ofFile path: String) throws(DiagnosticsError) -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DiagnosticsError([Diagnostic("cannot read the file (missing or not readable)", at: SourceLocation(file: path, line: 1, column: 1))])
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw DiagnosticsError([Diagnostic("the file is not UTF-8 text", at: SourceLocation(file: path, line: 1, column: 1))])
        }
        return text
    }

    public func load(text: String, file: String) throws(DiagnosticsError) -> LoadedCollection {
        try load(text: text, file: file, including: nil)
    }

    /// What an included file is read with: the chain of includes that led to it (outermost
    /// first), the run's other variable sources (environment file, `.env`, `--var`), and the
    /// names its include passes in `with:`.
    struct IncludeContext {
        var chain: [(file: String, at: SourceLocation)]
        var sourceVariables: [VariableDefinition]
        var sourceSecrets: [String]
        var withNames: [String]

        /// ` (included from a.yaml:12:5)`, innermost first.
        var suffix: String {
            " (included from " + chain.reversed().map { "\($0.at)" }.joined(separator: ", from ") + ")"
        }
    }

    /// How deep includes may nest.
    static let maxIncludeDepth = 16

    func load(text: String, file: String, including context: IncludeContext?) throws(DiagnosticsError) -> LoadedCollection {
        let source = YAMLSource(file: file, text: text)
        let text = source.text
        // Requests are read as they are composed: the file is never one tree (`requestSink`).
        let reader = SpecReader(source: source)
        reader.isIncluded = context != nil
        let composed: Node?
        do {
            composed = try source.compose(sink: reader.requestSink)
        } catch {
            // Before the file is read, its secrets are unknown: a line that may hold one
            // (the file declares secrets, or the line sets a credential) is not shown.
            let declaresSecrets = text.split(separator: "\n").contains { line in
                line.hasPrefix("secrets") && line.dropFirst("secrets".count).drop { $0 == " " || $0 == "\t" }.first == ":"
            }
            throw DiagnosticsError(error.diagnostics.map { diagnostic in
                var diagnostic = diagnostic
                if declaresSecrets || Self.setsCredential(line: diagnostic.location.line, of: text) { diagnostic.quotesSource = false }
                if let context { diagnostic.message += context.suffix }
                return diagnostic
            })
        }
        guard let root = composed else {
            throw DiagnosticsError([
                Diagnostic("the file is empty; a collection needs at least 'requests'\(context?.suffix ?? "")", at: SourceLocation(file: file, line: 1, column: 1))
            ])
        }
        var diagnostics: [Diagnostic] = []

        // 1. The collection itself.
        let spec = reader.collection(root)

        // 2. The other variable sources, each with positions of its own.
        var variables = spec?.variables ?? []
        var secrets = spec?.secrets ?? []
        let sources = VariableSources(collectionFile: file, options: options)
        var warnings: [Diagnostic] = []
        var sourceSecrets: [(name: String, location: SourceLocation)] = []
        var sourceVariables: [VariableDefinition] = []
        if let context {
            // An included file reads the run's sources, as the including collection found them.
            sourceVariables = context.sourceVariables
            secrets += context.sourceSecrets
        } else {
            let extra = sources.load(warnings: &warnings, errors: &diagnostics)
            sourceVariables = extra.variables
            sourceSecrets = extra.secrets
            secrets += extra.secrets.map(\.name)
        }
        variables += sourceVariables

        // 3. Text that overrides a typed default takes its type (or is an error, before anything is sent).
        variables = Self.typed(variables, secrets: Set(secrets), diagnostics: &diagnostics)

        // 3b. The included files, each read as a collection of its own.
        var includedText = ""
        // Errors inside included files, already said as their own files' loads say them.
        var nested: [Diagnostic] = []
        var childRelativeURLs: [Diagnostic] = []
        /// What the included files read (a `--var` read only there is read).
        var includedReadNames = Set<String>()
        var includedFiles: [IncludedCollection?] = []
        if spec != nil, !reader.includes.isEmpty {
            let chain = (context?.chain ?? []) + [(file, SourceLocation(file: file, line: 1, column: 1))]
            includedFiles = reader.includes.enumerated().map { index, entry in
                resolve(
                    entry.include, includeIndex: index, pathNode: reader.includePathNodes[index], reader: reader, chain: chain,
                    sourceVariables: sourceVariables, sourceSecrets: context?.sourceSecrets ?? sourceSecrets.map(\.name),
                    diagnostics: &diagnostics, nested: &nested, text: &includedText, readNames: &includedReadNames)
            }
            childRelativeURLs = includedFiles.compactMap { $0 }.flatMap(\.unresolvedRelativeURLs)
        }
        // The steps of each phase apart, in the order they run, with their included files.
        reader.sortSteps(included: includedFiles)

        // 4. Names: every template must read something defined or captured earlier.
        if var spec {
            spec = reader.collection
            let withNames = (context?.withNames ?? []).map { VariableDefinition(name: $0, value: .null, source: .commandLine) }
            reader.checkNames(spec, variables: variables + withNames, secrets: secrets, environment: options.processEnvironment, dotEnv: sources.dotEnvDescription)
            // An environment file's secrets name variables or captures, as the collection's do.
            let known = Set(variables.map(\.name)).union(reader.allRequests.flatMap { $0.captures.map(\.name) })
            for (name, location) in sourceSecrets where !known.contains(name) {
                let hint = nearestName(to: name, among: known).map { "; did you mean '\($0)'?" } ?? ""
                diagnostics.append(Diagnostic("secret '\(name)' is neither a variable nor a capture\(hint)", at: location, length: max(1, name.count)))
            }
        }
        diagnostics += reader.diagnostics
        func unquotingSecrets(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
            guard !diagnostics.isEmpty else { return [] }
            // The requests were not kept as a tree: composed again, only to say something.
            let whole = (try? source.compose()).flatMap { $0 } ?? root
            let hidden = Self.secretLines(of: whole, secrets: Set(secrets), lineCount: Self.lineCount(of: text))
            // A secret's value written out (in vars, an environment file, .env, --var) may stand
            // on other lines too, and in a message that quotes what it found: masked there.
            let secretNames = Set(secrets)
            var redactor = Redactor()
            for definition in variables where secretNames.contains(definition.name) {
                for literal in definition.value.templates.compactMap(\.literalValue) where !literal.isBlank { redactor.add(leavesOf: .string(literal)) }
            }
            let lines = redactor.isEmpty ? [] : text.split(separator: "\n", omittingEmptySubsequences: false)
            return diagnostics.map { diagnostic in
                var diagnostic = diagnostic
                // Environment files and .env are where secrets live: their lines are never shown.
                if diagnostic.location.file != file || hidden.contains(diagnostic.location.line) { diagnostic.quotesSource = false }
                let line = diagnostic.location.line - 1
                if lines.indices.contains(line), redactor.redact(String(lines[line])) != lines[line] { diagnostic.quotesSource = false }
                // (A warning names no value: it may name a key that is also a short value.)
                if !redactor.isEmpty, diagnostic.severity == .error { diagnostic.message = redactor.redact(diagnostic.message) }
                return diagnostic
            }
        }
        // Relative URLs of included files with no base URL: this file's resolves them, or the
        // file above must (an error here when there is none).
        var unresolvedRelativeURLs: [Diagnostic] = []
        if reader.collection.baseURL == nil {
            if context == nil { nested += childRelativeURLs } else { unresolvedRelativeURLs = childRelativeURLs }
        }
        if let context {
            unresolvedRelativeURLs += reader.unresolvedRelativeURLs.map { diagnostic in
                var diagnostic = diagnostic
                diagnostic.message += context.suffix
                return diagnostic
            }
        }
        // Every step of the plan has a name of its own: the history, diff and trend know it by it.
        if diagnostics.isEmpty && nested.isEmpty && (!reader.includes.isEmpty || reader.allRequests.contains { $0.loop != nil }) {
            diagnostics += Self.duplicateSteps(reader.collection)
        }
        // An included file's exports are its captures (or its own includes' exports).
        if context != nil {
            let captured = Set(reader.allRequests.flatMap { $0.captures.map(\.name) })
                .union(reader.includes.flatMap { $0.include.included?.spec.exports ?? [] })
            for (name, node) in reader.exportNodes where !captured.contains(name) {
                let hint = nearestName(to: name, among: Array(captured)).map { "; did you mean '\($0)'?" } ?? ""
                diagnostics.append(Diagnostic("exports names '\(name)', which this file does not capture\(hint)", at: source.location(of: node), length: max(1, name.count)))
            }
        }
        if let context {
            diagnostics = diagnostics.map { diagnostic in
                var diagnostic = diagnostic
                if diagnostic.location.file == file { diagnostic.message += context.suffix }
                return diagnostic
            }
        }
        guard (diagnostics + nested).filter({ $0.severity == .error }).isEmpty, let spec = spec.map({ _ in reader.collection }) else {
            throw DiagnosticsError(unquotingSecrets(diagnostics) + nested)
        }
        warnings += nested
        warnings += diagnostics.filter { $0.severity == .warning }
        var loaded = LoadedCollection(
            spec: spec, variables: variables, secrets: secrets, environmentName: options.environmentName ?? options.environmentFile,
            text: text, processEnvironment: options.processEnvironment)
        // Name by name, without a list of every template (a long collection has tens of thousands).
        func noteNames(readBy template: Template) {
            for reference in template.references where !reference.isEnvironment { loaded.readNames.insert(reference.name) }
        }
        for recorded in reader.recordedTemplates { noteNames(readBy: recorded.template) }
        for variable in variables { variable.value.templates.forEach(noteNames) }
        loaded.includedText = includedText + reader.dataDigests.map { "\n# data \($0.file) sha256 \($0.digest)" }.joined()
        loaded.readNames.formUnion(includedReadNames)
        loaded.unresolvedRelativeURLs = unresolvedRelativeURLs
        // An included file's variables are not rendered here: they may read what `with:` passes.
        if context != nil {
            loaded.warnings = unquotingSecrets(warnings)
            return loaded
        }

        // 5. Every variable renders (they read no capture): an unset environment variable or
        // text of the wrong type is found here, at its definition, before anything is sent.
        // A secret's value never shows in a message, nor the line that holds it.
        let scope = loaded.makeScope()
        var redactor = Redactor()
        scope.onSecret = { redactor.add(leavesOf: $0) }
        var renderErrors = 0
        var reported = Set<String>()
        for name in Set(variables.map(\.name)).sorted() {
            // One error a chain is enough: a chain of thousands would repeat it.
            if renderErrors >= 20 { break }
            var definition = variables.last { $0.name == name && $0.source == scope.source(of: name) }
            let location = definition?.location ?? SourceLocation(file: definition.map { "\($0.source)" } ?? file, line: 1, column: 1)
            do {
                let value = try scope.variable(name)
                if scope.isSecret(name), let value, let problem = Self.weakness(of: value) {
                    warnings.append(Diagnostic("secret '\(name)' \(problem)", at: location, length: max(1, name.count), severity: .warning, quotesSource: false))
                }
            } catch {
                // The variable the problem belongs to (where a chain grows too deep), once.
                var name = name
                if let owner = error.variable {
                    guard reported.insert(owner).inserted else { continue }
                    name = owner
                    definition = variables.last { $0.name == owner && $0.source == scope.source(of: owner) }
                }
                let location = definition?.location ?? location
                renderErrors += 1
                let quotable = !scope.isSecret(name) && definition?.source != .dotEnv
                let origin = definition.map { "\($0.source)" } ?? "its source"
                // Not even the name of a variable it reads: that name is part of the value's text.
                let hiddenReason = error.undefinedName != nil
                    ? "its value reads a variable that is not defined" : "its value is not of the type it must have"
                let message = quotable ? redactor.redact(error.message) : "variable '\(name)' (from \(origin)) cannot be used: \(hiddenReason)"
                diagnostics.append(Diagnostic(quotable ? "variable '\(name)': \(message)" : message, at: location, length: max(1, name.count), quotesSource: quotable))
            }
        }
        guard diagnostics.isEmpty else { throw DiagnosticsError(unquotingSecrets(diagnostics)) }
        loaded.warnings = unquotingSecrets(warnings)
        return loaded
    }

    /// Reads an included file (relative to the including one), with the chain that led to it:
    /// a missing file, a cycle and too deep a nesting are errors at the `include:`; the file's
    /// own errors are at their place in it, with where it was included from.
    func resolve(
        _ include: Include, includeIndex: Int, pathNode: Node?, reader: SpecReader, chain: [(file: String, at: SourceLocation)],
        sourceVariables: [VariableDefinition], sourceSecrets: [String], diagnostics: inout [Diagnostic], nested: inout [Diagnostic],
        text includedText: inout String, readNames: inout Set<String>
    ) -> IncludedCollection? {
        let at = pathNode.map { reader.source.location(of: $0) } ?? include.location
        var length = 1
        if let pathNode { length = pathNode.spanLength }
        let files = chain.map { PathText.normalized($0.file) }
        if let first = files.firstIndex(of: include.file) {
            let cycle = (files[first...] + [include.file]).joined(separator: " -> ")
            diagnostics.append(Diagnostic("include cycle: \(cycle)", at: at, length: length))
            return nil
        }
        guard chain.count <= Self.maxIncludeDepth else {
            diagnostics.append(Diagnostic("includes nest more than \(Self.maxIncludeDepth) deep", at: at, length: length))
            return nil
        }
        let data: Data
        switch LocalFile.contents(atPath: include.file) {
        case .success(let bytes): data = bytes
        case .failure(let problem):
            diagnostics.append(Diagnostic("cannot read the included file \(include.file) (\(problem))", at: at, length: length))
            return nil
        }
        guard let text = String(data: data, encoding: .utf8) else {
            diagnostics.append(Diagnostic("the included file \(include.file) is not UTF-8 text", at: at, length: length))
            return nil
        }
        var innerChain = chain
        innerChain[innerChain.count - 1].at = include.location
        let context = IncludeContext(chain: innerChain, sourceVariables: sourceVariables, sourceSecrets: sourceSecrets, withNames: include.with.map(\.name))
        do {
            let loaded = try load(text: text, file: include.file, including: context)
            includedText += "\n# include \(include.file)\n" + text + loaded.includedText
            // A name passed in that the file never reads is a mistake (a misspelling).
            let reads = loaded.readNames.union(loaded.spec.variables.map(\.name))
            for (name, _) in include.with where !reads.contains(name) {
                let location = reader.withKeyLocation(name, include: includeIndex) ?? at
                let hint = nearestName(to: name, among: Array(reads)).map { "; did you mean '\($0)'?" } ?? ""
                diagnostics.append(
                    Diagnostic(
                        "with passes '\(name)', which \(include.file) does not read\(hint)", at: location,
                        length: max(1, name.count)))
            }
            nested += loaded.warnings
            readNames.formUnion(loaded.readNames)
            return IncludedCollection(spec: loaded.spec, variables: loaded.variables, secrets: loaded.secrets, unresolvedRelativeURLs: loaded.unresolvedRelativeURLs)
        } catch {
            nested += error.diagnostics
            return nil
        }
    }

    /// Two steps of one plan with the same name (a file included twice under one name, a
    /// request named like an included step): an error at the second, which names the first.
    /// (A file's own requests are unique already: only includes can make two.)
    static func duplicateSteps(_ spec: CollectionSpec) -> [Diagnostic] {
        var first: [String: SourceLocation] = [:]
        var diagnostics: [Diagnostic] = []
        let steps = RunPlan(spec).steps
        // A loop's iterations are named `loop [key]`: no other step may be named so.
        let loops = Set(steps.filter { $0.request.loop != nil }.map(\.id))
        if !loops.isEmpty {
            for step in steps where step.request.loop == nil && step.id.hasSuffix("]") {
                var rest = Substring(step.id)
                while let open = rest.range(of: " [", options: .backwards) {
                    let loop = String(step.id[..<open.lowerBound])
                    if loops.contains(loop) {
                        diagnostics.append(
                            Diagnostic(
                                "'\(step.id)' is named like an iteration of the loop '\(loop)' (\(loop) [key]); rename it: the history tells steps apart by name",
                                at: step.includedFrom.last ?? step.location))
                        break
                    }
                    rest = step.id[..<open.lowerBound]
                }
            }
        }
        for (id, location, include) in steps.map({ ($0.id, $0.location, $0.includedFrom.last) }) {
            if let earlier = first[id] {
                let at = include ?? location
                let hint = include != nil ? "; give this include a name of its own (name: …)" : "; rename the request"
                diagnostics.append(Diagnostic("a step named '\(id)' comes earlier (at \(earlier))\(hint): the history tells steps apart by name", at: at))
            } else {
                first[id] = include ?? location
            }
        }
        return diagnostics
    }

    /// What makes a secret's value hard to mask, if anything: a short or plain-word leaf is
    /// masked only where it stands whole, and `true`, `false` and `null` are not masked.
    static func weakness(of value: JSONValue) -> String? {
        var leaves: [JSONValue] = [value]
        var weak = false, unmasked = false
        while let leaf = leaves.popLast() {
            switch leaf {
            case .string(let text):
                if Redactor.unmaskable.contains(text) { unmasked = true } else { weak = weak || Redactor.isWeak(text) }
            case .number(let number): weak = weak || Redactor.isWeak(number.jsonText)
            case .bool, .null: unmasked = true
            case .array(let items): leaves += items
            case .object(let object): leaves += object.members.map(\.value)
            }
        }
        switch value {
        case .array, .object:
            let weakLeaves = VariableScope.weakLeaves(of: value)
            guard !weakLeaves.isEmpty else { return nil }
            return "holds values that are short or plain words, true, false or null, which are not masked (they stand in too many places): "
                + weakLeaves.prefix(8).map(\.path).joined(separator: ", ") + (weakLeaves.count > 8 ? ", …" : "")
        default: break
        }
        let subject = "is"
        if unmasked { return "\(subject) true, false or null, which is not masked (it would hide every such word in all output)" }
        if weak { return "\(subject) short or a plain word (under 6 characters, or only letters or digits): it is masked only where it stands as a whole word" }
        return nil
    }

    /// The keys whose values are credentials wherever they stand (auth helpers).
    static let credentialKeys: Set<String> = ["password", "token", "client_secret", "bearer"]

    /// Whether a line of the text sets a credential (`password: …`), judged from its text alone.
    static func setsCredential(line: Int, of text: String) -> Bool {
        guard line >= 1, let content = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(line - 1).first else { return false }
        let key = content.drop { $0 == " " || $0 == "-" || $0 == "\t" || $0 == "{" }.prefix { $0 != ":" }
        if let scheme = content.firstRange(ofExactly: "://") {
            let start = content[..<scheme.lowerBound].lastIndex(of: " ").map { content.index(after: $0) } ?? content.startIndex
            let url = content[start...]
            if let (_, password) = RequestURL.credentials(of: String(url)), !password.isEmpty { return true }
        }
        return credentialKeys.contains(key.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\"'")))
            || credentialKeys.contains { content.contains(" \($0):") || content.contains("{\($0):") }
    }

    /// How many lines the text has: its line feeds, plus one.
    static func lineCount(of text: String) -> Int {
        var text = text
        return text.withUTF8 { bytes in bytes.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) } }
    }

    /// The lines of the collection that hold a secret's value: a variable named in `secrets`
    /// (from its key to the line before the next key), and each credential of an auth helper.
    /// A message about one of them does not show the line.
    static func secretLines(of root: Node, secrets: Set<String>, lineCount: Int) -> Set<Int> {
        var lines = Set<Int>()
        guard case .mapping(let top) = root else { return lines }
        /// The lines from a pair's key to the line before the next key of its mapping (or `end`).
        func span(_ mapping: Node.Mapping, _ index: Int, end: Int) -> ClosedRange<Int>? {
            guard let start = mapping[index].key.mark?.line else { return nil }
            let next = index + 1 < mapping.count ? (mapping[index + 1].key.mark?.line ?? end + 1) - 1 : end
            return start...max(start, next)
        }
        for (index, pair) in top.pairs.enumerated() {
            guard case .scalar(let key) = pair.key, key.string == "vars", case .mapping(let vars) = pair.value else { continue }
            let end = span(top, index, end: lineCount)?.upperBound ?? lineCount
            for (varIndex, variable) in vars.pairs.enumerated() {
                guard case .scalar(let name) = variable.key, secrets.contains(name.string), let range = span(vars, varIndex, end: end) else { continue }
                lines.formUnion(range)
            }
        }
        // Credentials of auth helpers, anywhere in the tree (walked with a stack of its own).
        var pending: [Node] = [root]
        var ends: [Int] = [lineCount]
        while let node = pending.popLast(), let end = ends.popLast() {
            switch node {
            case .mapping(let mapping):
                for (index, pair) in mapping.pairs.enumerated() {
                    let pairEnd = span(mapping, index, end: end)?.upperBound ?? end
                    if case .scalar(let key) = pair.key, credentialKeys.contains(key.string), let range = span(mapping, index, end: end) {
                        lines.formUnion(range)
                    }
                    pending.append(pair.value)
                    ends.append(pairEnd)
                }
            case .sequence(let sequence):
                for item in sequence.nodes {
                    pending.append(item)
                    ends.append(end)
                }
            case .scalar(let scalar):
                // A URL with a password in it (`https://user:pass@host/`).
                if scalar.string.firstRange(ofExactly: "://") != nil, let (_, password) = RequestURL.credentials(of: scalar.string), !password.isEmpty,
                    let line = scalar.mark?.line
                {
                    lines.formUnion(line...max(line, end))
                }
            case .alias:
                break
            }
        }
        return lines
    }

    /// Each definition from an environment file, `.env` or `--var` whose value is text and
    /// overrides a typed default in `vars` takes the default's type; text that is not of that
    /// type is reported (a template's text is converted when it is rendered).
    static func typed(_ variables: [VariableDefinition], secrets: Set<String>, diagnostics: inout [Diagnostic]) -> [VariableDefinition] {
        var defaults: [String: VariableDefinition] = [:]
        for definition in variables where definition.source == .collection { defaults[definition.name] = definition }
        return variables.map { definition in
            guard definition.source > .collection, let base = defaults[definition.name], let type = base.declaredType else { return definition }
            let location = definition.location ?? SourceLocation(file: definition.source == .commandLine ? "--var" : "\(definition.source)", line: 1, column: 1)
            let declared = base.location.map { " (\($0))" } ?? ""
            /// `given` as messages show it; `raw`, the text as typed after `--var name=`.
            func refuse(_ given: String, raw: String) {
                // A secret's text is never shown, nor any value of .env, where secrets are kept.
                let hidden = secrets.contains(definition.name) || definition.source == .dotEnv
                let message: String
                if hidden {
                    let from = definition.source == .commandLine ? "--var \(definition.name)=\(Redactor.mask)" : "'\(definition.name)' (from \(definition.source))"
                    message = "\(from): '\(definition.name)' is \(type.article) in vars\(declared), and the value given is not (it is not shown: it may be a secret)"
                } else {
                    let spelled = definition.source == .commandLine ? "--var \(definition.name)=\(raw)" : "'\(definition.name)' is \(given)"
                    message = "\(spelled): '\(definition.name)' is \(type.article) in vars\(declared), and \(given) is not \(type.article)"
                }
                diagnostics.append(Diagnostic(message, at: location, length: max(1, definition.name.count), quotesSource: !hidden))
            }
            guard case .string(let template) = definition.value else {
                // A typed value (from an environment file) of another type is refused, null
                // aside; over a text default, a number or a boolean is its text, as from --var.
                guard let given = definition.declaredType, given != type else { return definition }
                if type == .string, given == .number || given == .boolean, let json = try? definition.value.render(in: DictionaryTemplateContext()) {
                    var typed = definition
                    typed.value = .string(Template(literal: json.jsonText))
                    return typed
                }
                refuse(given.article, raw: given.article)
                return definition
            }
            var typed = definition
            guard let text = template.literalValue else {
                typed.convertsTo = type
                return typed
            }
            guard let value = VariableDefinition.convert(text, to: type) else {
                refuse(JSONValue.quoted(text), raw: text)
                return definition
            }
            typed.value = TemplateValue(value)
            return typed
        }
    }

    /// The collection files under `paths`: files as given, folders searched for *.yaml and *.yml
    /// (skipping `environments/` folders and hidden files), in a stable order.
    public static func collectionFiles(in paths: [String]) -> (files: [String], missing: [String]) {
        var files: [String] = []
        var missing: [String] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                missing.append(path)
                continue
            }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            var found: [String] = []
            if let enumerator = manager.enumerator(atPath: path) {
                while let relative = enumerator.nextObject() as? String {
                    let parts = relative.split(separator: "/")
                    if parts.contains(where: { $0.hasPrefix(".") || $0 == "environments" }) { continue }
                    if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") {
                        found.append(path.hasSuffix("/") ? path + relative : path + "/" + relative)
                    }
                }
            }
            files += found.sorted()
        }
        return (files, missing)
    }
}

extension SpecReader {
    /// The composer's sink for `requests`: each request is read as it is composed, and its
    /// tree dropped. The collection's keys before `requests` are read when its first item comes.
    var requestSink: YAMLComposer.ItemSink {
        YAMLComposer.ItemSink(key: CollectionKey.requests.rawValue) { [self] item, index, preceding in
            if index == 0 {
                readCollectionKeys(Array(preceding))
                readPairs = preceding.count
            }
            addStep(item, phase: .main, ordinal: index)
            streamedRequests += 1
        }
    }

    /// The collection, once composed: the keys not read yet, the requests not streamed, and
    /// what needs every key (`defaults`, `base_url`) applied to every request.
    func collection(_ root: Node) -> CollectionSpec? {
        collection.location = source.location(of: root)
        if case .mapping(let mapping) = root {
            readCollectionKeys(Array(mapping.pairs[min(readPairs, mapping.pairs.count)...]))
        } else {
            // Reports that the collection must be a mapping.
            _ = keyed(root, CollectionKey.self, "the collection")
            return nil
        }
        if let requestsNode, streamedRequests == 0, let items = sequence(requestsNode, "requests") {
            if items.isEmpty { report("'requests' is empty; a collection needs at least one request", at: requestsNode) }
            for (index, item) in items.enumerated() { addStep(item, phase: .main, ordinal: index) }
        } else if requestsNode == nil {
            report("the collection has no 'requests' list", at: root)
        }
        let defaults = defaultsNode.map { self.defaults($0) } ?? RequestDefaults()
        for index in collection.requests.indices {
            applying(defaults, to: &collection.requests[index], ownKeys: requestKeys[index])
        }
        if collection.baseURL == nil && !isIncluded { for diagnostic in relativeURLs { report(diagnostic) } }
        // An included file's relative URLs take the including one's base URL: said there,
        // when no file above has one either.
        if collection.baseURL == nil && isIncluded { unresolvedRelativeURLs = relativeURLs }
        relativeURLs = []
        return collection
    }

    /// The collection's own keys (`requests` is only noted: its items are read one by one).
    private func readCollectionKeys(_ pairs: [(key: Node, value: Node)]) {
        let mark = pairs.first?.key.mark
        guard let pairs = keyed(.mapping(Node.Mapping(pairs: pairs, mark: mark)), CollectionKey.self, "the collection") else { return }
        for (key, _, value) in pairs {
            switch key {
            case .name:
                if let name = literal(value, "the collection's name") {
                    // The history tells collections apart by name: a blank one names nothing.
                    if name.isBlank {
                        report("the collection's name is empty; remove it to use the file's name", at: value)
                    } else if name.contains("\u{0}") {
                        // (A history reads names as C strings too: a NUL would make two collections one.)
                        report("the collection's name holds a NUL character (\\0), which a history cannot keep apart; remove it", at: value)
                    } else {
                        collection.name = name
                    }
                }
            case .description: collection.description = string(value, "description")
            case .base_url:
                collection.baseURL = template(value, "base_url")
                collectionHasBaseURL = true
                if let literal = collection.baseURL?.literalValue, let problem = RequestURL.problem(withAbsolute: RequestURL.encode(literal)) {
                    report("base_url: \(problem)", at: value)
                }
            case .vars: collection.variables = variables(value, source: .collection, "vars")
            case .secrets:
                for (name, item) in names(value, "secrets", each: "a secret's name") {
                    collection.secrets.append(name)
                    secretNodes.append((name, item))
                }
            case .defaults: defaultsNode = value
            case .requests: requestsNode = value
            case .setup, .teardown:
                if isIncluded {
                    report("an included file has no \(key.rawValue) of its own; the including collection's setup and teardown hold its steps", at: value)
                } else if let items = sequence(value, key.rawValue) {
                    for (index, item) in items.enumerated() { addStep(item, phase: key == .setup ? .setup : .teardown, ordinal: index) }
                }
            case .exports:
                for (name, item) in names(value, "exports", each: "an exported name") {
                    collection.exports.append(name)
                    exportNodes.append((name, item))
                }
            }
        }
    }

    /// One item of `setup`, `requests` or `teardown`: an include, or a request.
    private func addStep(_ item: Node, phase: Phase, ordinal: Int) {
        if case .mapping(let mapping) = item, mapping["include"] != nil {
            if let include = include(item, phase: phase) {
                stepOrder.append((phase, true, includes.count))
                includes.append((phase, include))
            }
            return
        }
        let fallback = phase == .main ? "request #\(ordinal + 1)" : "\(phase.rawValue) step #\(ordinal + 1)"
        let index = collection.requests.count
        guard let (request, ownKeys) = request(item, index: index, fallbackName: fallback) else { return }
        stepOrder.append((phase, false, index))
        requestPhases.append(phase)
        if let first = requestNames[request.name] {
            let nameNode: Node = { if case .mapping(let m) = item, let n = m["name"] { return n } else { return item } }()
            report("duplicate request name '\(request.name)' (first used at line \(first)); names must be unique", at: nameNode)
        } else {
            requestNames[request.name] = request.location.line
        }
        collection.requests.append(request)
        requestKeys.append(ownKeys)
    }

    /// A list of names (`secrets`, `exports`), each with its node; what is not a name is reported.
    private func names(_ node: Node, _ what: String, each: String) -> [(String, Node)] {
        (sequence(node, what) ?? []).compactMap { item in literal(item, each).map { ($0, item) } }
    }

    /// A `vars` mapping: names to any YAML value, strings may be templates.
    func variables(_ node: Node, source variableSource: VariableSource, _ what: String) -> [VariableDefinition] {
        guard let pairs = mapping(node, what) else { return [] }
        let outer = currentScope
        currentScope = .variables
        defer { currentScope = outer }
        var out: [VariableDefinition] = []
        for pair in pairs {
            if !isValidVariableName(pair.key) {
                report("variable name '\(pair.key)' cannot be used in {{ }}: use letters, digits, '_' and '-', starting with a letter", at: pair.keyNode)
                continue
            }
            if let value = templateValue(pair.value) {
                out.append(VariableDefinition(name: pair.key, value: value, source: variableSource, location: source.location(of: pair.keyNode)))
            }
        }
        return out
    }
}
