import SondeCore
import Testing

/// The comparison rules of docs/collections.md as a table: every operator that compares
/// values, over every pair of JSON types and text. The expected verdicts are written out
/// here, not computed by the rules under test.
struct ComparisonTests {
    /// One of each kind of value, by a short name.
    static let samples: [String: Operand] = [
        "null": .json(.null), "true": .json(.bool(true)), "false": .json(.bool(false)),
        "7": .json(.int(7)), "7.0": .json(.double(7.0)), "8": .json(.int(8)),
        "\"7\"": .json(.string("7")), "\"true\"": .json(.string("true")), "\"b\"": .json(.string("b")),
        "[7]": .json([7]), "[\"7\"]": .json(["7"]), "{a:7}": .json(["a": 7]), "{a:\"7\"}": .json(["a": "7"]),
        "text 7": .text("7"), "text 7.0": .text("7.0"), "text true": .text("true"), "text b": .text("b"), "text null": .text("null"),
    ]

    /// Every pair that is equal; every other pair is not (the table is symmetric).
    static let equalPairs: Set<[String]> = {
        let pairs: [[String]] = [
            ["null", "null"], ["true", "true"], ["false", "false"], ["7", "7"], ["7", "7.0"], ["7.0", "7.0"], ["8", "8"],
            ["\"7\"", "\"7\""], ["\"true\"", "\"true\""], ["\"b\"", "\"b\""], ["[7]", "[7]"], ["[\"7\"]", "[\"7\"]"],
            ["{a:7}", "{a:7}"], ["{a:\"7\"}", "{a:\"7\"}"],
            // Text against JSON: its text against the value's JSON spelling, numbers by value.
            ["text 7", "text 7"], ["text 7.0", "text 7.0"], ["text true", "text true"], ["text b", "text b"], ["text null", "text null"],
            ["text 7", "\"7\""], ["text 7", "7"], ["text 7", "7.0"], ["text 7.0", "7"], ["text 7.0", "7.0"],
            ["text true", "true"], ["text true", "\"true\""], ["text b", "\"b\""], ["text null", "null"],
        ]
        return Set(pairs.flatMap { [$0, [$0[1], $0[0]]] })
    }()

    /// The pairs that have an order, with it (-1: the first is below).
    static let orders: [[String]: Int] = {
        var out: [[String]: Int] = [:]
        func add(_ a: String, _ b: String, _ order: Int) {
            out[[a, b]] = order
            out[[b, a]] = -order
        }
        for (a, b, o) in [
            ("7", "7", 0), ("7", "7.0", 0), ("7.0", "7.0", 0), ("7", "8", -1), ("7.0", "8", -1), ("8", "8", 0),
            ("\"7\"", "\"7\"", 0), ("\"7\"", "\"b\"", -1), ("\"7\"", "\"true\"", -1), ("\"b\"", "\"true\"", -1), ("\"true\"", "\"true\"", 0), ("\"b\"", "\"b\"", 0),
            ("text 7", "7", 0), ("text 7", "7.0", 0), ("text 7", "8", -1), ("text 7.0", "7", 0), ("text 7.0", "8", -1), ("text 7.0", "7.0", 0),
            ("text 7", "text 7", 0), ("text 7", "text 7.0", -1), ("text 7", "text b", -1), ("text 7", "text true", -1), ("text 7", "text null", -1),
            ("text 7.0", "text 7.0", 0), ("text 7.0", "text b", -1), ("text b", "text b", 0), ("text b", "text true", -1), ("text b", "text null", -1),
            ("text null", "text null", 0), ("text null", "text true", -1), ("text true", "text true", 0),
            ("text 7.0", "text true", -1), ("text 7.0", "text null", -1),
            ("text 7", "\"7\"", 0), ("text 7", "\"b\"", -1), ("text 7", "\"true\"", -1), ("text 7.0", "\"7\"", 1), ("text 7.0", "\"b\"", -1),
            ("text 7.0", "\"true\"", -1), ("text b", "\"7\"", 1), ("text b", "\"b\"", 0), ("text b", "\"true\"", -1),
            ("text true", "\"7\"", 1), ("text true", "\"b\"", 1), ("text true", "\"true\"", 0),
            ("text null", "\"7\"", 1), ("text null", "\"b\"", 1), ("text null", "\"true\"", -1),
        ] { add(a, b, o) }
        return out
    }()

    static var pairs: [[String]] { samples.keys.sorted().flatMap { a in samples.keys.sorted().map { [a, $0] } } }

    static func template(_ operand: Operand) -> TemplateValue {
        switch operand {
        case .json(let value): return TemplateValue(value)
        case .text(let text): return .string(Template(literal: text))
        }
    }

    /// A context where the variable `expected` holds `operand` (as text when it is text).
    struct Context: TemplateContext {
        let operand: Operand
        func variable(_ name: String) -> JSONValue? { operand.json }
        func environment(_ name: String) -> String? { nil }
        func isText(_ name: String) -> Bool { if case .text = operand { return true } else { return false } }
    }

    static func actual(_ operand: Operand) -> Actual {
        switch operand {
        case .json(let value): return .value(value)
        case .text(let text): return .text(text)
        }
    }

    static func evaluate(_ predicate: (TemplateValue) -> ValuePredicate, actual a: Operand, expected b: Operand) throws -> Bool {
        // The expected value comes through a variable, so that text stays text.
        let expected = TemplateValue.string(try Template(parsing: "{{ expected }}"))
        return try predicate(expected).evaluate(actual(a), in: Context(operand: b)).passed
    }

    @Test(arguments: pairs)
    func equalityOperatorsFollowTheTable(_ pair: [String]) throws {
        let a = try #require(Self.samples[pair[0]]), b = try #require(Self.samples[pair[1]])
        let equal = Self.equalPairs.contains(pair)
        #expect(ValueComparison.equal(a, b) == equal)
        #expect(try Self.evaluate(ValuePredicate.equals, actual: a, expected: b) == equal, "equals")
        #expect(try Self.evaluate(ValuePredicate.notEquals, actual: a, expected: b) == !equal, "not_equals")
        #expect(try Self.evaluate({ .oneOf([.string(Template(literal: "unrelated")), $0]) }, actual: a, expected: b) == equal, "one_of")
        // A list holds the value when one of its items equals it; `each` holds when all do.
        let list = Operand.json(.array([.string("unrelated"), a.json]))
        if case .json = a {
            #expect(try Self.evaluate(ValuePredicate.contains, actual: list, expected: b) == equal, "contains on a list")
            #expect(try Self.evaluate(ValuePredicate.notContains, actual: list, expected: b) == !equal, "not_contains on a list")
            #expect(try Self.evaluate({ .each(.equals($0)) }, actual: .json(.array([a.json, a.json])), expected: b) == equal, "each")
        }
    }

    @Test(arguments: pairs)
    func orderingOperatorsFollowTheTable(_ pair: [String]) throws {
        let a = try #require(Self.samples[pair[0]]), b = try #require(Self.samples[pair[1]])
        let order = Self.orders[pair]
        #expect(ValueComparison.order(a, b) == order)
        #expect(try Self.evaluate({ .compare(.less, $0) }, actual: a, expected: b) == (order.map { $0 < 0 } ?? false), "<")
        #expect(try Self.evaluate({ .compare(.lessOrEqual, $0) }, actual: a, expected: b) == (order.map { $0 <= 0 } ?? false), "<=")
        #expect(try Self.evaluate({ .compare(.greater, $0) }, actual: a, expected: b) == (order.map { $0 > 0 } ?? false), ">")
        #expect(try Self.evaluate({ .compare(.greaterOrEqual, $0) }, actual: a, expected: b) == (order.map { $0 >= 0 } ?? false), ">=")
        // Where both are defined, equality and ordering agree.
        if let order { #expect((order == 0) == Self.equalPairs.contains(pair)) }
    }

    @Test func aNumberTurnedIntoAStringSaysSo() throws {
        let outcome = try ValuePredicate.equals(.number(JSONNumber(7))).evaluate(.value(.string("7")), in: DictionaryTemplateContext())
        #expect(outcome.message == #"expected number 7, got string "7""#)
    }

    // MARK: numbers

    static let big = "123456789012345678901234567890"

    static func number(_ text: String) throws -> JSONNumber {
        guard case .number(let n) = try JSONValue.parse(text) else { throw ParseFailure() }
        return n
    }
    struct ParseFailure: Error {}

    @Test(arguments: [
        // Integers beyond 2^53 that differ by one.
        ("9007199254740993", "9007199254740992", 1), ("9007199254740992", "9007199254740993", -1),
        ("9223372036854775807", "9223372036854775806", 1), ("-9223372036854775808", "-9223372036854775807", -1),
        // Beyond Int64, kept as digits.
        (big, big, 0), (big, "123456789012345678901234567891", -1), ("-" + big, big, -1), ("-" + big, "-123456789012345678901234567891", 1),
        (big, "9223372036854775807", 1), ("-" + big, "-9223372036854775808", -1),
        // An integer against a float, mathematically: 2^63 is exactly 9223372036854775808.0.
        ("9223372036854775808", "9223372036854775808.0", 0), ("9223372036854775809", "9223372036854775808.0", 1),
        ("9007199254740993", "9007199254740992.0", 1), ("9007199254740993", "9007199254740994.0", -1),
        ("1", "1.0", 0), ("1", "1.5", -1), ("-1", "-1.5", 1), ("0", "-0.5", 1), ("0", "0.0", 0), ("-0", "0", 0),
        ("100000000000000000000", "1e20", 0), ("100000000000000000001", "1e20", 1), ("99999999999999999999", "1e20", -1),
        ("1e400", big, 1), ("-1e400", "-" + big, -1), ("1e400", "1e400", 0), ("1e400", "10e399", 0), ("1e400", "1.0000000001e400", -1),
        // Decimals as written, not as the nearest double.
        ("9007199254740993.0", "9007199254740993", 0), ("9007199254740993.0", "9007199254740992", 1),
        ("100000000000000000000.5", "100000000000000000000", 1), ("0.1", "0.10", 0), ("0.1", "1e-1", 0), ("-0.0", "0", 0),
        ("0." + String(repeating: "0", count: 5000) + "1", "0", 1), ("1.5e-400", "0", 1), ("-1.5e-400", "0", -1),
        ("123.456", "123.4560001", -1), ("1E2", "100", 0), ("1e99999999999999999999", "1e400", 1),
        // Exponents beyond Int compare exactly too.
        ("1e9223372036854775807", "1e9223372036854775806", 1), ("1e99999999999999999999", "1e99999999999999999998", 1),
        ("1e99999999999999999999", "10e99999999999999999998", 0), ("1.5e99999999999999999999", "15e99999999999999999998", 0),
        ("-1e99999999999999999999", "1", -1), ("1e-99999999999999999999", "0", 1), ("1e-99999999999999999999", "1e-99999999999999999998", -1),
        ("123e99999999999999999997", "1.24e99999999999999999999", -1),
    ])
    func numbersCompareExactly(_ a: String, _ b: String, _ expected: Int) throws {
        let x = try Self.number(a), y = try Self.number(b)
        #expect(JSONNumber.compare(x, y) == expected)
        #expect(JSONNumber.compare(y, x) == -expected)
        #expect((x == y) == (expected == 0))
        #expect((x < y) == (expected < 0))
        if x == y { #expect(x.hashValue == y.hashValue) }
    }

    @Test func numbersKeepTheTextTheyWereWrittenIn() throws {
        #expect(try JSONValue.parse(#"[1e400,9007199254740993.0,1E2,-0.0,7]"#).jsonText == "[1e400,9007199254740993.0,1E2,-0.0,7]")
        #expect(try Self.number("1e3").integer == 1000)
        #expect(try Self.number("1e3").integerText == "1000")
        #expect(try Self.number("1.5").integer == nil)
        #expect(try Self.number("-7.9").truncated?.jsonText == "-7")
        #expect(try Self.number("1.5e2").truncated?.jsonText == "150")
    }

    @Test func jsonPathFiltersCompareBigNumbersExactly() throws {
        let document = try JSONValue.parse("[123456789012345678901234567890,123456789012345678901234567891,9007199254740993.0]")
        #expect(try JSONPath("$[?@ == 123456789012345678901234567890]").values(in: document).map(\.jsonText) == ["123456789012345678901234567890"])
        #expect(try JSONPath("$[?@ > 123456789012345678901234567890]").values(in: document).map(\.jsonText) == ["123456789012345678901234567891"])
        #expect(try JSONPath("$[?@ == 9007199254740993]").values(in: document).map(\.jsonText) == ["9007199254740993.0"])
    }

    @Test func orderingOperatorsCompareBigIntegersExactly() throws {
        let context = DictionaryTemplateContext()
        let actual = Actual.value(.number(try Self.number("9007199254740993")))
        #expect(try ValuePredicate.compare(.greater, .number(try Self.number("9007199254740992"))).evaluate(actual, in: context).passed)
        #expect(try !ValuePredicate.compare(.lessOrEqual, .number(try Self.number("9007199254740992"))).evaluate(actual, in: context).passed)
        #expect(try !ValuePredicate.equals(.number(try Self.number("9007199254740992"))).evaluate(actual, in: context).passed)
    }

    // MARK: lengths

    /// CR LF is one grapheme cluster and two scalars; so are an emoji with a skin tone, an e
    /// with a combining acute, and a flag.
    @Test(arguments: [("a\r\nb", 4), ("👍🏽", 2), ("e\u{301}", 2), ("🇫🇷", 2), ("", 0)])
    func textLengthsCountUnicodeScalars(_ value: String, _ expected: Int) throws {
        let context = DictionaryTemplateContext()
        for actual in [Actual.value(.string(value)), .text(value)] {
            #expect(try ValuePredicate.length(.equals(.number(JSONNumber(expected)))).evaluate(actual, in: context).passed, "\(actual)")
        }
        #expect(try ValuePredicate.contains(.string(Template(literal: "\r"))).evaluate(.text("a\r\nb"), in: context).passed)
    }

    @Test func missingIsNotEmptyAndEachNeedsAnItem() throws {
        let context = DictionaryTemplateContext()
        #expect(try !ValuePredicate.empty(true).evaluate(.missing, in: context).passed)
        #expect(try ValuePredicate.empty(true).evaluate(.nodes([]), in: context).passed)
        #expect(try ValuePredicate.exists(false).evaluate(.missing, in: context).passed)
        let each = ValuePredicate.each(.equals(.string(Template(literal: "ok"))))
        let none = try each.evaluate(.nodes([]), in: context)
        #expect(!none.passed)
        #expect(none.message == #"expected each item to be "ok", found no item"#)
        #expect(try !each.evaluate(.value([]), in: context).passed)
        #expect(try each.evaluate(.value(["ok", "ok"]), in: context).passed)
    }

    @Test func locationsResolveAsBrowsersResolveThem() {
        let base = "http://h:8/a/b/c?q=1#f"
        for (location, expected) in [
            ("d", "http://h:8/a/b/d"), ("../d", "http://h:8/a/d"), ("/d", "http://h:8/d"), ("?x", "http://h:8/a/b/c?x"),
            ("#g", "http://h:8/a/b/c?q=1#g"), ("//other/x", "http://other/x"), ("https://o/p", "https://o/p"), ("\\x\\y", "http://h:8/x/y"), ("\\\\x\\y", "http://x/y"),
            ("http:/sl", "http://h:8/sl"), ("http:rel", "http://h:8/a/b/rel"), ("/a/%2e%2E/b", "http://h:8/b"), ("/t\tab", "http://h:8/tab"),
            ("/a b/é?q=a b", "http://h:8/a%20b/%C3%A9?q=a%20b"), ("", "http://h:8/a/b/c?q=1"),
        ] {
            #expect(RequestURL.resolve(location, against: base) == expected, "\(location)")
        }
    }

    @Test func aDurationCheckSaysItsUnit() throws {
        let outcome = try ValuePredicate.compare(.less, .number(JSONNumber(300))).evaluate(.value(.double(1004.7)), unit: "ms", in: DictionaryTemplateContext())
        #expect(outcome.message == "expected < 300 ms, got 1004.7 ms")
    }
}
