import ArgumentParser
import SondeHTTP

/// `sonde`: runs declarative HTTP request collections and records every run.
public struct SondeCommand: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "sonde",
        abstract: "Run declarative HTTP request collections, record every run, compare runs.",
        version: "sonde \(version) (\(CurlTransport.version))",
        subcommands: [
            RunCommand.self, ValidateCommand.self, HistoryCommand.self, DiffCommand.self, TrendCommand.self, JSONPathCommand.self, DemoCommand.self,
        ]
    )

    public init() {}
}
