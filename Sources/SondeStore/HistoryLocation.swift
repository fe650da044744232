import Foundation
import SondeCore

/// Where a history is, as `--db` and `SONDE_DB` give it: a file's path, or a URL whose
/// scheme says which kind of history (`sqlite:PATH`, `sqlite:///absolute/path`,
/// `postgres://USER@HOST:PORT/DB?sslmode=…`).
public struct HistoryLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A SQLite file (`SQLiteHistory`).
        case sqlite(path: String)
        /// A PostgreSQL server (`PostgresHistory`): the URL as given, password and all; never
        /// printed (`description` masks it).
        case postgres(url: String)
    }

    public var kind: Kind

    /// Where the value comes from, as messages name it.
    public static let option = "--db (or SONDE_DB)"

    /// Where runs are recorded unless `--db` or `SONDE_DB` says otherwise.
    public static let `default` = HistoryLocation(kind: .sqlite(path: ".sonde/history.sqlite"))

    public init(kind: Kind) { self.kind = kind }

    /// Reads `--db`'s value: `postgres://…` or `postgresql://…` (libpq's URL: RFC 3986, as
    /// PostgreSQL's manual says in libpq's "Connection Strings", §34.1.1),
    /// `sqlite:PATH` (any case; `sqlite://PATH` too; `~/` is the home folder), or a path. A
    /// value that starts like a URL of another kind (a scheme of two characters or more and a
    /// colon) is refused with a usage `HistoryError` that shows only its scheme (a URL may
    /// hold a password); a file whose name looks like that is written `./name`.
    /// `option`: the option the value was given to, as messages name it.
    public init(parsing text: String, option: String = HistoryLocation.option) throws(HistoryError) {
        guard !text.isBlank else { throw HistoryError("\(option) is empty: give a file's path, sqlite:PATH or postgres://USER@HOST/DB", isUsage: true) }
        // libpq's other form, `host=… dbname=… password=…`, is not read: it would name a file,
        // and print its password with it.
        if text.range(of: #"^\s*[A-Za-z_]+\s*=.*\b(host|hostaddr|dbname|user|password|port|sslmode)\s*="#, options: .regularExpression) != nil
            || text.range(of: #"^\s*(host|hostaddr|dbname|user|password|port|sslmode|service)\s*="#, options: .regularExpression) != nil
        {
            throw HistoryError("\(option) looks like a libpq key=value string: give a PostgreSQL server as a URL, postgres://USER@HOST:PORT/DATABASE", isUsage: true)
        }
        if let scheme = Self.scheme(of: text) {
            if scheme == "postgres" || scheme == "postgresql" {
                guard text.dropFirst(scheme.count).hasPrefix("://") else {
                    throw HistoryError("\(option): write a PostgreSQL server as postgres://USER@HOST:PORT/DATABASE", isUsage: true)
                }
                if let problem = PostgresURL.problem(text) { throw HistoryError("\(option): \(problem)", isUsage: true) }
                self.init(kind: .postgres(url: text))
                return
            }
            guard scheme == "sqlite" else {
                throw HistoryError(
                    "\(option): a history at a \(scheme): URL is not supported; give a file's path, sqlite:PATH or postgres://USER@HOST/DB "
                        + "(a file whose name starts like a URL is written ./NAME)", isUsage: true)
            }
            var path = String(text.dropFirst(scheme.count + 1))
            if path.hasPrefix("//") {
                // sqlite://HOST/PATH (RFC 8089's form): only an empty host or localhost names
                // this machine; a user, a password or another host names nothing here.
                let rest = path.dropFirst(2)
                let authority = rest.prefix { $0 != "/" }
                guard authority.isEmpty || authority.lowercased() == "localhost" else {
                    throw HistoryError(
                        "\(option): a sqlite: URL names a file on this machine: write sqlite:PATH or sqlite:///ABSOLUTE/PATH", isUsage: true)
                }
                path = String(rest.dropFirst(authority.count))
            }
            guard !path.contains("?"), !path.contains("#") else {
                throw HistoryError("\(option): a sqlite: URL takes no query or fragment (?…, #…): write sqlite:PATH", isUsage: true)
            }
            guard !path.isBlank else { throw HistoryError("\(option) sqlite: names no file: write sqlite:PATH", isUsage: true) }
            // `~` is $HOME, as a shell reads it (CI containers set HOME to a folder of their own).
            if path == "~" || path.hasPrefix("~/") {
                let home = ProcessInfo.processInfo.environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
                path = home + path.dropFirst()
            }
            self.init(kind: .sqlite(path: path))
            return
        }
        self.init(kind: .sqlite(path: text))
    }

    /// The scheme a value starts with (lowercased): two or more letters, digits, `+`, `-`
    /// or `.` from a letter, then a colon (RFC 3986 §3.1); nil for a path.
    static func scheme(of text: String) -> String? {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let scheme = text[..<colon]
        guard scheme.count >= 2, RequestURL.isScheme(scheme) else { return nil }
        return scheme.lowercased()
    }

    /// Whether two locations name one history: the same file (by its absolute path, links
    /// resolved), or the same server URL (its password aside).
    public func isSame(as other: HistoryLocation) -> Bool {
        switch (kind, other.kind) {
        case (.sqlite(let a), .sqlite(let b)):
            func resolved(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
            return resolved(a) == resolved(b)
        case (.postgres(let a), .postgres(let b)):
            return PostgresURL.withoutPassword(PostgresURL.normalized(a)) == PostgresURL.withoutPassword(PostgresURL.normalized(b))
        default:
            return false
        }
    }

    /// Whether the history is on a server.
    public var isServer: Bool {
        if case .postgres = kind { return true }
        return false
    }

    /// The history as messages show it: a file's path, or a server's URL with its password masked.
    public var description: String {
        switch kind {
        case .sqlite(let path): path
        case .postgres(let url): PostgresURL.masked(url)
        }
    }

    /// Opens the history: to write, creates it (a file, or the tables on a server) when
    /// missing; to read, it must exist (see `SQLiteHistory.init(path:access:)` and
    /// `PostgresHistory.init(url:access:)` for what is thrown).
    public func open(access: SQLiteHistory.Access) throws(HistoryError) -> any RunHistory {
        switch kind {
        case .sqlite(let path): try SQLiteHistory(path: path, access: access)
        case .postgres(let url): try PostgresHistory(url: url, access: access)
        }
    }
}
