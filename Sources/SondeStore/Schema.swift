import Foundation
import GRDB
import SondeCore

/// The history database's migrations. A migration is never edited once it has shipped:
/// a change of schema is a new migration at the end of the list.
enum Schema {
    /// `filesFolder`: where the collection files of runs recorded before v5 were given from
    /// (relative paths in `run.file` are read from there), to work out their `collectionPath`.
    static func migrator(filesRelativeTo filesFolder: String) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()

        // v1, the first schema: runs, their requests, and each request's expectations.
        migrator.registerMigration("v1 runs, requests, expectations") { db in
            try db.execute(sql: """
                CREATE TABLE run (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    collection TEXT NOT NULL,
                    file TEXT NOT NULL,
                    contentHash TEXT NOT NULL,
                    environment TEXT,
                    startedAt REAL NOT NULL,
                    finishedAt REAL,
                    toolVersion TEXT NOT NULL,
                    gitCommit TEXT,
                    outcome TEXT CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
                    plannedRequests INTEGER NOT NULL,
                    passed INTEGER NOT NULL DEFAULT 0,
                    failed INTEGER NOT NULL DEFAULT 0,
                    errored INTEGER NOT NULL DEFAULT 0,
                    skipped INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE request (
                    id INTEGER PRIMARY KEY,
                    runId INTEGER NOT NULL REFERENCES run(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    method TEXT NOT NULL,
                    url TEXT NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
                    status INTEGER,
                    dnsMs REAL,
                    connectMs REAL,
                    tlsMs REAL,
                    firstByteMs REAL,
                    totalMs REAL,
                    attempts INTEGER NOT NULL,
                    responseSize INTEGER NOT NULL,
                    bodyHash TEXT,
                    error TEXT,
                    skipReason TEXT,
                    UNIQUE (runId, position)
                );
                CREATE TABLE expectation (
                    requestId INTEGER NOT NULL REFERENCES request(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    subject TEXT NOT NULL,
                    expected TEXT NOT NULL,
                    actual TEXT NOT NULL,
                    passed BOOLEAN NOT NULL,
                    message TEXT,
                    line INTEGER NOT NULL,
                    "column" INTEGER NOT NULL,
                    PRIMARY KEY (requestId, position)
                ) WITHOUT ROWID;
                """)
        }

        // v2: JSON shapes, stored once per distinct shape, and the indexes that history,
        // diff and trend look runs up by.
        migrator.registerMigration("v2 shapes, history indexes") { db in
            try db.execute(sql: """
                CREATE TABLE shape (
                    hash TEXT PRIMARY KEY NOT NULL,
                    paths TEXT NOT NULL
                ) WITHOUT ROWID;
                ALTER TABLE request ADD COLUMN shapeHash TEXT REFERENCES shape(hash);
                CREATE INDEX run_by_collection ON run(collection, startedAt);
                CREATE INDEX run_by_collection_environment ON run(collection, environment, startedAt);
                CREATE INDEX run_by_start ON run(startedAt);
                """)
        }
        // v3: what the reports need: when each request started within its run (the waterfall),
        // and the start of the body of a request that did not pass.
        migrator.registerMigration("v3 request start, response excerpt") { db in
            try db.execute(sql: """
                ALTER TABLE request ADD COLUMN startMs REAL;
                ALTER TABLE request ADD COLUMN responseExcerpt TEXT;
                """)
        }
        // v4: where a request ended after redirects, and the redirects it followed (a JSON
        // array of { url, status, location }), both null when none were followed.
        migrator.registerMigration("v4 final url, redirects") { db in
            try db.execute(sql: """
                ALTER TABLE request ADD COLUMN finalUrl TEXT;
                ALTER TABLE request ADD COLUMN redirects TEXT;
                """)
        }
        // v5: a collection is its file and its name. `collectionPath` is the file's path
        // relative to its git repository's top (CollectionPath); the runs recorded before are
        // given theirs from the file they named, as it is found now.
        migrator.registerMigration("v5 collection identity") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN collectionPath TEXT NOT NULL DEFAULT '';
                CREATE INDEX run_by_identity ON run(collection, collectionPath, environment, startedAt);
                """)
            let update = try db.makeStatement(sql: "UPDATE run SET collectionPath = ? WHERE file = ?")
            for file in try String.fetchAll(db, sql: "SELECT DISTINCT file FROM run") {
                try update.execute(arguments: [CollectionPath.of(file: file, workingDirectory: filesFolder.isEmpty ? "/" : filesFolder), file])
            }
        }
        // v6: results keyed by plan step, not by place in one file; where each request and
        // check is written (the file is NULL when it is the run's own); what kind of problem
        // or skip each was. Runs recorded before get: step = name, kinds read from the
        // sentences' first words (`RequestProblem.guessedKind`, `SkipReason.guessedKind`).
        migrator.registerMigration("v6 plan steps, problem kinds, check files") { db in
            try db.execute(sql: """
                ALTER TABLE request ADD COLUMN step TEXT;
                ALTER TABLE request ADD COLUMN file TEXT;
                ALTER TABLE request ADD COLUMN line INTEGER;
                ALTER TABLE request ADD COLUMN "column" INTEGER;
                ALTER TABLE request ADD COLUMN errorKind TEXT;
                ALTER TABLE request ADD COLUMN skipKind TEXT;
                ALTER TABLE expectation ADD COLUMN file TEXT;
                UPDATE request SET step = name;
                """)
            let errors = try Row.fetchAll(db, sql: "SELECT id, CAST(error AS BLOB) AS error FROM request WHERE error IS NOT NULL")
            for row in errors {
                let kind = RequestProblem.guessedKind(of: row.text(RequestTable.Columns.error) ?? "")
                try db.execute(sql: "UPDATE request SET errorKind = ? WHERE id = ?", arguments: [kind.rawValue, row["id"] as Int64])
            }
            let skips = try Row.fetchAll(db, sql: "SELECT id, CAST(skipReason AS BLOB) AS skipReason FROM request WHERE skipReason IS NOT NULL")
            for row in skips {
                let kind = SkipReason.guessedKind(of: row.text(RequestTable.Columns.skipReason) ?? "")
                try db.execute(sql: "UPDATE request SET skipKind = ? WHERE id = ?", arguments: [kind.rawValue, row["id"] as Int64])
            }
        }
        // v7: trend rollups (SQLiteHistory+Rollups.swift). Per collection and environment (a
        // `trendGroup`), its finished runs per quarter hour (`runRollup`) and, per step and
        // hour, their requests' outcomes and latencies as a histogram (`requestRollup`), so
        // that a trend over a month reads thousands of rows, not a million. The runs not
        // finished get an index of their own: with `trendGroup`, it lists every collection
        // without reading every run. Runs recorded before are summed here, by the code that
        // keeps the rollups as runs finish, so that a trend reads the same after the upgrade.
        migrator.registerMigration("v7 trend rollups") { db in
            try db.execute(sql: """
                CREATE TABLE trendGroup (
                    id INTEGER PRIMARY KEY,
                    collection TEXT NOT NULL,
                    collectionPath TEXT NOT NULL,
                    environment TEXT
                );
                CREATE UNIQUE INDEX trendGroup_by_identity ON trendGroup(collection, collectionPath, ifnull(environment, ''), environment IS NULL);
                CREATE TABLE runRollup (
                    groupId INTEGER NOT NULL REFERENCES trendGroup(id) ON DELETE CASCADE,
                    quarter INTEGER NOT NULL,
                    runs INTEGER NOT NULL,
                    passed INTEGER NOT NULL,
                    failed INTEGER NOT NULL,
                    errored INTEGER NOT NULL,
                    skipped INTEGER NOT NULL,
                    PRIMARY KEY (groupId, quarter)
                ) WITHOUT ROWID;
                CREATE TABLE requestRollup (
                    groupId INTEGER NOT NULL REFERENCES trendGroup(id) ON DELETE CASCADE,
                    hour INTEGER NOT NULL,
                    step TEXT NOT NULL,
                    name TEXT NOT NULL,
                    newestRun INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    passed INTEGER NOT NULL,
                    failed INTEGER NOT NULL,
                    errored INTEGER NOT NULL,
                    skipped INTEGER NOT NULL,
                    latencySumNs INTEGER NOT NULL,
                    latencyMinNs INTEGER,
                    latencyMaxNs INTEGER,
                    histogram BLOB NOT NULL,
                    PRIMARY KEY (groupId, hour, step)
                ) WITHOUT ROWID;
                CREATE INDEX run_unfinished ON run(collection, collectionPath, environment, startedAt) WHERE finishedAt IS NULL;
                """)
            try SQLiteHistory.sumAllRollups(db)
        }
        // v8: collection-level phases and selections (`setup:`, `teardown:`, `sonde run
        // --request/--tag`). A request's phase is NULL for the collection's own requests; a
        // run's selection is NULL when every step ran.
        migrator.registerMigration("v8 phases, selections") { db in
            try db.execute(sql: """
                ALTER TABLE request ADD COLUMN phase TEXT;
                ALTER TABLE run ADD COLUMN selection TEXT;
                """)
        }
        // v9: a run's identity across machines (a UUID, which an import recognises runs by)
        // and where it ran: host, user, and the CI job (provider, job URL, branch, commit).
        // Runs recorded before get a UUID here, derived from what they recorded.
        migrator.registerMigration("v9 run identity and origin") { db in
            try db.execute(sql: """
                ALTER TABLE run ADD COLUMN uuid TEXT;
                ALTER TABLE run ADD COLUMN host TEXT;
                ALTER TABLE run ADD COLUMN user TEXT;
                ALTER TABLE run ADD COLUMN ciProvider TEXT;
                ALTER TABLE run ADD COLUMN ciJobUrl TEXT;
                ALTER TABLE run ADD COLUMN ciBranch TEXT;
                ALTER TABLE run ADD COLUMN ciCommit TEXT;
                """)
            // Each from what the run recorded (`RunIdentity.derived`), not at random: two copies of
            // one old file (a CI cache restored by two jobs, an artifact pushed twice) give their
            // runs the same identities, so that an import recognises them.
            for row in try Row.fetchAll(
                db, sql: "SELECT id, CAST(collection AS BLOB) AS c, CAST(collectionPath AS BLOB) AS p, CAST(environment AS BLOB) AS e, startedAt, contentHash FROM run")
            {
                let uuid = RunIdentity.derived(
                    id: row["id"], collection: row.text(RawColumn(rawValue: "c")) ?? "", collectionPath: row.text(RawColumn(rawValue: "p")) ?? "",
                    environment: row.text(RawColumn(rawValue: "e")), started: row["startedAt"], contentHash: row["contentHash"])
                try db.execute(sql: "UPDATE run SET uuid = ? WHERE id = ?", arguments: [uuid, row["id"] as Int64])
            }
            try db.execute(sql: "CREATE UNIQUE INDEX run_by_uuid ON run(uuid)")
        }
        // v10: pruning (`sonde history prune`). A group's `prunedBefore` is the start of the
        // hour before which its runs were removed: a trend reaching back past it reads those
        // hours from the rollups, which pruning keeps.
        // `prunedRun` keeps the identities of the runs pruned, so that an import does not bring
        // one back (and count it twice).
        migrator.registerMigration("v10 pruning") { db in
            try db.execute(sql: """
                ALTER TABLE trendGroup ADD COLUMN prunedBefore REAL;
                CREATE TABLE prunedRun (uuid TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                """)
        }
        return migrator
    }

    /// The first migration's name, for tests that build a database as the first release left it.
    static let first = "v1 runs, requests, expectations"
}
