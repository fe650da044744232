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
        discussion: """
            The window is the last 30 days unless --last or --since says otherwise.
            Exit status: 0 the trends were shown (or there were no runs in the window: it says so); \
            2 an unknown collection, or bad usage; 3 the history cannot be read.
            """
    )

    @OptionGroup var window: HistoryWindow

    @Flag(help: "Print JSON (format sonde.trend/2).")
    var json = false

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let store = try database.openExisting()
        let trends = try storeCall { try store.trends(window.filter) }
        if json {
            Terminal.print(HistoryJSON.trends(trends).prettyText())
            return
        }
        if trends.allSatisfy(\.isEmpty) {
            try explainNoRuns(store, collection: window.collection, environment: window.env, window: window.described)
            return
        }
        let text = HistoryText(colors: Terminal.colorsEnabled())
        Terminal.print(trends.filter { !$0.isEmpty }.map(text.trend).joined(separator: "\n"), terminator: "")
    }
}
