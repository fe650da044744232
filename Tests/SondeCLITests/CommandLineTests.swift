import Foundation
import SondeTestSupport
import Testing

/// The `sonde` binary as a user runs it: arguments in, text and an exit status out.
struct Sonde {
    struct Result: Sendable {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The build's products folder holds the test bundle and the `sonde` executable side by side.
    static var executable: URL {
        var folder = Bundle.main.bundleURL
        if folder.pathExtension == "xctest" { folder.deleteLastPathComponent() }
        return folder.appendingPathComponent("sonde")
    }

    /// The database runs go to unless a test names its own (`--db` or SONDE_DB).
    static let scratchDatabase = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-tests-\(UUID().uuidString)/history.sqlite").path

    /// From async tests: the child process is waited for off the cooperative pool.
    static func runAsync(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], directory: URL? = nil, niced: Bool = false
    ) async throws -> Result {
        try await offPool { try run(arguments, stdin: stdin, environment: environment, directory: directory, niced: niced) }
    }

    /// Runs the binary from `directory` (default: the package's root). `niced`: below the
    /// other tests' processes (`nice -n 10`), for tests that start many at once, so that tests
    /// that time requests keep the CPU.
    static func run(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:], directory: URL? = nil, niced: Bool = false
    ) throws -> Result {
        let process = Process()
        process.executableURL = niced ? URL(fileURLWithPath: "/usr/bin/nice") : executable
        process.arguments = niced ? ["-n", "10", executable.path] + arguments : arguments
        process.currentDirectoryURL = directory ?? packageRoot
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        // Runs are recorded in a scratch database, never in the checkout's .sonde/.
        env["SONDE_DB"] = scratchDatabase
        // Where runs run is recorded: the same in every test, whichever machine or CI runs them.
        env["HOSTNAME"] = "test-host"
        env["USER"] = "tester"
        for marker in ["GITHUB_ACTIONS", "GITLAB_CI", "BUILDKITE", "JENKINS_URL"] { env[marker] = "" }
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try input.fileHandleForWriting.close()
        let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
        let stderrData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdoutData, as: UTF8.self), stderr: String(decoding: stderrData, as: UTF8.self))
    }
}

struct ValidateCommandTests {
    @Test func theBundledCollectionsAreValid() throws {
        let result = try Sonde.run(["validate", "collections"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("ok  collections/kubesphere.yaml: kubesphere-smoke, 2 requests, 1 capture, 9 expectations"))
    }

    /// A `--var` that no collection reads is most likely a typo: a warning with the nearest name;
    /// an undefined name says which `.env` was looked for.
    @Test func unreadVariablesAndTheDotEnvLookedForAreNamed() throws {
        let typo = try Sonde.run(["validate", "collections/kubesphere.yaml", "--var", "usrname=x", "--var", "username=y", "--var", "zzz=1"])
        #expect(typo.status == 0, "\(typo.stderr)")
        #expect(typo.stderr.contains("warning: --var usrname: the collection never reads 'usrname'; did you mean 'username'?"), "\(typo.stderr)")
        #expect(typo.stderr.contains("warning: --var zzz: the collection never reads 'zzz'\n"), "\(typo.stderr)")
        #expect(!typo.stderr.contains("--var username"), "a variable the collection reads is no warning")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-dotenv-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "name: x\nrequests:\n  - { name: a, url: \"http://h/{{ missing_token }}\" }\n".write(to: folder.appendingPathComponent("c.yaml"), atomically: true, encoding: .utf8)
        let none = try Sonde.run(["validate", "c.yaml"], directory: folder)
        #expect(none.status == 2 && none.stderr.contains("an environment file, .env (there is none), or --var"), "\(none.stderr)")
        try "OTHER=1\n".write(to: folder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        let other = try Sonde.run(["validate", folder.appendingPathComponent("c.yaml").path])
        #expect(other.stderr.contains("an environment file, \(folder.path)/.env (which does not set it), or --var"), "\(other.stderr)")
    }

    /// One-letter paths (Foundation's NSString path methods trapped on them), folders and empty
    /// names as output files: read, written, or refused before anything is sent.
    @Test func oneLetterPathsAndFoldersAsOutputFiles() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-one-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "name: a\nrequests:\n  - { name: x, url: \"http://127.0.0.1:1/\" }\n".write(to: folder.appendingPathComponent("a"), atomically: true, encoding: .utf8)
        #expect(try Sonde.run(["validate", "a"], directory: folder).status == 0)
        let run = try Sonde.run(["run", "a", "--no-save", "--report", "junit:b", "--curl", "c"], directory: folder)
        #expect(run.status == 1, "\(run.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("b").path) && FileManager.default.fileExists(atPath: folder.appendingPathComponent("c").path))
        for (arguments, message) in [
            (["run", "a", "--no-save", "--report", "html:."], "--report html:.: that is a folder; name a file in it"),
            (["run", "a", "--no-save", "--curl", ""], "--curl : no file named"),
            (["run", "a", "--no-save", "--curl", "a/x"], "--curl a/x: a is a file, not a folder"),
            (["report", "--html", "b/"], "--html b/: that is a folder; name a file in it"),
        ] {
            let refused = try Sonde.run(arguments, directory: folder)
            #expect(refused.status == 2 && refused.stderr.contains(message), "\(arguments): \(refused.stderr)")
        }
    }

    @Test func anInvalidCollectionExitsTwoWithEveryErrorAndASnippet() throws {
        let result = try Sonde.run(["validate", "Tests/SondeSpecTests/Fixtures/invalid/many_errors.yaml"])
        #expect(result.status == 2)
        #expect(result.stdout.contains("many_errors.yaml: 8 errors"))
        #expect(result.stderr.contains("""
            Tests/SondeSpecTests/Fixtures/invalid/many_errors.yaml:5:13: error: unknown method 'GTE' in request 'a'; did you mean 'GET'?
              |
            5 |     method: GTE
              |             ^^^
            """))
        #expect(result.stderr.components(separatedBy: ": error: ").count - 1 == 8)
    }

    @Test func aFolderIsSearchedAndEveryFileReported() throws {
        let result = try Sonde.run(["validate", "Tests/SondeSpecTests/Fixtures/invalid", "collections"])
        #expect(result.status == 2)
        #expect(result.stdout.contains("ok  collections/kubesphere.yaml"))
        #expect(result.stdout.contains("bad Tests/SondeSpecTests/Fixtures/invalid/unknown_key.yaml: 1 error"))
    }

    @Test func variablesFromTheCommandLineCount() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sonde-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("c.yaml")
        try "requests:\n  - name: r\n    url: \"{{ host }}/x\"\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try Sonde.run(["validate", file.path]).status == 2)
        #expect(try Sonde.run(["validate", file.path, "--var", "host=http://h"]).status == 0)
    }

    @Test func aMissingPathIsAnError() throws {
        let result = try Sonde.run(["validate", "no/such/file.yaml"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("no/such/file.yaml: no such file or folder"))
    }
}

struct JSONPathCommandTests {
    let body = #"{"items":[{"metadata":{"name":"scheduler"},"status":"True"},{"metadata":{"name":"etcd-0"},"status":"False"}]}"#

    @Test func printsTheSelectedNodesAsAJSONArray() throws {
        let result = try Sonde.run(["jsonpath", "$.items[?@.status == 'True'].metadata.name"], stdin: body)
        #expect(result.status == 0)
        #expect(result.stdout == "[\n  \"scheduler\"\n]\n")
    }

    @Test func printsPathsWhenAsked() throws {
        let result = try Sonde.run(["jsonpath", "--paths", "$..name"], stdin: body)
        #expect(result.stdout == "$['items'][0]['metadata']['name']\t\"scheduler\"\n$['items'][1]['metadata']['name']\t\"etcd-0\"\n")
    }

    @Test func anInvalidExpressionExitsTwoWithItsColumn() throws {
        let result = try Sonde.run(["jsonpath", "$.items[?@.status = 'True']"], stdin: body)
        #expect(result.status == 2)
        #expect(result.stderr.contains("invalid JSONPath at column 19: expected ',' or ']', found '='"))
        #expect(result.stderr.contains("  $.items[?@.status = 'True']\n                    ^"))
    }

    @Test func invalidJSONInputExitsTwoWithItsPosition() throws {
        let result = try Sonde.run(["jsonpath", "$"], stdin: "{\"a\": [1, 2,]}")
        #expect(result.status == 2)
        #expect(result.stderr.contains("standard input:1:13: unexpected character ']'"))
    }
}
