import Foundation

/// A throwaway PostgreSQL cluster from Debian's `postgresql` on a free loopback port: made
/// by `initdb` in a temporary folder (trust authentication for the user `sonde`, no fsync),
/// started by `pg_ctl`, and stopped and removed by `stop()`. Run as root, the server runs as
/// the `postgres` user that Debian's package creates (PostgreSQL refuses to run as root).
/// `make test` installs the package.
public final class PostgresCluster: @unchecked Sendable {
    public let port: Int
    public let folder: URL
    /// The user the tests connect as (trusted: no password).
    public static let user = "sonde"
    private let binaries: URL
    private var stopped = false

    /// `postgres://sonde@127.0.0.1:PORT/postgres`.
    public var url: String { "postgres://\(Self.user)@127.0.0.1:\(port)/postgres" }

    /// The newest installed server's programs (`/usr/lib/postgresql/15/bin`).
    static var installed: URL? {
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path))?.compactMap(Int.init).sorted() ?? []
        return versions.last.map { root.appendingPathComponent("\($0)/bin") }
    }

    /// Why a cluster cannot run here, or nil when it can: tests skip with this line.
    public static var unavailable: String? {
        guard let binaries = installed, FileManager.default.isExecutableFile(atPath: binaries.appendingPathComponent("initdb").path) else {
            return "PostgreSQL's server is not installed (make test installs postgresql)"
        }
        if getuid() == 0, getpwnam("postgres") == nil { return "running as root, and there is no postgres user to run the server as" }
        return nil
    }

    public init() throws {
        guard let binaries = Self.installed else { throw RawServerError("PostgreSQL's server is not installed") }
        self.binaries = binaries
        folder = URL(fileURLWithPath: "/tmp").appendingPathComponent("sonde-pg-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if getuid() == 0, let owner = getpwnam("postgres") { chown(folder.path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
        try Self.run(binaries.appendingPathComponent("initdb"), ["-D", folder.appendingPathComponent("data").path, "-A", "trust", "-U", Self.user, "-E", "UTF8", "--no-sync"])
        // A port bound and released may be taken meanwhile: tried again on another.
        var started: Int?
        for _ in 0..<3 where started == nil {
            let candidate = try NginxServer.freePort()
            let options = "-p \(candidate) -k \(folder.path) -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
            if (try? Self.run(
                binaries.appendingPathComponent("pg_ctl"),
                ["-D", folder.appendingPathComponent("data").path, "-o", options, "-l", folder.appendingPathComponent("server.log").path, "-w", "-t", "30", "start"])) != nil
            {
                started = candidate
            }
        }
        guard let started else {
            let log = (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8)) ?? ""
            try? FileManager.default.removeItem(at: folder)
            throw RawServerError("the PostgreSQL server did not start: \(log.suffix(500))")
        }
        port = started
    }

    /// One cluster for the whole test process, started when first asked for and stopped when
    /// the process exits; each test makes a database of its own in it (`makeDatabase`).
    public static func shared() throws -> PostgresCluster {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let cluster = sharedCluster { return cluster }
        let cluster = try PostgresCluster()
        sharedCluster = cluster
        atexit { PostgresCluster.stopShared() }
        return cluster
    }

    nonisolated(unsafe) private static var sharedCluster: PostgresCluster?
    private static let sharedLock = NSLock()

    private static func stopShared() {
        sharedCluster?.stop()
    }

    /// A new database on the shared cluster. Throws where there can be none (no server
    /// installed): tests of the PostgreSQL history fail then, with the reason; `make test`
    /// installs it.
    public static func sharedDatabase() throws -> String {
        if let reason = unavailable { throw RawServerError("PostgreSQL: \(reason)") }
        return try shared().makeDatabase()
    }

    /// A new, empty database in the cluster; returns its URL (`postgres://sonde@127.0.0.1:PORT/NAME`).
    public func makeDatabase() throws -> String {
        let name = "sonde_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        try sql("CREATE DATABASE \(name)", database: "postgres")
        return "postgres://\(Self.user)@127.0.0.1:\(port)/\(name)"
    }

    /// Runs SQL with `psql` as the trusted user; returns what it prints (unaligned, tuples only).
    @discardableResult
    public func sql(_ statements: String, database: String) throws -> String {
        try Self.run(
            URL(fileURLWithPath: "/usr/bin/psql"), ["-h", "127.0.0.1", "-p", "\(port)", "-U", Self.user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tAc", statements],
            asServerUser: false)
    }

    /// Makes a role that must log in with its password over TCP (scram-sha-256), where the
    /// cluster trusts everyone else.
    public func requirePassword(role: String, password: String) throws {
        try sql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)'", database: "postgres")
        try reload(
            withFirstRule: "host all \(role) 127.0.0.1/32 scram-sha-256", until: ["-h", "127.0.0.1", "-p", "\(port)", "-U", role, "-d", "postgres"],
            what: "asking \(role) for a password")
    }

    /// Turns TLS on (a server certificate for 127.0.0.1 signed by a CA of its own) and
    /// refuses every connection without it; returns the CA's certificate file, to verify
    /// the server with.
    public func requireTLS() throws -> URL {
        let certificates = folder.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: certificates, withIntermediateDirectories: true)
        try NginxServer.makeCertificates(in: certificates)
        let data = folder.appendingPathComponent("data")
        for name in ["server.pem", "server.key"] {
            let target = data.appendingPathComponent(name)
            try FileManager.default.copyItem(at: certificates.appendingPathComponent(name), to: target)
            if getuid() == 0, let owner = getpwnam("postgres") { chown(target.path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
            chmod(target.path, 0o600)
        }
        try sql("ALTER SYSTEM SET ssl = on", database: "postgres")
        try sql("ALTER SYSTEM SET ssl_cert_file = 'server.pem'", database: "postgres")
        try sql("ALTER SYSTEM SET ssl_key_file = 'server.key'", database: "postgres")
        try reload(
            withFirstRule: "hostnossl all all 127.0.0.1/32 reject", until: ["postgresql://\(Self.user)@127.0.0.1:\(port)/postgres?sslmode=disable"],
            what: "requiring TLS")
        return certificates.appendingPathComponent("ca.pem")
    }

    /// Puts `rule` before the others of pg_hba.conf (written in place: the file stays the
    /// server user's), reloads the configuration, and waits until `psql` with `connection`
    /// is refused: the reload is asynchronous.
    private func reload(withFirstRule rule: String, until connection: [String], what: String) throws {
        let hba = folder.appendingPathComponent("data/pg_hba.conf")
        let rules = try String(contentsOf: hba, encoding: .utf8)
        guard let handle = FileHandle(forWritingAtPath: hba.path) else { throw RawServerError("cannot write \(hba.path)") }
        try handle.write(contentsOf: Data("\(rule)\n\(rules)".utf8))
        try handle.close()
        try sql("SELECT pg_reload_conf()", database: "postgres")
        for _ in 0..<50 {
            if (try? Self.run(URL(fileURLWithPath: "/usr/bin/psql"), connection + ["-w", "-tAc", "select 1"], asServerUser: false)) == nil { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw RawServerError("the server did not start \(what)")
    }

    /// The CPU the server has used so far (user and system, seconds): its postmaster's, and
    /// that of the backends it has reaped (each connection's, once it ends), from
    /// /proc/PID/stat (utime, stime, cutime, cstime; proc(5)).
    public func serverCPUSeconds() -> Double {
        guard let pidLine = try? String(contentsOf: folder.appendingPathComponent("data/postmaster.pid"), encoding: .utf8).split(separator: "\n").first,
            let stat = try? String(contentsOfFile: "/proc/\(pidLine)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")")
        else { return 0 }
        // Fields after the command's closing parenthesis: state is field 3; utime 14 … cstime 17.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        let ticks = (11...14).compactMap { fields.count > $0 ? Double(fields[$0]) : nil }.reduce(0, +)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The database a URL of `makeDatabase` names.
    public static func database(of url: String) -> String { String(url.split(separator: "/").last ?? "") }

    /// Stops the server at once and removes its folder.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        _ = try? Self.run(binaries.appendingPathComponent("pg_ctl"), ["-D", folder.appendingPathComponent("data").path, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }

    /// Runs a server program, as the `postgres` user when this process is root; throws with
    /// its output when it fails. Spawned and waited for by hand (posix_spawn, waitpid):
    /// Foundation's `Process` waits on a descriptor the server `pg_ctl start` leaves running
    /// inherits, and would wait for ever.
    @discardableResult
    static func run(_ program: URL, _ arguments: [String], asServerUser: Bool = true) throws -> String {
        // The server's programs run niced: timing-sensitive tests running beside them keep the CPU.
        let nice = ["/usr/bin/nice", "-n", "10"]
        let (path, argv) = getuid() == 0 && asServerUser
            ? ("/usr/sbin/runuser", ["runuser", "-u", "postgres", "--"] + nice + [program.path] + arguments)
            : asServerUser ? (nice[0], nice + [program.path] + arguments) : (program.path, [program.path] + arguments)
        let outputFile = "/tmp/sonde-pg-output-\(UUID().uuidString.prefix(8))"
        defer { unlink(outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var pid = pid_t()
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let spawned = posix_spawn(&pid, path, &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw RawServerError("cannot start \(program.lastPathComponent): error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: outputFile, encoding: .utf8)) ?? ""
        // Exited normally with status 0 (WIFEXITED and WEXITSTATUS, by hand: macros Swift does not import).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else { throw RawServerError("\(program.lastPathComponent) failed: \(text.suffix(500))") }
        return text
    }
}
