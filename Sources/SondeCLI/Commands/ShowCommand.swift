import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeStore

/// `sonde show [RUN]`: a recorded run as the terminal showed it, or as `sonde.run/1` JSON.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a recorded run as the terminal showed it: every request, failures with expected, actual and file:line:column.",
        discussion: """
            Without a run: the latest run (of --collection, in --env, when given). \
            Exit status: 0 the run was shown; 2 no such run, or bad usage; 3 the history cannot be read.
            """
    )

    @Argument(help: ArgumentHelp("A run id, as `sonde history` lists them (#12 or 12). Default: the latest run.", valueName: "run"))
    var id: String?

    @Option(help: "The latest run of this collection (its name, or the file it was run from).")
    var collection: String?

    @Option(help: "The latest run in this environment.")
    var env: String?

    @Flag(help: "Print JSON (format sonde.run/1).")
    var json = false

    @OptionGroup var database: DatabaseOption

    func validate() throws {
        if let id, DiffCommand.runID(id) == nil {
            throw ValidationError("'\(id)' is not a run id; `sonde history` lists them (e.g. 12 or #12)")
        }
        if id != nil, collection != nil || env != nil {
            throw ValidationError("give a run id, or --collection/--env to pick the latest run, not both")
        }
    }

    func run() throws {
        let store = try database.openExisting()
        let record: RunRecord
        if let id = id.flatMap(DiffCommand.runID) {
            guard let found = try storeCall({ try store.run(id: id) }) else {
                Terminal.error("no run #\(id) in \(store.location); `sonde history` lists the runs")
                throw ExitCode(ExitStatus.usage)
            }
            record = found
        } else {
            guard let latest = try storeCall({ try store.runs(RunFilter(collection: collection, environment: env, last: 1)) }).first,
                let found = try storeCall({ try store.run(id: latest.id) })
            else {
                try explainNoRuns(store, collection: collection, environment: env, fatal: true)
                return
            }
            record = found
        }
        if json {
            Terminal.print(HistoryJSON.run(record).prettyText())
            return
        }
        let report = TerminalReport(colors: Terminal.colorsEnabled())
        Terminal.print(report.recordedRun(record), terminator: "")
    }
}
