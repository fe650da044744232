import ArgumentParser
import Foundation
import SondeHTTP
import SondeMock
import SondeSpec
import SondeEngine
import SondeStore
import SondeCore

/// `sonde demo`: the bundled KubeSphere-like API and the bundled collection, on loopback.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start the bundled mock API on a free loopback port and run collections/kubesphere.yaml on it."
    )

    @Option(help: "The collection to run against the mock.")
    var collection = "collections/kubesphere.yaml"

    @OptionGroup var recording: RecordingOptions

    @OptionGroup var reports: ReportOptions

    /// The demo's own words go where the run's lines go: to standard error when a report
    /// (`--report tap`) has standard output to itself.
    private func say(_ text: String) {
        if reports.writesToStandardOutput {
            Terminal.write(text + "\n", to: STDERR_FILENO)
        } else {
            Terminal.print(text)
        }
    }

    func run() throws {
        let server = try MockServer.startBlocking()
        defer { server.stop() }
        say("mock KubeSphere API listening on \(server.baseURL)\n")
        let loader = CollectionLoader(options: VariableOptions(assignments: ["base_url=\(server.baseURL)"]))
        let loaded: LoadedCollection
        do {
            loaded = try loader.load(file: collection)
        } catch {
            Terminal.printDiagnostics(error.diagnostics, renderer: .init(colors: Terminal.colorsEnabled(forStandardError: true)))
            throw ExitCode(ExitStatus.usage)
        }
        let interruption = Interruption()
        let history = try recording.openHistory()
        let options = RunSession.Options(
            keepRecords: !reports.targets.isEmpty, compare: history != nil ? RunDiff.Thresholds() : nil, toolVersion: SondeCommand.version)
        let status = try SessionShell.run(
            [PlannedCollection(loaded)], options: options, transport: TransportOptions(), history: history, verbosity: 0, reports: reports,
            interruption: interruption)
        // Interrupted (128 and a signal's number): nothing more to say.
        if status >= 128 { throw ExitCode(status) }
        say("""
            Try next:
              sonde run \(collection) --var base_url=http://NODE_IP:NODE_PORT   against a real cluster
              sonde run \(collection) --env staging                             with environments/staging.yaml
              sonde validate collections                                                      check collections, send nothing
              sonde history; sonde diff; sonde trend                                          what was recorded, what changed, how healthy
              sonde report --html health.html                                                 a page of charts of the history
              curl -s URL | sonde jsonpath '$.items[*].metadata.name'                         try a JSONPath
            """)
        throw ExitCode(status)
    }
}
