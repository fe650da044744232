import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeStore

/// `sonde history`: recorded runs, newest first.
struct HistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "List recorded runs, newest first: id, time, environment, passed/failed/errors/skipped, duration."
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

/// Says why a listing is empty: an unknown collection (exit 2, with the known ones), or no runs yet.
func explainNoRuns(_ store: any RunHistory, collection: String?, environment: String?, window: String? = nil, completeOnly: Bool = false) throws {
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
    if let window, !(try storeCall({ try store.runs(RunFilter(collection: collection, environment: environment, last: 1)) }).isEmpty) {
        // There are runs, older than the window.
        Terminal.print("\(what) in \(window) in \(store.location) (older ones are recorded: widen the window with --since, or use --last)")
        return
    }
    if completeOnly, !(try storeCall({ try store.runs(RunFilter(collection: collection, environment: environment, last: 1)) }).isEmpty) {
        Terminal.print("\(what) recorded in \(store.location): the runs recorded were interrupted (incomplete), and diff compares complete runs")
        return
    }
    Terminal.print("\(what) recorded in \(store.location)")
}
