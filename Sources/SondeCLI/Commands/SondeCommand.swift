import ArgumentParser
import Foundation
import SondeHTTP

/// `sonde`: runs declarative HTTP request collections and records every run.
public struct SondeCommand: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "sonde",
        abstract: "Run declarative HTTP request collections, record every run, compare runs.",
        version: "sonde \(version) (\(CurlTransport.version))",
        subcommands: [
            RunCommand.self, ValidateCommand.self, HistoryCommand.self, ShowCommand.self, DiffCommand.self, TrendCommand.self, ReportCommand.self, JSONPathCommand.self,
            DemoCommand.self,
        ]
    )

    public init() {}

    /// Parses and runs a command, with DESIGN.md's exit codes: bad usage exits 2, not
    /// swift-argument-parser's 64 (EX_USAGE).
    public static func runMain() -> Never {
        // A reader that leaves (`sonde history | head -1`) makes writes fail instead of
        // killing sonde, which then ends as it always does, closing the history cleanly.
        // `sonde run` and `demo` treat it as an interruption (SessionShell).
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(0)
        } catch {
            if exitCode(for: error) == .validationFailure {
                Terminal.write(fullMessage(for: error) + "\n", to: STDERR_FILENO)
                Foundation.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}
