import ArgumentParser
import Dispatch
import Foundation
import SondeCore
import SondeHTTP
import SondeReport
import SondeRunner
import SondeSpec
import SondeStore

/// `sonde run`: runs collections and says what passed and what broke.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run collections (files or folders), in order, checking every response.",
        discussion: "Exit status: 0 all passed; 1 a check failed or a request could not be completed; 2 an invalid collection (nothing was sent); 3 an internal error."
    )

    @OptionGroup var paths: CollectionPaths

    @OptionGroup var variables: VariableArguments

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

    @OptionGroup var recording: RecordingOptions

    @Flag(help: "After each collection, show what changed since its previous recorded run (same environment).")
    var compare = false

    @OptionGroup var thresholds: DiffThresholdOptions

    @OptionGroup var reports: ReportOptions

    func validate() throws {
        if jobs < 1 { throw ValidationError("--jobs takes a number from 1 up") }
        if compare && recording.noSave { throw ValidationError("--compare needs the run recorded; drop --no-save") }
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
        let options = TransportOptions(caFile: caFile, clientCertificate: clientCertificate, clientKey: clientKey, proxy: proxy)
        var runs = CollectionRuns(collections: loaded, transportOptions: options, failFast: failFast, jobs: jobs, verbosity: verbose)
        runs.store = try recording.openStore()
        runs.compare = compare ? thresholds.thresholds : nil
        let results = try runs.run(writing: reports)
        throw ExitCode(results.allSatisfy { $0.outcome == .passed } ? ExitStatus.passed : ExitStatus.failed)
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

/// Runs collections, `jobs` at a time, each on its own thread and transport, printing as results come.
struct CollectionRuns {
    var collections: [LoadedCollection]
    var transportOptions: TransportOptions
    var failFast: Bool
    var jobs: Int
    var verbosity: Int
    /// Where each run is recorded, request by request; nil with --no-save.
    var store: HistoryStore?
    /// With --compare: the thresholds of the diff printed after each run.
    var compare: RunDiff.Thresholds?
    /// Keep each run's record for the report files (read back from the database when recorded).
    private var keepRecords = false
    /// The terminal's text goes to standard error (a report is on standard output).
    private var humanOutputToStandardError = false

    init(collections: [LoadedCollection], transportOptions: TransportOptions, failFast: Bool, jobs: Int, verbosity: Int) {
        self.collections = collections
        self.transportOptions = transportOptions
        self.failFast = failFast
        self.jobs = jobs
        self.verbosity = verbosity
    }

    /// Runs, then writes the reports from the runs as recorded.
    func run(writing reports: ReportOptions) throws -> [RunResult] {
        var runs = self
        runs.keepRecords = !reports.targets.isEmpty
        runs.humanOutputToStandardError = reports.writesToStandardOutput
        // The database file is complete when sonde ends, whichever way it ends.
        defer {
            if let store, !store.close() {
                Terminal.warning(
                    "the newest run is still in \(store.path)-wal, not yet in the file itself: another process holds the database open for reading; "
                        + "it moves into the file when that process closes it (or at the next sonde run), and a copy of the file alone would miss it")
            }
        }
        let (results, records) = try runs.run()
        try reports.write(records)
        return results
    }

    func run() throws -> (results: [RunResult], records: [RunRecord]) {
        Interruption.shared.install()
        let colors = Terminal.colorsEnabled(forStandardError: humanOutputToStandardError)
        let report = TerminalReport(colors: colors, verbosity: verbosity)
        let historyText = HistoryText(colors: colors)
        let output = OutputLock(toStandardError: humanOutputToStandardError)
        Interruption.shared.add(output)
        defer { Interruption.shared.remove(output) }
        if let store { Interruption.shared.add(store) }
        defer { if let store { Interruption.shared.remove(store) } }
        // A secret of one collection is masked in all: a server may echo to one what another sent.
        // A proxy's credentials too: libcurl sends them in Proxy-Authorization, which -v shows
        // and a proxy may echo.
        var proxySecrets: [JSONValue] = []
        if let proxy = transportOptions.proxy, let (user, password) = RequestURL.credentials(of: proxy), !password.isEmpty {
            proxySecrets = [.string(password), .string("\(user):\(password)")]
            if let decoded = password.removingPercentEncoding, decoded != password {
                proxySecrets += [.string(decoded), .string("\((user.removingPercentEncoding ?? user)):\(decoded)")]
            }
        }
        let sharedSecrets = SharedSecrets(collections.flatMap { $0.declaredSecretValues() } + proxySecrets)
        let records = Slots<RunRecord>(count: collections.count)
        let runIDs = Slots<Int64>(count: collections.count)
        let finishedRuns = Slots<FinishedRun>(count: collections.count)
        let results = Slots<RunResult>(count: collections.count)
        let failures = Slots<Error>(count: collections.count)
        let semaphore = DispatchSemaphore(value: jobs)
        let group = DispatchGroup()
        for (index, collection) in collections.enumerated() {
            semaphore.wait()
            group.enter()
            let thread = Thread {
                defer {
                    semaphore.signal()
                    group.leave()
                }
                do {
                    let transport = try CurlTransport(options: transportOptions)
                    let runner = Runner(
                        spec: collection.spec, scope: collection.makeScope(), secrets: collection.secrets, transport: transport,
                        environmentName: collection.environmentName, options: Runner.Options(
                            failFast: failFast, keepExchanges: verbosity > 0,
                            // Reports of an unsaved run are made from the results; otherwise from the database.
                            keepDetails: keepRecords && store == nil))
                    // Secrets this run knows: its own, and those of the other collections, pulled
                    // before each request. What was recorded before one became known is masked
                    // again at once (through the recording queue, in order).
                    var (shared, sharedCount) = sharedSecrets.values(after: 0)
                    runner.mask(shared)
                    var remaskedBelow = 0
                    defer {
                        sharedSecrets.add(runner.secretValues)
                        finishedRuns.set(index, FinishedRun(runner: runner, sharedCount: sharedCount))
                    }
                    // One collection at a time prints line by line; several print whole, so their lines do not interleave.
                    var buffer = report.header((collection.spec.name, collection.spec.file, collection.spec.requests.count))
                    if jobs == 1 { output.write(buffer); buffer = "" }
                    // On a terminal, one collection at a time shows the request in flight, replaced by its result.
                    let progress = jobs == 1 && (humanOutputToStandardError ? Terminal.stderrIsTerminal : Terminal.stdoutIsTerminal)
                    let start = Self.start(collection)
                    let recording = try store.map { RecordingQueue(try $0.beginRun(start)) }
                    if let recording { Interruption.shared.add(recording) }
                    defer { if let recording { Interruption.shared.remove(recording) } }
                    /// Masks what was recorded below `limit` with every secret known now.
                    func remask(below limit: Int) {
                        guard limit > remaskedBelow || limit == Int.max else { return }
                        remaskedBelow = max(remaskedBelow, limit)
                        recording?.submitRedaction(positionsBelow: limit, with: runner.currentRedactor, bodyHashes: runner.rehashedBodies(below: limit))
                    }
                    let result = runner.run { event in
                        switch event {
                        case .requestStarted(let index, let name):
                            (shared, sharedCount) = sharedSecrets.values(after: sharedCount)
                            if !shared.isEmpty {
                                runner.mask(shared)
                                remaskedBelow = 0
                                remask(below: index)
                            }
                            if progress { output.write("  … \(name) (\(index + 1)/\(collection.spec.requests.count))") }
                        case .requestFinished(let request):
                            recording?.submit(request)
                            if runner.requestsBeforeLatestSecret > remaskedBelow {
                                sharedSecrets.add(runner.secretValues)
                                remask(below: runner.requestsBeforeLatestSecret)
                            }
                            let line = (progress ? "\r\u{1B}[K" : "") + report.line(request)
                            if jobs == 1 { output.write(line) } else { buffer += line }
                        }
                    }
                    // Secrets another collection learned while this one ran.
                    (shared, sharedCount) = sharedSecrets.values(after: sharedCount)
                    if !shared.isEmpty {
                        runner.mask(shared)
                        remask(below: Int.max)
                    }
                    var storeError: StoreError?
                    do throws(StoreError) {
                        try recording?.finish(outcome: result.outcome, at: result.finished)
                        if let recorder = recording?.recorder { runIDs.set(index, recorder.runID) }
                    } catch {
                        storeError = error
                    }
                    buffer += report.summary(result)
                    if let storeError {
                        // The run is shown whole; that it could not be recorded makes the exit status 3.
                        output.write(buffer + "\n")
                        failures.set(index, storeError)
                        return
                    }
                    // The run as recorded, read back once for --compare and the reports.
                    var recorded: RunRecord?
                    if let recorder = recording?.recorder {
                        buffer += historyText.recorded(runID: recorder.runID, path: recorder.store.path)
                        if compare != nil { recorded = try recorder.store.run(id: recorder.runID) }
                        if let thresholds = compare, let recorded {
                            buffer += try Self.comparison(recorded, recorder.store, thresholds, historyText)
                        }
                    }
                    output.write(buffer + "\n")
                    results.set(index, result)
                    // Reports are written from the run as recorded (read back once every collection
                    // has ended), or, with --no-save, as it would be.
                    if keepRecords && recording == nil { records.set(index, start.record(of: result)) }
                } catch {
                    failures.set(index, error)
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        group.wait()
        output.flush()
        if let error = failures.values.compactMap({ $0 }).first {
            Terminal.error("\(error)")
            throw ExitCode(ExitStatus.internalError)
        }
        // A collection that ended before another learned a secret is masked again, whole.
        let allSecrets = sharedSecrets.values
        for (index, finished) in finishedRuns.values.enumerated() {
            guard let finished, finished.sharedCount < allSecrets.count else { continue }
            finished.runner.mask(allSecrets)
            if let runID = runIDs.values[index], let store {
                do throws(StoreError) {
                    try store.redactRecorded(
                        runID: runID, positionsBelow: Int.max, with: finished.runner.currentRedactor, bodyHashes: finished.runner.rehashedBodies(below: Int.max))
                } catch {
                    Terminal.error("\(error)")
                    throw ExitCode(ExitStatus.internalError)
                }
            } else if let record = records.values[index] {
                records.set(index, record.redacted(with: finished.runner.currentRedactor, bodyHashes: finished.runner.rehashedBodies(below: Int.max)))
            }
        }
        if keepRecords, let store {
            for (index, runID) in runIDs.values.enumerated() {
                guard let runID else { continue }
                do throws(StoreError) { if let record = try store.run(id: runID) { records.set(index, record) } } catch {
                    Terminal.error("\(error)")
                    throw ExitCode(ExitStatus.internalError)
                }
            }
        }
        return (results.values.compactMap { $0 }, records.values.compactMap { $0 })
    }
}

extension CollectionRuns {
    /// What the history records before the first request.
    static func start(_ collection: LoadedCollection) -> RunStart {
        RunStart(
            collection: collection.spec.name, file: collection.spec.file, contentHash: Digest.sha256(collection.text),
            environment: collection.environmentName, started: Date(), toolVersion: SondeCommand.version,
            gitCommit: GitCommit.head(containing: collection.spec.file), plannedRequests: collection.spec.requests.count)
    }

    /// `--compare`: the diff against the previous complete run of the collection in the same environment.
    static func comparison(_ run: RunRecord, _ store: HistoryStore, _ thresholds: RunDiff.Thresholds, _ text: HistoryText) throws -> String {
        guard let previous = try store.previousRun(before: run) else {
            return "  no earlier run of \(run.collection)\(run.environment.map { " (\($0))" } ?? "") to compare with\n"
        }
        return "\n" + text.diff(RunDiff(old: previous, new: run, thresholds: thresholds))
    }
}

/// Ctrl-C (SIGINT), SIGTERM, SIGHUP and SIGQUIT during a recorded run: the requests already
/// finished are committed and the database checkpointed before the process exits (with 128
/// and the signal's number), and the run stays in the history as incomplete.
final class Interruption: @unchecked Sendable {
    static let shared = Interruption()
    private let lock = NSLock()
    private var recordings: [ObjectIdentifier: RecordingQueue] = [:]
    /// Lines gathered for the terminal are written before an interrupted run exits.
    private var outputs: [ObjectIdentifier: OutputLock] = [:]
    /// Databases to make complete (checkpointed) and close before exiting.
    private var stores: [ObjectIdentifier: HistoryStore] = [:]
    private var sources: [DispatchSourceSignal] = []

    func install() {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        // A closed terminal or a dropped SSH session (SIGHUP) and Ctrl-\ (SIGQUIT) end a run as Ctrl-C does.
        for (signalNumber, status) in [(SIGINT, Int32(130)), (SIGTERM, Int32(143)), (SIGHUP, Int32(129)), (SIGQUIT, Int32(131))] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [unowned self] in self.interrupted(exitStatus: status) }
            source.resume()
            sources.append(source)
        }
    }

    func add(_ recording: RecordingQueue) { locked { recordings[ObjectIdentifier(recording)] = recording } }
    func remove(_ recording: RecordingQueue) { locked { recordings[ObjectIdentifier(recording)] = nil } }
    func add(_ output: OutputLock) { locked { outputs[ObjectIdentifier(output)] = output } }
    func remove(_ output: OutputLock) { locked { outputs[ObjectIdentifier(output)] = nil } }
    func add(_ store: HistoryStore) { locked { stores[ObjectIdentifier(store)] = store } }
    func remove(_ store: HistoryStore) { locked { stores[ObjectIdentifier(store)] = nil } }

    private func locked(_ body: () -> Void) {
        lock.lock()
        defer { lock.unlock() }
        body()
    }

    private func interrupted(exitStatus: Int32) -> Never {
        lock.lock()
        let active = Array(recordings.values)
        let pendingOutput = Array(outputs.values)
        let openStores = Array(stores.values)
        lock.unlock()
        for output in pendingOutput { output.flush() }
        for recording in active {
            recording.flush()
            Terminal.error("interrupted: run #\(recording.recorder.runID) is recorded as incomplete, with the requests it finished")
        }
        for store in openStores { store.close() }
        exit(exitStatus)
    }
}

/// Serializes writes to standard output across collection threads.
final class OutputLock: @unchecked Sendable {
    private let lock = NSLock()
    /// Standard error when a report goes to standard output.
    let toStandardError: Bool
    /// Off a terminal (a CI log, a file, a pipe), lines are gathered and written in
    /// blocks of 16 KB rather than one system call a request; a terminal sees each at once.
    private let buffered: Bool
    private var pending = ""

    init(toStandardError: Bool = false) {
        self.toStandardError = toStandardError
        buffered = !(toStandardError ? Terminal.stderrIsTerminal : Terminal.stdoutIsTerminal)
    }

    func write(_ text: String) {
        lock.lock()
        defer { lock.unlock() }
        pending += text
        if !buffered || pending.utf8.count >= 16_384 { emit() }
    }

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        emit()
    }

    private func emit() {
        guard !pending.isEmpty else { return }
        let handle = toStandardError ? FileHandle.standardError : FileHandle.standardOutput
        handle.write(Data(pending.utf8))
        pending = ""
    }
}

/// The secret values of every collection of a run, as they become known (a collection
/// that starts after another has finished masks what that one captured too).
final class SharedSecrets: @unchecked Sendable {
    private let lock = NSLock()
    private var known: [JSONValue]

    init(_ values: [JSONValue]) { known = values }

    func add(_ values: [JSONValue]) {
        lock.lock()
        defer { lock.unlock() }
        for value in values where !known.contains(value) { known.append(value) }
    }

    var values: [JSONValue] {
        lock.lock()
        defer { lock.unlock() }
        return known
    }

    /// The values added after the first `count`, and how many there are now.
    func values(after count: Int) -> (new: [JSONValue], count: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (Array(known.dropFirst(count)), known.count)
    }
}

/// A collection's runner once it has ended, and how many shared secrets it had masked.
struct FinishedRun: @unchecked Sendable {
    let runner: Runner
    let sharedCount: Int
}

/// One slot a collection, written by its thread, read once all are done.
final class Slots<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        defer { lock.unlock() }
        slots[index] = value
    }

    var values: [Value?] {
        lock.lock()
        defer { lock.unlock() }
        return slots
    }
}
