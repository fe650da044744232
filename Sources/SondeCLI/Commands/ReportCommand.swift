import ArgumentParser
import Foundation
import SondeCore
import SondeReport
import SondeEngine
import SondeStore

/// `sonde report --html FILE`: the page a team opens to see how healthy the API has been.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write one self-contained HTML page of the recorded history: pass rate over time, latency per request, outcomes, the latest diff.",
        discussion: """
            The window is the last 30 days unless --since or --last says otherwise.
            Exit status: 0 the page was written; 2 an unknown collection, a missing folder, or bad usage; \
            3 the history cannot be read or the page cannot be written.
            """
    )

    @Option(help: ArgumentHelp("Where to write the page.", valueName: "file"))
    var html: String

    @OptionGroup var window: HistoryWindow

    @OptionGroup var database: DatabaseOption

    func validate() throws {
        try OutputFile.checkFolder(of: html, argument: "--html \(html)")
    }

    func run() throws {
        let store = try database.openExisting()
        let trends = try storeCall { try store.trends(window.filter) }
        if trends.allSatisfy(\.isEmpty) {
            // An unknown collection exits 2 here; an empty window still gets its (empty) page.
            try explainNoRuns(store, collection: window.collection, environment: window.env, window: window.described)
        }
        let diffs = try storeCall { try HistoryQueries(store).latestChanges(RunFilter(collection: window.collection, environment: window.env)).diffs }
        let page = HTMLReport.historyPage(trends, diffs: diffs, since: window.start)
        try OutputFile.write(page, to: html, what: "the page")
        let runs = trends.map(\.runCount).reduce(0, +)
        Terminal.print("wrote \(html): \(trends.filter { !$0.isEmpty }.count) collection(s), \(runs) run(s)")
    }
}
