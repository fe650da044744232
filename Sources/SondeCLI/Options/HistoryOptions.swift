import ArgumentParser
import Foundation
import SondeCore
import SondeStore

/// `--db`: where the history lives.
struct DatabaseOption: ParsableArguments {
    @Option(
        name: .customLong("db"),
        help: ArgumentHelp(
            "The history: a file's path, sqlite:PATH, or postgres://USER@HOST:PORT/DB.",
            discussion: "Default: $SONDE_DB, else .sonde/history.sqlite. A server's password comes from the URL, $PGPASSWORD or ~/.pgpass, and is never printed.",
            valueName: "path|url"))
    var path: String?

    /// Where the history is: --db, else $SONDE_DB, else the default file. A value that names
    /// no history this sonde can use is a usage error (exit 2).
    func location() throws -> HistoryLocation {
        let text = path ?? ProcessInfo.processInfo.environment["SONDE_DB"].flatMap { $0.isEmpty ? nil : $0 }
        guard let text else { return .default }
        return try storeCall { try HistoryLocation(parsing: text) }
    }

    /// The existing database, read-only, for commands that only read: they never create or
    /// change one. A missing file is a usage error (exit 2); one that cannot be read, is
    /// damaged, or is not a history database is a storage error (exit 3).
    func openExisting() throws -> any RunHistory {
        let location = try location()
        return try storeCall { try location.open(access: .readOnly) }
    }
}

/// `--db` and `--no-save`: where `sonde run` and `sonde demo` record, if at all.
struct RecordingOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOption

    @Flag(name: .customLong("no-save"), help: "Do not record the run in the history database.")
    var noSave = false

    /// Opened before anything is sent: a run that cannot be recorded does not start.
    func openHistory() throws -> (any RunHistory)? {
        guard !noSave else { return nil }
        let location = try database.location()
        do {
            return try location.open(access: .readWrite)
        } catch {
            Terminal.error("\(error.description) (--no-save runs without recording)")
            throw ExitCode(error.isUsage ? ExitStatus.usage : ExitStatus.internalError)
        }
    }
}

/// `--since 7d`: a window back from now, in days or weeks, or as collections write
/// durations (`12h`, `30m`).
struct Since: ExpressibleByArgument {
    var seconds: Double
    /// As the user wrote it (`7d`).
    var written: String

    init(days: Double) {
        seconds = days * 86_400
        written = "\(Int(days))d"
    }

    init?(argument: String) {
        written = argument
        for (suffix, days) in [("w", 7.0), ("d", 1.0)] where argument.hasSuffix(suffix) {
            guard let count = TimeSpan(parsing: argument.dropLast() + "h") else { return nil }
            seconds = count.seconds * 24 * days
            guard seconds.isFinite, seconds <= Self.longest else { return nil }
            return
        }
        guard let span = TimeSpan(parsing: argument) else { return nil }
        seconds = span.seconds
        guard seconds.isFinite, seconds <= Self.longest else { return nil }
    }

    /// A century: the longest window or age a history has use for.
    static let longest: Double = 36_525 * 86_400

    static var defaultValueDescription: String { "e.g. 30d, 12h, 2w" }

    /// `--older-than`: hours, days or weeks only. Pruning goes by the hour, so minutes and
    /// seconds would mean "every run before this hour": `6m` (six minutes, where six months
    /// was meant) is refused.
    static func age(_ argument: String) throws -> Since {
        guard let unit = argument.last, "hdw".contains(unit), let age = Since(argument: argument) else {
            throw ValidationError(
                "--older-than takes hours, days or weeks, up to a century: 36h, 90d, 12w (six months is 180d; '\(argument)' is not one)")
        }
        return age
    }

    var date: Date { Date().addingTimeInterval(-seconds) }
}

/// `--latency-threshold 50%`.
struct Percentage: ExpressibleByArgument, CustomStringConvertible {
    var fraction: Double

    /// `50%`, as `--help` shows the default.
    var description: String {
        let percent = fraction * 100
        return percent.rounded() == percent && abs(percent) < 1e15 ? "\(Int(percent))%" : "\(percent)%"
    }

    var defaultValueDescription: String { description }

    init(fraction: Double) {
        self.fraction = fraction
    }

    init?(argument: String) {
        let digits = argument.hasSuffix("%") ? String(argument.dropLast()) : argument
        guard let value = Double(digits), value >= 0 else { return nil }
        fraction = value / 100
    }
}

/// `--latency-floor 50ms`.
struct Milliseconds: ExpressibleByArgument, CustomStringConvertible {
    var value: Double

    var description: String { TimeSpan(milliseconds: value).description }

    var defaultValueDescription: String { description }

    init(_ value: Double) {
        self.value = value
    }

    init?(argument: String) {
        guard let span = TimeSpan(parsing: argument) else { return nil }
        value = span.milliseconds
    }
}

/// What a change must exceed to count, for `diff` and `run --compare`.
struct DiffThresholdOptions: ParsableArguments {
    @Option(name: .customLong("latency-threshold"), help: "A latency change counts beyond this percentage of the old latency (50% or 50).")
    var latencyThreshold = Percentage(fraction: RunDiff.Thresholds().latencyRatio)

    @Option(name: .customLong("latency-floor"), help: "…and beyond this absolute change (e.g. 50ms).")
    var latencyFloor = Milliseconds(RunDiff.Thresholds().latencyFloor.inMilliseconds)

    var thresholds: RunDiff.Thresholds {
        RunDiff.Thresholds(latencyRatio: latencyThreshold.fraction, latencyFloor: .fromMilliseconds(latencyFloor.value))
    }
}

/// Which runs `trend` and `report` look at: a collection, an environment, and a window of
/// the last 30 days unless `--since` or `--last` says otherwise.
struct HistoryWindow: ParsableArguments {
    @Argument(help: "A collection's name, or the file it was run from (default: every collection).")
    var collection: String?

    @Option(help: "Only runs in this environment.")
    var env: String?

    @Option(help: "Only the last N runs of each collection.")
    var last: Int?

    @Option(help: "Only runs started in this window back from now: 7d, 12h, 2w. (default: 30d, unless --last)")
    var since: Since?

    func validate() throws {
        if let last, last < 1 { throw ValidationError("--last takes a number from 1 up") }
    }

    /// The start of the window: --since, else 30 days unless --last bounds it instead.
    var start: Date? { since?.date ?? (last == nil ? Since(days: 30).date : nil) }

    var filter: RunFilter { RunFilter(collection: collection, environment: env, since: start, last: last) }

    /// The window in words (`the last 7d`), when it is one of time.
    var described: String? { since.map { "the last \($0.written)" } ?? (last == nil ? "the last 30 days" : nil) }
}
