import Foundation
import TestSupport
import Testing

/// `margin serve` as a process: flags, environment, the default site, sharing the file with the CLI.
@Suite struct ServeCommandTests {
    /// Starts `margin serve`, waits (bounded) for `/healthz`, runs `body`, then sends SIGTERM and
    /// expects a clean exit.
    static func withServer(arguments: [String], environment: [String: String], port: Int, _ body: () async throws -> Void) async throws {
        let server = try await ServeProcess(arguments: arguments, port: port, environment: environment)
        defer { server.stop() }
        try await body()
        #expect(try await server.terminate() == 0)
    }

    @Test func flagsChooseHostPortAndDatabase() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let port = try freePort()
        try await Self.withServer(arguments: ["serve", "--host", "127.0.0.1", "--port", String(port), "--db", scratch.database],
                                  environment: [:], port: port) {
            let config = await HTTP.send("GET", port: port, path: "/api/v1/config?site=default")
            #expect(config?.status == 200)
            #expect(config?.body.contains("\"moderation\":\"none\"") == true)
            // The CLI works on the same file while the server runs, and the server sees its changes.
            let added = try await CLI.run(["sites", "add", "live", "--origin", "https://live.example", "--db", scratch.database])
            #expect(added.status == 0, "\(added.stderr)")
            #expect(await HTTP.send("GET", port: port, path: "/api/v1/config?site=live")?.status == 200)
        }
        #expect(FileManager.default.fileExists(atPath: scratch.database))
    }

    @Test func environmentVariablesWork() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let port = try freePort()
        let database = scratch.url.appendingPathComponent("from-env.sqlite").path
        try await Self.withServer(arguments: ["serve"], environment: ["MARGIN_HOST": "127.0.0.1", "MARGIN_PORT": String(port), "MARGIN_DB": database],
                                  port: port) {
            #expect(await HTTP.send("GET", port: port, path: "/api/v1/comments?site=default&uri=/")?.status == 200)
        }
        #expect(FileManager.default.fileExists(atPath: database))
        let sites = try await CLI.run(["sites", "list", "--json"], environment: ["MARGIN_DB": database])
        #expect(sites.stdout.contains("http://localhost:*"))
    }

    /// Without flags `margin serve` uses ./margin.sqlite and 127.0.0.1:8080. It needs port 8080:
    /// skipped (and said so) where something else holds it, failed under CI.
    @Test(.enabled(if: TestEnvironment.underCI || portIsFree(8080), "port 8080 is busy on this machine"))
    func noArgumentsServesOnTheEmbeddedDefault() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try #require(portIsFree(8080), "port 8080 is busy: this test runs margin serve without flags, which listens there")
        // Starting waits for /healthz to answer 200 on 127.0.0.1:8080, and fails when it does not.
        let server = try await ServeProcess(arguments: [], port: 8080, unset: ["MARGIN_DB", "MARGIN_PORT", "MARGIN_HOST"], directory: scratch.url)
        defer { server.stop() }
        #expect(FileManager.default.fileExists(atPath: scratch.url.appendingPathComponent("margin.sqlite").path))
        server.signal(SIGTERM)
        _ = try await server.waitForExit(timeout: .seconds(10))
    }

    @Test func badSettingsAreRefusedInWords() async throws {
        let bad = try await CLI.run(["serve", "--port", "70000", "--db", "/tmp/unused-\(UUID()).sqlite"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("port"))
        let unwritable = try await CLI.run(["serve", "--db", "/proc/no-such-dir/margin.sqlite", "--port", "0"])
        #expect(unwritable.status != 0)
        #expect(unwritable.stderr.contains("Cannot open database"))
    }

    @Test func abuseLimitFlagsAndVariablesReachTheServer() async throws {
        let long = "/healthz?" + String(repeating: "a", count: 400)
        let database = "/tmp/margin-limits-\(UUID()).sqlite"
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) } }
        var port = try freePort()
        try await Self.withServer(arguments: ["serve", "--port", String(port), "--db", database, "--max-url", "300"], environment: [:], port: port) {
            #expect(await HTTP.send("GET", port: port, path: long)?.status == 414)
            #expect(await HTTP.send("GET", port: port, path: "/healthz?short")?.status == 200)
        }
        port = try freePort()
        try await Self.withServer(arguments: ["serve", "--db", database],
                                  environment: ["MARGIN_PORT": String(port), "MARGIN_MAX_URL": "300", "MARGIN_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"],
                                  port: port) {
            #expect(await HTTP.send("GET", port: port, path: long)?.status == 414)
        }
        let unused = ["--db", "/tmp/unused-\(UUID()).sqlite", "--port", "0"]
        let proxy = try await CLI.run(["serve", "--trusted-proxy", "10.0.0.0/33"] + unused)
        #expect(proxy.status != 0)
        #expect(proxy.stderr.contains("10.0.0.0/33"))
        let timeout = try await CLI.run(["serve"] + unused, environment: ["MARGIN_REQUEST_TIMEOUT": "0"])
        #expect(timeout.status != 0)
        #expect(timeout.stderr.contains("MARGIN_REQUEST_TIMEOUT"))
        let body = try await CLI.run(["serve", "--max-body", "lots"] + unused)
        #expect(body.status != 0)
    }
}
