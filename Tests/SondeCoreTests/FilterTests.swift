import Foundation
import Testing

@testable import SondeCore

/// The filters of templates and of `filters:`, the kinds of `is_…`, and dates.
struct FilterTests {
    /// A fixed clock: 2026-11-30T12:00:00Z.
    static let now = Date(timeIntervalSince1970: 1_796_040_000)
    static var context: DictionaryTemplateContext {
        DictionaryTemplateContext(
        ["path": "/orders/42", "items": ["a", "b", "c"], "doc": #"{"kind": "order", "n": [1, 2]}"#, "i": -1],
            sources: TemplateSources(now: { FilterTests.now }, uuid: { UUID() }, randomInteger: { $0.lowerBound }))
    }

    static func render(_ source: String) throws -> JSONValue {
        try Template(parsing: source).renderValue(in: context)
    }

    @Test(arguments: [
        ("{{ path | split('/') | nth(-1) }}", #""42""#),
        ("{{ path | split('/') | nth(i) | int }}", "42"),
        ("{{ items | count }}", "3"),
        ("{{ 'x' | count }}", "1"),
        ("{{ items | first }}{{ items | last }}", #""ac""#),
        ("{{ 'a-b-a' | replace('a', 'z') }}", #""z-b-z""#),
        ("{{ 'id=42;' | regex('id=([0-9]+)') }}", #""42""#),
        ("{{ 'abc' | regex('b') }}", #""b""#),
        ("{{ 'caf%C3%A9%20ok' | url_decode }}", #""café ok""#),
        ("{{ '<a href=\"x\">' | html_escape }}", #""&lt;a href=&quot;x&quot;&gt;""#),
        ("{{ '&lt;&eacute;&#233;&#xE9;&bogus;' | html_unescape }}", #""<ééé&bogus;""#),
        ("{{ 'hé' | utf8_encode | json }}", #""[104,195,169]""#),
        ("{{ 'hé' | utf8_encode | utf8_decode }}", #""hé""#),
        ("{{ doc | jsonpath('$.kind') }}", #""order""#),
        ("{{ doc | jsonpath('$.n[*]') | count }}", "2"),
        ("{{ '<a><b>1</b><b>2</b></a>' | xpath('count(//b)') }}", "2"),
        ("{{ '<a><b>x</b></a>' | xpath('//b') }}", #""x""#),
        ("{{ 7 | string }}", #""7""#),
        ("{{ 'a1b22c333' | replace_regex('[0-9]+', '#') }}", #""a#b#c#""#),
        ("{{ 'abc' | replace_regex('x*', '-') }}", #""-a-b-c-""#),
        ("{{ 'https://h/p?a=1&next=%2Fhome%3Fx&b=c+d#f' | url_query_param('next') }}", #""/home?x""#),
        ("{{ 'https://h/p?a=1&b=c+d' | url_query_param('b') }}", #""c d""#),
        ("{{ 'hé' | to_hex }}", #""68c3a9""#),
        ("{{ 'ab?>' | base64_url }}", #""YWI_Pg""#),
        ("{{ 'ab?>' | base64_url | base64_decode }}", #""ab?>""#),
        ("{{ 'a1b22' | replace_regex('[0-9]+', '') }}", #""ab""#),
        ("{{ 253402300799 | to_date }}", #""9999-12-31T23:59:59Z""#),
        ("{{ '1700000000' | to_date }}", #""2023-11-14T22:13:20Z""#),
        ("{{ '&#0;&#xD800;&#x110000;&#65;' | html_unescape }}", "\"\u{FFFD}\u{FFFD}\u{FFFD}A\""),
        ("{{ '30/11/2026 08:15' | to_date('%d/%m/%Y %H:%M') }}", #""2026-11-30T08:15:00Z""#),
        ("{{ '2026-11-30T09:15:00.250+01:00' | to_date }}", #""2026-11-30T08:15:00.25Z""#),
        ("{{ 'Sun, 06 Nov 1994 08:49:37 GMT' | to_date }}", #""1994-11-06T08:49:37Z""#),
        ("{{ 0 | to_date }}", #""1970-01-01T00:00:00Z""#),
        ("{{ '2026-11-30T08:15:00Z' | format('%Y/%m/%d %A') }}", #""2026/11/30 Monday""#),
        ("{{ '2026-12-03T13:00:00Z' | days_after_now }}", "3"),
        ("{{ '2026-11-20T12:00:00Z' | days_before_now }}", "10"),
        ("{{ '2026-11-20T12:00:00Z' | days_after_now }}", "-10"),
        ("{{ 'Thu, 03 Dec 2026 11:59:00 GMT' | days_after_now }}", "2"),
    ])
    func filtersGiveTheirValue(source: String, expected: String) throws {
        #expect(try Self.render(source).jsonText(atMost: .max) == expected, "\(source)")
    }

    @Test(arguments: [
        ("{{ items | nth(5) }}", "nth: no item 5 in a list of 3"),
        ("{{ 'abc' | regex('z') }}", #"regex: /z/ does not match "abc""#),
        ("{{ '%zz' | url_decode }}", "url_decode: the value has a '%' not followed by two hex digits, or encodes bytes that are not UTF-8"),
        ("{{ 'x' | to_date('%Y') }}", "to_date: \"x\" does not have the format '%Y'"),
        ("{{ 'soon' | days_after_now }}", #"days_after_now: "soon" is not a date"#),
        ("{{ '<a>' | xpath('//a') }}", "xpath: the text is not XML"),
        ("{{ 'nope' | jsonpath('$.a') }}", "jsonpath: the text is not JSON"),
        ("{{ items | utf8_decode }}", #"utf8_decode: expected a list of bytes (whole numbers 0 to 255), found "a""#),
        ("{{ 1e300 | to_date }}", "to_date: 1e300 is not an RFC 3339 date-time"),
        ("{{ -1e300 | days_after_now }}", "days_after_now: -1e300 is not a date"),
        ("{{ 1e300 | format('%Y') }}", "format: 1e300 is not a date"),
    ])
    func aFilterThatCannotApplySaysWhy(source: String, message: String) throws {
        #expect(throws: TemplateError.self) { try Self.render(source) }
        do {
            _ = try Self.render(source)
        } catch let error as TemplateError {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        } catch {
            Issue.record("\(error)")
        }
    }

    @Test(arguments: [
        ("{{ x | toInt }}", "unknown filter 'toInt'; Hurl's 'toInt' is 'int' here"),
        ("{{ x | regex('(') }}", "regex: bad regex /(/"),
        ("{{ x | jsonpath('$[') }}", "jsonpath: malformed JSONPath '$['"),
        ("{{ x | format('%Q') }}", "format: the format directive '%Q' is not supported"),
        ("{{ x | xpath('//[') }}", "xpath: bad XPath '//['"),
        ("{{ x | nth }}", "filter 'nth' takes 1 argument, got 0"),
        ("{{ x | to_date(1, 2) }}", "filter 'to_date' takes 0 or 1 arguments, got 2"),
        ("{{ x | regex('') }}", "regex: the regex is empty"),
        ("{{ x | nth('a') }}", "nth: the index must be a whole number, found \"a\""),
        ("{{ x | nth(1.5) }}", "nth: the index must be a whole number, found 1.5"),
        ("{{ x | format(3) }}", "format: argument 1 must be a text in quotes, found 3"),
        ("{{ x | xpath('count(') }}", "xpath: bad XPath 'count('"),
        ("{{ x | xpath('foo(1)') }}", "xpath: bad XPath 'foo(1)'"),
    ])
    func aBadFilterIsFoundWhenTheTemplateIsRead(source: String, message: String) {
        do {
            _ = try Template(parsing: source)
            Issue.record("\(source) parsed")
        } catch {
            #expect(error.message.hasPrefix(message), "\(error.message)")
        }
    }

    @Test func aChainParsesAsOneStringOrPieces() throws {
        let chain = try FilterChain(parsing: "split('/') | nth(-1)")
        #expect(chain.description == "split('/') | nth(-1)")
        let value = chain.apply(to: .string("/a/b"), in: Self.context)
        #expect(try value.get().value == .string("b"))
        let both = try FilterChain(parsing: "split('/')").followed(by: FilterChain(parsing: "count"))
        #expect(try both.apply(to: .string("/a/b"), in: Self.context).get().value == .int(3))
        #expect(try FilterChain(parsing: "count").apply(to: nil, in: Self.context).get().value == .int(0))
        #expect(throws: TemplateError.self) { try FilterChain(parsing: "upper").apply(to: nil, in: Self.context).get() }
        #expect(throws: TemplateError.self) { try FilterChain(parsing: "split('/') nth(1)") }
        do {
            _ = try FilterChain(parsing: "split(")
            Issue.record("split( parsed")
        } catch {
            #expect(error.message == "the filter is not finished: an argument list needs its ')', a text its closing quote")
        }
    }

    @Test(arguments: [
        (ValueKind.integer, Operand.json(.int(3)), true), (.integer, .json(.number(JSONNumber(jsonText: "3.0"))), false),
        (.float, .json(.number(JSONNumber(jsonText: "3.0"))), true), (.float, .json(.number(JSONNumber(jsonText: "2e3"))), true),
        (.integer, .text("3"), false), (.string, .text("3"), true), (.number, .json(.int(1)), true), (.boolean, .json(.bool(false)), true),
        (.collection, .json(.array([])), true), (.collection, .json(.object(JSONObject())), true), (.collection, .json(.string("")), false),
        (.uuid, .text("6F1C2A9E-4B7D-4E3A-9F00-1B2C3D4E5F60"), true), (.uuid, .text("6f1c2a9e4b7d4e3a9f001b2c3d4e5f60"), false),
        (.ipv4, .text("192.168.0.1"), true), (.ipv4, .text("256.1.1.1"), false), (.ipv4, .text("::1"), false),
        (.ipv6, .text("2001:db8::ff00:42:8329"), true), (.ipv6, .text("1.2.3.4"), false),
        (.iso_date, .text("2026-11-30T06:27:20Z"), true), (.iso_date, .text("2026-11-30 06:27:20.5+01:00"), true),
        (.iso_date, .text("2026-02-30T00:00:00Z"), false), (.iso_date, .text("2026-11-30"), false), (.iso_date, .text("2026-11-30T06:27:20"), false),
        (.date, .text("Sun, 06 Nov 1994 08:49:37 GMT"), true), (.date, .text("yesterday"), false), (.date, .json(.int(0)), false),
    ])
    func kindsHoldOfWhatTheyName(kind: ValueKind, value: Operand, expected: Bool) {
        #expect(kind.holds(of: value) == expected, "\(kind) of \(value)")
    }

    @Test func notNegatesAndNothingFailsIt() throws {
        let context = DictionaryTemplateContext()
        let not = ValuePredicate.not(.matches("^5"))
        #expect(try not.evaluate(.value(.int(200)), in: context).passed)
        #expect(try !not.evaluate(.value(.int(503)), in: context).passed)
        #expect(try !not.evaluate(.missing, in: context).passed)
        #expect(try ValuePredicate.not(.exists(true)).evaluate(.missing, in: context).passed)
    }

    /// XPath ends: a quadratic expression stops at the step limit, and an HTML body nested
    /// deeper than libxml2 reads fails rather than being counted cut short.
    @Test func xpathIsBoundedOnHostileBodies() {
        let many = Array(("<r>" + String(repeating: "<a/>", count: 20_000) + "</r>").utf8)
        switch XPathQuery.evaluate("count(//a[count(preceding::a) > count(following::a)])", in: many, html: false) {
        case .success(let value): Issue.record("it finished: \(value)")
        case .failure(let failure): #expect(failure.message.contains("takes more than 50 million steps"), "\(failure.message)")
        }
        let deep = Array(("<!DOCTYPE html><html><body>" + String(repeating: "<div>", count: 400) + "</body></html>").utf8)
        switch XPathQuery.evaluate("count(//div)", in: deep, html: true) {
        case .success(let value): Issue.record("it counted \(value)")
        case .failure(let failure): #expect(failure.message.contains("nests elements deeper than libxml2 reads"), "\(failure.message)")
        }
        #expect(XPathQuery.evaluate("count(//div)", in: Array("<div><div/></div>".utf8), html: true) == .success(.number(2)))
    }

    @Test func datesRoundTripThroughRFC3339() throws {
        for seconds in [0.0, 951_782_400, 1_795_003_200.5, -86_400 * 365.0, 4_102_444_799] {
            let date = Date(timeIntervalSince1970: seconds)
            let text = DateText.rfc3339(date)
            #expect(DateText.rfc3339(text)?.timeIntervalSince1970 == seconds, "\(text)")
        }
        #expect(DateText.rfc3339("2024-02-29T00:00:00Z") != nil)
        #expect(DateText.rfc3339("2023-02-29T00:00:00Z") == nil)
        #expect(DateText.rfc3339("2026-11-30T24:00:00Z") == nil)
    }

    /// RFC 9110 §5.6.7's three forms and the old cookies' one, read by hand (DateFormatter's
    /// statics showed as a leak under the fuzzer).
    @Test(arguments: [
        ("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777.0), ("Sunday, 06-Nov-94 08:49:37 GMT", 784_111_777), ("Sun Nov  6 08:49:37 1994", 784_111_777),
        ("Sun, 06-Nov-1994 08:49:37 GMT", 784_111_777), ("Thu, 01 Jan 1970 00:00:00 GMT", 0), ("Wed, 21 Oct 2015 07:28:00 UTC", 1_445_412_480),
    ])
    func httpDatesAreRead(text: String, seconds: Double) {
        #expect(HTTPDate.parse(text)?.timeIntervalSince1970 == seconds, "\(text)")
    }

    /// strftime by hand: what DateFormatter did, without its leak and lock.
    @Test(arguments: [
        ("30/11/2026 08:15", "%d/%m/%Y %H:%M", "2026-11-30T08:15:00Z"),
        ("November 30, 2026 8:15 pm", "%B %d, %Y %I:%M %p", "2026-11-30T20:15:00Z"),
        ("Mon Nov  2 12:00:00 2026 GMT", "%a %b %e %H:%M:%S %Y %Z", "2026-11-02T12:00:00Z"),
        ("2026-334T01:02:03.25+0100", "%Y-%jT%H:%M:%S.%f%z", "2026-11-30T00:02:03.25Z"),
        ("26-11-30 12:00:00 -05:30", "%y-%m-%d %T %z", "2026-11-30T17:30:00Z"),
        ("2026-11-30", "%F", "2026-11-30T00:00:00Z"),
    ])
    func strftimeFormatsAreRead(text: String, format: String, expected: String) throws {
        let date = try #require(try DateText.parse(text, format: format).get(), "\(text) with \(format)")
        #expect(DateText.rfc3339(date) == expected)
    }

    @Test func strftimeFormatsAreWritten() throws {
        let date = try #require(DateText.rfc3339("2026-01-04T21:05:09.5Z"))
        #expect(try DateText.format(date, format: "%A %a %B %b %d %e %j %I:%M:%S %p %y %f %z %Z %% %F %T %D %R").get()
            == "Sunday Sun January Jan 04  4 004 09:05:09 PM 26 500000 +0000 UTC % 2026-01-04 21:05:09 01/04/26 21:05")
        #expect(try DateText.parse("31/02/2026", format: "%d/%m/%Y").get() == nil)
        #expect(try DateText.parse("30/11/2026 extra", format: "%d/%m/%Y").get() == nil)
        #expect(throws: DateText.FormatError.self) { try DateText.parse("x", format: "%Q").get() }
    }

    @Test(arguments: ["yesterday", "Sun, 06 Nov 1994 08:49:37 PST", "Sun, 31 Feb 1994 08:49:37 GMT", "06 Nov 1994", "Sun, 06 Nov 1994 25:00:00 GMT", "1 2 3 4:5:6"])
    func otherTextIsNoHTTPDate(text: String) {
        #expect(HTTPDate.parse(text) == nil, "\(text)")
    }
}
