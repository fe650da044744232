import Foundation
import SondeCore
import SondeReport
@testable import SondeStore
import SondeTestSupport
import Testing

/// The history on a real PostgreSQL server (a throwaway cluster, `PostgresCluster`): the same
/// runs recorded into a SQLite file and into the server read back the same, listing, run,
/// diff pairs and trends (exact and from the rollups) alike; several writers at once lose
/// nothing; pruning keeps the trends; the schema refuses what it must.
@Suite(.serialized)
@BlockingTests
struct PostgresHistoryTests {
    typealias Contract = RunHistoryContractTests

    nonisolated static func server() throws -> PostgresHistory {
        try PostgresHistory(url: try PostgresCluster.sharedDatabase(), access: .readWrite)
    }

    nonisolated static func file() throws -> SQLiteHistory {
        try SQLiteHistory(path: try SQLiteHistoryTests.temporaryDatabase())
    }

    nonisolated static func setExactTrendRuns(_ history: any RunHistory, _ runs: Int) {
        (history as? SQLiteHistory)?.exactTrendRuns = runs
        (history as? PostgresHistory)?.exactTrendRuns = runs
    }

    /// What users read of a history for a filter, as JSON text: the runs listed, each run
    /// whole, the pairs diff compares, and the trends.
    nonisolated static func answers(_ history: any RunHistory, _ filter: RunFilter) throws -> [String] {
        let runs = try history.runs(filter)
        return [
            HistoryJSON.runs(runs).jsonText,
            try runs.prefix(8).map { try history.run(id: $0.id).map { HistoryJSON.run($0).jsonText } ?? "none" }.joined(separator: "\n"),
            HistoryJSON.report(try history.latestRuns(filter).flatMap { $0 }).jsonText,
            HistoryJSON.trends(try history.trends(filter)).jsonText,
        ]
    }

    /// Where two texts part, with a little of each from there.
    nonisolated static func firstDifference(_ a: String, _ b: String) -> String {
        let common = zip(a, b).prefix { $0 == $1 }.count
        return "from character \(common): \(a.dropFirst(max(common - 40, 0)).prefix(160)) | \(b.dropFirst(max(common - 40, 0)).prefix(160))"
    }

    nonisolated static let filters = [
        RunFilter(), RunFilter(collection: "a", environment: "prod"), RunFilter(since: Contract.epoch.addingTimeInterval(86_400)),
        RunFilter(collection: "api/b.yaml", last: 25),
    ]

    @Test func theSameRunsGiveTheSameAnswersFromAFileAndFromTheServer() throws {
        let file = try Self.file()
        let server = try Self.server()
        defer { file.close() }
        try TrendRollupTests.recordHistory(file, runs: 90)
        try TrendRollupTests.recordHistory(server, runs: 90)
        for exact in [1_000, 0] {
            Self.setExactTrendRuns(file, exact)
            Self.setExactTrendRuns(server, exact)
            for filter in Self.filters {
                let (a, b) = (try Self.answers(file, filter), try Self.answers(server, filter))
                for (x, y) in zip(a, b) { #expect(x == y, "filter \(filter), exact runs \(exact): \(Self.firstDifference(x, y))") }
            }
        }
        // Texts with a NUL and U+FFFF come back whole.
        let failed = try server.runs(RunFilter()).first { $0.failed > 0 }
        let excerpt = try failed.flatMap { try server.run(id: $0.id) }?.requests.compactMap(\.responseExcerpt).first
        #expect(excerpt == "nul \u{0} and \u{FFFF}0 here")
    }

    /// Texts longer than a B-tree entry holds (2,704 bytes) are kept and found as in a file.
    @Test func longNamesAreKeptAsInAFile() throws {
        let file = try Self.file()
        let server = try Self.server()
        defer { file.close() }
        let long = String(repeating: "ŝtep ", count: 1_000)
        for history in [file, server] as [any RunHistory] {
            for index in 0..<3 {
                var start = Contract.start(long + "collection", path: long + ".yaml", environment: long + "env", at: Double(index * 60), planned: 2)
                start.uuid = String(format: "00000000-0000-4000-8000-%012d", index)
                try Contract.record(history, start, [Contract.result(long + "a", position: 0), Contract.result(long + "b", position: 1, .failed)])
            }
        }
        for exact in [1_000, 0] {
            Self.setExactTrendRuns(file, exact)
            Self.setExactTrendRuns(server, exact)
            for filter in [RunFilter(), RunFilter(collection: long + "collection")] {
                for (x, y) in zip(try Self.answers(file, filter), try Self.answers(server, filter)) {
                    #expect(x == y, "\(Self.firstDifference(x, y))")
                }
            }
        }
        #expect(try server.trends(RunFilter()).first?.requests.map(\.name) == [long + "a", long + "b"])
    }

    @Test func severalWritersAtOnceLoseNothing() async throws {
        let url = try PostgresCluster.sharedDatabase()
        _ = try PostgresHistory(url: url, access: .readWrite)
        // Four connections, as four `sonde run` processes would have, each recording 25 runs
        // of one collection into the same hours at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<4 {
                // (Each on a thread of its own: they block on the server's sockets.)
                group.addTask {
                    try await offPool {
                        let history = try PostgresHistory(url: url, access: .readWrite)
                        for index in 0..<25 {
                            let start = Contract.start("a", path: "api/a.yaml", at: Double(index * 60 + writer))
                            try Contract.record(history, start, (0..<10).map { Contract.result("step \($0)", position: $0, $0 == writer ? .failed : .passed) })
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        let history = try PostgresHistory(url: url, access: .readOnly)
        let runs = try history.runs(RunFilter())
        #expect(runs.count == 100)
        #expect(runs.allSatisfy { $0.passed + $0.failed == 10 && $0.finished != nil })
        history.exactTrendRuns = 0
        let rolled = try history.trends(RunFilter())
        history.exactTrendRuns = 1_000
        let exact = try history.trends(RunFilter())
        #expect(rolled.map(\.finishedRuns) == [100] && exact.map(\.finishedRuns) == [100])
        #expect(rolled.first?.requests.map(\.runs) == exact.first?.requests.map(\.runs))
        #expect(rolled.first?.requests.map(\.failed) == Array(repeating: 25, count: 4) + Array(repeating: 0, count: 6))
    }

    @Test(arguments: ["sqlite", "postgres"]) func pruningRemovesOldRunsAndKeepsTheirTrend(kind: String) throws {
        let history: any RunHistory = kind == "sqlite" ? try Self.file() : try Self.server()
        defer { history.close() }
        try TrendRollupTests.recordHistory(history, runs: 90)
        Self.setExactTrendRuns(history, 0)
        // (A window reaching back before the cutoff counts its first hour whole: here it
        // starts on an hour.)
        let cutoff = RequestRollup.start(ofHour: RequestRollup.hour(of: Contract.epoch.addingTimeInterval(36 * 3600)))
        let since = cutoff.addingTimeInterval(-6 * 3600)
        let before = (whole: try history.trends(RunFilter()), since: try history.trends(RunFilter(since: since)))
        let total = try history.runs(RunFilter()).count
        // When the runs before an hour go (a cutoff within it stands for its start)
        let removed = try history.prune(startedBefore: cutoff.addingTimeInterval(1800), RunFilter())
        // Then they are gone, the later ones stay, and the trends count what they counted
        let left = try history.runs(RunFilter())
        #expect(removed > 0 && removed + left.count == total)
        // (A run that never finished stays: it is in no rollup, and may be one being written.)
        #expect(left.allSatisfy { $0.started >= cutoff || $0.finished == nil })
        #expect(left.contains { $0.started < cutoff && $0.finished == nil })
        // (Both read from the rollups: a group with no hour pruned is read as before.)
        let after = (whole: try history.trends(RunFilter()), since: try history.trends(RunFilter(since: since)))
        for (label, old, new) in [("whole", before.whole, after.whole), ("since", before.since, after.since)] {
            #expect(old.map(\.finishedRuns) == new.map(\.finishedRuns) && old.map(\.passedRuns) == new.map(\.passedRuns), "\(label)")
            #expect(old.map(\.days) == new.map(\.days), "\(label)")
            #expect(old.map { $0.requests.map(\.name) } == new.map { $0.requests.map(\.name) })
            #expect(old.map { $0.requests.map { [$0.runs, $0.passed, $0.failed, $0.errored, $0.skipped] } } == new.map { $0.requests.map { [$0.runs, $0.passed, $0.failed, $0.errored, $0.skipped] } })
            #expect(old.map { $0.requests.map(\.p95) } == new.map { $0.requests.map(\.p95) })
        }
        // A window after the cutoff reads its runs as before
        let recent = RunFilter(since: Contract.epoch.addingTimeInterval(50 * 3600))
        let counted = Dictionary(grouping: try history.runs(recent)) { "\($0.collection)|\($0.environment ?? "-")" }.mapValues(\.count)
        let trended = Dictionary(uniqueKeysWithValues: try history.trends(recent).map { ("\($0.collection)|\($0.environment ?? "-")", $0.runCount) })
        #expect(counted == trended && !counted.isEmpty)
        // Pruning again removes nothing more
        #expect(try history.prune(startedBefore: cutoff.addingTimeInterval(1800), RunFilter()) == 0)
        // A collection pruned whole keeps its trend, and the terminal says it.
        #expect(try history.prune(startedBefore: Date(), RunFilter()) > 0)
        #expect(try history.runs(RunFilter()).allSatisfy { $0.finished == nil })
        let whole = try history.trends(RunFilter())
        #expect(whole.map(\.finishedRuns) == before.whole.map(\.finishedRuns) && whole.allSatisfy { $0.last != nil })
        #expect(whole.allSatisfy { !HistoryText(colors: false).trend($0).contains("no runs in this window") })
    }

    @Test func aServerOfANewerSondeOrOfAnotherApplicationIsRefused() throws {
        let cluster = try PostgresCluster.shared()
        let newer = try PostgresCluster.sharedDatabase()
        _ = try PostgresHistory(url: newer, access: .readWrite)
        try cluster.sql("INSERT INTO sonde_migration (identifier) VALUES ('v99 from the future')", database: PostgresCluster.database(of: newer))
        #expect { _ = try PostgresHistory(url: newer, access: .readWrite) } throws: { "\($0)".contains("was written by a newer sonde") }
        #expect { _ = try PostgresHistory(url: newer, access: .readOnly) } throws: { "\($0)".contains("was written by a newer sonde") }

        let foreign = try PostgresCluster.sharedDatabase()
        try cluster.sql("CREATE TABLE run (id serial PRIMARY KEY, speed real)", database: PostgresCluster.database(of: foreign))
        #expect { _ = try PostgresHistory(url: foreign, access: .readWrite) } throws: { "\($0)".contains("is not a sonde history") }

        let empty = try PostgresCluster.sharedDatabase()
        #expect { _ = try PostgresHistory(url: empty, access: .readOnly) } throws: { error in
            (error as? HistoryError)?.isUsage == true && "\(error)".contains("holds no sonde history yet")
        }
        // Reading left it empty.
        #expect(try cluster.sql("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'", database: PostgresCluster.database(of: empty)).hasPrefix("0"))
    }

    @Test func aPasswordNeverShows() {
        #expect(PostgresURL.masked("postgres://ci:s3cret@db.example:5432/sonde?sslmode=require") == "postgres://ci:***@db.example:5432/sonde?sslmode=require")
        #expect(PostgresURL.masked("postgresql://ci@db/sonde?password=s3cret&sslmode=verify-full") == "postgresql://ci@db/sonde?password=***&sslmode=verify-full")
        #expect(PostgresURL.masked("postgres://db/sonde") == "postgres://db/sonde")
        #expect(PostgresURL.masked("postgres://a:b:c@d@host/x") == "postgres://a:***@host/x")
    }
}
