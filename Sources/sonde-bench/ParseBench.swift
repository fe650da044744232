import Foundation
import SondeCore
import SondeMock
import SondeSpec

/// JSON, JSONPath and collection parsing: what the runner does between requests.
func parseBench() throws {
    print("== parsing (median of 7 rounds, per operation)\n")

    // 1. JSON: the 1 KB componentstatuses body, ours against Foundation's parser.
    let body = Array(ComponentStatuses.json().utf8)
    let bodyData = Data(body)
    report("JSON parse, componentstatuses (\(body.count) B), Sonde", try measure(iterations: 20_000) { _ = try JSONValue.parse(body) })
    report("JSON parse, same body, Foundation JSONSerialization", try measure(iterations: 5_000) { _ = try JSONSerialization.jsonObject(with: bodyData) })

    // 2. JSONPath on that body, parsed once, evaluated many times.
    let document = try JSONValue.parse(body)
    let expression = "$.items[*].conditions[?@.type=='Healthy'].status"
    print("expression: \(expression)\n")
    let path = try JSONPath(expression)
    report("JSONPath parse (the expression above)", try measure(iterations: 20_000) { _ = try JSONPath(expression) })
    report("JSONPath evaluate, values, componentstatuses", try measure(iterations: 50_000) { _ = try path.values(in: document) })
    report("JSONPath evaluate, nodes with paths, componentstatuses", try measure(iterations: 50_000) { _ = try path.nodes(in: document) })

    // 3. A 5 MB document: many components.
    let many = (0..<41_000).map { "component-\($0)" }
    let big = Array(ComponentStatuses.json(components: many, unhealthy: ["component-17"]).utf8)
    let bigDocument = try JSONValue.parse(big)
    let megabytes = Double(big.count) / 1_048_576
    report(String(format: "JSON parse, %.1f MB document, Sonde", megabytes), try measure(iterations: 3, rounds: 5) { _ = try JSONValue.parse(big) })
    let bigData = Data(big)
    report(String(format: "JSON parse, %.1f MB document, Foundation", megabytes), try measure(iterations: 1, rounds: 5) { _ = try JSONSerialization.jsonObject(with: bigData) })
    report(String(format: "JSONPath evaluate, %.1f MB document (%d nodes)", megabytes, try path.values(in: bigDocument).count),
        try measure(iterations: 5, rounds: 5) { _ = try path.values(in: bigDocument) })

    // 4. Masking: what the redactor adds to a request, with the bench collection's two
    // secrets (its password and a 60-character token) and a 1 KB text with no secret in it.
    var redactor = Redactor()
    redactor.add("P@88w0rd")
    redactor.add("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9." + String(repeating: "a1b2c3d4", count: 3))
    // Each text new to the redactor (a counter in it), then the same text again: a redactor
    // remembers what it masked, and a run masks the same URL and verdicts again and again.
    let text = String(decoding: body, as: UTF8.self)
    let line = "http://127.0.0.1:8080/api/v1/componentstatuses?limit=10&continue=abc%20def"
    let withSecret = "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.a1b2c3d4a1b2c3d4a1b2c3d4"
    for (label, sample, iterations) in [
        ("\(body.count) B body, no secret", text, 5_000), ("\(line.utf8.count) B URL", line, 20_000),
        ("a header value that is one", withSecret, 20_000),
    ] {
        var counter = 0
        report("mask, \(label), new text", measure(iterations: iterations) {
            counter += 1
            _ = redactor.redact(sample + " \(counter)")
        })
        report("mask, \(label), masked before", measure(iterations: iterations * 10) { _ = redactor.redact(sample) })
    }

    // 5. Collections: parse and validate the runner section's collection, with 10,000 GETs.
    let yaml = benchCollection(baseURL: "http://127.0.0.1:8080", count: 10_000)
    let loader = CollectionLoader(options: VariableOptions(processEnvironment: [:]))
    let loadTime = try measure(iterations: 1, rounds: 3) { _ = try loader.load(text: yaml, file: "big.yaml") }
    report("collection parse + validate, 10,001 requests (\(yaml.utf8.count / 1024) KB)", loadTime, String(format: "%.1f µs a request", loadTime / 10_001))
}
