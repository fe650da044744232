import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeStore

/// `sonde trend`: how healthy a collection has been over many runs.
struct TrendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trend",
        abstract: "Per request: success rate, p50/p95/max latency and a latency sparkline; per collection: pass rate over time.",
        discussion: "The window is the last 30 days unless --last or --since says otherwise."
    )

    @Argument(help: "A collection's name, or the file it was run from (default: every collection).")
    var collection: String?

    @Option(help: "Only runs in this environment.")
    var env: String?

    @Option(help: "Only the last N runs of each collection.")
    var last: Int?

    @Option(help: "Only runs started in this window back from now: 7d, 12h, 2w.")
    var since: Since?

    @Flag(help: "Print JSON (format sonde.trend/1).")
    var json = false

    @OptionGroup var database: DatabaseOption

    func validate() throws {
        if let last, last < 1 { throw ValidationError("--last takes a number from 1 up") }
    }

    func run() throws {
        let store = try database.openExisting()
        let window = since?.date ?? (last == nil ? Since(argument: "30d")?.date : nil)
        let trends = try storeCall { try store.trends(RunFilter(collection: collection, environment: env, since: window, last: last)) }
        if json {
            Terminal.print(HistoryJSON.trends(trends).prettyText())
            return
        }
        if trends.allSatisfy({ $0.runs.isEmpty }) {
            try explainNoRuns(store, collection: collection, environment: env)
            return
        }
        let text = HistoryText(colors: Terminal.colorsEnabled())
        Terminal.print(trends.filter { !$0.runs.isEmpty }.map(text.trend).joined(separator: "\n"), terminator: "")
    }
}
