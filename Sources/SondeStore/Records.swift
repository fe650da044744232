import GRDB
import SondeCore

/// The history's tables and their columns, each spelled once. SQL is built from these; text
/// columns are read as their bytes (`CAST … AS BLOB`): GRDB reads TEXT as a C string, which
/// would cut it at a NUL, and a value with a NUL in it is recorded whole.
protocol HistoryTable {
    associatedtype Columns: RawRepresentable<String>, CaseIterable, Hashable
    static var name: String { get }
    /// The columns that hold text (read as bytes).
    static var textColumns: Set<Columns> { get }
}

extension HistoryTable {
    /// `"c"` for each column, for an INSERT's list.
    static func list(_ columns: [Columns]) -> String { columns.map { "\"\($0.rawValue)\"" }.joined(separator: ", ") }

    /// The columns to SELECT, text ones cast to BLOB under their own name; `alias` prefixes each.
    static func selection(_ columns: [Columns] = Array(Columns.allCases), alias: String? = nil) -> String {
        let prefix = alias.map { $0 + "." } ?? ""
        return columns.map { column in
            let name = "\"\(column.rawValue)\""
            return textColumns.contains(column) ? "CAST(\(prefix)\(name) AS BLOB) AS \(name)" : prefix + name
        }.joined(separator: ", ")
    }

    /// `INSERT INTO table (columns) VALUES (?, …)`.
    static func insert(_ columns: [Columns], orIgnore: Bool = false) -> String {
        "INSERT \(orIgnore ? "OR IGNORE " : "")INTO \(name) (\(list(columns))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }
}

/// A run (`run`).
enum RunTable: HistoryTable {
    static let name = "run"
    enum Columns: String, CaseIterable {
        case id, collection, file, collectionPath, contentHash, environment, startedAt, finishedAt, toolVersion, gitCommit, outcome,
            plannedRequests, passed, failed, errored, skipped, selection, uuid, host, user, ciProvider, ciJobUrl, ciBranch, ciCommit
    }
    static let textColumns: Set<Columns> = [.collection, .file, .collectionPath, .environment, .selection, .host, .user, .ciProvider, .ciJobUrl, .ciBranch, .ciCommit]
}

/// A request of a run (`request`).
enum RequestTable: HistoryTable {
    static let name = "request"
    enum Columns: String, CaseIterable {
        case id, runId, position, step, name, method, url, file, line, column, outcome, status, dnsMs, connectMs, tlsMs, firstByteMs, totalMs,
            attempts, responseSize, bodyHash, shapeHash, error, errorKind, skipReason, skipKind, startMs, responseExcerpt, finalUrl, redirects, phase
    }
    static let textColumns: Set<Columns> = [.step, .name, .url, .file, .error, .skipReason, .responseExcerpt, .finalUrl, .redirects]
    /// The texts a secret learned later may stand in (`SQLiteHistory.redact`).
    /// (`step` is masked apart: `RequestResult.maskedStep`.)
    static let maskedColumns: [Columns] = [.name, .url, .error, .skipReason, .responseExcerpt, .finalUrl, .redirects]
}

/// A check of a request (`expectation`).
enum CheckTable: HistoryTable {
    static let name = "expectation"
    enum Columns: String, CaseIterable {
        case requestId, position, subject, expected, actual, passed, message, file, line, column
    }
    static let textColumns: Set<Columns> = [.subject, .expected, .actual, .message, .file]
    static let maskedColumns: [Columns] = [.subject, .expected, .actual, .message]
}

/// A JSON shape, stored once (`shape`).
enum ShapeTable: HistoryTable {
    static let name = "shape"
    enum Columns: String, CaseIterable {
        case hash, paths
    }
    static let textColumns: Set<Columns> = [.paths]
}

/// A collection in one environment, as the trend rollups key it (`trendGroup`): every
/// collection and environment with a finished run has one.
enum TrendGroupTable: HistoryTable {
    static let name = "trendGroup"
    enum Columns: String, CaseIterable {
        case id, collection, collectionPath, environment, prunedBefore
    }
    static let textColumns: Set<Columns> = [.collection, .collectionPath, .environment]
}

/// A group's finished runs that started in one quarter hour (`runRollup`, `RunRollup`).
enum RunRollupTable: HistoryTable {
    static let name = "runRollup"
    enum Columns: String, CaseIterable {
        case groupId, quarter, runs, passed, failed, errored, skipped
    }
    static let textColumns: Set<Columns> = []
}

/// One step's requests in a group's finished runs that started in one hour (`requestRollup`,
/// `RequestRollup`): latencies as integer nanoseconds (exact) and a histogram
/// (`LatencyHistogram`, encoded by `HistogramCoding`).
enum RequestRollupTable: HistoryTable {
    static let name = "requestRollup"
    enum Columns: String, CaseIterable {
        case groupId, hour, step, name, newestRun, position, passed, failed, errored, skipped, latencySumNs, latencyMinNs, latencyMaxNs, histogram
    }
    static let textColumns: Set<Columns> = [.step, .name]
}

extension Row {
    /// A text column read as bytes (see `HistoryTable`), whole.
    func text<C: RawRepresentable<String>>(_ column: C) -> String? {
        switch (self[column.rawValue] as DatabaseValue).storage {
        case .blob(let data): return String(decoding: data, as: UTF8.self)
        case .string(let text): return text
        default: return nil
        }
    }

    subscript<Value: DatabaseValueConvertible, C: RawRepresentable<String>>(_ column: C) -> Value {
        self[column.rawValue]
    }
}

extension Outcome {
    /// An outcome read back from its whole text; a text that is none is a damaged history.
    static func stored(_ text: String?) throws -> Outcome {
        guard let text, let outcome = Outcome(rawValue: text) else {
            throw HistoryError("the history holds an outcome that is none of passed, failed, error, skipped: \(text.map(JSONValue.quoted) ?? "null")")
        }
        return outcome
    }
}

/// The identity a run recorded before runs had one (schema v8 and earlier) is given.
enum RunIdentity {
    /// A UUID (RFC 9562 version 8, its bits from SHA-256) of the run's number, collection,
    /// file, environment, start and collection hash: the same in every copy of one history
    /// file, different for any two runs of it.
    static func derived(id: Int64, collection: String, collectionPath: String, environment: String?, started: Double, contentHash: String) -> String {
        let key = ["sonde run", String(id), collection, collectionPath, environment ?? "\u{0}", String(started), contentHash].joined(separator: "\u{0}")
        let digest = Digest.sha256(key)
        var bytes = stride(from: 0, to: 32, by: 2).map { UInt8(digest.dropFirst($0).prefix(2), radix: 16) ?? 0 }
        bytes[6] = (bytes[6] & 0x0F) | 0x80  // version 8
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // the RFC's variant
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let parts = [hex.prefix(8), hex.dropFirst(8).prefix(4), hex.dropFirst(12).prefix(4), hex.dropFirst(16).prefix(4), hex.dropFirst(20)]
        return parts.joined(separator: "-")
    }
}
