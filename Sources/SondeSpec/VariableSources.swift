import Foundation
import SondeCore

/// The variable sources beside the collection: an environment file, `.env`, and `--var`.
package struct VariableSources {
    let collectionFile: String
    let options: VariableOptions

    var folder: URL { URL(fileURLWithPath: collectionFile).deletingLastPathComponent() }

    /// The variables and secret names of the sources; `warnings` gets what was passed over
    /// (a line of `.env` that cannot be read).
    /// `errors` gets what cannot be used; what can is returned all the same, so that a bad
    /// source does not make every name of the others undefined on top.
    func load(warnings: inout [Diagnostic], errors diagnostics: inout [Diagnostic]) -> (
        variables: [VariableDefinition], secrets: [(name: String, location: SourceLocation)]
    ) {
        var variables: [VariableDefinition] = []
        var secrets: [(name: String, location: SourceLocation)] = []

        if let path = environmentFilePath() {
            do {
                let loaded = try environmentFile(path)
                variables += loaded.variables
                secrets += loaded.secrets
            } catch {
                diagnostics += error.diagnostics
            }
        }
        let dotEnv = folder.appendingPathComponent(".env").path
        if FileManager.default.fileExists(atPath: dotEnv) {
            do {
                let file = try Self.dotEnvFile(dotEnv)
                variables += file.variables
                warnings += file.warnings
            } catch {
                diagnostics += error.diagnostics
            }
        }
        for assignment in options.assignments {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                diagnostics.append(Diagnostic("--var '\(assignment)' must be written name=value", at: SourceLocation(file: "--var", line: 1, column: 1)))
                continue
            }
            let name = String(assignment[..<equals])
            let value = String(assignment[assignment.index(after: equals)...])
            let location = SourceLocation(file: "--var", line: 1, column: 1)
            guard Self.isVariableName(name) else {
                diagnostics.append(Diagnostic("--var \(name)=…: '\(name)' cannot be used in {{ }}: use letters, digits, '_' and '-', starting with a letter", at: location))
                continue
            }
            // A value is a template, as everywhere else: `\{{` writes braces.
            do {
                variables.append(VariableDefinition(name: name, value: .string(try Template(parsing: value)), source: .commandLine))
            } catch {
                diagnostics.append(Diagnostic("--var \(name)=…: \(error.message) (write \\{{ for literal braces)", at: location, quotesSource: false))
            }
        }
        var dataNames = Set<String>()
        for argument in options.dataFiles {
            // `name=path` (a name before the first `=` with no `/` in it), or a path alone for
            // the variable `data`.
            var name = "data", path = argument
            if let equals = argument.firstIndex(of: "="), !argument[..<equals].contains("/") {
                name = String(argument[..<equals])
                path = String(argument[argument.index(after: equals)...])
            }
            let location = SourceLocation(file: "--data", line: 1, column: 1)
            guard Self.isVariableName(name) else {
                diagnostics.append(Diagnostic("--data \(argument): '\(name)' cannot be used in {{ }}: use letters, digits, '_' and '-', starting with a letter", at: location))
                continue
            }
            guard dataNames.insert(name).inserted else {
                diagnostics.append(Diagnostic("--data \(argument): '\(name)' is given twice", at: location))
                continue
            }
            var rows: [JSONValue] = []
            do {
                rows = try DataFile.rows(ofFile: path)
            } catch {
                diagnostics += error.diagnostics.map { diagnostic in
                    var diagnostic = diagnostic
                    diagnostic.message = "--data \(argument): " + diagnostic.message
                    return diagnostic
                }
            }
            // Defined even when its file could not be read: its error is said, not an undefined name.
            variables.append(VariableDefinition(name: name, value: TemplateValue(.array(rows)), source: .commandLine, location: location))
        }
        return (variables, secrets)
    }

    /// The `.env` beside the collection, as a message names it: `collections/.env (there is none)`.
    var dotEnvDescription: String {
        let path = PathText.joining(PathText.folder(of: collectionFile), ".env")
        return FileManager.default.fileExists(atPath: self.folder.appendingPathComponent(".env").path) ? "\(path) (which does not set it)" : "\(path) (there is none)"
    }

    func environmentFilePath() -> String? {
        if let file = options.environmentFile { return file }
        guard let name = options.environmentName else { return nil }
        let environments = folder.appendingPathComponent("environments")
        for ext in ["yaml", "yml"] {
            let candidate = environments.appendingPathComponent("\(name).\(ext)").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return environments.appendingPathComponent("\(name).yaml").path
    }

    /// `environments/NAME.yaml`: a mapping of variables, or `{ vars: {…}, secrets: […] }`;
    /// in the first form, a `secrets` list names secrets too (it is not a variable).
    func environmentFile(_ path: String) throws(DiagnosticsError) -> (variables: [VariableDefinition], secrets: [(name: String, location: SourceLocation)]) {
        guard case .success(let data) = LocalFile.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            var message = "environment file not found"
            if options.environmentFile == nil, let name = options.environmentName {
                let available = availableEnvironments()
                message = "no environment '\(name)': \(path) does not exist"
                if let suggestion = nearestName(to: name, among: available) {
                    message += "; did you mean '\(suggestion)'?"
                } else if !available.isEmpty {
                    message += " (available: \(available.joined(separator: ", ")))"
                }
            }
            throw DiagnosticsError([Diagnostic(message, at: SourceLocation(file: path, line: 1, column: 1))])
        }
        let source = YAMLSource(file: path, text: text)
        guard let root = try source.compose() else { return ([], []) }
        let reader = SpecReader(source: source)
        var variables: [VariableDefinition] = []
        var secrets: [(name: String, location: SourceLocation)] = []
        func readSecrets(_ value: Node) {
            for item in reader.sequence(value, "secrets") ?? [] {
                if let name = reader.string(item, "a secret's name") { secrets.append((name, source.location(of: item))) }
            }
        }
        if case .mapping(let mapping) = root, mapping["vars"] != nil {
            for (key, _, value) in reader.keyed(root, EnvironmentFileKey.self, "the environment file") ?? [] {
                switch key {
                case .vars: variables = reader.variables(value, source: .environmentFile, "vars")
                case .secrets: readSecrets(value)
                }
            }
        } else if case .mapping(let mapping) = root, let list = mapping["secrets"], case .sequence = list {
            readSecrets(list)
            variables = reader.variables(.mapping(mapping.removing(key: "secrets")), source: .environmentFile, "the environment file")
        } else {
            variables = reader.variables(root, source: .environmentFile, "the environment file")
        }
        guard reader.diagnostics.isEmpty else { throw DiagnosticsError(reader.diagnostics) }
        return (variables, secrets)
    }

    func availableEnvironments() -> [String] {
        let environments = folder.appendingPathComponent("environments").path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: environments)) ?? []
        return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }
            .map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }.sorted()
    }

    /// A name usable in `{{ }}`: letters, digits, `_` and `-`, starting with a letter or `_`.
    static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCII, first.properties.isAlphabetic || first == "_" else { return false }
        return name != "env" && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
    }

    /// `.env`, where secrets are kept: `NAME=value` lines, read as dotenv tools read them.
    ///
    /// `#` starts a comment (after a blank, in an unquoted value); `export ` may lead;
    /// single quotes keep their text as it is (`\'` and `\\` aside), double quotes read
    /// `\n`, `\r`, `\t`, `\"`, `\\` and the like; a quoted value may span lines (a PEM key).
    /// A line that cannot be read is a warning that names its line and, when it has one,
    /// its name, never its value; the rest of the file is read.
    static func dotEnvFile(_ path: String) throws(DiagnosticsError) -> (variables: [VariableDefinition], warnings: [Diagnostic]) {
        guard case .success(let data) = LocalFile.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw DiagnosticsError([Diagnostic("cannot read .env (missing, unreadable or not UTF-8)", at: SourceLocation(file: path, line: 1, column: 1), quotesSource: false)])
        }
        return dotEnv(text: text, path: path)
    }

    /// The text of a `.env` file read as `dotEnvFile` reads it (`path` names it in warnings).
    package static func dotEnv(text: String, path: String) -> (variables: [VariableDefinition], warnings: [Diagnostic]) {
        var out: [VariableDefinition] = []
        var warnings: [Diagnostic] = []
        // CRLF is read as LF, as dotenv tools read it (a file saved on Windows).
        let scalars = Array(text.replacingOccurrences(of: "\r\n", with: "\n").unicodeScalars)
        var i = 0
        var line = 1
        func warn(_ message: String, at lineNumber: Int) {
            warnings.append(Diagnostic(message, at: SourceLocation(file: path, line: lineNumber, column: 1), severity: .warning, quotesSource: false))
        }
        /// Skips to the start of the next line.
        func skipLine() {
            while i < scalars.count, scalars[i] != "\n" { i += 1 }
            if i < scalars.count { i += 1; line += 1 }
        }
        func skipBlanks() { while i < scalars.count, scalars[i] == " " || scalars[i] == "\t" || scalars[i] == "\r" { i += 1 } }
        while i < scalars.count {
            let startLine = line
            skipBlanks()
            if i >= scalars.count { break }
            if scalars[i] == "\n" || scalars[i] == "#" { skipLine(); continue }
            // The name, after an optional `export `.
            var name = String.UnicodeScalarView()
            while i < scalars.count, scalars[i] != "=", scalars[i] != "\n" { name.append(scalars[i]); i += 1 }
            var key = String(name).trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("export ") { key = String(key.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            let validName = !key.isEmpty && key.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.-".unicodeScalars.contains($0)) }
            guard i < scalars.count, scalars[i] == "=", validName else {
                // The text of the line may be a value: it is never shown.
                warn("line \(startLine) of .env is not NAME=value; it was passed over", at: startLine)
                skipLine()
                continue
            }
            i += 1
            skipBlanks()
            var value = String.UnicodeScalarView()
            if i < scalars.count, scalars[i] == "'" || scalars[i] == "\"" {
                let quote = scalars[i]
                // Where reading goes on if the quote never closes: the next line.
                var restart = i
                while restart < scalars.count, scalars[restart] != "\n" { restart += 1 }
                restart = min(restart + 1, scalars.count)
                i += 1
                var closed = false
                while i < scalars.count {
                    let c = scalars[i]
                    if c == quote { closed = true; i += 1; break }
                    if c == "\n" { line += 1 }
                    if c == "\\", i + 1 < scalars.count {
                        let next = scalars[i + 1]
                        if quote == "'" {
                            if next == "'" || next == "\\" { value.append(next); i += 2; continue }
                        } else {
                            let escapes: [Unicode.Scalar: Unicode.Scalar] = [
                                "n": "\n", "r": "\r", "t": "\t", "\"": "\"", "'": "'", "\\": "\\", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}", "v": "\u{0B}",
                            ]
                            if let escaped = escapes[next] { value.append(escaped); i += 2; continue }
                        }
                    }
                    value.append(c)
                    i += 1
                }
                guard closed else {
                    warn("the value of '\(key)' (line \(startLine) of .env) has no closing \(quote == "'" ? "single" : "double") quote; it was passed over", at: startLine)
                    i = restart
                    line = startLine + 1
                    continue
                }
                skipBlanks()
                if i < scalars.count, scalars[i] != "\n", scalars[i] != "#" {
                    warn("'\(key)' (line \(startLine) of .env) has text after its closing quote; it was passed over", at: startLine)
                    skipLine()
                    continue
                }
                skipLine()
            } else {
                while i < scalars.count, scalars[i] != "\n" {
                    // ` #` starts a comment in an unquoted value.
                    if scalars[i] == "#", let last = value.last, last == " " || last == "\t" { break }
                    value.append(scalars[i])
                    i += 1
                }
                skipLine()
                value = String(value).trimmingCharacters(in: .whitespaces).unicodeScalars
            }
            let location = SourceLocation(file: path, line: startLine, column: 1)
            do {
                out.append(VariableDefinition(name: key, value: .string(try Template(parsing: String(value))), source: .dotEnv, location: location))
            } catch {
                warn("the value of '\(key)' (line \(startLine) of .env) is not a template: \(error.message) (write \\{{ for literal braces); it was passed over", at: startLine)
            }
        }
        return (out, warnings)
    }
}
