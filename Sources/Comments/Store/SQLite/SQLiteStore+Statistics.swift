import Foundation
import GRDB

// What the database holds and how it answers, for `GET /metrics` and `GET /healthz`.
extension SQLiteStore {
    /// Counts by status, mail outbox and hook delivery state, and the size on disk. The counts
    /// read indexes (`comments_by_site_status`, `outbox_due`, `hook_deliveries_due`), not the
    /// comment bodies or payloads.
    public func statistics() async throws -> StoreStatistics {
        var statistics = try await read { db in
            var comments: [CommentStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM comments GROUP BY status") {
                if let status = CommentStatus(rawValue: row[0]) { comments[status] = row[1] }
            }
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL") ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NOT NULL") ?? 0
            let hooks = try Self.hookBacklog(db)
            return StoreStatistics(comments: comments, outboxPending: pending, outboxFailed: failed, hooksPending: hooks.pending,
                                   hooksFailed: hooks.failed, databaseBytes: 0)
        }
        statistics.databaseBytes = databaseBytes()
        return statistics
    }

    /// The hook deliveries waiting (the due index counts them) and given up on.
    public func hookBacklog() async throws -> (pending: Int, failed: Int) {
        try await read { db in try Self.hookBacklog(db) }
    }

    static func hookBacklog(_ db: Database) throws -> (pending: Int, failed: Int) {
        let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL") ?? 0
        let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM hook_deliveries WHERE delivered_at IS NULL AND failed_at IS NOT NULL") ?? 0
        return (pending, failed)
    }

    /// The database file plus its `-wal` file, in bytes; 0 in memory.
    public func databaseBytes() -> Int64 {
        guard let path = filePath else { return 0 }
        return [path, path + "-wal"].reduce(Int64(0)) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
            return total + size
        }
    }

    /// Checks that the database answers through the server's own connections *and* that the file
    /// at its path still opens as this database on a new connection: open connections keep
    /// answering from a file that was deleted or moved away, so only a fresh one
    /// notices. Throws `CommentsError.storageUnavailable` when either fails.
    public func health() async throws -> DatabaseHealth? {
        try await ping()
        var migrations = 0
        if let path = filePath {
            do {
                var configuration = Configuration()
                configuration.readonly = true
                let fresh = try DatabaseQueue(path: path, configuration: configuration)
                migrations = try await fresh.read { db in
                    try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM grdb_migrations") ?? 0
                }
                try fresh.close()
            } catch {
                let mapped = Self.mapped(error)
                throw mapped is CommentsError ? mapped : CommentsError.storageUnavailable("\(error)")
            }
        }
        return DatabaseHealth(databaseBytes: databaseBytes(), migrations: migrations)
    }
}
