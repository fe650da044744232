import Foundation

/// Dates as text: RFC 3339 date-times (JSON timestamps), HTTP-dates (RFC 9110 §5.6.7:
/// `Expires`, `Date`, `Last-Modified`, cookies), and strftime-style formats (`%Y-%m-%d`),
/// for the date filters (`to_date`, `format`, `days_after_now`, `days_before_now`) and the
/// date predicates (`is_date`, `is_iso_date`).
///
/// A date value is a string in RFC 3339 form, in UTC (`2026-11-30T06:27:20Z`, with a
/// fraction when it has one): `to_date` writes it, and everything here reads it.
public enum DateText {
    /// The instant an RFC 3339 §5.6 `date-time` names (`2026-11-30T06:27:20.5+01:00`; `T`
    /// or a space between date and time, `Z` or an offset); nil for anything else,
    /// including impossible dates (February 30th).
    public static func rfc3339(_ text: String) -> Date? {
        let s = Array(text.utf8)
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= s.count else { return nil }
            var value = 0
            for k in 0..<count {
                let c = s[i + k]
                guard c >= 0x30, c <= 0x39 else { return nil }
                value = value * 10 + Int(c - 0x30)
            }
            i += count
            return value
        }
        func expect(_ allowed: String) -> Bool {
            guard i < s.count, allowed.utf8.contains(s[i]) else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), expect("-"), let day = digits(2), expect("Tt "),
            let hour = digits(2), expect(":"), let minute = digits(2), expect(":"), let second = digits(2)
        else { return nil }
        var fraction = 0.0
        if i < s.count, s[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            var scale = 0.1
            while i < s.count, s[i] >= 0x30, s[i] <= 0x39 {
                fraction += Double(s[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = 0
        if expect("Zz") {
        } else if i < s.count, s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-") {
            let sign = s[i] == UInt8(ascii: "-") ? -1 : 1
            i += 1
            guard let hours = digits(2), expect(":"), let minutes = digits(2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard i == s.count, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
        return Date(timeIntervalSince1970: seconds)
    }

    /// The instant an HTTP-date names: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), or
    /// the obsolete RFC 850 and asctime forms RFC 9110 §5.6.7 says recipients accept.
    public static func httpDate(_ text: String) -> Date? { HTTPDate.parse(text) }

    /// An RFC 3339 date-time, else an HTTP-date.
    public static func parse(_ text: String) -> Date? { rfc3339(text) ?? httpDate(text) }

    /// The seconds since 1970 of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59Z: the
    /// dates RFC 3339 can write (four-digit years).
    public static let earliest = -62_135_596_800.0
    public static let latest = 253_402_300_799.0

    /// The date a value names: an RFC 3339 date-time or an HTTP-date as text, or a number of
    /// seconds since 1970-01-01T00:00:00Z; nil outside years 1 to 9999.
    public static func date(of value: JSONValue) -> Date? {
        let date: Date?
        switch value {
        case .string(let text):
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            // Seconds since 1970 as text (a header such as `X-Timestamp: 1700000000`).
            if let seconds = ValueComparison.number(fromText: trimmed)?.double, trimmed.allSatisfy({ $0.isASCIIDigit || $0 == "." || $0 == "-" }) {
                date = seconds.isFinite ? Date(timeIntervalSince1970: seconds) : nil
            } else {
                date = parse(trimmed)
            }
        case .number(let n): date = n.double.isFinite ? Date(timeIntervalSince1970: n.double) : nil
        default: date = nil
        }
        guard let date, (earliest...latest).contains(date.timeIntervalSince1970) else { return nil }
        return date
    }

    /// The date in RFC 3339 form, in UTC, with as many fraction digits as it needs (up to 6);
    /// a date outside years 1 to 9999 is written as the nearest of those.
    public static func rfc3339(_ date: Date) -> String {
        let total = min(max(date.timeIntervalSince1970, earliest), latest)
        var seconds = Int(total.rounded(.down))
        var micros = Int(((total - Double(seconds)) * 1_000_000).rounded())
        if micros == 1_000_000 {
            seconds += 1
            micros = 0
        }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let yearText = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        var out = "\(yearText)-\(two(month))-\(two(day))T\(two(rest / 3600)):\(two(rest / 60 % 60)):\(two(rest % 60))"
        if micros > 0 {
            var fraction = String(micros)
            fraction = String(repeating: "0", count: 6 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            out += "." + fraction
        }
        return out + "Z"
    }

    /// The directives `parse(_:format:)` and `format(_:format:)` know.
    static let directives: Set<Character> = ["Y", "y", "m", "d", "e", "H", "I", "M", "S", "f", "p", "b", "h", "B", "a", "A", "j", "z", "Z", "T", "F", "D", "R", "%"]

    /// Checks a strftime-style format (`%Y-%m-%d %H:%M:%S`): every `%` starts a directive of
    /// `%Y %y %m %d %e %H %I %M %S %f %p %b %h %B %a %A %j %z %Z %T %F %D %R %%`.
    public static func check(format: String) -> Result<Void, FormatError> {
        var iterator = format.makeIterator()
        while let c = iterator.next() {
            guard c == "%" else { continue }
            guard let d = iterator.next() else { return .failure(FormatError(directive: "%")) }
            guard directives.contains(d) else { return .failure(FormatError(directive: "%\(d)")) }
        }
        return .success(())
    }

    /// A strftime directive `check(format:)` does not know.
    public struct FormatError: Error, Sendable, Equatable {
        public var directive: String
        public var message: String {
            "the format directive '\(directive)' is not supported (use %Y %y %m %d %e %H %I %M %S %f %p %b %B %a %A %j %z %Z %T %F %D %R %%)"
        }
    }

    static let monthNames = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"]
    static let dayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    /// `text` read with a strftime-style format, as strptime reads it (names in English, any
    /// case; a blank in the format matches any run of blanks), in UTC unless the format
    /// reads an offset (`%z`) or a zone (`%Z`: UTC, GMT or Z). A field the format leaves out
    /// is that of 1970-01-01T00:00:00. Nil when the text does not have the format; read by
    /// hand: Foundation's DateFormatter leaks under the fuzzer and takes a lock.
    public static func parse(_ text: String, format: String) -> Result<Date?, FormatError> {
        if case .failure(let error) = check(format: format) { return .failure(error) }
        let expanded = format.replacingOccurrences(of: "%T", with: "%H:%M:%S").replacingOccurrences(of: "%F", with: "%Y-%m-%d")
            .replacingOccurrences(of: "%D", with: "%m/%d/%y").replacingOccurrences(of: "%R", with: "%H:%M")
        let input = Array(text.unicodeScalars), pattern = Array(expanded.unicodeScalars)
        var i = 0, p = 0
        var year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, fraction = 0.0, offset = 0
        var dayOfYear: Int?, hour12: Int?, pm: Bool?
        func number(_ maxDigits: Int, space: Bool = false) -> Int? {
            if space, i < input.count, input[i] == " " { i += 1 }
            var value = 0, digits = 0
            while digits < maxDigits, i < input.count, let d = input[i].properties.numericType != nil && input[i].isASCII ? Int(String(input[i])) : nil {
                value = value * 10 + d
                digits += 1
                i += 1
            }
            return digits == 0 ? nil : value
        }
        func name(_ names: [String], short: Bool) -> Int? {
            for (index, full) in names.enumerated() {
                let candidate = short ? String(full.prefix(3)) : full
                let end = i + candidate.unicodeScalars.count
                guard end <= input.count else { continue }
                if String(String.UnicodeScalarView(input[i..<end])).lowercased() == candidate {
                    i = end
                    return index
                }
            }
            return nil
        }
        while p < pattern.count {
            let c = pattern[p]
            if c == " " {
                while p < pattern.count, pattern[p] == " " { p += 1 }
                guard i < input.count, input[i] == " " || input[i] == "\t" else { return .success(nil) }
                while i < input.count, input[i] == " " || input[i] == "\t" { i += 1 }
                continue
            }
            guard c == "%", p + 1 < pattern.count else {
                guard i < input.count, input[i] == c else { return .success(nil) }
                i += 1
                p += 1
                continue
            }
            let d = pattern[p + 1]
            p += 2
            var ok = true
            switch d {
            case "Y": if let v = number(4) { year = v } else { ok = false }
            case "y": if let v = number(2) { year = v < 69 ? 2000 + v : 1900 + v } else { ok = false }
            case "m": if let v = number(2) { month = v } else { ok = false }
            case "d": if let v = number(2) { day = v } else { ok = false }
            case "e": if let v = number(2, space: true) { day = v } else { ok = false }
            case "H": if let v = number(2) { hour = v } else { ok = false }
            case "I": if let v = number(2) { hour12 = v } else { ok = false }
            case "M": if let v = number(2) { minute = v } else { ok = false }
            case "S": if let v = number(2) { second = v } else { ok = false }
            case "f":
                let start = i
                if let v = number(9) { fraction = Double(v) / pow(10, Double(i - start)) } else { ok = false }
            case "j": if let v = number(3) { dayOfYear = v } else { ok = false }
            case "p":
                if let v = name(["am", "pm"], short: false) { pm = v == 1 } else { ok = false }
            case "b", "h": if let v = name(monthNames, short: true) { month = v + 1 } else { ok = false }
            case "B": if let v = name(monthNames, short: false) { month = v + 1 } else { ok = false }
            case "a": ok = name(dayNames, short: true) != nil
            case "A": ok = name(dayNames, short: false) != nil
            case "z":
                if i < input.count, input[i] == "Z" || input[i] == "z" {
                    i += 1
                } else if i < input.count, input[i] == "+" || input[i] == "-" {
                    let sign = input[i] == "-" ? -1 : 1
                    i += 1
                    guard let h = number(2) else { return .success(nil) }
                    if i < input.count, input[i] == ":" { i += 1 }
                    guard let m = number(2), h < 24, m < 60 else { return .success(nil) }
                    offset = sign * (h * 3600 + m * 60)
                } else {
                    ok = false
                }
            case "Z": ok = name(["utc", "gmt"], short: false) != nil || name(["z"], short: false) != nil
            case "%": if i < input.count, input[i] == "%" { i += 1 } else { ok = false }
            default: ok = false
            }
            guard ok else { return .success(nil) }
        }
        guard i == input.count else { return .success(nil) }
        if let hour12 {
            guard (1...12).contains(hour12) else { return .success(nil) }
            hour = hour12 % 12 + (pm == true ? 12 : 0)
        } else if let pm, hour <= 12 {
            hour = hour % 12 + (pm ? 12 : 0)
        }
        var days: Int
        if let dayOfYear {
            guard (1...(daysIn(month: 2, year: year) == 29 ? 366 : 365)).contains(dayOfYear) else { return .success(nil) }
            days = daysFromCivil(year: year, month: 1, day: 1) + dayOfYear - 1
        } else {
            guard (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return .success(nil) }
            days = daysFromCivil(year: year, month: month, day: day)
        }
        guard hour < 24, minute < 60, second <= 60 else { return .success(nil) }
        days = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return .success(Date(timeIntervalSince1970: Double(days) + fraction))
    }

    /// `date` written with a strftime-style format, in UTC (names in English).
    public static func format(_ date: Date, format: String) -> Result<String, FormatError> {
        if case .failure(let error) = check(format: format) { return .failure(error) }
        let total = min(max(date.timeIntervalSince1970, earliest), latest)
        let seconds = Int(total.rounded(.down))
        let micros = min(999_999, Int(((total - Double(seconds)) * 1_000_000).rounded()))
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let rest = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        let hour = rest / 3600, minute = rest / 60 % 60, second = rest % 60
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday (4)
        let dayOfYear = days - daysFromCivil(year: year, month: 1, day: 1) + 1
        func pad(_ n: Int, _ width: Int, _ with: Character = "0") -> String {
            let text = String(n)
            return String(repeating: with, count: max(0, width - text.count)) + text
        }
        var out = ""
        var iterator = format.makeIterator()
        while let c = iterator.next() {
            guard c == "%", let d = iterator.next() else {
                out.append(c)
                continue
            }
            switch d {
            case "Y": out += pad(year, 4)
            case "y": out += pad(year % 100, 2)
            case "m": out += pad(month, 2)
            case "d": out += pad(day, 2)
            case "e": out += pad(day, 2, " ")
            case "H": out += pad(hour, 2)
            case "I": out += pad(hour % 12 == 0 ? 12 : hour % 12, 2)
            case "M": out += pad(minute, 2)
            case "S": out += pad(second, 2)
            case "f": out += pad(micros, 6)
            case "p": out += hour < 12 ? "AM" : "PM"
            case "b", "h": out += monthNames[month - 1].prefix(3).capitalized
            case "B": out += monthNames[month - 1].capitalized
            case "a": out += dayNames[weekday].prefix(3).capitalized
            case "A": out += dayNames[weekday].capitalized
            case "j": out += pad(dayOfYear, 3)
            case "z": out += "+0000"
            case "Z": out += "UTC"
            case "T": out += "\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
            case "F": out += "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
            case "D": out += "\(pad(month, 2))/\(pad(day, 2))/\(pad(year % 100, 2))"
            case "R": out += "\(pad(hour, 2)):\(pad(minute, 2))"
            default: out.append("%")
            }
        }
        return .success(out)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// HTTP-dates (RFC 9110 §5.6.7), as servers send them in `Expires`, `Date` and cookies:
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the obsolete RFC 850 form (`Sunday,
/// 06-Nov-94 08:49:37 GMT`) and asctime's (`Sun Nov  6 08:49:37 1994`), and the
/// `06-Nov-1994` of old cookies. Read by hand, as RFC 6265 §5.1.1 reads a cookie's date
/// (tokens for the time, the day, the month and the year, in any order), with no other
/// word allowed than a day's name and GMT or UTC.
public enum HTTPDate {
    static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    static let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    public static func parse(_ text: String) -> Date? {
        guard text.utf8.count <= 64 else { return nil }
        var time: (Int, Int, Int)?, day: Int?, month: Int?, year: Int?
        let tokens = text.split { $0 == " " || $0 == "," || $0 == "-" || $0 == "\t" }
        for token in tokens {
            let t = token.lowercased()
            if time == nil, t.contains(":") {
                let parts = t.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 3, parts.allSatisfy({ (1...2).contains($0.count) && $0.allSatisfy(\.isASCIIDigit) }),
                    let h = Int(parts[0]), let m = Int(parts[1]), let s = Int(parts[2]), h < 24, m < 60, s <= 60
                else { return nil }
                time = (h, m, s)
            } else if t.allSatisfy(\.isASCIIDigit) {
                if day == nil, (1...2).contains(t.count) {
                    day = Int(t)
                } else if year == nil, t.count == 2 || t.count == 4 {
                    let value = Int(t) ?? 0
                    year = t.count == 4 ? value : value < 70 ? 2000 + value : 1900 + value
                } else {
                    return nil
                }
            } else if month == nil, t.count >= 3, let index = months.firstIndex(of: String(t.prefix(3))), t.allSatisfy(\.isLetter) {
                month = index + 1
            } else if days.contains(String(t.prefix(3))), t.allSatisfy(\.isLetter) || t.hasSuffix(".") {
                continue
            } else if t == "gmt" || t == "utc" || t == "z" {
                continue
            } else {
                return nil
            }
        }
        guard let (h, m, s) = time, let day, let month, let year, year >= 1601, day <= DateText.daysIn(month: month, year: year) else { return nil }
        let seconds = DateText.daysFromCivil(year: year, month: month, day: day) * 86_400 + h * 3600 + m * 60 + s
        return Date(timeIntervalSince1970: Double(seconds))
    }
}

extension Character {
    /// 0 to 9, and no other digit of Unicode's.
    package var isASCIIDigit: Bool { isASCII && isNumber }
}
