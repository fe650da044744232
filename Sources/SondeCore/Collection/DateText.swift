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
        case .string(let text): date = parse(text.trimmingCharacters(in: .whitespaces))
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

    /// A strftime-style format (`%Y-%m-%d %H:%M:%S`) as a `DateFormatter` pattern; nil, with
    /// the directive, when one is not supported. Supported: `%Y %y %m %d %e %H %I %M %S %f
    /// %p %b %h %B %a %A %j %z %Z %T %F %D %R %%`; other text is literal.
    public static func pattern(ofFormat format: String) -> Result<String, FormatError> {
        var out = ""
        var literal = ""
        func flushLiteral() {
            guard !literal.isEmpty else { return }
            // DateFormatter: letters are fields unless quoted; '' is a quote.
            out += "'" + literal.replacingOccurrences(of: "'", with: "''") + "'"
            literal = ""
        }
        var iterator = format.makeIterator()
        while let c = iterator.next() {
            guard c == "%" else {
                literal.append(c)
                continue
            }
            guard let d = iterator.next() else { return .failure(FormatError(directive: "%")) }
            let field: String
            switch d {
            case "Y": field = "yyyy"
            case "y": field = "yy"
            case "m": field = "MM"
            case "d": field = "dd"
            case "e": field = "d"
            case "H": field = "HH"
            case "I": field = "hh"
            case "M": field = "mm"
            case "S": field = "ss"
            case "f": field = "SSSSSS"
            case "p": field = "a"
            case "b", "h": field = "MMM"
            case "B": field = "MMMM"
            case "a": field = "EEE"
            case "A": field = "EEEE"
            case "j": field = "DDD"
            case "z": field = "xx"
            case "Z": field = "zzz"
            case "T": field = "HH:mm:ss"
            case "F": field = "yyyy-MM-dd"
            case "D": field = "MM/dd/yy"
            case "R": field = "HH:mm"
            case "%":
                literal.append("%")
                continue
            default: return .failure(FormatError(directive: "%\(d)"))
            }
            flushLiteral()
            out += field
        }
        flushLiteral()
        return .success(out)
    }

    /// A strftime directive `pattern(ofFormat:)` does not know.
    public struct FormatError: Error, Sendable, Equatable {
        public var directive: String
        public var message: String {
            "the format directive '\(directive)' is not supported (use %Y %y %m %d %e %H %I %M %S %f %p %b %B %a %A %j %z %Z %T %F %D %R %%)"
        }
    }

    /// `text` read with a strftime-style format, in UTC unless the format reads a zone.
    public static func parse(_ text: String, format: String) -> Result<Date?, FormatError> {
        pattern(ofFormat: format).map { pattern in formatter(pattern).date(from: text) }
    }

    /// `date` written with a strftime-style format, in UTC.
    public static func format(_ date: Date, format: String) -> Result<String, FormatError> {
        pattern(ofFormat: format).map { pattern in formatter(pattern).string(from: date) }
    }

    /// A formatter of its own for each use: DateFormatter is not safe to share between threads.
    private static func formatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        formatter.isLenient = false
        return formatter
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
