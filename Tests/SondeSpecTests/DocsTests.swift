import Foundation
import SondeCore
import SondeSpec
import Testing

/// docs/collections.md is the reference of the collection format: every key the loader
/// knows, every predicate operator, template filter and function is in it, and every
/// example in it that is a whole collection loads.
struct DocsTests {
    static let file = Paths.packageRoot.appendingPathComponent("docs/collections.md")

    static func docs() throws -> String {
        try String(contentsOf: file, encoding: .utf8)
    }

    /// The key enums of Keys.swift, each with the heading of its table under "Keys at a glance".
    static let keyGroups: [(heading: String, keys: [String])] = [
        ("Collection keys", CollectionKey.allCases.map(\.rawValue)),
        ("Include keys", IncludeKey.allCases.map(\.rawValue)),
        ("`for_each` keys", ForEachKey.allCases.map(\.rawValue)),
        ("`repeat` keys", RepeatKey.allCases.map(\.rawValue)),
        ("`defaults` keys", DefaultsKey.allCases.map(\.rawValue)),
        ("Request keys", RequestKey.allCases.map(\.rawValue)),
        ("`expect` keys", ExpectKey.allCases.map(\.rawValue)),
        ("Capture keys", CaptureKey.allCases.map(\.rawValue)),
        ("`retry` keys", RetryKey.allCases.map(\.rawValue)),
        ("`auth` keys", AuthKey.allCases.map(\.rawValue) + BasicAuthKey.allCases.map(\.rawValue) + OAuth2Key.allCases.map(\.rawValue)
            + AWSSigV4Key.allCases.map(\.rawValue) + NetrcKey.allCases.map(\.rawValue)),
        ("Multipart field keys", MultipartKey.allCases.map(\.rawValue)),
        ("`body` and `bytes` keys", BodyKey.allCases.map(\.rawValue) + BytesKey.allCases.map(\.rawValue)),
        ("`diff` keys", DiffKey.allCases.map(\.rawValue)),
        ("Environment file keys", EnvironmentFileKey.allCases.map(\.rawValue)),
    ]

    @Test func everyKeyIsDocumentedAndInKeysAtAGlance() throws {
        let docs = try Self.docs()
        let glance = Self.section("Keys at a glance", level: 2, in: docs)
        #expect(glance != nil, "docs/collections.md has no '## Keys at a glance' section")
        for group in Self.keyGroups {
            #expect(!group.keys.isEmpty)
            let table = glance.flatMap { Self.section(group.heading, level: 3, in: $0) }
            #expect(table != nil, "docs/collections.md has no '### \(group.heading)' table under 'Keys at a glance'")
            for key in group.keys {
                #expect(docs.contains("`\(key)`"), "docs/collections.md does not describe the key `\(key)` (\(group.heading))")
                if let table {
                    #expect(table.contains("| `\(key)` |"), "docs/collections.md: '### \(group.heading)' under 'Keys at a glance' has no row for `\(key)`")
                }
            }
        }
    }

    @Test func everyPredicateOperatorIsDocumented() throws {
        let docs = try Self.docs()
        #expect(ValuePredicate.Operator.allCases.count > 10)
        for op in ValuePredicate.Operator.allCases {
            #expect(docs.contains("`\(op.rawValue)`"), "docs/collections.md does not describe the predicate operator `\(op.rawValue)`")
        }
    }

    /// Filters are written `name` or `name(x)`, functions `name(…)`, in the Templates section.
    @Test func everyTemplateFilterAndFunctionIsDocumented() throws {
        let docs = try Self.docs()
        let templates = try #require(Self.section("Templates", level: 2, in: docs), "docs/collections.md has no '## Templates' section")
        #expect(TemplateFilter.allCases.count > 5 && TemplateFunction.allCases.count > 2)
        for filter in TemplateFilter.allCases {
            let name = filter.rawValue
            #expect(
                templates.contains("`\(name)`") || templates.contains("`\(name)("),
                "the Templates section of docs/collections.md does not describe the filter `\(name)`")
        }
        for function in TemplateFunction.allCases {
            #expect(templates.contains("`\(function.rawValue)("), "the Templates section of docs/collections.md does not describe the function `\(function.rawValue)(…)`")
        }
    }

    /// Examples with a top-level `requests:` are whole collections and must load as they
    /// are; the other blocks are fragments of one and are not loaded.
    @Test func everyWholeCollectionExampleLoads() throws {
        let examples = Self.yamlBlocks(in: try Self.docs()).filter { block in
            block.text.split(separator: "\n").contains { $0.hasPrefix("requests:") }
        }
        #expect(examples.count >= 5, "docs/collections.md has \(examples.count) whole-collection examples")
        let folder = try Paths.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // The examples stand in a collections/ folder beside the shared login and data of
        // examples/team, which they include as a team's repository would.
        let team = Paths.packageRoot.appendingPathComponent("examples/team")
        for shared in ["common", "data"] {
            try FileManager.default.copyItem(at: team.appendingPathComponent(shared), to: folder.appendingPathComponent(shared))
        }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("collections"), withIntermediateDirectories: true)
        // No process environment: an example reads `env.NAME` only with a `| default(…)`.
        let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))
        for example in examples {
            // An example headed by a file of examples/team (`# common/login.yaml`) is that
            // file, its opening comments aside: the docs show what the repository holds.
            let lines = example.text.split(separator: "\n", omittingEmptySubsequences: false)
            if let first = lines.first, first.hasPrefix("# "), case let path = String(first.dropFirst(2)),
                FileManager.default.fileExists(atPath: team.appendingPathComponent(path).path)
            {
                let real = try String(contentsOf: team.appendingPathComponent(path), encoding: .utf8)
                let body = real.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") || $0.isEmpty }
                #expect(body.joined(separator: "\n") == lines.dropFirst().joined(separator: "\n"), "the example at line \(example.line) of docs/collections.md differs from examples/team/\(path)")
            }
            let file = folder.appendingPathComponent("collections/example-at-line-\(example.line).yaml")
            try example.text.write(to: file, atomically: true, encoding: .utf8)
            do {
                _ = try loader.load(file: file.path)
            } catch {
                Issue.record("the example at line \(example.line) of docs/collections.md does not load:\n\(error)")
            }
        }
    }

    // MARK: Reading the Markdown

    /// The ```yaml blocks, each with the line (from 1) of its first line of text.
    static func yamlBlocks(in text: String) -> [(line: Int, text: String)] {
        var blocks: [(line: Int, text: String)] = []
        var current: (line: Int, lines: [Substring])?
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = current {
                if trimmed == "```" {
                    blocks.append((block.line, block.lines.joined(separator: "\n") + "\n"))
                    current = nil
                } else {
                    block.lines.append(line)
                    current = block
                }
            } else if trimmed == "```yaml" {
                current = (index + 2, [])
            }
        }
        return blocks
    }

    /// The text under the heading `heading` of `level` (`##` is 2), up to the next heading
    /// of that level or a higher one; lines in code blocks (a YAML `# comment`) are no headings.
    static func section(_ heading: String, level: Int, in text: String) -> String? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var inCode = false
        var start: Int?
        for (index, line) in lines.enumerated() {
            if line.hasPrefix("```") {
                inCode.toggle()
                continue
            }
            guard !inCode else { continue }
            let hashes = line.prefix { $0 == "#" }.count
            guard hashes > 0, line.dropFirst(hashes).first == " " else { continue }
            if let start {
                if hashes <= level { return lines[start..<index].joined(separator: "\n") }
            } else if hashes == level, line.dropFirst(hashes + 1) == heading {
                start = index
            }
        }
        return start.map { lines[$0...].joined(separator: "\n") }
    }
}
