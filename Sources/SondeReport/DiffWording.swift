import Foundation
import SondeCore

/// How a diff's changes are worded, the same in the terminal and in the HTML page.
extension RunDiff.Change {
    /// The change in a line; a shape change's paths follow as `ShapeChanges.lines`.
    var headline: String {
        switch self {
        case .outcome(let old, let new):
            return "outcome \(old.rawValue) → \(new.rawValue)"
        case .status(let old, let new):
            return "status \(old.map(String.init) ?? "none") → \(new.map(String.init) ?? "none")"
        case .latency(let old, let new):
            let (old, new) = (old.inMilliseconds, new.inMilliseconds)
            let percent = old > 0 ? String(format: " (%+.0f%%)", (new - old) / old * 100) : ""
            return "latency \(TerminalReport.milliseconds(old)) → \(TerminalReport.milliseconds(new))\(percent)"
        case .shape:
            return "JSON shape changed:"
        case .body(let old, let new):
            return "body changed (sha256 \(old?.prefix(12) ?? "none") → \(new?.prefix(12) ?? "none"))"
        }
    }
}

extension ShapeChanges {
    /// A line a path, what breaks readers first: removed (`-`), retyped (`~`), then added (`+`).
    var lines: [(text: String, worse: Bool)] {
        removed.map { ("- \($0)", true) } + retyped.map { ("~ \($0.path): \($0.old) → \($0.new)", true) } + added.map { ("+ \($0)", false) }
    }
}
