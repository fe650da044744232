import Foundation
import Testing

@testable import SondeCore

/// The RFC 9535 compliance test suite (BSD-2), run case by case.
struct JSONPathComplianceTests {
    struct Case {
        let name: String
        let selector: String
        let document: JSONValue?
        let results: [[JSONValue]]
        let resultPaths: [[String]]
        let invalid: Bool
    }

    static func loadCases() throws -> [Case] {
        let suite = try JSONValue.parse([UInt8](try SharedFixtures.data("jsonpath-cts/cts.json")))
        return (suite["tests"]?.arrayValue ?? []).map { test in
            var results: [[JSONValue]] = []
            var paths: [[String]] = []
            if let one = test["result"]?.arrayValue { results = [one] }
            if let many = test["results"]?.arrayValue { results = many.compactMap(\.arrayValue) }
            if let one = test["result_paths"]?.arrayValue { paths = [one.compactMap(\.stringValue)] }
            if let many = test["results_paths"]?.arrayValue { paths = many.compactMap { $0.arrayValue?.compactMap(\.stringValue) } }
            return Case(
                name: test["name"]?.stringValue ?? "?",
                selector: test["selector"]?.stringValue ?? "",
                document: test["document"],
                results: results,
                resultPaths: paths,
                invalid: test["invalid_selector"] == .bool(true)
            )
        }
    }

    @Test(.enabled(if: SharedFixtures.isPresent("jsonpath-cts"), SharedFixtures.absent("jsonpath-cts", suite: "The JSONPath compliance suite")))
    func everyCaseOfTheComplianceSuite() throws {
        let cases = try Self.loadCases()
        #expect(cases.count > 700)
        var passed = 0
        var failures: [String] = []
        for test in cases {
            let parsed = Result { () throws(JSONPathError) -> JSONPath in try JSONPath(test.selector) }
            if test.invalid {
                if case .success = parsed { failures.append("\(test.name): \(test.selector) should be rejected") } else { passed += 1 }
                continue
            }
            guard case .success(let path) = parsed else {
                if case .failure(let error) = parsed { failures.append("\(test.name): \(test.selector) rejected: \(error)") }
                continue
            }
            guard let nodes = try? path.nodes(in: test.document ?? .null) else {
                failures.append("\(test.name): \(test.selector) stopped")
                continue
            }
            let values = nodes.map(\.value)
            let paths = nodes.map(\.path)
            let matched = test.results.indices.contains { i in
                values == test.results[i] && (test.resultPaths.isEmpty || paths == test.resultPaths[i])
            }
            if matched {
                passed += 1
            } else {
                failures.append("\(test.name): \(test.selector) gave \(JSONValue.array(values).jsonText) at \(paths), expected \(test.results.map { JSONValue.array($0).jsonText })")
            }
        }
        print("JSONPath compliance suite: \(passed) of \(cases.count) cases pass")
        for failure in failures.prefix(40) { Issue.record(Comment(rawValue: failure)) }
        #expect(failures.isEmpty)
    }
}
