import Comments
import Foundation
import Hummingbird
import Logging
import MarginServer
import Moderation
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport

/// A clock the test moves by hand.
final class TestClock: MarginClock {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_790_000_000_000) { now = Mutex(start) }

    func nowMillis() -> Int64 { now.withLock { $0 } }

    func advance(seconds: Int64) { now.withLock { $0 += seconds * 1000 } }
}

/// Which store a test server runs on.
enum TestBackend: String, Sendable, CaseIterable, CustomTestStringConvertible {
    /// A SQLite file in a temporary directory.
    case sqlite
    /// A fresh database on the test PostgreSQL cluster.
    case postgres

    var testDescription: String { rawValue }

    /// A new, empty store of this kind; on PostgreSQL, `postgresURL`'s database when given (a
    /// second node on the same database).
    func makeStore(sqlitePath: String, postgresURL: String? = nil) async throws -> any CommentStore {
        switch self {
        case .sqlite:
            return try SQLiteStore(path: sqlitePath)
        case .postgres:
            let url = if let postgresURL { postgresURL } else { try await PostgresTestCluster.freshDatabase() }
            return try await PostgresStore(location: PostgresLocation(url: url), connectTimeout: PostgresTestCluster.patience)
        }
    }
}

/// The real server on 127.0.0.1 and a free port, on a real SQLite file in a temporary directory.
struct TestServer {
    let client: HTTPClient
    let store: SQLiteStore
    let clock: TestClock
    let databasePath: String

    var port: Int { client.port }

    /// Starts a server, runs `body` against it, and stops it.
    static func with<T: Sendable>(
        editWindowSeconds: Int = 900,
        mailTransport: (any MailTransport)? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer) async throws -> T
    ) async throws -> T {
        let directory = try Scratch()
        defer { directory.remove() }
        let path = directory.database
        let store = try SQLiteStore(path: path)
        let clock = TestClock()
        return try await serve(store: store, databasePath: path, clock: clock, editWindowSeconds: editWindowSeconds,
                               mailTransport: mailTransport, configure: configure) { client in
            try await body(TestServer(client: client, store: store, clock: clock, databasePath: path))
        }
    }

    /// Starts a server on a new store of `backend`, runs `body` against it, and stops it.
    static func with<T: Sendable>(
        backend: TestBackend,
        postgresURL: String? = nil,
        mailTransport: (any MailTransport)? = nil,
        configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: (BackendServer) async throws -> T
    ) async throws -> T {
        let directory = try Scratch()
        defer { directory.remove() }
        let store = try await backend.makeStore(sqlitePath: directory.database, postgresURL: postgresURL)
        defer { try? store.close() }
        let clock = TestClock()
        // A known port, so the public URL (the only origin the console's changes may come from)
        // is right. Another test may take a free port before this server binds it: then again.
        for attempt in 1... {
            let port = try freePort()
            do {
                return try await serve(store: store, databasePath: directory.database, clock: clock, editWindowSeconds: 900,
                                       mailTransport: mailTransport, configure: { configuration in
                    configuration.port = port
                    configuration.publicURL = "http://127.0.0.1:\(port)"
                    configure(&configuration)
                }) { client in
                    try await body(BackendServer(client: client, store: store, clock: clock))
                }
            } catch let error where attempt < 5 && Self.isPortTaken(error) {
                continue
            }
        }
        fatalError("unreachable")
    }

    /// Whether a server failed to start because its port was taken (`EADDRINUSE`).
    static func isPortTaken(_ error: any Error) -> Bool {
        error is ServerDidNotStart || String(describing: error).contains("Address already in use")
    }

    /// Runs the real server on `store` until `body` returns, then stops it as SIGTERM does.
    private static func serve<T: Sendable>(
        store: any CommentStore, databasePath path: String, clock: TestClock, editWindowSeconds: Int,
        mailTransport: (any MailTransport)?, configure: (inout ServerConfiguration) -> Void,
        _ body: (HTTPClient) async throws -> T
    ) async throws -> T {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "margin-test")
        logger.logLevel = .warning
        // Most tests post faster than any reader; the rate-limit tests turn it back on.
        var configuration = ServerConfiguration(
            host: "127.0.0.1", port: 0, databasePath: path, editWindowSeconds: editWindowSeconds, rateLimit: .off,
            outboxPollInterval: .milliseconds(100))
        configure(&configuration)
        let app = try await buildApplication(
            configuration: configuration,
            store: store, clock: clock, logger: logger, mailTransport: mailTransport,
            onServerRunning: { port in portContinuation.yield(port) })
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // A server that stops without ever running (its port was taken meanwhile) must
                // end the wait for its port, not leave the test waiting for ever.
                defer { portContinuation.finish() }
                try await services.run()
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else {
                try await group.waitForAll()
                throw ServerDidNotStart()
            }
            // Stop the way SIGTERM does: stop accepting, finish what is in flight.
            do {
                let result = try await body(HTTPClient(port: port))
                await services.triggerGracefulShutdown()
                try await group.waitForAll()
                return result
            } catch {
                await services.triggerGracefulShutdown()
                try? await group.waitForAll()
                throw error
            }
        }
    }

    /// Posts a comment as JSON and returns the response.
    func post(_ fields: [String: Any], headers: [(String, String)] = []) async throws -> HTTPResult {
        try await client.postJSON("/api/v1/comments", fields, headers: headers)
    }

    /// Posts a comment that must be published (201) and returns its id and edit token.
    func publish(_ text: String, uri: String = "/post/", parent: Int64? = nil, author: String? = nil, site: String = "default") async throws -> (id: Int64, token: String) {
        var fields: [String: Any] = ["site": site, "uri": uri, "text": text]
        if let parent { fields["parent"] = parent }
        if let author { fields["author"] = author }
        let response = try await post(fields)
        guard response.status == 201, let id = (response.json["id"] as? NSNumber)?.int64Value,
              let token = response.json["edit_token"] as? String
        else { throw TestFailure("expected 201, got \(response.status): \(response.text)") }
        return (id, token)
    }

    /// GETs a thread and returns its JSON.
    func thread(_ uri: String = "/post/", site: String = "default", query: String = "") async throws -> [String: Any] {
        let response = try await client.get("/api/v1/comments?site=\(site)&uri=\(uri.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? uri)\(query)")
        guard response.status == 200 else { throw TestFailure("thread GET gave \(response.status): \(response.text)") }
        return response.json
    }
}

/// A test server stopped before it listened.
struct ServerDidNotStart: Error {}

/// The real server on a store of either kind (`TestServer.with(backend:)`).
struct BackendServer {
    let client: HTTPClient
    let store: any CommentStore
    let clock: TestClock

    var port: Int { client.port }
}

extension Dictionary where Key == String, Value == Any {
    /// An integer field, whatever numeric type JSONSerialization chose.
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
    /// The `comments` array of a thread document.
    var comments: [[String: Any]] { self["comments"] as? [[String: Any]] ?? [] }
    /// The `replies` array of a comment node.
    var replies: [[String: Any]] { self["replies"] as? [[String: Any]] ?? [] }
}
