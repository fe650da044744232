import ArgumentParser
import Foundation
import SondeCore
import SondeReport

/// `sonde jsonpath`: try a JSONPath on a document, the way `jq` is used to debug one.
struct JSONPathCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jsonpath",
        abstract: "Print the nodes an RFC 9535 JSONPath selects in a JSON document.",
        discussion: """
            Reads FILE, or standard input when FILE is absent or '-'. Prints the selected \
            values as a JSON array, or with --paths one `normalized-path<TAB>json` line per node.
            Example: curl -s URL | sonde jsonpath '$.items[?@.status == "True"].metadata.name'
            Exit status: 0 printed what was selected (perhaps nothing); 1 the query hit a limit while evaluating; \
            2 a malformed JSONPath or document, or a file that cannot be read.
            """
    )

    @Argument(help: "The JSONPath expression, e.g. '$.items[*].metadata.name'.")
    var expression: String

    @Argument(help: "The JSON file to read (default: standard input).")
    var file: String?

    @Flag(help: "Print each node's normalized path and value, tab-separated, one per line.")
    var paths = false

    func run() throws {
        let path: JSONPath
        do {
            path = try JSONPath(expression)
        } catch {
            Terminal.error("""
                invalid JSONPath at column \(error.column): \(error.message)
                  \(expression)
                  \(String(repeating: " ", count: max(0, error.column - 1)))^
                """)
            throw ExitCode(ExitStatus.usage)
        }
        let source = file ?? "-"
        let bytes: [UInt8]
        if source == "-" {
            bytes = [UInt8](FileHandle.standardInput.readDataToEndOfFile())
        } else {
            guard let data = FileManager.default.contents(atPath: source) else {
                Terminal.error("cannot read \(source): no such file or not readable")
                throw ExitCode(ExitStatus.usage)
            }
            bytes = [UInt8](data)
        }
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            Terminal.error("\(source == "-" ? "standard input" : source):\(error.line):\(error.column): \(error.message)")
            throw ExitCode(ExitStatus.usage)
        }
        do {
            if paths {
                // Written in pieces: the paths of a million nodes spelled out at once could take gigabytes.
                var out = ""
                for node in try path.nodes(in: document) {
                    out += TerminalText.escape(node.path) + "\t" + node.value.jsonText + "\n"
                    if out.utf8.count >= 1 << 16 {
                        Terminal.print(out, terminator: "")
                        out = ""
                    }
                }
                Terminal.print(out, terminator: "")
            } else {
                Terminal.print(JSONValue.array(try path.values(in: document)).prettyText())
            }
        } catch {
            Terminal.error("\(expression): \(error.message)")
            throw ExitCode(ExitStatus.failed)
        }
    }
}
