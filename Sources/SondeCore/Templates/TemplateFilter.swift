import Foundation

/// The filters a value can go through, left to right: in a template (`{{ id | int }}`), and
/// under `filters:` in a check or a capture (`filters: [ split('/'), nth(-1) ]`).
package enum TemplateFilter: String, Sendable, Hashable, CaseIterable {
    case `default`, base64, base64_url, base64_decode, urlencode, url_decode, url_query_param, upper, lower, json, from_json, to_hex
    // Conversions.
    case int, float, bool, string
    // Lists: a value that is not a list is a list of one (a header that occurs once).
    case count, nth, first, last, split
    // Text.
    case replace, replace_regex, regex, html_escape, html_unescape, utf8_encode, utf8_decode
    // Queries on a string that holds a document, or on a list or object.
    case jsonpath, xpath
    // Dates.
    case to_date, format, days_after_now, days_before_now

    /// How many arguments the filter takes.
    var arity: ClosedRange<Int> {
        switch self {
        case .default, .nth, .split, .regex, .jsonpath, .xpath, .format, .url_query_param: return 1...1
        case .replace, .replace_regex: return 2...2
        case .to_date: return 0...1
        default: return 0...0
        }
    }

    /// Hurl's names of filters that are spelled otherwise here, for the hint of an unknown name.
    static let hurlNames: [String: TemplateFilter] = [
        "toInt": .int, "to_int": .int, "toFloat": .float, "to_float": .float, "toString": .string, "to_string": .string,
        "base64Decode": .base64_decode, "base64Encode": .base64, "base64UrlSafeEncode": .base64_url, "base64UrlSafeDecode": .base64_decode, "urlDecode": .url_decode, "urlEncode": .urlencode,
        "htmlEscape": .html_escape, "htmlUnescape": .html_unescape, "utf8Encode": .utf8_encode, "utf8Decode": .utf8_decode,
        "toDate": .to_date, "daysAfterNow": .days_after_now, "daysBeforeNow": .days_before_now,
        "replaceRegex": .replace_regex, "urlQueryParam": .url_query_param, "toHex": .to_hex,
    ]

    /// Checks an argument written as a literal when the template is read, so that `validate`
    /// finds a bad regex, JSONPath or date format before anything is sent.
    func checkLiteral(_ argument: JSONValue, at index: Int) -> String? {
        if self == .nth {
            guard argument.numberValue?.integer != nil else { return "nth: the index must be a whole number, found \(argument.jsonText(atMost: 50))" }
            return nil
        }
        let takesText: [TemplateFilter] = [.split, .replace, .replace_regex, .regex, .jsonpath, .xpath, .to_date, .format, .url_query_param]
        if takesText.contains(self), argument.stringValue == nil {
            return "\(rawValue): argument \(index + 1) must be a text in quotes, found \(argument.jsonText(atMost: 50))"
        }
        guard case .string(let text) = argument, index == 0 else { return nil }
        if text.isEmpty, [.regex, .replace_regex, .jsonpath, .xpath, .to_date, .format].contains(self) {
            return "\(rawValue): the \(self == .jsonpath ? "JSONPath" : self == .xpath ? "XPath" : self == .to_date || self == .format ? "format" : "regex") is empty"
        }
        switch self {
        case .regex, .replace_regex:
            if case .failure(let error) = RegexCache.shared.regex(text) { return "\(rawValue): bad regex /\(text)/: \(error.message)" }
        case .jsonpath:
            do { _ = try JSONPath(text) } catch { return "jsonpath: malformed JSONPath '\(text)': \(error.message)" }
        case .to_date, .format:
            if case .failure(let error) = DateText.check(format: text) { return "\(rawValue): \(error.message)" }
        case .xpath:
            if let message = XPathQuery.syntaxError(text) { return "xpath: \(message)" }
        default: break
        }
        return nil
    }

    /// The filtered value. Throws with a message that says what the value was not.
    func apply(to input: JSONValue, _ arguments: [JSONValue], offset: Int, sources: TemplateSources) throws(TemplateError) -> JSONValue {
        func fail(_ message: String) -> TemplateError { TemplateError("\(rawValue): \(message)", offset: offset) }
        func text(_ value: JSONValue, _ what: String) throws(TemplateError) -> String {
            switch value {
            case .string(let s): return s
            case .number, .bool: return value.interpolated
            default: throw fail("\(what) must be text, got \(value.typeName) \(value.jsonText(atMost: 200))")
            }
        }
        func list(_ value: JSONValue) -> [JSONValue] {
            if case .array(let items) = value { return items }
            return [value]
        }
        switch self {
        case .default: return input == .null ? arguments[0] : input
        case .base64: return .string(Data(input.interpolated.utf8).base64EncodedString())
        case .base64_url:
            // RFC 4648 §5, without padding (as JWTs write it).
            let standard = Data(input.interpolated.utf8).base64EncodedString()
            return .string(String(standard.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").prefix { $0 != "=" }))
        case .base64_decode:
            let text = input.interpolated
            var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while padded.count % 4 != 0 { padded += "=" }
            guard let data = Data(base64Encoded: padded), let decoded = String(data: data, encoding: .utf8) else {
                throw TemplateError("base64_decode: the value is not base64-encoded UTF-8 text", offset: offset)
            }
            return .string(decoded)
        case .urlencode: return .string(PercentEncoding.encode(input.interpolated))
        case .url_decode:
            guard let decoded = input.interpolated.removingPercentEncoding else {
                throw fail("the value has a '%' not followed by two hex digits, or encodes bytes that are not UTF-8")
            }
            return .string(decoded)
        case .upper: return .string(input.interpolated.uppercased())
        case .lower: return .string(input.interpolated.lowercased())
        case .json: return .string(input.jsonText)
        case .string: return .string(input.interpolated)
        case .int:
            // A whole number from its text, or a number cut toward zero; never a guess.
            switch input {
            case .number(let n):
                guard let whole = n.truncated else { throw TemplateError("int: \(input.jsonText) is not a finite number", offset: offset) }
                return .number(whole)
            case .string(let text):
                if let n = ValueComparison.number(fromText: text), let digits = n.integerText { return .number(JSONNumber(jsonText: digits)) }
                throw TemplateError("int: \(JSONValue.quoted(text)) is not a whole number", offset: offset)
            case .bool(let b): return .int(b ? 1 : 0)
            default: throw TemplateError("int: cannot make a number of \(input.typeName) \(input.jsonText)", offset: offset)
            }
        case .float:
            // Exact, as every number is: a decimal of the same value, never rounded to a double.
            func decimal(_ text: String) -> JSONNumber? {
                let integral = !text.contains { $0 == "." || $0 == "e" || $0 == "E" }
                return ValueComparison.number(fromText: integral ? text + ".0" : text)
            }
            switch input {
            case .number(let n): return .number(decimal(n.jsonText) ?? n)
            case .string(let text):
                if let n = decimal(text.trimmingCharacters(in: .whitespaces)) { return .number(n) }
                throw TemplateError("float: \(JSONValue.quoted(text)) is not a number", offset: offset)
            default: throw TemplateError("float: cannot make a number of \(input.typeName) \(input.jsonText)", offset: offset)
            }
        case .bool:
            guard let flag = Booleans.parse(input) else {
                throw TemplateError("bool: \(input.jsonText) is not true or false (nor yes/no, on/off, 1/0)", offset: offset)
            }
            return .bool(flag)
        case .from_json:
            guard case .string(let text) = input else { return input }
            do {
                return try JSONValue.parse(text)
            } catch {
                throw TemplateError("from_json: the text is not JSON: \(error.message) (line \(error.line), column \(error.column))", offset: offset)
            }
        case .count:
            if case .object(let members) = input { return .int(members.count) }
            return .int(list(input).count)
        case .nth:
            guard let n = arguments[0].numberValue?.integer else { throw fail("the index must be a whole number, got \(arguments[0].jsonText)") }
            let items = list(input)
            let index = n < 0 ? Int64(items.count) + n : n
            guard index >= 0, index < items.count else {
                throw fail("no item \(n) in \(items.count == 1 ? "a single value" : "a list of \(items.count)")")
            }
            return items[Int(index)]
        case .first, .last:
            let items = list(input)
            guard let item = self == .first ? items.first : items.last else { throw fail("the list is empty") }
            return item
        case .split:
            let separator = try text(arguments[0], "the separator")
            guard !separator.isEmpty else { throw fail("the separator is empty") }
            return .array(try text(input, "the value").components(separatedBy: separator).map(JSONValue.string))
        case .replace:
            let old = try text(arguments[0], "the text to replace")
            guard !old.isEmpty else { throw fail("the text to replace is empty") }
            return .string(try text(input, "the value").replacingOccurrences(of: old, with: try text(arguments[1], "the replacement")))
        case .regex:
            let pattern = try text(arguments[0], "the regex")
            let subject = try text(input, "the value")
            let regex: BoundedRegex
            switch RegexCache.shared.regex(pattern) {
            case .success(let r): regex = r
            case .failure(let error): throw fail("bad regex /\(pattern)/: \(error.message)")
            }
            let groups: [Range<String.Index>?]?
            do {
                groups = try regex.firstMatch(in: subject)
            } catch {
                throw fail("/\(pattern)/ could not be applied: \(error.message)")
            }
            guard let groups else { throw fail("/\(pattern)/ does not match \(JSONValue.quoted(String(subject.prefix(200))))") }
            let group = regex.groupCount > 0 ? 1 : 0
            guard let range = groups[group] else { throw fail("/\(pattern)/ matches, but its group 1 took no part") }
            return .string(String(subject[range]))
        case .replace_regex:
            let pattern = try text(arguments[0], "the regex"), replacement = try text(arguments[1], "the replacement")
            let regex: BoundedRegex
            switch RegexCache.shared.regex(pattern) {
            case .success(let r): regex = r
            case .failure(let error): throw fail("bad regex /\(pattern)/: \(error.message)")
            }
            var subject = Substring(try text(input, "the value"))
            var out = ""
            // Every match, left to right; an empty match moves on by one character.
            while true {
                let groups: [Range<String.Index>?]?
                do { groups = try regex.firstMatch(in: String(subject)) } catch { throw fail("/\(pattern)/ could not be applied: \(error.message)") }
                guard let match = groups?.first.flatMap({ $0 }) else { break }
                let local = String(subject)
                out += local[..<match.lowerBound] + replacement
                if match.isEmpty {
                    guard match.upperBound < local.endIndex else { subject = ""; break }
                    out.append(local[match.upperBound])
                    subject = Substring(local[local.index(after: match.upperBound)...])
                } else {
                    subject = Substring(local[match.upperBound...])
                }
            }
            return .string(out + subject)
        case .url_query_param:
            let name = try text(arguments[0], "the parameter's name")
            let url = try text(input, "the value")
            guard let question = url.firstIndex(of: "?") else { throw fail("the URL has no query") }
            let query = url[url.index(after: question)...].prefix { $0 != "#" }
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let decode = { (s: Substring) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
                if decode(parts[0]) == name { return .string(parts.count > 1 ? decode(parts[1]) : "") }
            }
            throw fail("the URL's query has no parameter '\(name)'")
        case .to_hex:
            var bytes: [UInt8] = []
            if case .array(let items) = input {
                for item in items {
                    guard let byte = item.numberValue?.integer, (0...255).contains(byte) else {
                        throw fail("expected text or a list of bytes (whole numbers 0 to 255), found \(item.jsonText(atMost: 50))")
                    }
                    bytes.append(UInt8(byte))
                }
            } else {
                bytes = Array(try text(input, "the value").utf8)
            }
            return .string(bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined())
        case .html_escape: return .string(HTMLText.escape(try text(input, "the value")))
        case .html_unescape: return .string(HTMLText.unescape(try text(input, "the value")))
        case .utf8_encode: return .array(Array(try text(input, "the value").utf8).map { .int(Int($0)) })
        case .utf8_decode:
            var bytes: [UInt8] = []
            for item in list(input) {
                guard let byte = item.numberValue?.integer, (0...255).contains(byte) else {
                    throw fail("expected a list of bytes (whole numbers 0 to 255), found \(item.jsonText(atMost: 50))")
                }
                bytes.append(UInt8(byte))
            }
            guard let decoded = String(validating: bytes, as: UTF8.self) else { throw fail("the bytes are not UTF-8") }
            return .string(decoded)
        case .jsonpath:
            let pathText = try text(arguments[0], "the JSONPath")
            let path: JSONPath
            do { path = try JSONPath(pathText) } catch { throw fail("malformed JSONPath '\(pathText)': \(error.message)") }
            var document = input
            if case .string(let body) = input {
                do { document = try JSONValue.parse(body) } catch {
                    throw fail("the text is not JSON: \(error.message) (line \(error.line), column \(error.column))")
                }
            }
            let values: [JSONValue]
            do { values = try path.values(in: document) } catch { throw fail("\(pathText): \(error.message)") }
            if path.isSingular {
                guard let first = values.first else { throw fail("\(pathText) selected nothing") }
                return first
            }
            return .array(values)
        case .xpath:
            let expression = try text(arguments[0], "the XPath")
            let document = try text(input, "the value")
            let start = document.prefix(512).lowercased()
            let html = start.contains("<!doctype html") || start.contains("<html")
            switch XPathQuery.evaluate(expression, in: Array(document.utf8), html: html, what: "the text") {
            case .success(.nodes([])): throw fail("\(expression) selected nothing")
            case .success(let value): return value.json
            case .failure(let error): throw fail(error.message)
            }
        case .to_date:
            if arguments.isEmpty {
                guard let date = DateText.date(of: input) else {
                    throw fail("\(input.jsonText(atMost: 200)) is not an RFC 3339 date-time, an HTTP-date or a number of seconds since 1970 (give a format: to_date('%d/%m/%Y'))")
                }
                return .string(DateText.rfc3339(date))
            }
            let format = try text(arguments[0], "the format")
            let value = try text(input, "the value")
            switch DateText.parse(value, format: format) {
            case .failure(let error): throw fail(error.message)
            case .success(nil): throw fail("\(JSONValue.quoted(value)) does not have the format '\(format)'")
            case .success(let date?): return .string(DateText.rfc3339(date))
            }
        case .format:
            guard let date = DateText.date(of: input) else { throw fail("\(input.jsonText(atMost: 200)) is not a date") }
            switch DateText.format(date, format: try text(arguments[0], "the format")) {
            case .failure(let error): throw fail(error.message)
            case .success(let text): return .string(text)
            }
        case .days_after_now, .days_before_now:
            guard let date = DateText.date(of: input) else { throw fail("\(input.jsonText(atMost: 200)) is not a date") }
            let seconds = date.timeIntervalSince(sources.now())
            let days = (self == .days_after_now ? seconds : -seconds) / 86_400
            return .int(Int(days.rounded(.towardZero)))
        }
    }
}

/// HTML's five special characters, and character references of all kinds.
package enum HTMLText {
    /// `&`, `<`, `>`, `"` and `'` as character references, as Python's `html.escape` does.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for c in text.unicodeScalars {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#x27;"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    /// Named (`&eacute;`), decimal (`&#233;`) and hex (`&#xE9;`) references replaced by their
    /// characters; anything else left as it is.
    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let scalars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            guard scalars[i] == "&", let end = scalars[i...].prefix(40).firstIndex(of: ";") else {
                out.append(scalars[i])
                i += 1
                continue
            }
            let name = String(String.UnicodeScalarView(scalars[(i + 1)..<end]))
            var replacement: Unicode.Scalar?
            if name.hasPrefix("#") {
                // A numeric reference to NUL, a surrogate or beyond Unicode is U+FFFD (HTML §13.2.5.80).
                let digits = name.hasPrefix("#x") || name.hasPrefix("#X") ? name.dropFirst(2) : name.dropFirst()
                let radix = digits.count == name.count - 2 ? 16 : 10
                if !digits.isEmpty, digits.allSatisfy({ $0.isHexDigit && (radix == 16 || $0.isNumber) }) {
                    let code = UInt32(digits.prefix(8), radix: radix).map { digits.count > 8 ? UInt32.max : $0 } ?? UInt32.max
                    replacement = code == 0 ? "\u{FFFD}" : Unicode.Scalar(code) ?? "\u{FFFD}"
                }
            } else {
                replacement = HTMLEntities.byName[Array(name.utf8)].flatMap(Unicode.Scalar.init)
            }
            if let replacement {
                out.append(replacement)
                i = end + 1
            } else {
                out.append(scalars[i])
                i += 1
            }
        }
        return String(out)
    }
}
