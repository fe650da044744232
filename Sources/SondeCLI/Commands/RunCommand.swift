import ArgumentParser
import Foundation
import SondeCore
import SondeHTTP
import SondeReport
import SondeRunner
import SondeSpec
import SondeEngine
import SondeStore

/// `sonde run`: runs collections and says what passed and what broke.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run collections (files or folders), in order, checking every response.",
        discussion:
            "Exit status: 0 all passed; 1 a check failed, a request could not be completed, or (with --compare) something got worse than the previous run; "
            + "2 an invalid collection (nothing was sent); 3 an internal error."
    )

    @OptionGroup var paths: CollectionPaths

    @OptionGroup var variables: VariableArguments

    @Option(
        name: .customLong("request"),
        help: ArgumentHelp(
            "Run only the requests whose name matches (a glob: *, ?, [...]; an include's name selects its requests), and every earlier one whose captures they need (repeatable).",
            valueName: "name"))
    var requests: [String] = []

    @Option(name: .customLong("tag"), help: ArgumentHelp("Run only the requests with this tag (and what they need) (repeatable).", valueName: "tag"))
    var tags: [String] = []

    @Option(name: .customLong("skip-tag"), help: ArgumentHelp("Leave out the requests with this tag, unless a request that runs needs them (repeatable).", valueName: "tag"))
    var skipTags: [String] = []

    @Flag(name: .customLong("dry-run"), help: "Print the plan (the steps, where each comes from, what each needs, what a selection added), send nothing.")
    var dryRun = false

    @Flag(name: .customLong("fail-fast"), help: "Stop a collection at its first failure.")
    var failFast = false

    @Option(help: "How many collections to run at once (each stays in order).")
    var jobs = 1

    @Flag(name: .short, help: "-v: headers; -vv: bodies too (secrets redacted).")
    var verbose: Int

    @Option(name: .customLong("cacert"), help: "CA certificates file for TLS.")
    var caFile: String?

    @Option(name: .customLong("cert"), help: "Client certificate file for TLS.")
    var clientCertificate: String?

    @Option(name: .customLong("key"), help: "Client private key file for TLS.")
    var clientKey: String?

    @Option(help: "HTTP(S) or SOCKS proxy, e.g. socks5://127.0.0.1:1080.")
    var proxy: String?

    @Flag(help: "Send the login and password ~/.netrc gives for a request's host, for every request without an auth of its own.")
    var netrc = false

    @Option(name: .customLong("netrc-file"), help: ArgumentHelp("As --netrc, with this file.", valueName: "file"))
    var netrcFile: String?

    @Flag(name: .customLong("netrc-optional"), help: "As --netrc, but credentials in the URL win over the file's.")
    var netrcOptional = false

    @Option(
        name: .customLong("curl"),
        help: ArgumentHelp(
            "Write each request sent as a curl command line to this file, secrets masked (-v shows them too).", valueName: "file"))
    var curlFile: String?

    @OptionGroup var recording: RecordingOptions

    @Flag(help: "After each collection, show what changed since its previous recorded run (same environment); exit 1 when something got worse, as `sonde diff` does.")
    var compare = false

    @OptionGroup var thresholds: DiffThresholdOptions

    @OptionGroup var reports: ReportOptions

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs takes a number from 1 up") }
        if compare && recording.noSave { throw ValidationError("--compare needs the run recorded; drop --no-save") }
        if let curlFile { try OutputFile.checkFolder(of: curlFile, argument: "--curl \(curlFile)") }
        if let netrcFile, !FileManager.default.isReadableFile(atPath: netrcFile) {
            throw ValidationError("--netrc-file \(netrcFile): the file cannot be read")
        }
    }

    func run() throws {
        let (files, complete) = paths.resolve()
        guard complete else { throw ExitCode(ExitStatus.usage) }
        // Every collection is checked before anything is sent.
        let loader = CollectionLoader(options: variables.options)
        var loaded: [LoadedCollection] = []
        var diagnostics: [Diagnostic] = []
        let renderer = DiagnosticRenderer(colors: Terminal.colorsEnabled(forStandardError: true))
        for file in files {
            do {
                let collection = try loader.load(file: file)
                Terminal.printDiagnostics(collection.warnings, renderer: renderer)
                loaded.append(collection)
            } catch {
                diagnostics += error.diagnostics
            }
        }
        if !diagnostics.isEmpty {
            Terminal.printDiagnostics(diagnostics, renderer: renderer)
            Terminal.error("\(diagnostics.count) error\(diagnostics.count == 1 ? "" : "s"); nothing was sent")
            throw ExitCode(ExitStatus.usage)
        }
        Self.noteSharedNames(loaded)
        variables.warnAboutUnread(in: loaded)
        let transport = TransportOptions(caFile: caFile, clientCertificate: clientCertificate, clientKey: clientKey, proxy: proxy)
        var options = RunSession.Options(
            jobs: jobs, failFast: failFast, keepExchanges: verbose > 0, keepRecords: !reports.targets.isEmpty, compare: compare ? thresholds.thresholds : nil,
            toolVersion: SondeCommand.version, secrets: Self.proxySecrets(proxy),
            curlArguments: verbose > 0 || curlFile != nil ? transport.curlArguments : nil)
        if netrc || netrcFile != nil || netrcOptional { options.defaultAuth = .netrc(file: netrcFile, optional: netrcOptional) }
        options.origin = RunOrigin.current
        // Signals are taken from here on: opening (and upgrading) the history included.
        let interruption = Interruption()
        var planned = loaded.map(PlannedCollection.init)
        // The plans hold the requests now: the loaded copies go, or a long collection is held twice.
        loaded = []
        let selection = StepSelection(requests: requests, tags: tags, skipTags: skipTags)
        if !selection.isEmpty {
            if let problem = RunPlan.unmatched(selection, in: planned.map(\.plan)) {
                Terminal.error(TerminalText.escape(problem))
                throw ExitCode(ExitStatus.usage)
            }
            // A collection none of whose requests is chosen is not run (nor recorded).
            planned = planned.compactMap { collection in
                var collection = collection
                guard let plan = collection.plan.selecting(selection) else { return nil }
                collection.plan = plan
                return collection
            }
            for collection in planned {
                for step in collection.plan.steps where step.addedBecause != nil {
                    Terminal.note("\(TerminalText.escape(collection.plan.collection.name)): also runs '\(TerminalText.escape(step.name))': \(TerminalText.escape(step.addedBecause ?? ""))")
                }
            }
        }
        if dryRun {
            Terminal.print(planned.map { PlanText.render($0.plan) }.joined(separator: "\n"), terminator: "")
            Terminal.print("nothing was sent (--dry-run)")
            throw ExitCode.success
        }
        // What loading let go is given back to the system: the run allocates on its own
        // threads, whose malloc arenas would not reuse the main thread's free pages.
        Memory.returnFreePages()
        let status = try SessionShell.run(
            planned, options: options, transport: transport, history: try recording.openHistory(), verbosity: verbose,
            reports: reports, curlFile: curlFile, interruption: interruption)
        throw ExitCode(status)
    }

    /// A proxy's credentials are secret in every collection: libcurl sends them in
    /// Proxy-Authorization, which -v shows and a proxy may echo.
    static func proxySecrets(_ proxy: String?) -> [JSONValue] {
        RequestURL.credentialSecrets(of: proxy ?? "").map(JSONValue.string)
    }
}

extension RunCommand {
    /// Collections of one name from different files (two services' `smoke.yaml`) are two
    /// collections, each with its own history: said once, so that no one expects one history.
    static func noteSharedNames(_ loaded: [LoadedCollection]) {
        var files: [String: [String]] = [:]
        for collection in loaded { files[collection.spec.name, default: []].append(collection.spec.file) }
        for (name, paths) in files.sorted(by: { $0.key < $1.key }) where Set(paths).count > 1 {
            Terminal.note(
                "\(paths.count) collections are named '\(TerminalText.escape(name))' (\(paths.map { TerminalText.escape($0) }.joined(separator: ", "))); "
                    + "each keeps its own history, by file: give the file to `sonde history`, `diff`, `trend` or `report` to pick one")
        }
    }
}

extension TransportOptions {
    /// The same options for curl's command line (`--curl`, -v).
    var curlArguments: [String] {
        var arguments: [String] = []
        if let caFile { arguments += ["--cacert", caFile] }
        if let clientCertificate { arguments += ["--cert", clientCertificate] }
        if let clientKey { arguments += ["--key", clientKey] }
        if let proxy { arguments += ["--proxy", proxy] }
        return arguments
    }
}

extension RunOrigin {
    /// This process's: its environment, the system's host name, and the user it runs as.
    static var current: RunOrigin {
        let user = getpwuid(getuid()).flatMap { $0.pointee.pw_name.map { String(cString: $0) } }
        return RunOrigin.detect(environment: ProcessInfo.processInfo.environment, host: ProcessInfo.processInfo.hostName, user: user)
    }
}
