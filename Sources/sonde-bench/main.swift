// sonde-bench: prints Sonde's speed figures. Run it with `make bench` (a release build).
// Not a test: figures vary by machine; read them, compare them, quote them.
//
//   sonde-bench [parse] [runner] [callgrind] [history] [team]     (default: all sections)
import Foundation

let sections = CommandLine.arguments.dropFirst()
func wanted(_ name: String) -> Bool { sections.isEmpty || sections.contains(name) }

/// The release `sonde` beside this executable.
let sonde = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("sonde")
guard FileManager.default.isExecutableFile(atPath: sonde.path) else {
    FileHandle.standardError.write(Data("sonde-bench: no sonde at \(sonde.path); build it first (make bench does)\n".utf8))
    exit(2)
}

if wanted("parse") { try parseBench() }
if wanted("runner") { try runnerBench(tools: sonde.deletingLastPathComponent()) }
if wanted("callgrind") { try callgrindBench(tools: sonde.deletingLastPathComponent()) }
if wanted("history") { try historyBench(sonde: sonde) }
if wanted("team") { try teamBench(sonde: sonde) }
