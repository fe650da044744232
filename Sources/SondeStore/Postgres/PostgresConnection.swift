import CLibPQ
import Foundation
import SondeCore

/// One connection to a PostgreSQL server through libpq, for `PostgresHistory`: statements
/// with parameters (`PQexecParams`, text format both ways), transactions, and errors as
/// `HistoryError`s that name the server by its masked URL. A connection is used by one
/// thread at a time: every use holds its lock (a recursive one, so that a transaction's
/// statements take it again).
final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    /// The server, as messages name it (`PostgresURL.masked`).
    let location: String
    private let lock = NSRecursiveLock()

    /// Connects with libpq's own reading of the URL: host, port, database, user, password
    /// (else `PGPASSWORD`, else `~/.pgpass`), `sslmode` and the other parameters of
    /// PostgreSQL's manual, libpq's "Parameter Key Words" (§34.1.2). A server that cannot be
    /// reached or refuses the login is a usage `HistoryError` (exit 2): nothing was sent yet.
    init(url given: String, location: String) throws(HistoryError) {
        self.location = location
        let url = PostgresURL.normalized(given)
        // A connection attempt that hangs (a firewall dropping packets) is bounded, unless the
        // URL sets its own connect_timeout.
        let bounded = url.contains("connect_timeout=") ? url : url + (url.contains("?") ? "&" : "?") + "connect_timeout=10"
        guard let connection = PQconnectdb(bounded) else { throw HistoryError("cannot connect to \(location): out of memory", isUsage: true) }
        handle = connection
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = PostgresURL.scrub(Self.message(PQerrorMessage(connection)), of: url)
            // (Every property is set: deinit finishes the connection.)
            throw HistoryError("cannot connect to \(location): \(message)", isUsage: true)
        }
        // Notices (a table that exists already) are not the user's business.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        // A lock held elsewhere (a long transaction, a LOCK TABLE in psql) is waited for 30 s,
        // as a SQLite file's, not for ever.
        try execute("SET lock_timeout = '30s'")
    }

    deinit { PQfinish(handle) }

    /// Runs one statement. `parameters` are `$1`, `$2`, … in the text format (nil: NULL; see
    /// `PostgresValue`). Throws a `HistoryError` with the server's message.
    @discardableResult
    func execute(_ sql: String, _ parameters: [String?] = []) throws(HistoryError) -> PostgresRows {
        lock.lock()
        defer { lock.unlock() }
        let result: OpaquePointer? = withCStrings(parameters) { pointers in
            PQexecParams(handle, sql, Int32(parameters.count), nil, pointers, nil, nil, 0)
        }
        guard let result else { throw HistoryError("\(location): \(Self.message(PQerrorMessage(handle)))") }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let (message, state) = Self.error(of: result)
            PQclear(result)
            throw HistoryError(PostgresConnection.describe(message, state: state, location: location))
        }
        return PostgresRows(result)
    }

    /// Runs statements without parameters, several separated by semicolons (`PQexec`): a
    /// migration's script.
    func executeScript(_ sql: String) throws(HistoryError) {
        lock.lock()
        defer { lock.unlock() }
        guard let result = PQexec(handle, sql) else { throw HistoryError("\(location): \(Self.message(PQerrorMessage(handle)))") }
        defer { PQclear(result) }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let (message, state) = Self.error(of: result)
            throw HistoryError(Self.describe(message, state: state, location: location))
        }
    }

    /// Runs `body` in one transaction, committed when it returns and rolled back when it
    /// throws. `begin`: how it begins (READ COMMITTED, PostgreSQL's default, unless it says).
    func transaction<T>(_ begin: String = "BEGIN", _ body: () throws(HistoryError) -> T) throws(HistoryError) -> T {
        lock.lock()
        defer { lock.unlock() }
        try execute(begin)
        do {
            let value = try body()
            try execute("COMMIT")
            return value
        } catch {
            // A connection that is gone cannot roll back: the server does when it notices.
            _ = try? execute("ROLLBACK")
            throw error
        }
    }

    /// Whether the connection is still up (false once the server went away).
    var isUp: Bool { PQstatus(handle) == CONNECTION_OK }

    /// A libpq message on one line (libpq ends them with a newline and indents details).
    static func message(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "unknown error" }
        return String(cString: text).split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.joined(separator: "; ")
    }

    /// A failed statement's message: the server's words and their detail and hint, without
    /// the statement's text it points into (`LINE 1: … ^`), which is Sonde's SQL, not the
    /// user's; libpq's own message when the server sent none (the connection gone). And its
    /// SQLSTATE.
    static func error(of result: OpaquePointer) -> (message: String, state: String?) {
        func field(_ code: Character) -> String? {
            PQresultErrorField(result, Int32(code.asciiValue ?? 0)).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        guard let primary = field("M") else { return (message(PQresultErrorMessage(result)), field("C")) }
        let text = [primary, field("D"), field("H")].compactMap { $0 }.joined(separator: "; ")
        return (text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " "), field("C"))
    }

    /// What a failed statement means: the server gone (SQLSTATE class 08, 57P01 "terminating
    /// connection due to administrator command", or the TLS layer's end) says so; a lock waited
    /// for in vain and a right the user lacks say what to do; anything else is the server's words.
    static func describe(_ message: String, state: String?, location: String) -> String {
        let gone = ["server closed the connection", "no connection to the server", "SSL SYSCALL error", "SSL connection has been closed", "could not receive data", "could not send data"]
        if state?.hasPrefix("08") == true || state == "57P01" || state == "57P02" || state == "57P03" || gone.contains(where: message.contains) {
            return "lost the connection to \(location): \(message)"
        }
        switch state {
        case "55P03":
            return "\(location): waited 30 s for a lock another session holds (\(message)); try again when it is released"
        case "42501":
            return "\(location): \(message) (the first run creates Sonde's tables, and every run writes them: grant this user CREATE and write rights on the schema, or create the tables once as a user who has them)"
        case "3F000", "42P01":
            return "\(location): \(message) (check the schema the URL's options=-csearch_path names)"
        default:
            return "\(location): \(message)"
        }
    }

    private func withCStrings<T>(_ values: [String?], _ body: ([UnsafePointer<CChar>?]) -> T) -> T {
        var storage: [UnsafeMutablePointer<CChar>?] = values.map { $0.map { strdup($0) } ?? nil }
        defer { for pointer in storage { free(pointer) } }
        return storage.withUnsafeMutableBufferPointer { buffer in body(buffer.map { $0.map { UnsafePointer($0) } }) }
    }
}

/// The rows of a statement, in libpq's text format, freed with it.
final class PostgresRows {
    private let result: OpaquePointer
    let count: Int

    init(_ result: OpaquePointer) {
        self.result = result
        count = Int(PQntuples(result))
    }

    deinit { PQclear(result) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) == 1 }

    /// A text column read whole (its stored form decoded: `PostgresValue.text`).
    func text(_ row: Int, _ column: Int) -> String? {
        guard !isNull(row, column), let value = PQgetvalue(result, Int32(row), Int32(column)) else { return nil }
        let length = Int(PQgetlength(result, Int32(row), Int32(column)))
        return PostgresValue.decoded(UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: length))
    }

    /// The column's bytes as libpq holds them (valid while the rows are).
    func bytes(_ row: Int, _ column: Int) -> UnsafeBufferPointer<UInt8> {
        guard let value = PQgetvalue(result, Int32(row), Int32(column)) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: UnsafeRawPointer(value).assumingMemoryBound(to: UInt8.self), count: Int(PQgetlength(result, Int32(row), Int32(column))))
    }

    func int64(_ row: Int, _ column: Int) -> Int64? {
        guard !isNull(row, column) else { return nil }
        var value: Int64 = 0
        var negative = false
        for byte in bytes(row, column) {
            if byte == UInt8(ascii: "-") {
                negative = true
                continue
            }
            value = value &* 10 &+ Int64(byte &- 48)
        }
        return negative ? -value : value
    }

    func int(_ row: Int, _ column: Int) -> Int? { int64(row, column).map(Int.init) }

    /// A double precision column: PostgreSQL 12 and later print the shortest text that reads
    /// back as the same double, so the value is the one stored, to the bit.
    func double(_ row: Int, _ column: Int) -> Double? {
        guard !isNull(row, column) else { return nil }
        return Double(String(decoding: bytes(row, column), as: UTF8.self))
    }

    func bool(_ row: Int, _ column: Int) -> Bool? {
        guard !isNull(row, column) else { return nil }
        return bytes(row, column).first == UInt8(ascii: "t")
    }

    /// A bytea column (PostgreSQL's hex output, `\x0a1b…`), as bytes.
    func data(_ row: Int, _ column: Int) -> [UInt8]? {
        guard !isNull(row, column) else { return nil }
        let hex = bytes(row, column)
        guard hex.count >= 2, hex[0] == UInt8(ascii: "\\"), hex[1] == UInt8(ascii: "x"), hex.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.count / 2 - 1)
        var index = 2
        while index < hex.count {
            guard let high = Self.nibble(hex[index]), let low = Self.nibble(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Values as statements take them, in PostgreSQL's text format.
///
/// PostgreSQL's `text` cannot hold U+0000, which a recorded value may (a response excerpt,
/// a check's actual value): a text is stored with U+0000 written as U+FFFF `0` and U+FFFF
/// itself as U+FFFF U+FFFF, and read back exactly. U+FFFF is a noncharacter, which no text
/// meant for people holds, so stored texts read as they are in `psql`.
enum PostgresValue {
    static let escape: Character = "\u{FFFF}"

    static func text(_ value: String?) -> String? {
        guard let value else { return nil }
        // Nearly every text holds neither: checked on its bytes (U+FFFF is EF BF BF).
        guard value.utf8.contains(where: { $0 == 0 || $0 == 0xEF }), value.contains(where: { $0 == "\u{0}" || $0 == escape }) else { return value }
        var stored = ""
        stored.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\u{0}": stored += "\u{FFFF}0"
            case "\u{FFFF}": stored += "\u{FFFF}\u{FFFF}"
            default: stored.unicodeScalars.append(scalar)
            }
        }
        return stored
    }

    /// A stored text, decoded (`text(_:)` undone).
    static func decoded(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        let stored = String(decoding: bytes, as: UTF8.self)
        guard bytes.contains(0xEF), stored.unicodeScalars.contains("\u{FFFF}") else { return stored }
        var text = String.UnicodeScalarView()
        var escaped = false
        for scalar in stored.unicodeScalars {
            if escaped {
                text.append(scalar == "0" ? "\u{0}" : scalar)
                escaped = false
            } else if scalar == "\u{FFFF}" {
                escaped = true
            } else {
                text.append(scalar)
            }
        }
        return String(text)
    }

    static func int(_ value: Int64?) -> String? { value.map { String($0) } }
    static func int(_ value: Int?) -> String? { value.map { String($0) } }
    /// The shortest text that reads back as the same double.
    static func double(_ value: Double?) -> String? { value.map { "\($0)" } }
    static func bool(_ value: Bool) -> String { value ? "t" : "f" }

    /// bytea in hex (`\x…`).
    static func bytes(_ value: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        for byte in value {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A PostgreSQL URL as `--db` takes it, and as messages show it.
public enum PostgresURL {
    /// The URL as libpq is given it: its scheme in lower case (RFC 3986 §3.1: schemes are
    /// case-insensitive, libpq's reading is not, and reads `POSTGRES://…` as key=value pairs).
    static func normalized(_ url: String) -> String {
        guard let end = url.range(of: "://") else { return url }
        return url[..<end.lowerBound].lowercased() + url[end.lowerBound...]
    }

    /// Why a URL cannot be given to libpq without its password going astray, or nil: a user
    /// or password holding `@`, `/`, `?` or `#` as such (RFC 3986 §3.2.1 wants them
    /// percent-encoded); libpq would read part of the password as the host or the port, and
    /// say it. The message shows nothing of the URL.
    public static func problem(_ url: String) -> String? {
        guard let start = url.range(of: "://")?.upperBound else { return nil }
        let rest = url[start...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        let ats = authority.filter { $0 == "@" }.count
        let misread =
            ats > 1
            || (ats == 0 && rest.dropFirst(authority.count).contains("@")
                && authority.split(separator: ":", maxSplits: 1).dropFirst().first.map { !$0.allSatisfy(\.isNumber) } == true)
        return misread
            ? "the user or password in the PostgreSQL URL holds '@', '/', '?' or '#' as such: percent-encode them (%40, %2F, %3F, %23), or give the password in PGPASSWORD or ~/.pgpass"
            : nil
    }

    /// The URL without its password (in the authority, or a `password=` parameter): what a
    /// command line that is printed may hold. Anything but a PostgreSQL URL is as given.
    public static func withoutPassword(_ url: String) -> String {
        let scheme = url.prefix { $0 != ":" }.lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else { return url }
        let text = masked(url).replacingOccurrences(of: ":***@", with: "@")
        guard let query = text.firstIndex(of: "?") else { return text }
        let kept = text[text.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).filter { !isPassword($0) }
        return String(text[..<query]) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
    }

    /// The password a URL holds (in its authority, or a `password=` parameter), as written
    /// and percent-decoded: what a message from libpq must never show.
    static func passwords(_ url: String) -> [String] {
        var found: [String] = []
        if let start = url.range(of: "://")?.upperBound {
            let authority = url[start...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
            if let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") {
                found.append(String(authority[authority.index(after: colon)..<at]))
            }
        }
        if let query = url.firstIndex(of: "?") {
            for parameter in url[url.index(after: query)...].split(separator: "&") where isPassword(parameter) {
                let decoded = String(parameter).removingPercentEncoding ?? String(parameter)
                found += [String(parameter.drop { $0 != "=" && $0 != "%" }), String(decoded.drop { $0 != "=" }.dropFirst())]
            }
        }
        return found.flatMap { [$0, $0.removingPercentEncoding ?? $0] }.filter { !$0.isEmpty }
    }

    /// Whether a query parameter (`name=value`) gives a password: its name, percent-decoded as
    /// libpq decodes it, in any case.
    static func isPassword(_ parameter: Substring) -> Bool {
        // (Decoded whole first: `password%3Dsecret` is `password=secret` to libpq.)
        let decoded = String(parameter).removingPercentEncoding ?? String(parameter)
        let name = decoded.prefix { $0 != "=" }.lowercased()
        return name == "password" || name == "sslpassword"
    }

    /// A message with every password of `url` replaced by `***`.
    static func scrub(_ message: String, of url: String) -> String {
        passwords(url).reduce(message) { $0.replacingOccurrences(of: $1, with: "***") }
    }

    /// The URL with its password (in the authority, or a `password=` parameter) replaced by
    /// `***`: what messages and `sonde history` print.
    public static func masked(_ url: String) -> String {
        var text = url
        if let schemeEnd = text.range(of: "://") {
            let authorityStart = schemeEnd.upperBound
            let authorityEnd = text[authorityStart...].firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? text.endIndex
            let authority = text[authorityStart..<authorityEnd]
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                if let colon = userInfo.firstIndex(of: ":") {
                    text.replaceSubrange(text.index(after: colon)..<at, with: "***")
                }
            }
        }
        if let query = text.firstIndex(of: "?") {
            let parameters = text[text.index(after: query)...].split(separator: "&", omittingEmptySubsequences: false).map { parameter -> String in
                isPassword(parameter) ? "\((String(parameter).removingPercentEncoding ?? "password").prefix { $0 != "=" })=***" : String(parameter)
            }
            text = String(text[..<query]) + "?" + parameters.joined(separator: "&")
        }
        return text
    }
}
