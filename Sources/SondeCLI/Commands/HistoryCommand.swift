import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeStore

/// `sonde history`: recorded runs, newest first; `export`, `import` and `push` move runs
/// between histories; `prune` removes old ones.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recorded runs, newest first: id, time, environment, where, passed/failed/errors/skipped, duration.",
        discussion: "sonde history [COLLECTION] [--env E] [--last N] [--json] lists them (sonde history list --help). Exit status: 0 the runs were listed (or there were none: it says so); 2 an unknown collection, or bad usage; 3 the history cannot be read.",
        subcommands: [HistoryListCommand.self, HistoryExportCommand.self, HistoryImportCommand.self, HistoryPushCommand.self, HistoryPruneCommand.self],
        defaultSubcommand: HistoryListCommand.self
    )
}

/// `sonde history [COLLECTION]` (`sonde history list`): recorded runs, newest first.
struct HistoryListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List recorded runs, newest first (what `sonde history` does).",
        discussion: "Exit status: 0 the runs were listed (or there were none: it says so); 2 an unknown collection, or bad usage; 3 the history cannot be read."
    )

    @Argument(help: "A collection's name, or the file it was run from (default: every collection).")
    var collection: String?

    @Option(help: "Only runs in this environment.")
    var env: String?

    @Option(help: "How many runs to list.")
    var last = 20

    @Flag(help: "Print JSON (format sonde.history/1).")
    var json = false

    @OptionGroup var database: DatabaseOption

    func validate() throws {
        if last < 1 { throw ValidationError("--last takes a number from 1 up") }
    }

    func run() throws {
        let store = try database.openExisting()
        let runs = try storeCall { try store.runs(RunFilter(collection: collection, environment: env, last: last)) }
        if json {
            Terminal.print(HistoryJSON.runs(runs).prettyText())
            return
        }
        if runs.isEmpty {
            try explainNoRuns(store, collection: collection, environment: env)
            return
        }
        Terminal.print(HistoryText(colors: Terminal.colorsEnabled()).runs(runs), terminator: "")
    }
}

/// Store errors end the command with the message, never a stack trace: exit status 2 for a
/// question asked wrong (a name two files share), 3 for storage.
func storeCall<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as HistoryError {
        Terminal.error(error.description)
        throw ExitCode(error.isUsage ? ExitStatus.usage : ExitStatus.internalError)
    }
}

/// Says why a listing is empty: an unknown collection (exit 2, with the known ones), or no runs yet
/// (on standard output, exit 0; with `fatal`, on standard error, exit 2: `show` has nothing to show).
func explainNoRuns(
    _ store: any RunHistory, collection: String?, environment: String?, window: String? = nil, completeOnly: Bool = false, fatal: Bool = false
) throws {
    func say(_ text: String) throws {
        guard fatal else { return Terminal.print(text) }
        Terminal.error(text)
        throw ExitCode(ExitStatus.usage)
    }
    if let collection, try storeCall({ try store.runs(RunFilter(collection: collection, last: 1)) }).isEmpty {
        let known = try storeCall { try store.collections() }
        let names = Array(Set(known.map(\.name))).sorted()
        // Names were written by collections, which anyone may have committed: escaped.
        let list = known.isEmpty ? "none yet" : known.map { TerminalText.escape("\($0.name) (\($0.path))") }.joined(separator: ", ")
        let hint = nearestName(to: collection, among: names).map { "; did you mean '\(TerminalText.escape($0))'?" } ?? ""
        Terminal.error("no runs of '\(TerminalText.escape(collection))' in \(store.location)\(hint) (recorded collections: \(list))")
        throw ExitCode(ExitStatus.usage)
    }
    let runs = completeOnly ? "no complete runs" : "no runs"
    var what = collection.map { "\(runs) of '\(TerminalText.escape($0))'" } ?? runs
    if let environment { what += " in environment '\(TerminalText.escape(environment))'" }
    if let window {
        // Runs older than the window: how many, the latest, and a window that holds it.
        let older = try storeCall { try store.runs(RunFilter(collection: collection, environment: environment)) }
        if let latest = older.map(\.started).max() {
            let days = max(1, Int((Date().timeIntervalSince(latest) / 86_400).rounded(.up)))
            let count = older.count == 1 ? "1 older run is" : "\(older.count) older runs are"
            try say(
                "\(what) in \(window) in \(store.location); \(count) recorded, the latest started \(HistoryText.time(latest)) "
                    + "(widen the window: --since \(days)d, or --last \(min(older.count, 100)))")
            return
        }
    }
    if completeOnly, !(try storeCall({ try store.runs(RunFilter(collection: collection, environment: environment, last: 1)) }).isEmpty) {
        try say("\(what) recorded in \(store.location): the runs recorded were interrupted (incomplete), and diff compares complete runs")
        return
    }
    try say("\(what) recorded in \(store.location)")
}

/// `sonde history export`: runs as JSON lines, oldest first, each a whole `sonde.run/1`
/// document (requests and checks, masked as recorded), for `sonde history import`.
struct HistoryExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write recorded runs as JSON lines (one sonde.run/1 document each, oldest first) to standard output.",
        discussion: "Exit status: 0 written (none, when nothing matches); 2 an unknown collection, or bad usage; 3 the history cannot be read."
    )

    @OptionGroup var selection: RunSelection

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let store = try database.openExisting()
        let listed = try selection.runs(in: store)
        for summary in listed.reversed() {
            guard let run = try storeCall({ try store.run(id: summary.id) }) else { continue }
            Terminal.print(HistoryJSON.run(run).jsonText)
        }
    }
}

/// Which runs `export` and `push` move: a collection, an environment, a window.
struct RunSelection: ParsableArguments {
    @Argument(help: "A collection's name, or the file it was run from (default: every collection).")
    var collection: String?

    @Option(help: "Only runs in this environment.")
    var env: String?

    @Option(help: "Only runs started in this window back from now (e.g. 30d, 12h, 2w).")
    var since: Since?

    /// The runs selected, newest first, without their requests; an unknown collection is said
    /// (exit 2), as `history` says it.
    func runs(in store: any RunHistory) throws -> [RunRecord] {
        let listed = try storeCall { try store.runs(RunFilter(collection: collection, environment: env, since: since?.date)) }
        if listed.isEmpty, collection != nil {
            try explainNoRuns(store, collection: collection, environment: env, fatal: true)
        }
        return listed
    }
}

/// `sonde history import FILE...`: runs written by `export`, into the history; a run whose
/// identity (UUID) the history has is left as it is, so importing twice changes nothing.
struct HistoryImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Record runs from JSON lines that `sonde history export` wrote; runs already in the history (by their UUID) are skipped.",
        discussion: "Every line is read before anything is recorded. Exit status: 0 imported; 2 a file cannot be read or a line is not a sonde.run/1 document (nothing is recorded); 3 the history cannot be written."
    )

    @Argument(help: "Files of JSON lines (- for standard input).")
    var files: [String]

    @OptionGroup var database: DatabaseOption

    func run() throws {
        var runs: [RunRecord] = []
        var seen = Set<String>()
        for file in files {
            var isFolder: ObjCBool = false
            let data: Data?
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else if !FileManager.default.fileExists(atPath: file, isDirectory: &isFolder) || isFolder.boolValue {
                Terminal.error("\(TerminalText.escape(file)): no such file; nothing was imported")
                throw ExitCode(ExitStatus.usage)
            } else {
                data = FileManager.default.contents(atPath: file)
            }
            guard let data, let text = String(data: data, encoding: .utf8) else {
                Terminal.error("\(TerminalText.escape(file)): cannot be read as UTF-8 text; nothing was imported")
                throw ExitCode(ExitStatus.usage)
            }
            // Lines end with LF or CR LF.
            for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let line = line.hasSuffix("\r") ? line.dropLast() : line
                guard !line.isBlank else { continue }
                func refuse(_ problem: String) throws -> Never {
                    Terminal.error("\(TerminalText.escape(file)):\(index + 1): \(TerminalText.escape(problem)); nothing was imported")
                    throw ExitCode(ExitStatus.usage)
                }
                let document: JSONValue
                do {
                    document = try JSONValue.parse(String(line))
                } catch {
                    try refuse("\(error)")
                }
                if let problem = HistoryJSON.importProblem(document) { try refuse(problem) }
                do {
                    var run = try HistoryJSON.readRunDocument(document)
                    // One identity, however it is written.
                    run.uuid = run.uuid?.lowercased()
                    // The same run twice in what is imported is imported once.
                    guard seen.insert(run.uuid ?? "").inserted else { continue }
                    runs.append(run)
                } catch {
                    try refuse("\(error)")
                }
            }
        }
        let location = try database.location()
        let store = try storeCall { try location.open(access: .readWrite) }
        var tally = ImportTally()
        for run in runs { try tally.record(run, into: store, verb: "imported") }
        store.close()
        Terminal.print("imported \(tally.counted) into \(TerminalText.escape(store.location))\(tally.rest)")
    }
}

/// What `import` and `push` did with each run, said in one line.
struct ImportTally {
    var imported = 0, replaced = 0, present = 0, pruned = 0

    /// Records a run; a storage error says how far it got, then ends the command (exit 3).
    mutating func record(_ run: RunRecord, into store: any RunHistory, verb: String) throws {
        do {
            switch try store.importRun(run) {
            case .imported: imported += 1
            case .replaced: replaced += 1
            case .present: present += 1
            case .pruned: pruned += 1
            }
        } catch {
            Terminal.error(error.description)
            if imported + replaced + present + pruned > 0 { Terminal.error("\(verb) \(counted) before that\(rest)") }
            throw ExitCode(error.isUsage ? ExitStatus.usage : ExitStatus.internalError)
        }
    }

    /// `3 runs`.
    var counted: String {
        let runs = imported + replaced
        return "\(runs) run\(runs == 1 ? "" : "s")"
    }

    /// What else happened: `; 2 already there (by UUID); …`.
    var rest: String {
        var parts: [String] = []
        if replaced > 0 { parts.append("\(replaced) replacing an incomplete copy") }
        if present > 0 { parts.append("\(present) already there (by UUID)") }
        if pruned > 0 { parts.append("\(pruned) pruned there before, not recorded again (the trend counts them)") }
        return parts.map { "; " + $0 }.joined()
    }
}

/// `sonde history push --to URL`: the runs of this history (a CI job's file, kept as an
/// artifact) into another (the team's server), as `export | import` would, without a file
/// between: a run the target has already (by UUID) is left as it is, so pushing twice
/// changes nothing.
struct HistoryPushCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Record the runs of this history (--db) into another (--to), skipping those it has (by UUID).",
        discussion: """
            sonde history push --to postgres://ci@db.example/sonde uploads a CI job's .sonde/history.sqlite to the team's server. \
            Exit status: 0 pushed (none, when nothing matches); 2 an unknown collection, a target that cannot be reached, or bad usage; 3 a history cannot be read or written.
            """
    )

    @OptionGroup var selection: RunSelection

    @Option(name: .customLong("to"), help: ArgumentHelp("The history to record into: postgres://USER@HOST:PORT/DB, a file's path, or sqlite:PATH.", valueName: "url|path"))
    var target: String

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let targetLocation = try storeCall { try HistoryLocation(parsing: target, option: "--to") }
        // (SONDE_DB may name the team's server, which --to names too: then the file to push
        // must be given with --db.)
        if try targetLocation.isSame(as: database.location()) {
            Terminal.error(
                "--to names the history push reads from (--db, or SONDE_DB: \(TerminalText.escape(targetLocation.description))); give the history to push with --db (such as --db .sonde/history.sqlite)")
            throw ExitCode(ExitStatus.usage)
        }
        let source = try database.openExisting()
        let listed = try selection.runs(in: source)
        let destination = try storeCall { try targetLocation.open(access: .readWrite) }
        // (One server named by two URLs.)
        if let a = source as? PostgresHistory, let b = destination as? PostgresHistory, a.isSameHistory(as: b) {
            Terminal.error(
                "--to names the history push reads from (--db, or SONDE_DB: \(TerminalText.escape(source.location))); give the history to push with --db (such as --db .sonde/history.sqlite)")
            throw ExitCode(ExitStatus.usage)
        }
        var tally = ImportTally()
        for summary in listed.reversed() {
            // A run the target has, finished, is not read whole from the source (a push
            // repeated after every job would read the whole history each time).
            if let uuid = summary.uuid, let known = try storeCall({ try destination.runID(uuid: uuid) }),
                try storeCall({ try !destination.isIncomplete(run: known) })
            {
                tally.present += 1
                continue
            }
            guard let run = try storeCall({ try source.run(id: summary.id) }) else { continue }
            try tally.record(run, into: destination, verb: "pushed")
        }
        destination.close()
        Terminal.print("pushed \(tally.counted) from \(TerminalText.escape(source.location)) to \(TerminalText.escape(destination.location))\(tally.rest)")
    }
}

/// `sonde history prune --older-than 90d`: removes old runs, with their requests and checks;
/// the trend rollups stay, so `trend` and the HTML page still count those hours.
struct HistoryPruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove runs older than a duration (with their requests and checks); trends keep counting their hours.",
        discussion: """
            Runs are removed by the hour: --older-than 90d removes those that started before the hour 90 days ago falls in. \
            sonde trend and sonde report --html read those hours from the rollups the history keeps; diff, show and export no longer find the runs. \
            Exit status: 0 pruned (or nothing to prune); 2 an unknown collection, or bad usage; 3 the history cannot be written.
            """
    )

    @Argument(help: "A collection's name, or the file it was run from (default: every collection).")
    var collection: String?

    @Option(help: "Only runs in this environment.")
    var env: String?

    @Option(
        name: .customLong("older-than"), help: ArgumentHelp("Remove runs that started this long ago or more: 90d, 12w, 36h.", valueName: "duration"),
        transform: Since.age)
    var olderThan: Since

    @Flag(name: .customLong("dry-run"), help: "Say how many runs would go, and remove none.")
    var dryRun = false

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let cutoff = olderThan.date
        let limit = RequestRollup.start(ofHour: RequestRollup.hour(of: cutoff))
        // A history that is not there (a mistyped --db) is said, never created.
        let existing = try database.openExisting()
        let store = dryRun ? existing : try storeCall {
            existing.close()
            return try database.location().open(access: .readWrite)
        }
        defer { store.close() }
        let filter = RunFilter(collection: collection, environment: env)
        if collection != nil, try storeCall({ try store.runs(RunFilter(collection: collection, environment: env, last: 1)) }).isEmpty {
            try explainNoRuns(store, collection: collection, environment: env, fatal: true)
        }
        let when = HistoryText.time(limit)
        if dryRun {
            let count = try storeCall { try store.runs(filter) }.filter { $0.started < limit && $0.finished != nil }.count
            Terminal.print("would remove \(count) run\(count == 1 ? "" : "s") started before \(when) from \(TerminalText.escape(store.location)) (--dry-run: nothing removed)")
            return
        }
        let removed = try storeCall { try store.prune(startedBefore: cutoff, filter) }
        Terminal.print(
            "removed \(removed) run\(removed == 1 ? "" : "s") started before \(when) from \(TerminalText.escape(store.location))"
                + (removed > 0 ? "; trend and report --html keep counting their hours" : ""))
    }
}
