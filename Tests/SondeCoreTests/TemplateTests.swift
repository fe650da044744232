import Foundation
import Testing

@testable import SondeCore

struct TemplateTests {
    let context = DictionaryTemplateContext(
        ["name": "Ada Lovelace", "count": 3, "ok": true, "user": ["id": 42, "tags": ["a", "b"]], "nothing": nil, "token": "abc"],
        environment: ["HOME_DIR": "/home/ada"])

    func render(_ text: String) throws -> String { try Template(parsing: text).render(in: context) }

    @Test func literalTextPassesThrough() throws {
        #expect(try render("no holes here") == "no holes here")
        #expect(try Template(parsing: "plain").literalValue == "plain")
    }

    @Test func variablesAndPaths() throws {
        #expect(try render("Hello {{ name }}!") == "Hello Ada Lovelace!")
        #expect(try render("{{count}} items") == "3 items")
        #expect(try render("id={{ user.id }} tag={{ user.tags.1 }}") == "id=42 tag=b")
        #expect(try render("{{ user }}") == #"{"id":42,"tags":["a","b"]}"#)
    }

    @Test func environmentVariables() throws {
        #expect(try render("{{ env.HOME_DIR }}/x") == "/home/ada/x")
        #expect(try render("{{ env.MISSING | default('fallback') }}") == "fallback")
        #expect(throws: TemplateError.self) { try render("{{ env.MISSING }}") }
    }

    @Test func everyFilter() throws {
        #expect(try render("{{ missing | default('x') }}") == "x")
        #expect(try render("{{ nothing | default(7) }}") == "7")
        #expect(try render("{{ name | default('x') }}") == "Ada Lovelace")
        #expect(try render("{{ 'user:pass' | base64 }}") == "dXNlcjpwYXNz")
        #expect(try render("{{ 'dXNlcjpwYXNz' | base64_decode }}") == "user:pass")
        #expect(try render("{{ 'a b&c=d/é' | urlencode }}") == "a%20b%26c%3Dd%2F%C3%A9")
        #expect(try render("{{ name | upper }}") == "ADA LOVELACE")
        #expect(try render("{{ name | lower }}") == "ada lovelace")
        #expect(try render("{{ name | json }}") == #""Ada Lovelace""#)
        #expect(try render("{{ user.tags | json }}") == #"["a","b"]"#)
    }

    @Test func filterChainsNest() throws {
        #expect(try render("{{ missing | default(name) | upper | base64 }}") == "QURBIExPVkVMQUNF")
        #expect(try render("{{ name | lower | urlencode }}") == "ada%20lovelace")
        #expect(try render("{{ 'a' | base64 | base64_decode | upper }}") == "A")
    }

    @Test func everyFunction() throws {
        let uuid = try render("{{ uuid() }}")
        #expect(uuid.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", options: .regularExpression) != nil)
        #expect(try render("{{ uuid() }}") != uuid)
        let now = try render("{{ now() }}")
        #expect(ISO8601DateFormatter.withFractionalSeconds.date(from: now) != nil)
        let timestamp = try #require(Int(try render("{{ timestamp() }}")))
        #expect(abs(timestamp - Int(Date().timeIntervalSince1970)) < 5)
        for _ in 0..<50 {
            let n = try #require(Int(try render("{{ random_int(1, 6) }}")))
            #expect((1...6).contains(n))
        }
        #expect(throws: TemplateError.self) { try render("{{ random_int(6, 1) }}") }
    }

    @Test func functionsReadTheInjectedClockAndRandomness() throws {
        let fixed = TemplateSources(
            now: { Date(timeIntervalSince1970: 1_700_000_000.25) }, uuid: { UUID(uuidString: "00000000-0000-4000-8000-00000000000A")! },
            randomInteger: { $0.upperBound })
        let context = DictionaryTemplateContext([:], sources: fixed)
        func render(_ text: String) throws -> String { try Template(parsing: text).render(in: context) }
        #expect(try render("{{ now() }}") == "2023-11-14T22:13:20.250Z")
        #expect(try render("{{ timestamp() }}") == "1700000000")
        #expect(try render("{{ uuid() }}") == "00000000-0000-4000-8000-00000000000a")
        #expect(try render("{{ random_int(1, 6) }}") == "6")
    }

    @Test func escapedBraces() throws {
        #expect(try render(#"\{{ name }}"#) == "{{ name }}")
        #expect(try render(#"{{ '{{' }} literal"#) == "{{ literal")
        #expect(try render("a } b { c") == "a } b { c")
    }

    @Test func singleExpressionKeepsItsJSONType() throws {
        let body = TemplateValue.object([
            .init(key: "count", value: .string(try Template(parsing: "{{ count }}"))),
            .init(key: "ok", value: .string(try Template(parsing: "{{ok}}"))),
            .init(key: "user", value: .string(try Template(parsing: "{{ user }}"))),
            .init(key: "label", value: .string(try Template(parsing: "n={{ count }}"))),
            .init(key: "none", value: .string(try Template(parsing: "{{ nothing }}"))),
        ])
        let rendered = try body.render(in: context)
        #expect(rendered.jsonText == #"{"count":3,"ok":true,"user":{"id":42,"tags":["a","b"]},"label":"n=3","none":null}"#)
    }

    @Test func undefinedNamesAreErrorsWithTheirOffset() throws {
        let template = try Template(parsing: "Bearer {{ tokn }}")
        #expect(template.references.map(\.name) == ["tokn"])
        #expect(template.references.first?.offset == 10)
        do {
            _ = try template.render(in: context)
            Issue.record("should fail")
        } catch {
            #expect(error.message == "'tokn' is not defined")
            #expect(error.offset == 10)
            #expect(error.undefinedName == "tokn")
        }
    }

    @Test func referencesUnderDefaultAreGuarded() throws {
        let template = try Template(parsing: "{{ a | default(b) }} {{ env.X }}")
        let refs = template.references
        #expect(refs.map(\.name) == ["a", "b", "X"])
        #expect(refs.map(\.guarded) == [true, false, false])
        #expect(refs.map(\.isEnvironment) == [false, false, true])
    }

    @Test(arguments: [
        ("{{ name | lowr }}", "unknown filter 'lowr'; did you mean 'lower'?", 10),
        ("{{ uid() }}", "unknown function 'uid'; did you mean 'uuid()'?", 3),
        ("x {{ name", "'{{' is not closed by '}}'", 2),
        ("{{ }}", "empty '{{ }}'", 0),
        ("{{ name | default }}", "filter 'default' takes 1 argument, got 0", 10),
        ("{{ random_int(1) }}", "random_int() takes 2 arguments, got 1", 3),
        ("{{ 'open }}", "unterminated string in '{{ }}'", 3),
    ])
    func parseErrors(source: String, message: String, offset: Int) {
        do {
            _ = try Template(parsing: source)
            Issue.record("\(source) should not parse")
        } catch {
            #expect(error.message == message)
            #expect(error.offset == offset)
        }
    }
}

struct VariableScopeTests {
    func definition(_ name: String, _ value: String, _ source: VariableSource) throws -> VariableDefinition {
        VariableDefinition(name: name, value: .string(try Template(parsing: value)), source: source)
    }

    @Test func precedenceIsVarsThenEnvironmentFileThenDotEnvThenCommandLineThenCaptures() throws {
        let scope = VariableScope([
            try definition("a", "vars", .collection),
            try definition("b", "vars", .collection), try definition("b", "envfile", .environmentFile),
            try definition("c", "vars", .collection), try definition("c", "dotenv", .dotEnv), try definition("c", "envfile", .environmentFile),
            try definition("d", "cli", .commandLine), try definition("d", "dotenv", .dotEnv), try definition("d", "vars", .collection),
            try definition("e", "cli", .commandLine),
        ], environment: [:])
        scope.capture("e", "captured")
        #expect(try scope.variable("a") == "vars")
        #expect(try scope.variable("b") == "envfile")
        #expect(try scope.variable("c") == "dotenv")
        #expect(try scope.variable("d") == "cli")
        #expect(try scope.variable("e") == "captured")
        #expect(scope.source(of: "e") == .capture)
    }

    @Test func variablesMayReadOtherVariablesAndTheEnvironment() throws {
        let scope = VariableScope([
            try definition("host", "example.org", .collection),
            try definition("url", "https://{{ host }}/{{ env.P | default('v1') }}", .collection),
            try definition("host", "staging.example.org", .commandLine),
        ], environment: ["P": "v2"])
        #expect(try scope.variable("url") == "https://staging.example.org/v2")
    }

    @Test func aCycleIsAnErrorNotARecursion() throws {
        let scope = VariableScope([try definition("a", "{{ b }}", .collection), try definition("b", "{{ a }}", .collection)], environment: [:])
        #expect(throws: TemplateError.self) { try scope.variable("a") }
    }
}

extension ISO8601DateFormatter {
    static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }

    /// `| float` keeps the exact value: a decimal, never a double's rounding of it.
    @Test func floatIsExact() throws {
        let context = DictionaryTemplateContext(["c": "9007199254740993", "f": .number(JSONNumber(7))], environment: [:])
        #expect(try Template(parsing: "{{ c | float }}").renderValue(in: context).jsonText == "9007199254740993.0")
        #expect(try Template(parsing: "{{ f | float }}").renderValue(in: context).jsonText == "7.0")
        #expect(try Template(parsing: "{{ '1e400' | float }}").renderValue(in: context).jsonText == "1e400")
    }
}
