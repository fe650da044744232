import Foundation
import SondeCore

extension PostgresHistory {
    static let runInsertColumns = [
        "collection", "file", "contentHash", "environment", "startedAt", "toolVersion", "gitCommit", "plannedRequests", "collectionPath", "selection",
        "uuid", "host", "\"user\"", "ciProvider", "ciJobUrl", "ciBranch", "ciCommit",
    ]

    public func begin(_ start: RunStart) throws(HistoryError) -> Int64 {
        var p = PostgresParameters()
        let values = [
            p.text(start.collection), p.text(start.file), p.text(start.contentHash), p.text(start.environment), p.double(SQLiteHistory.storedTime(start.started)),
            p.text(start.toolVersion), p.text(start.gitCommit), p.int(Int64(start.plannedRequests)), p.text(start.collectionPath), p.text(start.selection),
            p.text(start.uuid), p.text(start.origin.host), p.text(start.origin.user), p.text(start.origin.ci?.provider), p.text(start.origin.ci?.jobURL),
            p.text(start.origin.ci?.branch), p.text(start.origin.ci?.commit),
        ]
        let rows = try connection.execute(
            "INSERT INTO run (\(Self.runInsertColumns.joined(separator: ", "))) VALUES (\(values.joined(separator: ", "))) ON CONFLICT (uuid) DO NOTHING RETURNING id",
            p.values)
        guard let id = rows.int64(0, 0) else {
            // Two imports of one run at once: the second finds its UUID taken.
            var duplicate = HistoryError("\(location) has run \(start.uuid) already")
            duplicate.isDuplicateRun = true
            throw duplicate
        }
        writers.add(RunWriter(history: self, runID: id, file: start.file))
        return id
    }

    public func append(_ result: RequestResult, to run: Int64) {
        writers.append(result, to: run)
    }

    public func redact(run: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError) {
        try writers.redact(run: run, positionsBelow: limit, with: redactor, bodyHashes: bodyHashes, in: self)
    }

    public func finish(run: Int64, outcome: Outcome, at finished: Date) throws(HistoryError) {
        try writers.close(run)
        try write { () throws(HistoryError) in
            let finishedBefore = try connection.execute("SELECT finishedAt IS NOT NULL FROM run WHERE id = $1 FOR UPDATE", [String(run)]).bool(0, 0) ?? false
            try connection.execute(
                "UPDATE run SET outcome = $1, finishedAt = $2 WHERE id = $3", [outcome.rawValue, PostgresValue.double(SQLiteHistory.storedTime(finished)), String(run)])
            // Into the trend rollups in the same transaction, as SQLite's.
            try finishedBefore ? resumRollups(ofRun: run) : rollUp(run: run)
        }
    }

    public func leaveIncomplete(run: Int64) throws(HistoryError) {
        try writers.close(run)
    }

    public func flush() {
        writers.flush()
    }

    static let requestInsertColumns = [
        "runId", "position", "step", "name", "method", "url", "file", "line", "\"column\"", "outcome", "status", "dnsMs", "connectMs", "tlsMs", "firstByteMs",
        "totalMs", "attempts", "responseSize", "bodyHash", "shapeHash", "error", "errorKind", "skipReason", "skipKind", "startMs", "responseExcerpt", "finalUrl",
        "redirects", "phase",
    ]
    static let checkInsertColumns = ["runId", "requestPosition", "position", "subject", "expected", "actual", "passed", "message", "file", "line", "\"column\""]

    /// A statement's parameters are at most 65,535: rows are inserted this many at a time.
    static func rowsPerInsert(columns: Int) -> Int { 60_000 / columns }

    /// `INSERT INTO table (columns) VALUES ($1, …), (…)` for rows of values, a statement per
    /// `rowsPerInsert` rows; `suffix` ends each statement (`ON CONFLICT DO NOTHING`).
    func insert(into table: String, columns: [String], rows: [[String?]], suffix: String = "") throws(HistoryError) {
        var start = 0
        let chunk = Self.rowsPerInsert(columns: columns.count)
        while start < rows.count {
            let slice = rows[start..<min(start + chunk, rows.count)]
            var sql = "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
            var parameters: [String?] = []
            parameters.reserveCapacity(slice.count * columns.count)
            for (index, row) in slice.enumerated() {
                if index > 0 { sql += ", " }
                sql += "("
                for column in row.indices {
                    if column > 0 { sql += ", " }
                    parameters.append(row[column])
                    sql += "$\(parameters.count)"
                }
                sql += ")"
            }
            try connection.execute(sql + (suffix.isEmpty ? "" : " " + suffix), parameters)
            start += chunk
        }
    }

    func record(
        _ requests: [(result: RequestResult, shapeHash: String?)], newShapes: [(hash: String, text: String)], runID: Int64, runFile: String
    ) throws(HistoryError) {
        guard !requests.isEmpty else { return }
        let run = String(runID)
        var requestRows: [[String?]] = []
        var checkRows: [[String?]] = []
        var counts = (passed: 0, failed: 0, errored: 0, skipped: 0)
        for (request, shapeHash) in requests {
            let timings = request.timings
            let position = String(request.position)
            requestRows.append([
                run, position, PostgresValue.text(request.step), PostgresValue.text(request.name), PostgresValue.text(request.method),
                PostgresValue.text(request.url), PostgresValue.text(request.location.flatMap { $0.file == runFile ? nil : $0.file }),
                PostgresValue.int(request.location?.line), PostgresValue.int(request.location?.column), request.outcome.rawValue,
                PostgresValue.int(request.status), PostgresValue.double(timings?.dns.inMilliseconds), PostgresValue.double(timings?.connect.inMilliseconds),
                PostgresValue.double(timings?.tls.inMilliseconds), PostgresValue.double(timings?.firstByte.inMilliseconds),
                PostgresValue.double(timings?.total.inMilliseconds), String(request.attempts), String(request.responseSize), PostgresValue.text(request.bodyHash),
                PostgresValue.text(shapeHash), PostgresValue.text(request.problem?.message), request.problem?.kind.rawValue,
                PostgresValue.text(request.skip?.message), request.skip?.kind.rawValue, PostgresValue.double(request.startOffset?.inMilliseconds),
                PostgresValue.text(request.responseExcerpt), PostgresValue.text(request.finalURL),
                PostgresValue.text(request.redirects.isEmpty ? nil : JSONValue.array(request.redirects.map(\.json)).jsonText),
                request.phase == .main ? nil : request.phase.rawValue,
            ])
            for (index, check) in request.checks.enumerated() {
                checkRows.append([
                    run, position, String(index), PostgresValue.text(check.subject), PostgresValue.text(check.expected), PostgresValue.text(check.actual),
                    PostgresValue.bool(check.passed), PostgresValue.text(check.message),
                    PostgresValue.text(check.location.file == runFile ? nil : check.location.file), String(check.location.line),
                    String(check.location.column),
                ])
            }
            switch request.outcome {
            case .passed: counts.passed += 1
            case .failed: counts.failed += 1
            case .error: counts.errored += 1
            case .skipped: counts.skipped += 1
            }
        }
        try write { () throws(HistoryError) in
            if requests.contains(where: { $0.shapeHash != nil }) {
                // Shared with other writers; pruning, which removes shapes no request points at,
                // takes it alone.
                try connection.execute("SELECT pg_advisory_xact_lock_shared($1)", [String(PostgresSchema.shapeLock)])
                if !newShapes.isEmpty {
                    try insert(
                        into: "shape", columns: ["hash", "paths"], rows: newShapes.map { [$0.hash, PostgresValue.text($0.text)] }, suffix: "ON CONFLICT DO NOTHING")
                }
            }
            try insert(into: "request", columns: Self.requestInsertColumns, rows: requestRows)
            if !checkRows.isEmpty { try insert(into: "expectation", columns: Self.checkInsertColumns, rows: checkRows) }
            try connection.execute(
                "UPDATE run SET passed = passed + $1, failed = failed + $2, errored = errored + $3, skipped = skipped + $4 WHERE id = $5",
                [String(counts.passed), String(counts.failed), String(counts.errored), String(counts.skipped), run])
        }
    }

    /// The texts a secret learned later may stand in, as SQLite's `RequestTable.maskedColumns`.
    static let maskedRequestColumns = ["name", "url", "error", "skipReason", "responseExcerpt", "finalUrl", "redirects"]
    static let maskedCheckColumns = ["subject", "expected", "actual", "message"]

    /// Masks, in a run already recorded, the secrets `redactor` knows now (as SQLite's
    /// `redactRecorded`): only the texts that change are written.
    func redactRecorded(runID: Int64, positionsBelow limit: Int, with redactor: Redactor, bodyHashes: [Int: String?]) throws(HistoryError) {
        guard !redactor.isEmpty else { return }
        let run = String(runID)
        let below = String(min(limit, Int(Int32.max)))
        try write { () throws(HistoryError) in
            for (position, hash) in bodyHashes where position < limit {
                try connection.execute("UPDATE request SET bodyHash = $1 WHERE runId = $2 AND position = $3", [PostgresValue.text(hash), run, String(position)])
            }
            let requests = try connection.execute(
                "SELECT position, step, \(Self.maskedRequestColumns.joined(separator: ", ")) FROM request WHERE runId = $1 AND position < $2", [run, below])
            for row in 0..<requests.count {
                let position = requests.text(row, 0)
                for (index, column) in Self.maskedRequestColumns.enumerated() {
                    guard let text = requests.text(row, index + 2) else { continue }
                    let masked = redactor.redact(text)
                    guard masked != text else { continue }
                    try connection.execute("UPDATE request SET \(column) = $1 WHERE runId = $2 AND position = $3", [PostgresValue.text(masked), run, position])
                }
                // A step id masked keeps its place, so that two stay two.
                if let step = requests.text(row, 1), let place = requests.int(row, 0) {
                    let masked = RequestResult.maskedStep(step, masked: redactor.redact(step), position: place)
                    if masked != step {
                        try connection.execute("UPDATE request SET step = $1 WHERE runId = $2 AND position = $3", [PostgresValue.text(masked), run, position])
                    }
                }
            }
            try remaskShapes(run: run, below: below, redactor)
            let checks = try connection.execute(
                "SELECT requestPosition, position, \(Self.maskedCheckColumns.joined(separator: ", ")) FROM expectation WHERE runId = $1 AND requestPosition < $2",
                [run, below])
            for row in 0..<checks.count {
                for (index, column) in Self.maskedCheckColumns.enumerated() {
                    guard let text = checks.text(row, index + 2) else { continue }
                    let masked = redactor.redact(text)
                    guard masked != text else { continue }
                    try connection.execute(
                        "UPDATE expectation SET \(column) = $1 WHERE runId = $2 AND requestPosition = $3 AND position = $4",
                        [PostgresValue.text(masked), run, checks.text(row, 0), checks.text(row, 1)])
                }
            }
            // A finished run's steps and names are in the trend rollups too.
            try resumRollups(ofRun: runID)
        }
    }

    /// The shapes of a run's requests that masking changes: stored masked under their own
    /// hash, the requests pointed at it, and a shape in clear no request points at removed.
    private func remaskShapes(run: String, below: String, _ redactor: Redactor) throws(HistoryError) {
        let rows = try connection.execute(
            "SELECT r.position, r.shapeHash, s.paths FROM request r JOIN shape s ON s.hash = r.shapeHash WHERE r.runId = $1 AND r.position < $2", [run, below])
        guard rows.count > 0 else { return }
        try connection.execute("SELECT pg_advisory_xact_lock_shared($1)", [String(PostgresSchema.shapeLock)])
        var done: [String: String] = [:]
        for row in 0..<rows.count {
            guard let hash = rows.text(row, 1), let paths = rows.text(row, 2) else { continue }
            let maskedHash: String
            if let known = done[hash] {
                maskedHash = known
            } else {
                let masked = redactor.redact(JSONShape(text: paths)).text
                maskedHash = masked == paths ? hash : Digest.sha256(masked)
                if maskedHash != hash {
                    try connection.execute("INSERT INTO shape (hash, paths) VALUES ($1, $2) ON CONFLICT DO NOTHING", [maskedHash, PostgresValue.text(masked)])
                }
                done[hash] = maskedHash
            }
            guard maskedHash != hash else { continue }
            try connection.execute("UPDATE request SET shapeHash = $1 WHERE runId = $2 AND position = $3", [maskedHash, run, rows.text(row, 0)])
        }
        for (hash, maskedHash) in done where maskedHash != hash {
            try connection.execute("DELETE FROM shape WHERE hash = $1 AND NOT EXISTS (SELECT 1 FROM request WHERE shapeHash = $1)", [hash])
        }
    }
}

/// The trend rollups on the server: the same rows as SQLite's (`SQLiteHistory+Rollups.swift`),
/// summed by the same `RollupSums`, in the transaction that changes the runs. A group's
/// rollups are merged under its advisory lock.
extension PostgresHistory {
    /// A run (`run`) and its group (`g`) are of one collection and environment.
    static let sameGroup = "g.collection = run.collection AND g.collectionPath = run.collectionPath AND g.environment IS NOT DISTINCT FROM run.environment"

    /// Waits, in the current transaction, until no other writer merges into the group's rollups.
    func lockRollups(group: Int64) throws(HistoryError) {
        try connection.execute("SELECT pg_advisory_xact_lock($1::int4, $2::int4)", [String(PostgresSchema.rollupLockClass), String(Int32(truncatingIfNeeded: group))])
    }

    /// Adds a run that has just finished to the rollups.
    func rollUp(run id: Int64) throws(HistoryError) {
        let run = String(id)
        try connection.execute(
            """
            INSERT INTO trendGroup (collection, collectionPath, environment) SELECT collection, collectionPath, environment FROM run WHERE id = $1
            ON CONFLICT DO NOTHING
            """, [run])
        let found = try connection.execute("SELECT g.id FROM run JOIN trendGroup g ON \(Self.sameGroup) WHERE run.id = $1", [run])
        guard let group = found.int64(0, 0) else { return }
        try lockRollups(group: group)
        var sums = RollupSums()
        try sum(runsWhere: "run.id = $1", [run], group: group, into: &sums)
        try merge(&sums)
    }

    /// Sums anew the hour of a finished run, after its rows changed.
    func resumRollups(ofRun id: Int64) throws(HistoryError) {
        let found = try connection.execute(
            "SELECT g.id, run.startedAt FROM run JOIN trendGroup g ON \(Self.sameGroup) WHERE run.id = $1 AND run.finishedAt IS NOT NULL", [String(id)])
        guard let group = found.int64(0, 0), let started = found.double(0, 1) else { return }
        try lockRollups(group: group)
        let hour = RequestRollup.hour(of: Date(timeIntervalSince1970: started))
        try connection.execute("DELETE FROM requestRollup WHERE groupId = $1 AND hour = $2", [String(group), String(hour)])
        try connection.execute("DELETE FROM runRollup WHERE groupId = $1 AND quarter BETWEEN $2 AND $3", [String(group), String(hour * 4), String(hour * 4 + 3)])
        let (from, to) = TrendBuilder.bounds(ofHour: hour)
        var sums = RollupSums()
        var p = PostgresParameters()
        let condition = """
            \(Self.sameGroupAs(&p, group: group)) AND run.startedAt >= \(p.double(from)) AND run.startedAt < \(p.double(to))
            """
        try sum(runsWhere: condition, p.values, group: group, keep: { RequestRollup.hour(of: $0) == hour }, into: &sums)
        try merge(&sums)
    }

    /// The runs of a rollup group, by its id.
    static func sameGroupAs(_ p: inout PostgresParameters, group: Int64) -> String {
        "EXISTS (SELECT 1 FROM trendGroup g WHERE g.id = \(p.int(group)) AND \(sameGroup))"
    }

    /// Adds to `sums` the finished runs a condition on `run` picks, and their requests, those
    /// whose start `keep` accepts, as group `group`.
    func sum(runsWhere condition: String, _ parameters: [String?], group: Int64, keep: (Date) -> Bool = { _ in true }, into sums: inout RollupSums) throws(HistoryError) {
        let rows = try connection.execute(
            """
            SELECT run.id, run.startedAt, run.outcome, r.step, r.name, r.position, r.outcome, r.totalMs
            FROM run LEFT JOIN request r ON r.runId = run.id WHERE run.finishedAt IS NOT NULL AND \(condition)
            """, parameters)
        try Self.sum(rows, group: group, keep: keep, into: &sums)
    }

    /// Sums rows of a run's id, start and outcome, and a request's step, name, position,
    /// outcome and latency (NULL for a run that sent nothing).
    static func sum(_ rows: PostgresRows, group: Int64, keep: (Date) -> Bool, into sums: inout RollupSums) throws(HistoryError) {
        for row in 0..<rows.count {
            guard let run = rows.int64(row, 0), let seconds = rows.double(row, 1) else { continue }
            let started = Date(timeIntervalSince1970: seconds)
            guard keep(started) else { continue }
            sums.add(run: run, group: group, started: started, outcome: try Self.outcome(rows.text(row, 2)))
            guard let step = rows.text(row, 3) else { continue }
            sums.add(
                step: step, name: rows.text(row, 4) ?? "", position: rows.int(row, 5) ?? 0, outcome: try Self.outcome(rows.text(row, 6)),
                latency: rows.double(row, 7).map(Duration.fromMilliseconds), run: run, group: group, started: started)
        }
    }

    static func outcome(_ text: String?) throws(HistoryError) -> Outcome {
        do {
            return try Outcome.stored(text)
        } catch let error as HistoryError {
            throw error
        } catch {
            throw HistoryError("\(error)")
        }
    }

    /// Adds the sums to the rollup tables (in the caller's transaction, which holds the
    /// groups' locks).
    func merge(_ sums: inout RollupSums) throws(HistoryError) {
        struct Hour: Hashable {
            var group: Int64
            var hour: Int
        }
        var byHour: [Hour: [RollupSums.RequestKey: RequestRollup]] = [:]
        for (key, rollup) in sums.requests { byHour[Hour(group: key.group, hour: key.hour), default: [:]][key] = rollup }
        var rows: [[String?]] = []
        for (hour, requests) in byHour {
            let wanted = Set(requests.keys.map { ExactString($0.step) })
            var stored: [ExactString: RequestRollup] = [:]
            for rollup in try requestRollups(group: hour.group, hours: hour.hour...hour.hour) where wanted.contains(ExactString(rollup.step)) {
                stored[ExactString(rollup.step)] = rollup
            }
            for (key, sum) in requests {
                var rollup = sum
                if let before = stored[ExactString(key.step)] { rollup.merge(before) }
                let counts = rollup.outcomes
                let latencies = rollup.latencies
                rows.append([
                    String(key.group), String(key.hour), PostgresValue.text(key.step), PostgresValue.text(rollup.name), String(rollup.newestRun),
                    String(rollup.position), String(counts.passed), String(counts.failed), String(counts.errored), String(counts.skipped),
                    String(latencies.sum.nanoseconds), PostgresValue.int(latencies.min?.nanoseconds), PostgresValue.int(latencies.max?.nanoseconds),
                    PostgresValue.bytes(HistogramCoding.data(latencies)),
                ])
            }
        }
        if !rows.isEmpty {
            let columns = Self.requestRollupColumns
            try insert(
                into: "requestRollup", columns: columns, rows: rows,
                suffix: "ON CONFLICT (groupId, hour, md5(step)) DO UPDATE SET " + columns.dropFirst(3).map { "\($0) = excluded.\($0)" }.joined(separator: ", "))
        }
        let runRows: [[String?]] = sums.runs.map { key, rollup in
            let counts = rollup.outcomes
            return [String(key.group), String(key.quarter), String(rollup.runs), String(counts.passed), String(counts.failed), String(counts.errored), String(counts.skipped)]
        }
        if !runRows.isEmpty {
            try insert(
                into: "runRollup", columns: ["groupId", "quarter", "runs", "passed", "failed", "errored", "skipped"], rows: runRows,
                suffix: """
                    ON CONFLICT (groupId, quarter) DO UPDATE SET runs = runRollup.runs + excluded.runs, passed = runRollup.passed + excluded.passed,
                    failed = runRollup.failed + excluded.failed, errored = runRollup.errored + excluded.errored, skipped = runRollup.skipped + excluded.skipped
                    """)
        }
        sums = RollupSums()
    }

    static let requestRollupColumns = [
        "groupId", "hour", "step", "name", "newestRun", "position", "passed", "failed", "errored", "skipped", "latencySumNs", "latencyMinNs", "latencyMaxNs",
        "histogram",
    ]

    /// A group's request rollups of some hours.
    func requestRollups(group: Int64, hours: ClosedRange<Int>) throws(HistoryError) -> [RequestRollup] {
        let rows = try connection.execute(
            "SELECT \(Self.requestRollupColumns.dropFirst().joined(separator: ", ")) FROM requestRollup WHERE groupId = $1 AND hour BETWEEN $2 AND $3",
            [String(group), String(hours.lowerBound), String(hours.upperBound)])
        var rollups: [RequestRollup] = []
        for row in 0..<rows.count {
            let rollup = try Self.requestRollup(rows, row)
            rollups.append(rollup)
        }
        return rollups
    }

    /// A row of `requestRollupColumns` but the group.
    static func requestRollup(_ rows: PostgresRows, _ row: Int) throws(HistoryError) -> RequestRollup {
        let hour = rows.int(row, 0) ?? 0
        let step = rows.text(row, 1) ?? ""
        var rollup = RequestRollup(hour: hour, step: step, name: rows.text(row, 2) ?? "", newestRun: rows.int64(row, 3) ?? 0, position: rows.int(row, 4) ?? 0)
        rollup.outcomes = OutcomeCounts(passed: rows.int(row, 5) ?? 0, failed: rows.int(row, 6) ?? 0, errored: rows.int(row, 7) ?? 0, skipped: rows.int(row, 8) ?? 0)
        guard let bytes = rows.data(row, 12), let stored = bytes.withUnsafeBytes({ HistogramCoding.counts($0) }) else {
            throw HistoryError("the history holds a damaged latency histogram (step \(JSONValue.quoted(step)), hour \(hour))")
        }
        rollup.latencies = LatencyHistogram(
            offset: stored.offset, counts: stored.counts, sum: .nanoseconds(rows.int64(row, 9) ?? 0), min: rows.int64(row, 10).map { .nanoseconds($0) },
            max: rows.int64(row, 11).map { .nanoseconds($0) })
        return rollup
    }
}
