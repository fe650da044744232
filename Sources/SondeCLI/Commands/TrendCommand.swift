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

    @OptionGroup var window: HistoryWindow

    @Flag(help: "Print JSON (format sonde.trend/1).")
    var json = false

    @OptionGroup var database: DatabaseOption

    func run() throws {
        let store = try database.openExisting()
        let trends = try storeCall { try store.trends(window.filter) }
        if json {
            Terminal.print(HistoryJSON.trends(trends).prettyText())
            return
        }
        if trends.allSatisfy({ $0.runs.isEmpty }) {
            try explainNoRuns(
                store, collection: window.collection, environment: window.env,
                window: window.since.map { "the last \($0.written)" } ?? (window.last == nil ? "the last 30 days" : nil))
            return
        }
        let text = HistoryText(colors: Terminal.colorsEnabled())
        Terminal.print(trends.filter { !$0.runs.isEmpty }.map(text.trend).joined(separator: "\n"), terminator: "")
    }
}
