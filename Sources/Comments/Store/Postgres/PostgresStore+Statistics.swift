import Logging
import PostgresNIO

// What the database holds and how it answers, for `GET /metrics` and `GET /healthz`.
extension PostgresStore {
    /// Counts by status, mail outbox and hook delivery state, and the database's size
    /// (`pg_database_size`: its tables, indexes and TOAST, for every node alike).
    public func statistics() async throws -> StoreStatistics {
        try await read { connection, logger in
            var comments: [CommentStatus: Int] = [:]
            for try await (status, count) in try await connection.query(
                "SELECT status, COUNT(*) FROM comments GROUP BY status", logger: logger
            ).decode((String, Int64).self) {
                if let status = CommentStatus(rawValue: status) { comments[status] = Int(count) }
            }
            var outbox = (pending: 0, failed: 0, bytes: Int64(0))
            for try await (pending, failed, bytes) in try await connection.query("""
                SELECT COUNT(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NULL),
                       COUNT(*) FILTER (WHERE sent_at IS NULL AND failed_at IS NOT NULL),
                       pg_database_size(current_database())
                FROM outbox
                """, logger: logger).decode((Int64, Int64, Int64).self) {
                outbox = (Int(pending), Int(failed), bytes)
            }
            let hooks = try await Self.hookBacklog(connection, logger: logger)
            return StoreStatistics(comments: comments, outboxPending: outbox.pending, outboxFailed: outbox.failed,
                                   hooksPending: hooks.pending, hooksFailed: hooks.failed, databaseBytes: outbox.bytes)
        }
    }

    /// The hook deliveries waiting and given up on.
    public func hookBacklog() async throws -> (pending: Int, failed: Int) {
        try await read { connection, logger in try await Self.hookBacklog(connection, logger: logger) }
    }

    static func hookBacklog(_ connection: PostgresConnection, logger: Logger) async throws -> (pending: Int, failed: Int) {
        var hooks = (pending: 0, failed: 0)
        for try await (pending, failed) in try await connection.query("""
            SELECT COUNT(*) FILTER (WHERE failed_at IS NULL), COUNT(*) FILTER (WHERE failed_at IS NOT NULL)
            FROM hook_deliveries WHERE delivered_at IS NULL
            """, logger: logger).decode((Int64, Int64).self) {
            hooks = (Int(pending), Int(failed))
        }
        return hooks
    }

    /// Throws unless the database answers a query; no figures (the server holds no file).
    public func health() async throws -> DatabaseHealth? {
        try await ping()
        return nil
    }
}
