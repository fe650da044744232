import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeSpec

/// `sonde validate`: every problem in every collection, nothing sent.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check collections without sending anything.",
        discussion: "Exit status 0 when every collection is valid, 2 when any has errors (all of them are listed)."
    )

    @OptionGroup var paths: CollectionPaths

    @OptionGroup var variables: VariableArguments

    @Flag(inversion: .prefixedNo, help: "Print each valid collection's plan: its steps in order, where each comes from, what each needs (the first 200 steps).")
    var plan = true

    func run() throws {
        let (files, complete) = paths.resolve()
        let loader = CollectionLoader(options: variables.options)
        let renderer = DiagnosticRenderer(colors: Terminal.colorsEnabled(forStandardError: true))
        var invalid = 0
        var valid: [LoadedCollection] = []
        for file in files {
            do {
                let loaded = try loader.load(file: file)
                valid.append(loaded)
                Terminal.printDiagnostics(loaded.warnings, renderer: renderer)
                let steps = RunPlan(loaded.spec)
                Terminal.print("ok  \(TerminalText.escape(file)): \(TerminalText.escape(Summary.describe(steps)))")
                if plan { Terminal.print(PlanText.render(steps, limit: 200, header: false), terminator: "") }
            } catch {
                invalid += 1
                Terminal.printDiagnostics(error.diagnostics, renderer: renderer)
                let count = error.diagnostics.count
                Terminal.print("bad \(TerminalText.escape(file)): \(count) error\(count == 1 ? "" : "s")")
            }
        }
        if invalid == 0 { variables.warnAboutUnread(in: valid) }
        if invalid > 0 || !complete { throw ExitCode(ExitStatus.usage) }
    }
}

/// The PATH... argument of the commands that read collections.
struct CollectionPaths: ParsableArguments {
    @Argument(help: "Collection files, or folders searched for *.yaml and *.yml.")
    var paths: [String]

    /// The collection files found; missing paths and a search that found nothing are reported
    /// here, and make `complete` false.
    func resolve() -> (files: [String], complete: Bool) {
        let (files, missing) = CollectionLoader.collectionFiles(in: paths)
        for path in missing { Terminal.error("\(TerminalText.escape(path)): no such file or folder") }
        if files.isEmpty && missing.isEmpty { Terminal.error("no *.yaml or *.yml collections under \(paths.map { TerminalText.escape($0) }.joined(separator: ", "))") }
        return (files, missing.isEmpty && !files.isEmpty)
    }
}

/// `--env`, `--env-file` and `--var`, shared by the commands that load collections.
struct VariableArguments: ParsableArguments {
    @Option(name: .customLong("env"), help: "Load environments/NAME.yaml beside the collection.")
    var environment: String?

    @Option(name: .customLong("env-file"), help: "Load variables from this YAML file.")
    var environmentFile: String?

    @Option(name: .customLong("var"), help: "Set a variable: name=value (repeatable).")
    var assignments: [String] = []

    @Option(
        name: .customLong("data"),
        help: ArgumentHelp("Rows of a data file (CSV with a header row, JSON array, YAML list) as the list variable NAME, `data` unless given, for for_each (repeatable).", valueName: "[name=]file"))
    var dataFiles: [String] = []

    func validate() throws {
        if environment != nil && environmentFile != nil {
            throw ValidationError("use --env or --env-file, not both")
        }
    }

    var options: VariableOptions {
        VariableOptions(environmentName: environment, environmentFile: environmentFile, assignments: assignments, dataFiles: dataFiles)
    }

    /// A `--var` that none of the collections reads is most likely a typo of one that is.
    func warnAboutUnread(in loaded: [LoadedCollection]) {
        guard !loaded.isEmpty else { return }
        let read = loaded.reduce(into: Set<String>()) { $0.formUnion($1.readNames) }
        var warned = Set<String>()
        for assignment in assignments {
            guard let equals = assignment.firstIndex(of: "=") else { continue }
            let name = String(assignment[..<equals])
            guard !read.contains(name), warned.insert(name).inserted else { continue }
            let hint = nearestName(to: name, among: read).map { "; did you mean '\(TerminalText.escape($0))'?" } ?? ""
            let which = loaded.count == 1 ? "the collection never reads" : "none of the \(loaded.count) collections reads"
            Terminal.warning("--var \(TerminalText.escape(name)): \(which) '\(TerminalText.escape(name))'\(hint)")
        }
    }
}

enum Summary {
    /// `kubesphere-smoke, 2 requests, 1 capture, 9 expectations`: every step of the plan
    /// (setup, requests, teardown, included ones).
    static func describe(_ plan: RunPlan) -> String {
        let spec = plan.collection
        let all = plan.steps.map(\.request)
        let requests = all.count
        let captures = all.reduce(0) { $0 + $1.captures.count }
        let expectations = all.reduce(0) { $0 + $1.expectations.count }
        func plural(_ n: Int, _ word: String) -> String { "\(n) \(word)\(n == 1 ? "" : "s")" }
        return "\(spec.name), \(plural(requests, "request")), \(plural(captures, "capture")), \(plural(expectations, "expectation"))"
    }
}

extension Terminal {
    /// Each diagnostic with its source line, read from its file once per file.
    static func printDiagnostics(_ diagnostics: [Diagnostic], renderer: DiagnosticRenderer) {
        var files: [String: [Substring]] = [:]
        var out = ""
        for diagnostic in diagnostics {
            let file = diagnostic.location.file
            if files[file] == nil, diagnostic.quotesSource {
                let text = FileManager.default.contents(atPath: file).flatMap { String(data: $0, encoding: .utf8) } ?? ""
                // Lines end as YAML ends them: LF, CR LF, or a lone CR.
                files[file] = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }
            }
            let lines = files[file] ?? []
            let index = diagnostic.location.line - 1
            let line = lines.indices.contains(index) ? String(lines[index]).replacingOccurrences(of: "\r", with: "") : nil
            out += renderer.render(diagnostic, sourceLine: line)
        }
        Terminal.write(out, to: STDERR_FILENO)
    }
}
