/// The history's tables on a PostgreSQL server: SQLite's (`Schema`), with the same names
/// (unquoted, so PostgreSQL folds them to lower case: `startedAt` is `startedat`, and a
/// query may write either), the same columns and the same units (times in seconds since
/// 1970 as `double precision`, latencies in milliseconds), so that both answer alike.
/// A check is keyed by its run and request positions rather than a request id, so that a
/// batch of requests is one INSERT. Texts are stored as `PostgresValue` writes them.
/// Indexes hold texts by their MD5 (`md5(collection)`): a B-tree entry holds at most 2,704
/// bytes, and a collection, path, environment or step may be longer, as in a file.
///
/// Migrations are versioned as SQLite's: the server starts at SQLite's version 10, and a
/// change of schema is a new migration at the end of the list, in both. Each applied one
/// is a row of `sonde_migration`; a server with a row this sonde does not know was
/// written by a newer one and is refused.
enum PostgresSchema {
    static let migrations: [(identifier: String, sql: String)] = [
        (
            "v10 runs, requests, checks, shapes, rollups, identity, pruning",
            """
            CREATE TABLE run (
                id bigserial PRIMARY KEY,
                uuid text NOT NULL UNIQUE,
                collection text NOT NULL,
                file text NOT NULL,
                collectionPath text NOT NULL,
                contentHash text NOT NULL,
                environment text,
                startedAt double precision NOT NULL,
                finishedAt double precision,
                toolVersion text NOT NULL,
                gitCommit text,
                outcome text CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
                plannedRequests integer NOT NULL,
                passed integer NOT NULL DEFAULT 0,
                failed integer NOT NULL DEFAULT 0,
                errored integer NOT NULL DEFAULT 0,
                skipped integer NOT NULL DEFAULT 0,
                selection text,
                host text,
                "user" text,
                ciProvider text,
                ciJobUrl text,
                ciBranch text,
                ciCommit text
            );
            CREATE INDEX run_by_identity ON run (md5(collection), startedAt);
            CREATE INDEX run_by_start ON run (startedAt);
            CREATE INDEX run_unfinished ON run (md5(collection), startedAt) WHERE finishedAt IS NULL;
            CREATE TABLE shape (
                hash text PRIMARY KEY,
                paths text NOT NULL
            );
            CREATE TABLE request (
                runId bigint NOT NULL REFERENCES run (id) ON DELETE CASCADE,
                position integer NOT NULL,
                step text NOT NULL,
                name text NOT NULL,
                method text NOT NULL,
                url text NOT NULL,
                file text,
                line integer,
                "column" integer,
                outcome text NOT NULL CHECK (outcome IN ('passed', 'failed', 'error', 'skipped')),
                status integer,
                dnsMs double precision,
                connectMs double precision,
                tlsMs double precision,
                firstByteMs double precision,
                totalMs double precision,
                attempts integer NOT NULL,
                responseSize bigint NOT NULL,
                bodyHash text,
                shapeHash text,
                error text,
                errorKind text,
                skipReason text,
                skipKind text,
                startMs double precision,
                responseExcerpt text,
                finalUrl text,
                redirects text,
                phase text,
                PRIMARY KEY (runId, position)
            );
            CREATE INDEX request_by_shape ON request (shapeHash) WHERE shapeHash IS NOT NULL;
            CREATE TABLE expectation (
                runId bigint NOT NULL,
                requestPosition integer NOT NULL,
                position integer NOT NULL,
                subject text NOT NULL,
                expected text NOT NULL,
                actual text NOT NULL,
                passed boolean NOT NULL,
                message text,
                file text,
                line integer NOT NULL,
                "column" integer NOT NULL,
                PRIMARY KEY (runId, requestPosition, position),
                FOREIGN KEY (runId, requestPosition) REFERENCES request (runId, position) ON DELETE CASCADE
            );
            CREATE TABLE trendGroup (
                id bigserial PRIMARY KEY,
                collection text NOT NULL,
                collectionPath text NOT NULL,
                environment text,
                prunedBefore double precision
            );
            CREATE UNIQUE INDEX trendGroup_by_identity ON trendGroup (md5(collection), md5(collectionPath), md5(coalesce(environment, '')), (environment IS NULL));
            CREATE TABLE runRollup (
                groupId bigint NOT NULL REFERENCES trendGroup (id) ON DELETE CASCADE,
                quarter integer NOT NULL,
                runs integer NOT NULL,
                passed integer NOT NULL,
                failed integer NOT NULL,
                errored integer NOT NULL,
                skipped integer NOT NULL,
                PRIMARY KEY (groupId, quarter)
            );
            CREATE TABLE requestRollup (
                groupId bigint NOT NULL REFERENCES trendGroup (id) ON DELETE CASCADE,
                hour integer NOT NULL,
                step text NOT NULL,
                name text NOT NULL,
                newestRun bigint NOT NULL,
                position integer NOT NULL,
                passed integer NOT NULL,
                failed integer NOT NULL,
                errored integer NOT NULL,
                skipped integer NOT NULL,
                latencySumNs bigint NOT NULL,
                latencyMinNs bigint,
                latencyMaxNs bigint,
                histogram bytea NOT NULL
            );
            CREATE UNIQUE INDEX requestRollup_by_step ON requestRollup (groupId, hour, md5(step));
            CREATE TABLE prunedRun (
                uuid text PRIMARY KEY
            );
            """
        )
    ]

    /// The tables a sonde history has: a database that holds one of them without
    /// `sonde_migration` is another application's.
    static let tables = ["run", "request", "expectation", "shape", "trendgroup", "runrollup", "requestrollup", "prunedrun"]

    /// Advisory lock keys (`pg_advisory_lock`): one for migrating, one for shapes (writers take
    /// it shared while they point requests at shapes; pruning takes it alone to remove the
    /// shapes no request points at), a class for the rollups of each group, and one for the
    /// runs being imported.
    static let migrationLock: Int64 = 0x736F_6E64_6501
    static let shapeLock: Int64 = 0x736F_6E64_6502
    static let rollupLockClass: Int32 = 0x736F_6E64
    /// The class of the locks an import takes on a run's identity (`lockImport`).
    static let importLockClass: Int32 = 0x736F_6E65
}
