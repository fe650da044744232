import ArgumentParser
import Foundation
import SondeCore
import SondeReport

/// One `--report kind[:FILE]`.
struct ReportTarget: ExpressibleByArgument {
    enum Kind: String, CaseIterable {
        case junit, json, tap, html
    }

    var kind: Kind
    /// Nil: standard output (tap and json only).
    var path: String?

    init?(argument: String) {
        let parts = argument.split(separator: ":", maxSplits: 1).map(String.init)
        guard let first = parts.first, let kind = Kind(rawValue: first) else { return nil }
        self.kind = kind
        path = parts.count == 2 && parts[1] != "-" && !parts[1].isEmpty ? parts[1] : nil
        if path == nil && (kind == .junit || kind == .html) { return nil }
    }

    static var defaultValueDescription: String { "junit:FILE, json[:FILE], tap[:FILE] or html:FILE" }

    func render(_ records: [RunRecord]) -> String {
        switch kind {
        case .junit: JUnitReport.render(records)
        case .json: HistoryJSON.report(records).prettyText() + "\n"
        case .tap: TAPReport.render(records)
        case .html: HTMLReport.runPage(records)
        }
    }
}

/// `--report`, for `sonde run` and `sonde demo`.
struct ReportOptions: ParsableArguments {
    @Option(
        name: .customLong("report"),
        help: ArgumentHelp(
            "Write a report after the run: junit:FILE, json[:FILE], tap[:FILE], html:FILE (repeatable).",
            discussion: "Without a FILE, tap and json go to standard output and the run's own lines to standard error."))
    var targets: [ReportTarget] = []

    var writesToStandardOutput: Bool { targets.contains { $0.path == nil } }

    func validate() throws {
        if targets.filter({ $0.path == nil }).count > 1 { throw ValidationError("only one --report can go to standard output") }
        for target in targets {
            guard let path = target.path else { continue }
            try OutputFile.checkFolder(of: path, argument: "--report \(target.kind.rawValue):\(path)")
        }
    }

    /// Writes every report; a file that cannot be written is an error naming it.
    func write(_ records: [RunRecord]) throws {
        for target in targets {
            let text = target.render(records)
            guard let path = target.path else {
                Terminal.print(text, terminator: "")
                continue
            }
            try OutputFile.write(text, to: path, what: "the \(target.kind.rawValue) report")
        }
    }
}
