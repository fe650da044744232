import Foundation
import SondeCore
import SondeSpec

/// The seed corpora and dictionaries of the fuzz targets, made from what the repository
/// holds: its collections and test fixtures, its JSON Schema, the JSONTestSuite and the
/// JSONPath compliance suite in `../shared` when they are there, and the key, filter,
/// function and operator names the code defines (so that the dictionaries never go stale).
public enum FuzzSeeds {
    /// Writes `folder/TARGET/seed-N` files and `folder/TARGET.dict` for every target.
    public static func write(to folder: URL, repository: URL) throws {
        for target in FuzzTarget.allCases {
            let seeds = folder.appendingPathComponent(target.rawValue)
            try FileManager.default.createDirectory(at: seeds, withIntermediateDirectories: true)
            for (index, seed) in Self.seeds(target, repository).enumerated() {
                try Data(seed).write(to: seeds.appendingPathComponent(String(format: "seed-%04d", index)))
            }
            let dictionary = Self.dictionary(target).map { token in "\"" + escaped(token) + "\"" }.joined(separator: "\n") + "\n"
            try dictionary.write(to: folder.appendingPathComponent(target.rawValue + ".dict"), atomically: true, encoding: .utf8)
        }
    }

    /// libFuzzer's dictionary syntax: `\\`, `\"` and `\xHH` for bytes outside printable ASCII.
    static func escaped(_ token: String) -> String {
        var out = ""
        for byte in token.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\""): out += "\\\""
            case 0x20...0x7E: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += String(format: "\\x%02X", byte)
            }
        }
        return out
    }

    /// Files under `folder` (recursively) whose names end in one of `extensions`.
    static func files(under folder: URL, _ extensions: [String]) -> [URL] {
        guard let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil) else { return [] }
        return walker.compactMap { $0 as? URL }.filter { url in extensions.contains { url.lastPathComponent.hasSuffix($0) } }
            .sorted { $0.path < $1.path }
    }

    static func contents(_ urls: [URL]) -> [[UInt8]] {
        urls.compactMap { FileManager.default.contents(atPath: $0.path).map(Array.init) }.filter { $0.count <= 64 << 10 }
    }

    static func seeds(_ target: FuzzTarget, _ repository: URL) -> [[UInt8]] {
        let collections = files(under: repository.appendingPathComponent("collections"), [".yaml", ".yml"])
            + files(under: repository.appendingPathComponent("examples"), [".yaml", ".yml"])
            + files(under: repository.appendingPathComponent("Tests"), [".yaml", ".yml"])
        let shared = repository.deletingLastPathComponent().appendingPathComponent("shared")
        switch target {
        case .collection:
            return contents(collections)
        case .json:
            return contents(files(under: shared.appendingPathComponent("json-test-suite/test_parsing"), [".json"]))
                + contents(files(under: repository.appendingPathComponent("schema"), [".json"]))
                + [Array(#"{"a":[1,2.5e-3,-0,true,false,null,"\u00e9\ud83d\ude00"],"b":{}}"#.utf8)]
        case .jsonpath:
            var out: [[UInt8]] = []
            if let data = FileManager.default.contents(atPath: shared.appendingPathComponent("jsonpath-cts/cts.json").path),
                case .array(let tests)? = (try? JSONValue.parse(Array(data)))?["tests"]
            {
                for test in tests {
                    guard let selector = test["selector"]?.stringValue, !selector.contains("\n") else { continue }
                    out.append(Array((selector + "\n" + (test["document"] ?? .null).jsonText).utf8))
                }
            }
            out.append(Array(#"$..book[?@.price < 10 && match(@.title, 'S.*')].author"# .utf8) + Array("\n".utf8)
                + Array(#"{"book":[{"price":8,"title":"Sayings","author":"N"},{"price":12,"title":"T"}]}"#.utf8))
            return out
        case .template:
            var out: [[UInt8]] = []
            for text in contents(collections).map({ String(decoding: $0, as: UTF8.self) }) {
                for line in text.split(separator: "\n") where line.contains("{{") {
                    out.append(Array((line.trimmingCharacters(in: .whitespaces) + "\n" + #"{"id":7,"name":"x"}"#).utf8))
                }
            }
            out.append(Array("Bearer {{ user.token | default('none') | upper }} {{ random_int(1, 6) }} \\{{ raw }}\n{\"token\":\"t\"}".utf8))
            return Array(Set(out)).sorted { $0.lexicographicallyPrecedes($1) }
        case .schema:
            var out: [[UInt8]] = []
            let schemaFile = repository.appendingPathComponent("schema/collection.schema.json")
            if let data = FileManager.default.contents(atPath: schemaFile.path), let schema = try? JSONValue.parse(Array(data)) {
                for (url, bytes) in zip(collections, contents(collections)).prefix(40) {
                    guard let instance = try? YAMLDocument.json(from: String(decoding: bytes, as: UTF8.self), file: url.path) else { continue }
                    out.append(Array((schema.jsonText + "\n" + instance.jsonText).utf8))
                }
            }
            out.append(Array(##"{"type":"object","properties":{"a":{"type":"integer","minimum":1}},"required":["a"],"$defs":{"x":{"$ref":"#"}}}"##.utf8)
                + Array("\n{\"a\":0}".utf8))
            return out
        case .dotenv:
            return [
                "# comment\nexport API_KEY=k-123 # trailing\nPEM=\"-----BEGIN KEY-----\nMIIB\\nx\n-----END KEY-----\"\nRAW='single \\' quoted'\nEMPTY=\n",
                "A=1\r\nB=\"two\"\r\nC='{{ A }}'\r\nBROKEN\r\n",
                "UNCLOSED=\"never\nNEXT=ok\n",
            ].map { Array($0.utf8) }
        case .filters:
            return [
                "split('/') | nth(index) | int\n/orders/42",
                "to_date('%d/%m/%Y %H:%M') | format('%A %j %Z')\n30/11/2026 08:15",
                "to_date | days_after_now\n2026-11-30T09:15:00.250+01:00",
                "days_before_now\nSun, 06 Nov 1994 08:49:37 GMT",
                "jsonpath('$.items[*].id') | count\n{\"items\":[{\"id\":1},{\"id\":2}]}",
                "xpath('string(//a/@href)')\n<p><a href=\"x\">y</a></p>",
                "html_unescape | html_escape | url_decode\n&lt;&eacute;&#233;&#xE9;%41&bogus;",
                "regex('id=([0-9]+)') | utf8_encode | utf8_decode\nid=42;",
                "replace('a', 'b') | first | last | string\nbanana",
            ].map { Array($0.utf8) }
        case .xpath:
            return [
                "string(/_:feed/_:title)\n<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>",
                "count(//li)\n<!DOCTYPE html><ul><li>a<li>b</ul>",
                "//x:a/@b\n<r xmlns:x=\"urn:x\"><x:a b=\"1\"/></r>",
                "sum(//n) div count(//n)\n<r><n>1</n><n>2.5</n></r>",
                "//e\n<!DOCTYPE r [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;\">]><r><e>&b;</e></r>",
            ].map { Array($0.utf8) }
        case .csv:
            return [
                "name,role\nscheduler,control-plane\netcd-0,storage\n",
                "\u{FEFF}a,b\r\n\"x, y\",\"say \"\"hi\"\"\"\r\n\"multi\nline\",2\r\n",
                "a,a\n1,2\n",
                "a,b\n1\n",
                "a\n\"open\n",
            ].map { Array($0.utf8) }
        }
    }

    static func dictionary(_ target: FuzzTarget) -> [String] {
        switch target {
        case .json:
            return ["{", "}", "[", "]", ":", ",", "true", "false", "null", "\"", "\\u", "\\ud800", "1e309", "-0", "0.1e-7", "\\\\"]
        case .jsonpath:
            return ["$", "@", "..", ".*", "[*]", "[?", "==", "!=", "<=", ">=", "&&", "||", "!", "(", ")", "length(", "count(", "match(", "search(",
                "value(", "'", "\"", ":", "-1", "null", "true", "1:2:-1", "\\u"]
        case .template:
            return ["{{", "}}", "\\{{", "|", "env.", "(", ")", "'", ",", "."] + TemplateFilter.allCases.map(\.rawValue)
                + TemplateFunction.allCases.map { $0.rawValue + "(" }
        case .collection:
            let keys = CollectionKey.allCases.map(\.rawValue) + DefaultsKey.allCases.map(\.rawValue) + RequestKey.allCases.map(\.rawValue)
                + ExpectKey.allCases.map(\.rawValue) + CaptureKey.allCases.map(\.rawValue) + RetryKey.allCases.map(\.rawValue)
                + AuthKey.allCases.map(\.rawValue) + BasicAuthKey.allCases.map(\.rawValue) + OAuth2Key.allCases.map(\.rawValue)
                + MultipartKey.allCases.map(\.rawValue) + IncludeKey.allCases.map(\.rawValue) + ForEachKey.allCases.map(\.rawValue)
                + RepeatKey.allCases.map(\.rawValue)
            let operators = ValuePredicate.Operator.allCases.map(\.rawValue)
            return Array(Set(keys + operators)).sorted().map { $0 + ": " } + ["- ", "{{ ", " }}", "&a ", "*a", "<<: ", "!!str ", "---\n", "|\n", "$."]
        case .schema:
            return ["type", "properties", "required", "items", "prefixItems", "$ref", "#/$defs/", "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
                "pattern", "minimum", "maximum", "multipleOf", "uniqueItems", "contains", "const", "enum", "additionalProperties", "patternProperties",
                "propertyNames", "minLength", "maxLength", "minItems", "maxItems", "\"string\"", "\"integer\"", "\"object\"", "\"array\""]
        case .dotenv:
            return ["=", "export ", "#", "\"", "'", "\\n", "\\\"", "{{", "}}", "\r\n"]
        case .filters:
            return ["|", "(", ")", "'", ",", "%Y", "%m", "%d", "%H", "%M", "%S", "%z", "%Z", "T", "Z", "+01:00", "GMT", "&amp;", "&#x", "%"]
                + TemplateFilter.allCases.map(\.rawValue)
        case .xpath:
            return ["//", "/", "@", "[", "]", "(", ")", "_:", "count(", "string(", "sum(", "contains(", "normalize-space(", "text()", "node()",
                "<", ">", "</", "/>", "xmlns=", "xmlns:x=", "<!DOCTYPE", "<!ENTITY", "&", ";", "<![CDATA[", "]]>"]
        case .csv:
            return [",", "\"", "\"\"", "\r\n", "\n", "\u{FEFF}", ",,", "\",\"", "name,role\n", "\"\n\""]
        }
    }
}
