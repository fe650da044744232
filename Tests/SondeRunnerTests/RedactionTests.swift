import SondeCore
import Testing

@testable import SondeRunner

/// An in-memory transport that answers every request with the same text body.
func fixedTransport(body: String) -> ScriptedTransport {
    ScriptedTransport(fallback: { _ in ScriptedTransport.response(200, body, contentType: "text/plain") })
}

struct RedactionTests {
    /// A secret cut in half by an excerpt's length limit must not show its first half.
    @Test func aSecretCutByTruncationIsStillMasked() throws {
        let secret = String(repeating: "s3cr3t-", count: 100)  // 700 characters
        let body = String(repeating: "x", count: 250) + secret
        var request = RequestSpec(name: "r", location: SourceLocation(file: "t.yaml", line: 1, column: 1), url: Template(literal: "http://h/"))
        request.expectations = [Expectation(subject: .body, predicate: .equals(.string(Template(literal: "other"))), location: request.location)]
        let spec = CollectionSpec(name: "c", file: "t.yaml", location: request.location, requests: [request])
        let scope = VariableScope([VariableDefinition(name: "token", value: .string(Template(literal: secret)), source: .collection)], environment: [:])
        let result = Runner(plan: RunPlan(spec), scope: scope, secrets: ["token"], transport: fixedTransport(body: body)).run()
        let outcome = result.requests[0]
        #expect(outcome.outcome == .failed)
        let texts = [outcome.responseBody ?? "", outcome.checks[0].actual, outcome.checks[0].message ?? ""]
        for text in texts {
            #expect(!text.contains("s3cr3t-s3cr3t"), "secret fragment in: \(text.suffix(80))")
        }
    }
}
