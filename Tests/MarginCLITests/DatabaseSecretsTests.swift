import Foundation
import TestSupport
import Testing

/// The database password is a secret, and so is what Margin writes to disk: `config show` masks
/// a password in a `postgres://` URL, `db_password_file` and `PGPASSWORD` keep it off command
/// lines, every file Margin creates is its owner's alone (0600), and a 503 names no host.
@Suite struct DatabaseSecretsTests {
    /// A role that must log in with `password` (scram-sha-256), on the shared test cluster, and
    /// a database it owns; the URL names no password. The cluster trusts everyone else, so a rule
    /// for this role alone goes first in its pg_hba.conf.
    static func passwordRole(_ password: String) async throws -> (url: String, database: String) {
        let cluster = try await PostgresTestCluster.url()
        let role = "pw_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased()
        _ = try await PostgresTestCluster.tool("psql", cluster, [
            "-q", "-v", "ON_ERROR_STOP=1", "-c", "SET password_encryption = 'scram-sha-256'",
            "-c", "CREATE ROLE \(role) LOGIN PASSWORD '\(password)'", "-c", "CREATE DATABASE \(role) OWNER \(role)", "-d"])
        let hba = try await PostgresTestCluster.tool("psql", cluster, ["-At", "-c", "SHOW hba_file", "-d"])
        let rules = try String(contentsOfFile: hba, encoding: .utf8)
        try ("host all \(role) 127.0.0.1/32 scram-sha-256\n" + rules).write(toFile: hba, atomically: false, encoding: .utf8)
        _ = try await PostgresTestCluster.tool("psql", cluster, ["-At", "-c", "SELECT pg_reload_conf()", "-d"])
        // The cluster's URL with this role and database: postgres://ROLE@127.0.0.1:PORT/ROLE.
        let port = try #require(URLComponents(string: cluster)?.port)
        return ("postgres://\(role)@127.0.0.1:\(port)/\(role)?sslmode=disable", role)
    }

    /// Given a `postgres://` URL with a password as flag, variable or file value, when `config
    /// show` prints the configuration, then the password is masked and the rest shown.
    @Test func configShowMasksTheDatabasePassword() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let file = scratch.url.appendingPathComponent("margin.toml").path
        try "db = \"postgres://margin:file-secret-4471@db.example.org:5432/margin\"\n".write(toFile: file, atomically: true, encoding: .utf8)
        let fromFile = try await CLI.run(["config", "show", "--config", file])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(!fromFile.stdout.contains("file-secret-4471"))
        #expect(ConfigCommandTests.shown(fromFile.stdout, "db") == "db = \"postgres://margin:********@db.example.org:5432/margin\"    # \(file):1")
        let fromEnvironment = try await CLI.run(["config", "show"], environment: ["MARGIN_DB": "postgres://margin:env-secret-8812@10.0.0.5/margin"])
        #expect(!fromEnvironment.stdout.contains("env-secret-8812"))
        #expect(ConfigCommandTests.shown(fromEnvironment.stdout, "db") == "db = \"postgres://margin:********@10.0.0.5/margin\"    # MARGIN_DB")
        let fromFlag = try await CLI.run(["config", "show", "--db", "postgresql://u:flag-secret-3301@h/d?sslmode=require"])
        #expect(!fromFlag.stdout.contains("flag-secret-3301"))
        #expect(ConfigCommandTests.shown(fromFlag.stdout, "db") == "db = \"postgresql://u:********@h/d?sslmode=require\"    # --db")
        // Without a password (and for a SQLite path) nothing changes.
        let plain = try await CLI.run(["config", "show", "--db", "postgres://margin@db.example.org/margin"])
        #expect(ConfigCommandTests.shown(plain.stdout, "db") == "db = \"postgres://margin@db.example.org/margin\"    # --db")
    }

    /// Given a role that needs a password and a URL without one, when the password is only in
    /// the `db_password_file` (or only in `PGPASSWORD`), then the server and the CLI connect;
    /// without it, or with a wrong one, they refuse in a sentence that shows no password.
    @Test func thePasswordComesFromAFileOrPGPASSWORD() async throws {
        let password = "pw-\(UUID().uuidString.prefix(8))"
        let (url, _) = try await Self.passwordRole(password)
        let scratch = try Scratch()
        defer { scratch.remove() }
        let passwordFile = scratch.url.appendingPathComponent("db-password").path
        try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        let wrongFile = scratch.url.appendingPathComponent("wrong-password").path
        try "not-it\n".write(toFile: wrongFile, atomically: true, encoding: .utf8)
        // Neither: refused (the rule for this role holds).
        let without = try await CLI.run(["sites", "list", "--db", url], environment: ["PGPASSWORD": ""])
        #expect(without.status == 1, "\(without.stdout)")
        let wrong = try await CLI.run(["sites", "list", "--db", url, "--db-password-file", wrongFile])
        #expect(wrong.status == 1)
        #expect(!wrong.stderr.contains("not-it"))
        // Only in the file: the server serves, and the CLI reads.
        let node = try await ServeProcess.start(database: url, arguments: ["--db-password-file", passwordFile])
        defer { node.signal(SIGTERM) }
        let posted = await HTTP.send("POST", port: node.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/pw/","text":"over a password"}"#)
        #expect(posted?.status == 201)
        // Read once the server has stopped: all of its log.
        try await node.terminate()
        #expect(!node.log.contains(password), "the log shows the password")
        let listed = try await CLI.run(["sites", "list", "--db", url], environment: ["MARGIN_DB_PASSWORD_FILE": passwordFile])
        #expect(listed.status == 0 && listed.stdout.contains("default"), "\(listed.stderr)")
        // Only in PGPASSWORD, as libpq takes it.
        let fromEnvironment = try await CLI.run(["sites", "list", "--db", url], environment: ["PGPASSWORD": password])
        #expect(fromEnvironment.status == 0 && fromEnvironment.stdout.contains("default"), "\(fromEnvironment.stderr)")
        // The file wins over PGPASSWORD.
        let both = try await CLI.run(["sites", "list", "--db", url, "--db-password-file", passwordFile], environment: ["PGPASSWORD": "not-it"])
        #expect(both.status == 0, "\(both.stderr)")
    }

    /// The permission bits of the file at `path` (nil when it does not exist).
    static func mode(_ path: String) -> Int? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Int(info.st_mode) & 0o777
    }

    /// Given a caller whose umask lets everyone read (022), when Margin creates a database, its
    /// -wal and -shm files, an export, a backup and a moved copy, then each is 0600.
    @Test func filesMarginCreatesAreItsOwnersAlone() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let old = umask(0o022)
        defer { umask(old) }
        let database = scratch.database
        let node = try await ServeProcess.start(database: database)
        let posted = await HTTP.send("POST", port: node.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/mode/","text":"private"}"#)
        #expect(posted?.status == 201)
        // While it serves, the write-ahead log and the shared-memory index exist.
        #expect(Self.mode(database) == 0o600)
        #expect(Self.mode(database + "-wal") == 0o600)
        #expect(Self.mode(database + "-shm") == 0o600)
        node.signal(SIGTERM)
        _ = try await node.waitForExit()
        let export = scratch.url.appendingPathComponent("export.ndjson").path
        #expect(try await CLI.run(["export", "-o", export, "--db", database]).status == 0)
        #expect(Self.mode(export) == 0o600)
        let backup = scratch.url.appendingPathComponent("backup.sqlite").path
        #expect(try await CLI.run(["backup", backup, "--db", database]).status == 0)
        #expect(Self.mode(backup) == 0o600)
        // Built as PATH.migrating, then renamed.
        let moved = scratch.url.appendingPathComponent("moved.sqlite").path
        let move = try await CLI.run(["migrate", "--from", database, "--to", moved])
        #expect(move.status == 0, "\(move.stderr)")
        #expect(Self.mode(moved) == 0o600)
        // A database a CLI command creates.
        let fresh = scratch.url.appendingPathComponent("fresh.sqlite").path
        #expect(try await CLI.run(["sites", "list", "--db", fresh]).status == 0)
        #expect(Self.mode(fresh) == 0o600)
    }

    /// Given a node whose PostgreSQL is stopped, when a client posts or asks `/healthz`, then the
    /// 503 says the store is unavailable in a fixed sentence, naming no host, port or PostgreSQL
    /// message; the node's log has the detail.
    @Test func a503NamesNoHost() async throws {
        // A cluster of its own: the shared one must not go down under other tests.
        let cluster = try await PrivatePostgresCluster()
        defer { cluster.remove() }
        let url = cluster.url
        let port = try #require(URLComponents(string: url)?.port)
        let node = try await ServeProcess.start(database: url, arguments: ["--rate-limit", "off"])
        defer { node.signal(SIGTERM) }
        #expect(try await cluster.run("stop").status == 0)
        let posted = await HTTP.send("POST", port: node.port, path: "/api/v1/comments",
                                     json: #"{"site":"default","uri":"/down/","text":"while down"}"#, timeout: 30)
        // Past the two seconds /healthz answers from its last check.
        try await Task.sleep(for: .milliseconds(2500))
        let health = await HTTP.send("GET", port: node.port, path: "/healthz", timeout: 30)
        for answer in [posted, health] {
            #expect(answer?.status == 503)
            let error = answer?.json?["error"] as? [String: Any]
            #expect(error?["code"] as? String == "storage_unavailable")
            let body = answer?.body ?? ""
            for leak in ["127.0.0.1", String(port), "PostgreSQL", "postgres", "connect", "refused"] {
                #expect(!body.contains(leak), "the answer shows '\(leak)': \(body)")
            }
        }
        #expect((posted?.json?["error"] as? [String: Any])?["message"] as? String == "The comment store is unavailable; try again shortly.")
        let logsWhy = try await node.waitForLog(timeout: .seconds(10)) { line in
            (line.contains("storage unavailable") || line.contains("health check failed")) && line.contains("127.0.0.1:\(port)")
        }
        #expect(logsWhy, "the log says why: \(node.log.suffix(2000))")
    }
}
