import ArgumentParser
import Dispatch
import Foundation
import SondeCore
import SondeEngine
import SondeHTTP
import SondeReport
import SondeRunner
import SondeStore

/// What `sonde run` and `sonde demo` do around a `RunSession`: the terminal listens, Ctrl-C
/// cancels, the reports are written from the outcomes, and the outcomes become the exit
/// status (`exitStatus`).
enum SessionShell {
    /// Runs the collections; returns the exit status. `interruption` was installed before
    /// the history was opened: a signal from then on ends the session.
    static func run(
        _ collections: [PlannedCollection], options: RunSession.Options, transport: TransportOptions, history: (any RunHistory)?, verbosity: Int,
        reports: ReportOptions, curlFile: String? = nil, gatesOnComparison: Bool = true, interruption: Interruption
    ) throws -> Int32 {
        let session = RunSession(collections: collections, history: history, options: options) { cancellation in
            try CurlTransport(options: transport, cancellation: cancellation)
        }
        let toStandardError = reports.writesToStandardOutput
        // Lines made before a secret was learned, not shown yet, are masked as they go out.
        let output = OutputLock(toStandardError: toStandardError, secretsKnown: { session.secretsKnown }, mask: session.maskKnownSecrets)
        let listener = TerminalListener(
            report: TerminalReport(colors: Terminal.colorsEnabled(forStandardError: toStandardError), verbosity: verbosity), output: output,
            jobs: options.jobs, progress: options.jobs == 1 && (toStandardError ? Terminal.stderrIsTerminal : Terminal.stdoutIsTerminal),
            historyLocation: history?.location, secretsKnown: { session.secretsKnown })
        session.add(listener)
        let curlCommands = curlFile.map { _ in CurlCommandList() }
        if let curlCommands { session.add(curlCommands) }
        interruption.onCancel = { session.cancel() }
        interruption.beforeForcedExit = {
            listener.endPartialLine()
            output.flush()
        }
        let outcome = session.run()
        listener.endPartialLine()
        // Several collections: one summary of them all, as the last lines.
        let results = outcome.collections.compactMap(\.result)
        if results.count > 1 && !outcome.cancelled { output.write(listener.report.sessionSummary(results)) }
        output.flush()
        let failures = outcome.collections.compactMap(\.failure) + [outcome.failure].compactMap({ $0 })
        // The history file is complete when sonde ends, whichever way it ends.
        defer {
            // After a storage failure the error has said what is missing; no more guessing.
            if let history, !history.close(), failures.isEmpty {
                Terminal.warning(
                    "the newest run is still in \(history.location)-wal, not yet in the file itself: another process holds the database open (reading it, or writing a run of its own); "
                        + "it moves into the file when that process closes it (or at the next sonde run), and a copy of the file alone would miss it")
            }
        }
        for failure in failures { Terminal.error(failure.description) }
        // Written however the session ended (an interrupted run's requests too), masked with
        // every secret the session learned.
        if let curlFile, let curlCommands {
            try OutputFile.write(session.maskKnownSecrets(curlCommands.script()), to: curlFile, what: "the curl commands")
        }
        // Interrupted: a run was cancelled, or never started. A signal after every run had
        // ended interrupts nothing.
        if let signal = interruption.received, outcome.collections.contains(where: { $0.result?.cancelled ?? true }) {
            for collection in outcome.collections where (collection.result?.cancelled ?? true) && collection.failure == nil {
                if let runID = collection.runID {
                    Terminal.error("interrupted: run #\(runID) is recorded as incomplete, with the requests it finished")
                } else if history == nil, collection.result != nil {
                    Terminal.error("interrupted: \(TerminalText.escape(collection.collection.name)) was not recorded (--no-save)")
                }
            }
            return signal.exitStatus
        }
        let status = exitStatus(outcome, gatesOnComparison: gatesOnComparison)
        if status == ExitStatus.internalError {
            // A run the history lost is still reported, as it ran; a collection that could not
            // be run has nothing to report.
            let records = outcome.collections.compactMap(\.record)
            if !reports.targets.isEmpty {
                if records.isEmpty {
                    Terminal.error("no report was written: a collection could not be run or recorded")
                } else {
                    try reports.write(records)
                    if records.count < outcome.collections.count { Terminal.error("the reports leave out the collections that could not be run") }
                }
            }
        } else {
            try reports.write(outcome.collections.compactMap(\.record))
        }

        return status
    }

    /// The exit status of a session: 0 when every collection ran to its end and passed; 1
    /// when a check failed, a request could not be completed, or a comparison (`--compare`)
    /// found something worse than the previous run, as `sonde diff` does; 3 when a
    /// collection could not be run or recorded.
    /// `gatesOnComparison` false (`sonde demo`, which shows the comparison to teach it): only
    /// the checks decide.
    static func exitStatus(_ outcome: RunSession.Outcome, gatesOnComparison: Bool = true) -> Int32 {
        if outcome.failure != nil || outcome.collections.contains(where: { $0.failure != nil }) { return ExitStatus.internalError }
        let worse = gatesOnComparison && outcome.collections.contains { if case .diff(let diff)? = $0.comparison { diff.isWorse } else { false } }
        return outcome.collections.allSatisfy(\.passed) && !worse ? ExitStatus.passed : ExitStatus.failed
    }
}

/// The terminal's view of a session: each collection's lines as its requests finish (whole
/// per collection when several run at once, so that their lines do not interleave), its
/// summary, where it was recorded and what changed.
final class TerminalListener: RunListener, @unchecked Sendable {
    let report: TerminalReport
    let historyText: HistoryText
    let output: OutputLock
    let jobs: Int
    /// On a terminal, one collection at a time shows the request in flight, replaced by its result.
    let progress: Bool
    let historyLocation: String?
    let secretsKnown: @Sendable () -> Int
    private let lock = NSLock()
    /// Per collection, its lines held, and how many secrets were known when the first was made.
    private var buffers: [Int: (text: String, secrets: Int)] = [:]
    /// Per collection, how many of its teardown steps did not pass (said apart in its summary).
    private var teardownFailures: [Int: Int] = [:]

    init(report: TerminalReport, output: OutputLock, jobs: Int, progress: Bool, historyLocation: String?, secretsKnown: @escaping @Sendable () -> Int) {
        self.report = report
        self.historyText = HistoryText(colors: report.colors)
        self.output = output
        self.jobs = jobs
        self.progress = progress
        self.historyLocation = historyLocation
        self.secretsKnown = secretsKnown
    }

    /// Writes now (one collection at a time), or keeps for the collection's end.
    private func emit(_ collection: SessionCollection, _ text: String) {
        guard jobs > 1 else { return output.write(text) }
        let known = secretsKnown()
        lock.lock()
        let held = buffers[collection.index] ?? ("", known)
        buffers[collection.index] = (held.text + text, held.secrets)
        lock.unlock()
    }

    private func takeBuffer(_ collection: SessionCollection) -> (text: String, secrets: Int?) {
        lock.lock()
        defer { lock.unlock() }
        guard let held = buffers.removeValue(forKey: collection.index) else { return ("", nil) }
        return (held.text, held.secrets)
    }

    func collectionStarted(_ collection: SessionCollection) {
        emit(collection, report.header((collection.name, collection.file, collection.steps), loops: collection.loops))
    }

    /// Whether the line of a request in flight is shown, to be replaced.
    private var inFlight = false

    func requestStarted(_ collection: SessionCollection, position: Int, name: String) {
        guard progress else { return }
        lock.lock()
        inFlight = true
        lock.unlock()
        // A loop's iterations are results of one step: with loops, the total is not known.
        output.write("  … \(TerminalText.escape(name)) (\(position + 1)\(collection.loops == 0 ? "/\(collection.steps)" : ""))")
    }

    func requestFinished(_ collection: SessionCollection, _ result: RequestResult) {
        lock.lock()
        inFlight = false
        if result.phase == .teardown, result.outcome == .failed || result.outcome == .error { teardownFailures[collection.index, default: 0] += 1 }
        lock.unlock()
        emit(collection, (progress ? "\r\u{1B}[K" : "") + report.line(result))
    }

    /// Clears the line of a request that never finished (the run was cancelled), so that
    /// what follows starts on a line of its own.
    func endPartialLine() {
        lock.lock()
        let pending = inFlight
        inFlight = false
        lock.unlock()
        if pending { output.write("\r\u{1B}[K") }
    }

    func collectionFinished(_ collection: SessionCollection, _ outcome: CollectionOutcome) {
        let (held, secrets) = takeBuffer(collection)
        var text = held
        guard let result = outcome.result, !result.cancelled else {
            if !text.isEmpty { output.write(text, secretsKnown: secrets) }
            return
        }
        lock.lock()
        let teardown = teardownFailures.removeValue(forKey: collection.index) ?? 0
        lock.unlock()
        text += report.summary(result, teardownFailures: teardown)
        // A run that could not be recorded is shown whole; the error follows, with exit status 3.
        if outcome.failure == nil, let runID = outcome.runID, let historyLocation {
            text += historyText.recorded(runID: runID, path: historyLocation)
            switch outcome.comparison {
            case .diff(let diff)?: text += "\n" + historyText.diff(diff)
            case .firstRun?: text += "  no earlier run of \(TerminalText.escape(result.collection))\(result.environment.map { " (\(TerminalText.escape($0)))" } ?? "") to compare with\n"
            case nil: break
            }
        }
        output.write(text + "\n", secretsKnown: secrets)
    }
}

/// Ctrl-C (SIGINT), SIGTERM, SIGHUP, SIGQUIT (and SIGPIPE, the reader of the output gone)
/// during a run cancel it: the runs stop between steps (a transfer on the wire is stopped),
/// what finished is recorded, and sonde exits with 128 and the signal's number, the runs
/// left incomplete in the history. A second signal, a second or more after the first, while
/// the first is being honoured (a history locked by another process), ends the process at
/// once: what was committed stays, the rest of the run is lost.
final class Interruption: @unchecked Sendable {
    struct Signal {
        var number: Int32
        var exitStatus: Int32 { 128 + number }
    }

    private let lock = NSLock()
    private var sources: [DispatchSourceSignal] = []
    private var first: (signal: Signal, at: Date)?
    private var cancel: (@Sendable () -> Void)?
    private var forcedExit: (@Sendable () -> Void)?

    /// Called at the first signal (at once when one came before it was set).
    var onCancel: (@Sendable () -> Void)? {
        get { locked { cancel } }
        set {
            let already = locked { () -> Bool in
                cancel = newValue
                return first != nil
            }
            if already { newValue?() }
        }
    }

    /// Called before a second signal ends the process (to write what is pending).
    var beforeForcedExit: (@Sendable () -> Void)? {
        get { locked { forcedExit } }
        set { locked { forcedExit = newValue } }
    }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    init() {
        for number in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.received(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func received(_ number: Int32) {
        let now = Date()
        let (isFirst, since, cancel, forced) = locked { () -> (Bool, TimeInterval, (@Sendable () -> Void)?, (@Sendable () -> Void)?) in
            if let first { return (false, now.timeIntervalSince(first.at), self.cancel, forcedExit) }
            first = (Signal(number: number), now)
            return (true, 0, self.cancel, forcedExit)
        }
        if isFirst {
            cancel?()
        } else if since >= 1 {
            // The user insists: no more waiting for anything. (A signal sent twice at once,
            // to a process group say, is one.)
            forced?()
            Terminal.error("interrupted again: stopping now")
            exit(Signal(number: number).exitStatus)
        }
    }

    /// The first signal received, if any.
    var received: Signal? { locked { first?.signal } }
}

/// Serializes writes to the terminal across collection threads.
final class OutputLock: @unchecked Sendable {
    private let lock = NSLock()
    /// Standard error when a report goes to standard output.
    let toStandardError: Bool
    /// Off a terminal (a CI log, a file, a pipe), the output is held until the session
    /// ends (`flush`), and goes out masked with every secret the run came to know: a value
    /// captured as secret by the last request may stand in the first request's line, and
    /// text already written cannot be taken back. A terminal sees each line at once.
    private let buffered: Bool
    private var pending = ""
    /// How many secrets were known when the oldest pending text was made.
    private var pendingSecrets: Int?
    private let secretsKnown: @Sendable () -> Int
    private let mask: @Sendable (String) -> String

    init(toStandardError: Bool = false, secretsKnown: @escaping @Sendable () -> Int = { 0 }, mask: @escaping @Sendable (String) -> String = { $0 }) {
        self.toStandardError = toStandardError
        buffered = !(toStandardError ? Terminal.stderrIsTerminal : Terminal.stdoutIsTerminal)
        self.secretsKnown = secretsKnown
        self.mask = mask
    }

    /// `secretsKnown`: how many secrets were known when `text` was made (default: now).
    func write(_ text: String, secretsKnown made: Int? = nil) {
        let known = made ?? secretsKnown()
        lock.lock()
        defer { lock.unlock() }
        pending += text
        pendingSecrets = min(pendingSecrets ?? known, known)
        if !buffered { emit() }
    }

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        emit()
    }

    private func emit() {
        guard !pending.isEmpty else { return }
        // A secret learned since the oldest text was made is masked in all of it before
        // anyone sees it (a line is made before it is written: the line of the request that
        // captured a secret is written once the secret is known).
        if let made = pendingSecrets, secretsKnown() > made { pending = mask(pending) }
        pendingSecrets = nil
        Terminal.write(pending, to: toStandardError ? STDERR_FILENO : STDOUT_FILENO)
        pending = ""
    }
}

/// `sonde run --curl FILE`: each request sent, as a curl command line, under a comment that
/// names it; collections in the order they were given.
final class CurlCommandList: RunListener, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [Int: [String]] = [:]

    func requestFinished(_ collection: SessionCollection, _ result: RequestResult) {
        guard let command = result.curlCommand else { return }
        let location = result.location.map { " (\($0))" } ?? ""
        // Names are the collection's text: escaped, as on the terminal, so that `cat` of the file is safe.
        let comment = "# " + TerminalText.escape("\(collection.name): \(result.name)\(location)")
        lock.lock()
        lines[collection.index, default: []] += [comment, TerminalText.escape(command)]
        lock.unlock()
    }

    /// A bash script (the lines use bash's `$'…'` quoting).
    func script() -> String {
        lock.lock()
        defer { lock.unlock() }
        let header = "#!/usr/bin/env bash\n# Written by sonde run --curl: each request as curl sends it again. Secrets are masked (••••••): put them back to replay.\n"
        return header + lines.sorted { $0.key < $1.key }.flatMap(\.value).map { $0 + "\n" }.joined()
    }
}
