import Logging
import PostgresNIO

/// A PostgreSQL database as either side.
struct PostgresCopyEnd: StoreCopyEnd {
    let store: PostgresStore
    /// Whether `close()` closes the store (false for a store someone else opened).
    let closes: Bool
    var name: String { store.location.description }
    var exists: Bool { true }

    func reading<T: Sendable>(_ body: @escaping @Sendable (any RowReader) async throws -> T) async throws -> T {
        try await store.explicitTransaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection, logger in
            try await body(PostgresRowReader(connection: connection, logger: logger))
        }
    }

    func writing<T: Sendable>(_ body: @escaping @Sendable (any RowWriter) async throws -> T) async throws -> T {
        let location = store.location
        return try await store.explicitTransaction { connection, logger in
            let run = { (sql: String) in try await PostgresStore.execute(sql, on: connection, logger: logger) }
            guard try await !Self.holdsThreadsOrComments(on: connection, logger: logger) else {
                throw CommentsError.copyRefused("\(location) already holds threads or comments: move into an empty database")
            }
            // The triggers that count versions rest while rows arrive with their versions;
            // ALTER TABLE is transactional, so they come back on rollback too.
            for table in ["sites", "threads", "comments"] { try await run("ALTER TABLE \(table) DISABLE TRIGGER USER") }
            // A reply may come before its parent (a smaller id): checked once all are in.
            try await run("SET CONSTRAINTS comments_parent_id_fkey DEFERRED")
            for table in StoreCopy.tables.reversed() { try await run("DELETE FROM \(table)") }
            let result = try await body(PostgresRowWriter(connection: connection, logger: logger))
            // Every parent is there now; checked before the triggers may change again.
            try await run("SET CONSTRAINTS comments_parent_id_fkey IMMEDIATE")
            for table in ["sites", "threads", "comments"] { try await run("ALTER TABLE \(table) ENABLE TRIGGER USER") }
            // New ids continue after the moved ones.
            for table in ["threads", "comments", "moderation_log", "outbox", "hooks", "hook_deliveries"] {
                try await run("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE((SELECT MAX(id) FROM \(table)), 0) + 1, false)")
            }
            return result
        }
    }

    /// Whether any thread or comment is stored (a move goes only into a database without).
    func holdsThreadsOrComments() async throws -> Bool {
        try await store.read { connection, logger in try await Self.holdsThreadsOrComments(on: connection, logger: logger) }
    }

    static func holdsThreadsOrComments(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await PostgresRowReader.count("SELECT (EXISTS (SELECT 1 FROM threads) OR EXISTS (SELECT 1 FROM comments))::int",
                                       on: connection, logger: logger) > 0
    }

    func close() { if closes { store.close() } }
}
