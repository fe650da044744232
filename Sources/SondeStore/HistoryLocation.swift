import Foundation
import SondeCore

/// Where a history is, as `--db` and `SONDE_DB` give it: a file's path, or a URL whose
/// scheme says which kind of history (`sqlite:PATH`, `sqlite:///absolute/path`).
public struct HistoryLocation: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A SQLite file (`SQLiteHistory`).
        case sqlite(path: String)
    }

    public var kind: Kind

    /// Where runs are recorded unless `--db` or `SONDE_DB` says otherwise.
    public static let `default` = HistoryLocation(kind: .sqlite(path: ".sonde/history.sqlite"))

    public init(kind: Kind) { self.kind = kind }

    /// Reads `--db`'s value. Throws a usage `HistoryError` for an empty value and for a URL of
    /// a kind of history this sonde cannot use (its password masked in the message).
    public init(parsing text: String) throws(HistoryError) {
        guard !text.isEmpty else { throw HistoryError("--db is empty: give a file's path or sqlite:PATH", isUsage: true) }
        if text.hasPrefix("sqlite:") {
            var path = String(text.dropFirst("sqlite:".count))
            // sqlite:///abs/path and sqlite://relative are URLs with an empty or no authority.
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw HistoryError("\(text) names no file: write sqlite:PATH", isUsage: true) }
            self.init(kind: .sqlite(path: path))
            return
        }
        if let scheme = RequestURL.scheme(of: text), text.dropFirst(scheme.count).hasPrefix("://") {
            throw HistoryError(
                "\(RequestURL.maskingPassword(text)): a history at a \(scheme): URL is not supported; give a file's path or sqlite:PATH", isUsage: true)
        }
        self.init(kind: .sqlite(path: text))
    }

    /// The file's path, for a SQLite history.
    public var path: String {
        switch kind {
        case .sqlite(let path): path
        }
    }

    public var description: String { path }

    /// Opens the history: to write, creates it when missing; to read, it must exist (see
    /// `SQLiteHistory.init(path:access:)` for what is thrown).
    public func open(access: SQLiteHistory.Access) throws(HistoryError) -> any RunHistory {
        switch kind {
        case .sqlite(let path): try SQLiteHistory(path: path, access: access)
        }
    }
}
