import Foundation
import SondeCore
import SondeSpec

/// The parsers and evaluators that take text a user or a server wrote, each as a function of
/// arbitrary bytes: libFuzzer calls them through `sonde-fuzz`, and the regression tests replay
/// every input that once crashed one. Each must return normally on any input: an error is a
/// result, a crash, a hang or memory without end is a bug.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `JSONValue.parse` on the bytes.
    case json
    /// The first line as an RFC 9535 JSONPath, the rest as a JSON document it queries.
    case jsonpath
    /// The first line as a template, rendered in a context of a few variables; the rest as
    /// the value of one of them.
    case template
    /// The bytes as a collection file, loaded whole (YAML, the reader, names, variables).
    case collection
    /// The first line as a JSON Schema, the rest as a JSON instance it checks.
    case schema
    /// The bytes as a `.env` file.
    case dotenv
    /// The first line as a `filters:` chain, applied at a fixed time to the rest (as text,
    /// and as JSON when it is): the date parsers and formats, regex, JSONPath, XPath and
    /// the HTML references filters read untrusted values.
    case filters
    /// The first line as an XPath expression, the rest as a body read as XML and as HTML
    /// by libxml2.
    case xpath
    /// The bytes as a CSV data file (`for_each: { data: … }`, `--data`).
    case csv

    /// Runs the target on one input.
    public func run(_ bytes: UnsafeRawBufferPointer) {
        let data = Array(bytes.bindMemory(to: UInt8.self))
        switch self {
        case .json:
            _ = try? JSONValue.parse(data)
        case .jsonpath:
            let (first, rest) = Self.split(data)
            guard let path = try? JSONPath(String(decoding: first, as: UTF8.self)) else { return }
            guard let document = try? JSONValue.parse(rest) else { return }
            // Paths are spelled one at a time, as `sonde jsonpath --paths` writes them.
            guard let nodes = try? path.nodes(in: document) else { return }
            for node in nodes.prefix(1000) { _ = node.path }
            _ = nodes.last?.path
        case .template:
            let (first, rest) = Self.split(data)
            guard let template = try? Template(parsing: String(decoding: first, as: UTF8.self)) else { return }
            let value = (try? JSONValue.parse(rest)) ?? .string(String(decoding: rest, as: UTF8.self))
            let context = DictionaryTemplateContext(
                ["user": value, "name": "Ada", "count": .number(JSONNumber(7)), "items": .array([.string("a"), .bool(true), .null])],
                environment: ["HOME": "/root"])
            _ = try? template.render(in: context)
            _ = try? template.renderValue(in: context)
            _ = template.references
        case .collection:
            let text = String(decoding: data, as: UTF8.self)
            let loader = CollectionLoader(options: VariableOptions(processEnvironment: ["HOME": "/root"]))
            _ = try? loader.load(text: text, file: "/nonexistent/fuzz/collection.yaml")
        case .schema:
            let (first, rest) = Self.split(data)
            guard let schema = try? JSONValue.parse(first), let instance = try? JSONValue.parse(rest) else { return }
            _ = JSONSchema(schema).validate(instance)
        case .dotenv:
            _ = VariableSources.dotEnv(text: String(decoding: data, as: UTF8.self), path: ".env")
        case .filters:
            let (first, rest) = Self.split(data)
            guard let chain = try? FilterChain(parsing: String(decoding: first, as: UTF8.self)) else { return }
            let context = DictionaryTemplateContext(
                ["index": .number(JSONNumber(-1))],
                sources: TemplateSources(now: { Date(timeIntervalSince1970: 1_796_040_000) }, uuid: { UUID() }, randomInteger: { $0.lowerBound }))
            let text = String(decoding: rest, as: UTF8.self)
            _ = chain.apply(to: .string(text), in: context)
            if let json = try? JSONValue.parse(rest) { _ = chain.apply(to: json, in: context) }
            _ = DateText.parse(text)
        case .xpath:
            let (first, rest) = Self.split(data)
            let expression = String(decoding: first, as: UTF8.self)
            guard XPathQuery.syntaxError(expression) == nil else { return }
            _ = XPathQuery.evaluate(expression, in: Array(rest), html: false)
            _ = XPathQuery.evaluate(expression, in: Array(rest), html: true)
        case .csv:
            _ = try? DataFile.csv(String(decoding: data, as: UTF8.self), file: "fuzz.csv")
        }
    }

    /// The bytes before the first line feed, and those after it.
    static func split(_ data: [UInt8]) -> (ArraySlice<UInt8>, ArraySlice<UInt8>) {
        guard let newline = data.firstIndex(of: 0x0A) else { return (data[...], []) }
        return (data[..<newline], data[(newline + 1)...])
    }
}
