import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The store on PostgreSQL (postgres-nio, no ORM), for several `margin serve` nodes sharing one
/// database. It keeps nothing a node could disagree on in memory: rate limits, link nonces,
/// signing keys, tokens and the mail outbox live in the database.
///
/// It offers no change tracking for now (no stamp is shared between nodes yet), so the thread
/// cache checks each thread's version in the database on every request.
public final class PostgresStore: CommentStore {
    /// Where it connects.
    public let location: PostgresLocation
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    private let logger: Logger
    /// How long a query waits for a pooled connection before it is answered `storageUnavailable`.
    private let waitLimit: Duration

    /// Connects (lazily, through a pool) and brings the schema up to date. Throws
    /// `storageUnavailable` when the server cannot be reached within `connectTimeout`.
    public init(location: PostgresLocation, logger: Logger = Logger(label: "margin.postgres"),
                connectTimeout: Duration = .seconds(10)) async throws {
        self.location = location
        self.logger = logger
        waitLimit = connectTimeout
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: try Self.tls(location.sslMode))
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = 20
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        runner = Task { await client.run() }
        do {
            // The pool retries a refused connection for ever; a node that cannot reach its
            // database at start must say so instead of waiting.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.query("SELECT 1", logger: logger) }
                group.addTask {
                    try await Task.sleep(for: connectTimeout)
                    throw CommentsError.storageUnavailable("PostgreSQL at \(location) did not answer within \(connectTimeout)")
                }
                try await group.next()
                group.cancelAll()
            }
            try await migrate()
        } catch {
            runner.cancel()
            throw Self.mapped(error, location: location)
        }
    }

    deinit { runner.cancel() }

    /// Stops the pool; the store cannot be used after.
    public func close() { runner.cancel() }

    private static func tls(_ mode: PostgresLocation.SSLMode) throws -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(.makeClientConfiguration())
        case .require: return .require(.makeClientConfiguration())
        }
    }

    // MARK: Capabilities

    /// None yet: no change stamp is shared between nodes.
    public var changeTracking: (any ChangeTracking)? { nil }
    /// Token buckets in the database, drawn from by every node (`rate_buckets`).
    public var sharedRateLimits: (any SharedRateLimits)? { self }
    /// None: PostgreSQL checkpoints on its own.
    public var checkpointing: (any Checkpointing)? { nil }

    // MARK: Migrations

    /// Applies the migrations not yet applied, each in its own transaction, holding an advisory
    /// lock so that nodes starting together do not race. When they build the schema from
    /// nothing, the embedded default site is added under the same lock: a new database has it
    /// whichever command created it.
    func migrate() async throws {
        try await client.withConnection { connection in
            try await Self.execute("SELECT pg_advisory_lock(\(PostgresMigrations.advisoryLock))", on: connection, logger: logger)
            do {
                try await Self.execute("CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)", on: connection, logger: logger)
                let applied = Set(try await Self.values(
                    connection.query(PostgresQuery("SELECT id FROM schema_migrations"), logger: logger), as: String.self))
                let fresh = applied.isEmpty
                for migration in PostgresMigrations.all where !applied.contains(migration.id) {
                    try await Self.execute("BEGIN", on: connection, logger: logger)
                    do {
                        for statement in PostgresMigrations.statements(of: migration.sql) {
                            try await Self.execute(statement, on: connection, logger: logger)
                        }
                        let now = Int64(Date().timeIntervalSince1970 * 1000)
                        try await connection.query(
                            "INSERT INTO schema_migrations (id, applied_at) VALUES (\(migration.id), \(now))", logger: logger)
                        try await Self.execute("COMMIT", on: connection, logger: logger)
                    } catch {
                        try? await Self.execute("ROLLBACK", on: connection, logger: logger)
                        throw error
                    }
                }
                if fresh {
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    let sites = try await Self.values(connection.query(PostgresQuery("SELECT COUNT(*) FROM sites"), logger: logger), as: Int64.self)
                    if sites.first == 0 { try await connection.query(Self.insertSite(Site.embeddedDefault(createdAt: now)), logger: logger) }
                }
            } catch {
                try? await Self.execute("SELECT pg_advisory_unlock(\(PostgresMigrations.advisoryLock))", on: connection, logger: logger)
                throw error
            }
            try await Self.execute("SELECT pg_advisory_unlock(\(PostgresMigrations.advisoryLock))", on: connection, logger: logger)
        }
    }

    /// Runs one statement of our own text (no values from outside) and drops its rows.
    static func execute(_ sql: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
    }

    // MARK: Health

    /// Throws unless the database answers a query.
    public func ping() async throws {
        try await transaction { connection, logger in _ = try await connection.query("SELECT 1", logger: logger) }
    }

    // MARK: Plumbing

    /// Every row of a one-column result, decoded.
    static func values<T: PostgresDecodable & Sendable>(_ rows: PostgresRowSequence, as type: T.Type) async throws -> [T] {
        var values: [T] = []
        for try await value in rows.decode(T.self) { values.append(value) }
        return values
    }

    /// Runs `body` on one pooled connection, outside any transaction (`StoreCopy` opens its
    /// own); the driver's errors become `storageUnavailable`.
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in try await body(connection, logger) }
        } catch let error as PSQLError {
            throw Self.mapped(error, location: location)
        }
    }

    /// Runs `body` between `begin` (BEGIN with an isolation level, say) and COMMIT on one pooled
    /// connection; ROLLBACK instead when it throws or `keep` says no (a dry run).
    func explicitTransaction<T: Sendable>(
        begin: String = "BEGIN", keep: @escaping @Sendable (T) -> Bool = { _ in true },
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await withConnection { connection, logger in
            try await Self.execute(begin, on: connection, logger: logger)
            do {
                let result = try await body(connection, logger)
                try await Self.execute(keep(result) ? "COMMIT" : "ROLLBACK", on: connection, logger: logger)
                return result
            } catch {
                try? await Self.execute("ROLLBACK", on: connection, logger: logger)
                throw error
            }
        }
    }

    /// Runs `body` in one transaction on one pooled connection; `CommentsError`s pass through,
    /// anything else becomes `storageUnavailable`. While the server is down the pool would wait
    /// for a connection for ever, so a request that gets none within `waitLimit` is answered
    /// `storageUnavailable` at once. Once it has a connection it runs to its end: cutting it
    /// short could answer 503 for a comment that was stored.
    func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await leased(transactional: true, body)
    }

    /// Runs `body`, which only reads, on one pooled connection without BEGIN and COMMIT (two
    /// round trips fewer: under READ COMMITTED a transaction gives reads nothing more), with
    /// the same deadline and errors as `transaction`.
    func read<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await leased(transactional: false, body)
    }

    private func leased<T: Sendable>(
        transactional: Bool, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        let leased = LeaseFlag()
        let (client, logger, location, waitLimit) = (self.client, self.logger, self.location, self.waitLimit)
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    if !transactional {
                        return try await client.withConnection { connection in
                            leased.set()
                            return try await body(connection, logger)
                        }
                    }
                    return try await client.withTransaction(logger: logger) { connection in
                        leased.set()
                        return try await body(connection, logger)
                    }
                }
                group.addTask {
                    try await Task.sleep(for: waitLimit)
                    if leased.isSet { return nil }
                    throw CommentsError.storageUnavailable("PostgreSQL at \(location) gave no connection within \(waitLimit)")
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw CommentsError.storageUnavailable("PostgreSQL at \(location): no answer")
            }
        } catch let error as PostgresTransactionError {
            throw Self.mapped(error.closureError ?? error, location: location)
        } catch {
            throw Self.mapped(error, location: location)
        }
    }

    /// Our own errors as they are; the driver's as `storageUnavailable`, with what went wrong.
    static func mapped(_ error: any Error, location: PostgresLocation) -> any Error {
        if error is CommentsError { return error }
        if let psql = error as? PSQLError {
            let message = psql.serverInfo?[.message] ?? "\(psql.code)"
            return CommentsError.storageUnavailable("PostgreSQL at \(location): \(message)")
        }
        return CommentsError.storageUnavailable("PostgreSQL at \(location): \(error)")
    }
}

/// Whether a transaction got its connection, shared by the query and its deadline.
private final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
