import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeEngine
import SondeStore

/// `sonde diff`: what changed between two runs. Exit 1 when something got worse, so CI can gate on it.
struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Compare two recorded runs: outcome flips, status changes, latency, JSON shape and body changes.",
        discussion: """
            With no run: the last two complete runs of each collection (and environment). With one run: that run \
            against the previous complete run of its collection and environment. With two: the first against the second, \
            which must be of one collection (the same name from the same file) unless --across-collections.
            A collection is its file and its name: --collection takes either; a name two files share must be given as a file.
            Exit status: 0 nothing got worse; 1 something got worse (an outcome, a status from success to failure, \
            a slowdown beyond the threshold, JSON paths removed or retyped); 2 bad usage; 3 the history cannot be read.
            """
    )

    @Argument(help: "Run ids, as `sonde history` lists them (#12 or 12).")
    var runs: [String] = []

    @Option(help: "Only this collection (its name, or the file it was run from).")
    var collection: String?

    @Option(help: "Only runs in this environment.")
    var env: String?

    @Flag(help: "Print JSON (format sonde.diff/1).")
    var json = false

    @Flag(name: .customLong("across-collections"), help: "Compare two runs even when they are of different collections (another name or file).")
    var acrossCollections = false

    @OptionGroup var thresholds: DiffThresholdOptions

    @OptionGroup var database: DatabaseOption

    func validate() throws {
        if runs.count > 2 { throw ValidationError("diff compares two runs; it got \(runs.count)") }
        for run in runs where Self.runID(run) == nil {
            throw ValidationError("'\(run)' is not a run id; `sonde history` lists them (e.g. 12 or #12)")
        }
    }

    static func runID(_ text: String) -> Int64? { Int64(text.hasPrefix("#") ? String(text.dropFirst()) : text) }

    func run() throws {
        let store = try database.openExisting()
        let queries = HistoryQueries(store)
        var diffs: [RunDiff] = []
        var notes: [String] = []
        switch runs.count {
        case 0:
            let latest = try storeCall { try queries.latestChanges(RunFilter(collection: collection, environment: env), thresholds: thresholds.thresholds) }
            if latest.diffs.isEmpty && latest.single.isEmpty {
                try explainNoRuns(store, collection: collection, environment: env, completeOnly: true)
                return
            }
            diffs = latest.diffs
            for only in latest.single {
                notes.append("only one complete run of \(TerminalText.escape(only.collection))\(only.environment.map { " (\(TerminalText.escape($0)))" } ?? "") is recorded (#\(only.id)); nothing to compare")
            }
        default:
            let ids = runs.compactMap(Self.runID)
            let found = try ids.map { id in
                guard let run = try storeCall({ try store.run(id: id) }) else {
                    Terminal.error("no run #\(id) in \(store.location); `sonde history` lists the runs")
                    throw ExitCode(ExitStatus.usage)
                }
                return run
            }
            // Runs given by id and a collection or environment filter: each run must match it.
            if collection != nil || env != nil {
                let filter = RunFilter(collection: collection, environment: env)
                let matching = Set(try storeCall { try store.runs(filter) }.map(\.id))
                for run in found where !matching.contains(run.id) {
                    Terminal.error(
                        "run #\(run.id) is of '\(TerminalText.escape(run.collection))' (\(TerminalText.escape(run.collectionPath)))"
                            + "\(run.environment.map { ", environment \(TerminalText.escape($0))" } ?? ""), not of the collection or environment given")
                    throw ExitCode(ExitStatus.usage)
                }
            }
            if found.count == 2 {
                if !found[0].isSameCollection(as: found[1]) && !acrossCollections {
                    let describe = { (run: RunRecord) in "#\(run.id) is of '\(TerminalText.escape(run.collection))' (\(TerminalText.escape(run.collectionPath)))" }
                    Terminal.error(
                        "run \(describe(found[0])) and run \(describe(found[1])): they are of different collections; add --across-collections to compare them anyway")
                    throw ExitCode(ExitStatus.usage)
                }
                diffs.append(RunDiff(old: found[0], new: found[1], thresholds: thresholds.thresholds))
            } else {
                switch try storeCall({ try queries.comparison(of: found[0], thresholds: thresholds.thresholds) }) {
                case .diff(let diff): diffs.append(diff)
                case .firstRun: notes.append("run #\(found[0].id) is the first complete run of \(TerminalText.escape(found[0].collection)) recorded; nothing to compare it with")
                }
            }
        }
        if json {
            Terminal.print(HistoryJSON.diffs(diffs).prettyText())
        } else {
            let text = HistoryText(colors: Terminal.colorsEnabled())
            Terminal.print(diffs.map(text.diff).joined(separator: "\n"), terminator: "")
            for note in notes { Terminal.print(note) }
        }
        if diffs.contains(where: \.isWorse) { throw ExitCode(ExitStatus.failed) }
    }
}
