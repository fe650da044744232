import Foundation
import SondeCore
import Yams

/// The variable sources beside the collection: an environment file, `.env`, and `--var`.
struct VariableSources {
    let collectionFile: String
    let options: VariableOptions

    var folder: URL { URL(fileURLWithPath: collectionFile).deletingLastPathComponent() }

    func load() throws(DiagnosticsError) -> (variables: [VariableDefinition], secrets: [String]) {
        var variables: [VariableDefinition] = []
        var secrets: [String] = []
        var diagnostics: [Diagnostic] = []

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
                variables += try Self.dotEnvFile(dotEnv)
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
            variables.append(VariableDefinition(name: name, value: .string(Template(literal: value)), source: .commandLine))
        }
        guard diagnostics.isEmpty else { throw DiagnosticsError(diagnostics) }
        return (variables, secrets)
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

    /// `environments/NAME.yaml`: a mapping of variables, or `{ vars: {…}, secrets: […] }`.
    func environmentFile(_ path: String) throws(DiagnosticsError) -> (variables: [VariableDefinition], secrets: [String]) {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
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
        var secrets: [String] = []
        if case .mapping(let mapping) = root, mapping["vars"] != nil {
            for (key, _, value) in reader.keyed(root, EnvironmentFileKey.self, "the environment file") ?? [] {
                switch key {
                case .vars: variables = reader.variables(value, source: .environmentFile, "vars")
                case .secrets: secrets = (reader.sequence(value, "secrets") ?? []).compactMap { reader.string($0, "a secret's name") }
                }
            }
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

    /// `.env`: `NAME=value` lines; `#` comments, `export `, and single or double quotes as shells write them.
    static func dotEnvFile(_ path: String) throws(DiagnosticsError) -> [VariableDefinition] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw DiagnosticsError([Diagnostic("cannot read .env", at: SourceLocation(file: path, line: 1, column: 1))])
        }
        var out: [VariableDefinition] = []
        var diagnostics: [Diagnostic] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.hasSuffix("\r") { line.removeLast() }
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            let location = SourceLocation(file: path, line: number + 1, column: 1)
            guard let equals = line.firstIndex(of: "=") else {
                diagnostics.append(Diagnostic("expected NAME=value", at: location, length: line.count))
                continue
            }
            let name = line[..<equals].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "\"" || first == "'", value.last == first {
                value = String(value.dropFirst().dropLast())
                if first == "\"" { value = value.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"") }
            } else if let hash = value.range(of: " #") {
                value = String(value[..<hash.lowerBound]).trimmingCharacters(in: .whitespaces)
            }
            out.append(VariableDefinition(name: name, value: .string(Template(literal: value)), source: .dotEnv, location: location))
        }
        guard diagnostics.isEmpty else { throw DiagnosticsError(diagnostics) }
        return out
    }
}
