import ArgumentParser
import Foundation
import SondeHTTP
import SondeMock
import SondeRunner
import SondeSpec
import SondeEngine
import SondeStore
import SondeCore

/// `sonde demo`: the bundled KubeSphere-like API and the bundled collection, on loopback.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Start the bundled mock API on a free loopback port and run the KubeSphere smoke collection on it.",
        discussion: """
            The collection is collections/kubesphere.yaml when the folder has one (a clone of Sonde), else the copy \
            inside the binary, written to \(DemoCollection.path) so that you can read it, change it and run it again. \
            The run is recorded as every run is.
            """
    )

    @Option(help: ArgumentHelp("The collection to run against the mock (default: collections/kubesphere.yaml, else the built-in copy).", valueName: "file"))
    var collection: String?

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

    /// The collection to run: the one given, the clone's, or the built-in copy written out.
    func collectionFile() throws -> String {
        if let collection { return collection }
        let bundled = "collections/kubesphere.yaml"
        if FileManager.default.fileExists(atPath: bundled) { return bundled }
        let path = DemoCollection.path
        if (try? String(contentsOfFile: path, encoding: .utf8)) == nil {
            do {
                try FileManager.default.createDirectory(atPath: PathText.folder(of: path), withIntermediateDirectories: true)
                try Data(DemoCollection.text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch {
                Terminal.error("cannot write the demo collection to \(path): \(error.localizedDescription)")
                throw ExitCode(ExitStatus.internalError)
            }
        }
        return path
    }

    func run() throws {
        let collection = try collectionFile()
        // A --db this sonde cannot use is refused before the mock starts.
        if !recording.noSave { _ = try recording.database.location() }
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
        var options = RunSession.Options(
            keepRecords: !reports.targets.isEmpty, compare: history != nil ? RunDiff.Thresholds() : nil, toolVersion: SondeCommand.version)
        options.origin = RunOrigin.current
        let status = try SessionShell.run(
            [PlannedCollection(loaded)], options: options, transport: TransportOptions(), history: history, verbosity: 0, reports: reports,
            gatesOnComparison: false, interruption: interruption)
        // Interrupted (128 and a signal's number): nothing more to say.
        if status >= 128 { throw ExitCode(status) }
        say(tryNext(collection: collection, recorded: history != nil))
        throw ExitCode(status)
    }
}

extension DemoCommand {
    /// What to run next, each line runnable as printed (from the same folder, the mock gone).
    func tryNext(collection: String, recorded: Bool) -> String {
        let file = ShellWord.quoted(collection)
        // A server's password is never printed: the lines name the server without it, and
        // say where a password is read from.
        let given = recording.database.path
        let withoutPassword = given.map { PostgresURL.withoutPassword($0) }
        let db = withoutPassword.map { " --db " + ShellWord.quoted($0) } ?? ""
        var lines: [(String, String)] = []
        if recorded {
            lines += [
                ("sonde show\(db)", "this run again, from the history"),
                ("sonde demo\(db) && sonde diff\(db)", "run it again, then what changed between the two runs"),
                ("sonde history\(db); sonde trend\(db)", "what was recorded, how healthy it has been"),
                ("sonde report --html health.html\(db)", "a page of charts of the history"),
            ]
        }
        lines += [
            ("sonde validate \(file)", "check the collection, send nothing"),
            (#"echo '{"items": [{"metadata": {"name": "etcd-0"}}]}' | sonde jsonpath '$.items[*].metadata.name'"#, "try a JSONPath"),
        ]
        // Each line pasted whole into a shell runs: the description is a comment.
        let width = lines.map(\.0.count).filter { $0 <= 48 }.max() ?? 0
        let list = lines.map { "  " + $0.0 + String(repeating: " ", count: max(width - $0.0.count, 0) + 2) + "# " + $0.1 }.joined(separator: "\n")
        let password = given != withoutPassword ? "\n  (the password is not shown: give it in PGPASSWORD or ~/.pgpass)" : ""
        return "Try next:\n" + list + password + "\n\nAgainst a real KubeSphere, give the collection its address: sonde run \(file) --var base_url=http://NODE_IP:NODE_PORT"
    }
}
