import Foundation
import SondeCore
import Testing

@testable import SondeSpec

/// schema/collection.schema.json: editors complete and check collections with it.
struct SchemaTests {
    static func schema(_ name: String = "collection.schema.json") throws -> JSONSchema {
        let url = Paths.packageRoot.appendingPathComponent("schema/\(name)")
        return JSONSchema(try JSONValue.parse([UInt8](try Data(contentsOf: url))))
    }

    static func violations(of file: URL, schema: JSONSchema) throws -> [JSONSchema.Violation] {
        let text = try String(contentsOf: file, encoding: .utf8)
        return schema.validate(try YAMLDocument.json(from: text, file: file.lastPathComponent))
    }

    @Test func acceptsEveryBundledCollection() throws {
        let schema = try Self.schema()
        let (files, _) = CollectionLoader.collectionFiles(in: [Paths.collections.path])
        #expect(!files.isEmpty)
        for file in files {
            let violations = try Self.violations(of: URL(fileURLWithPath: file), schema: schema)
            #expect(violations.isEmpty, "\(file): \(violations)")
        }
    }

    @Test func acceptsEveryBundledEnvironment() throws {
        let schema = try Self.schema("environment.schema.json")
        let folder = Paths.collections.appendingPathComponent("environments")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".yaml") }
        #expect(!names.isEmpty)
        for name in names {
            let violations = try Self.violations(of: folder.appendingPathComponent(name), schema: schema)
            #expect(violations.isEmpty, "\(name): \(violations)")
        }
    }

    /// The invalid fixtures whose error a schema can express, and a word of what the schema says.
    @Test(arguments: [
        ("unknown_key.yaml", "unknown property 'expcet'; did you mean 'expect'?"),
        ("wrong_types.yaml", "expected object, found array"),
        ("missing_name.yaml", "missing required property 'name'"),
        ("unknown_operator.yaml", "unknown property 'lenght'"),
        ("bad_duration.yaml", "is not a duration"),
        ("two_bodies.yaml", "at most one body"),
        ("many_errors.yaml", "unknown property 'bogus'"),
    ])
    func rejectsWhatASchemaCanExpress(fixture: String, expected: String) throws {
        let file = Paths.fixtures.appendingPathComponent("invalid/\(fixture)")
        let violations = try Self.violations(of: file, schema: try Self.schema())
        #expect(violations.contains { $0.message.contains(expected) }, "\(fixture): \(violations)")
    }

    @Test func rejectsBadValuesInPlace() throws {
        let schema = try Self.schema()
        let cases: [(String, String)] = [
            ("requests: []", "needs at least 1 items"),
            ("requests: [{ name: a, url: /x, method: 42 }]", "expected string"),
            ("requests: [{ name: a, url: /x, expect: { status: 700 } }]", "must be ≤ 599"),
            ("requests: [{ name: a, url: /x, capture: { t: { header: A, cookie: B } } }]", "exactly one"),
            ("requests: [{ name: a, url: /x, expect: { jsonpath: { items: 1 } } }]", "does not match"),
            ("requests: [{ name: a, url: /x, expect: { duration: { '<': 2 } } }]", "expected string"),
            ("requests: [{ name: a, url: /x, auth: { bearer: t, basic: { username: u, password: p } } }]", "at most 1 properties"),
            ("requests: [{ name: a, url: /x, for_each: [1], repeat: 2 }]", "A step loops one way"),
            ("requests: [{ name: a, url: /x, retry: { count: 1 }, repeat: { until: { status: 200 } } }]", "one would undo the other"),
            ("requests: [{ include: a.yaml, with: { 9x: 1 } }]", "does not match"),
            ("setup: [{ include: a.yaml, exports: [t] }]\nrequests: [{ name: a, url: /x }]", "unknown property 'exports'"),
        ]
        for (yaml, expected) in cases {
            let violations = schema.validate(try YAMLDocument.json(from: yaml, file: "inline.yaml"))
            #expect(violations.contains { $0.message.contains(expected) }, "\(yaml): \(violations)")
        }
    }

    /// The Swift key lists are the format's source of truth; the schema must list exactly the same keys.
    @Test func schemaKeysMirrorTheLoadersKeys() throws {
        let root = try Self.schema().root
        func keys(_ path: String) throws -> Set<String> {
            let nodes = try JSONPath(path).values(in: root)
            return Set(nodes.first?.objectValue?.keys ?? [])
        }
        #expect(try keys("$.properties") == Set(CollectionKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.request.properties") == Set(RequestKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.defaults.properties") == Set(DefaultsKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.expect.properties") == Set(ExpectKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.capture.anyOf[1].properties") == Set(CaptureKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.retry.properties") == Set(RetryKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.include.properties") == Set(IncludeKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.forEach.anyOf[2].properties") == Set(ForEachKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.repeat.anyOf[1].properties") == Set(RepeatKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.auth.properties") == Set(AuthKey.allCases.map(\.rawValue)))
        #expect(try keys("$.definitions.predicateOperators.properties") == Set(ValuePredicate.Operator.allCases.map(\.rawValue)))
    }
}


extension SchemaTests {
    /// YAML 1.2's core schema: `0x` and `0o` integers are digits only (`0x+1F` is text).
    @Test func radixIntegersAreDigitsOnly() throws {
        let value = try YAMLDocument.json(from: "{ a: 0x1F, b: 0o17, c: 0x+1F, d: 0o-7, e: 0xG }", file: "radix.yaml")
        #expect(value.jsonText(atMost: .max) == #"{"a":31,"b":15,"c":"0x+1F","d":"0o-7","e":"0xG"}"#)
    }
}
