import Comments
import Foundation
import Hummingbird
import Logging
import MarginServer
import Moderation
import ServiceLifecycle
import Synchronization
import TestSupport

/// A clock the test moves by hand.
final class TestClock: MarginClock {
    private let now: Mutex<Int64>

    init(_ start: Int64 = 1_790_000_000_000) { now = Mutex(start) }

    func nowMillis() -> Int64 { now.withLock { $0 } }

    func advance(seconds: Int64) { now.withLock { $0 += seconds * 1000 } }
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
            group.addTask { try await services.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            let server = TestServer(client: HTTPClient(port: port), store: store, clock: clock, databasePath: path)
            // Stop the way SIGTERM does: stop accepting, finish what is in flight.
            do {
                let result = try await body(server)
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

extension Dictionary where Key == String, Value == Any {
    /// An integer field, whatever numeric type JSONSerialization chose.
    func int(_ key: String) -> Int? { (self[key] as? NSNumber)?.intValue }
    /// The `comments` array of a thread document.
    var comments: [[String: Any]] { self["comments"] as? [[String: Any]] ?? [] }
    /// The `replies` array of a comment node.
    var replies: [[String: Any]] { self["replies"] as? [[String: Any]] ?? [] }
}
