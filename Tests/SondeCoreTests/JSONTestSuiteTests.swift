import Foundation
import Testing

@testable import SondeCore

/// JSONTestSuite (MIT): y_ files must parse, n_ files must fail, i_ files must not crash.
struct JSONTestSuiteTests {
    @Test(.enabled(if: SharedFixtures.isPresent("json-test-suite"), SharedFixtures.absent("json-test-suite", suite: "JSONTestSuite")))
    func everyParsingCase() throws {
        let folder = SharedFixtures.root.appendingPathComponent("json-test-suite/test_parsing")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(names.count > 300)
        var accepted = 0, rejected = 0, implementationDefined = 0
        for name in names {
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(name)))
            let outcome = Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(bytes) }
            switch name.first {
            case "y":
                if case .failure(let error) = outcome { Issue.record("\(name) should parse: \(error)") } else { accepted += 1 }
            case "n":
                if case .success(let value) = outcome {
                    Issue.record("\(name) should be rejected, parsed as \(value.jsonText.prefix(80))")
                } else {
                    rejected += 1
                }
            default:
                implementationDefined += 1
            }
        }
        print("JSONTestSuite: \(accepted) y_ accepted, \(rejected) n_ rejected, \(implementationDefined) i_ without a crash")
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let text = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        let objects = String(repeating: "{\"a\":", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(objects) }
    }

    @Test func errorsGiveOffsetLineAndColumn() {
        do {
            _ = try JSONValue.parse("{\n  \"a\": tru\n}")
            Issue.record("should fail")
        } catch {
            #expect(error.offset == 9)
            #expect(error.line == 2)
            #expect(error.column == 8)
            #expect(error.description.contains("expected 'true'"))
        }
    }

    @Test func numbersStayExact() throws {
        let value = try JSONValue.parse("[12345678901234567890123, 9007199254740993, -0, 1.5, 1e2, 10.0]")
        // Numbers are written back as they came: exact, and as the server spelled them.
        #expect(value.jsonText == "[12345678901234567890123,9007199254740993,0,1.5,1e2,10.0]")
        #expect(value[1] != JSONValue.int(9_007_199_254_740_992))
        #expect(value[4] == JSONValue.int(100))
    }

    @Test func memberOrderAndEscapesRoundTrip() throws {
        let text = #"{"z":1,"a":"\u00e9\n\"q\"\ud83d\ude00","m":[true,false,null]}"#
        let value = try JSONValue.parse(text)
        #expect(value.objectValue?.keys == ["z", "a", "m"])
        #expect(value["a"] == .string("é\n\"q\"😀"))
        #expect(try JSONValue.parse(value.jsonText) == value)
        #expect(try JSONValue.parse(value.prettyText()) == value)
    }
}
