import Foundation

/// Exit codes, as DESIGN.md fixes them.
enum ExitStatus {
    static let passed: Int32 = 0
    static let failed: Int32 = 1
    static let usage: Int32 = 2
    static let internalError: Int32 = 3
}

/// The one place that writes to the terminal.
enum Terminal {
    static func print(_ text: String, terminator: String = "\n") {
        write(text + terminator, to: STDOUT_FILENO)
    }

    static func error(_ text: String) {
        write("error: " + text + "\n", to: STDERR_FILENO)
    }

    /// Something that may be a problem later, on standard error.
    static func warning(_ text: String) {
        write("warning: " + text + "\n", to: STDERR_FILENO)
    }

    /// Something worth knowing that is not a problem, on standard error.
    static func note(_ text: String) {
        write("note: " + text + "\n", to: STDERR_FILENO)
    }

    /// Writes all of `text`, or as much as the other end takes: a terminal that was closed
    /// (EIO after a hang-up) or a pipe whose reader left (EPIPE) loses the rest, and sonde
    /// goes on to end cleanly. (FileHandle.write traps on such an error.)
    static func write(_ text: String, to descriptor: Int32) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                return
            }
        }
    }

    static var stdoutIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) != 0 }

    /// Colors only on a terminal, and never when NO_COLOR is set (no-color.org).
    static func colorsEnabled(forStandardError: Bool = false) -> Bool {
        if let noColor = ProcessInfo.processInfo.environment["NO_COLOR"], !noColor.isEmpty { return false }
        return forStandardError ? stderrIsTerminal : stdoutIsTerminal
    }
}
