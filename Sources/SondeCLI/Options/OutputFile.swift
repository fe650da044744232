import ArgumentParser
import Foundation
import SondeCore
import SondeReport

/// A file a command will write (a report, the curl commands): its folder must exist before
/// any work is done, so that a run is never lost for a typo in a path.
enum OutputFile {
    /// - Parameter argument: the option as the user wrote it (`--report junit:out/r.xml`).
    /// - Throws: `ValidationError` (exit 2) naming the option and the missing folder.
    static func checkFolder(of path: String, argument: String) throws {
        let shown = TerminalText.escape(argument)
        if path.isEmpty { throw ValidationError("\(shown): no file named") }
        var isFolder: ObjCBool = false
        if path.hasSuffix("/") || (FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue) {
            throw ValidationError("\(shown): that is a folder; name a file in it")
        }
        let folder = PathText.folder(of: path)
        if !folder.isEmpty {
            let exists = FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder)
            if !exists { throw ValidationError("\(shown): the folder \(TerminalText.escape(folder)) does not exist") }
            if !isFolder.boolValue { throw ValidationError("\(shown): \(TerminalText.escape(folder)) is a file, not a folder") }
        }
    }

    /// Writes `text` whole or not at all; a failure is an error naming what and where (exit 3).
    static func write(_ text: String, to path: String, what: String) throws {
        do {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            Terminal.error("cannot write \(what) to \(path): \(error.localizedDescription)")
            throw ExitCode(ExitStatus.internalError)
        }
    }
}
