import Foundation
import GRDB

/// What the database holds now, for monitoring (`GET /metrics`).
public struct StoreStatistics: Sendable, Equatable {
    /// Comments by status; a status with none may be missing.
    public var comments: [CommentStatus: Int]
    /// Mail waiting to be sent (not sent, not given up on).
    public var outboxPending: Int
    /// Mail given up on after its last attempt.
    public var outboxFailed: Int
    /// The database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64

    public init(comments: [CommentStatus: Int], outboxPending: Int, outboxFailed: Int, databaseBytes: Int64) {
        self.comments = comments
        self.outboxPending = outboxPending
        self.outboxFailed = outboxFailed
        self.databaseBytes = databaseBytes
    }
}

/// How a health check found the database.
public struct DatabaseHealth: Sendable, Equatable {
    /// The database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64
    /// The schema migrations applied.
    public var migrations: Int
}

/// A store that can say what it holds, for `GET /metrics`.
public protocol StatisticsStore: Sendable {
    /// Counts by status and outbox state, and the size of the database.
    func statistics() async throws -> StoreStatistics
}

extension SQLiteStore: StatisticsStore {
    /// Counts by status and outbox state, and the size on disk. The counts read indexes
    /// (`comments_by_site_status`, `outbox_due`), not the comment bodies.
    public func statistics() async throws -> StoreStatistics {
        let (comments, pending, failed) = try await read { db in
            var comments: [CommentStatus: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT status, COUNT(*) FROM comments GROUP BY status") {
                if let status = CommentStatus(rawValue: row[0]) { comments[status] = row[1] }
            }
            let pending = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL") ?? 0
            let failed = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND failed_at IS NOT NULL") ?? 0
            return (comments, pending, failed)
        }
        return StoreStatistics(comments: comments, outboxPending: pending, outboxFailed: failed, databaseBytes: databaseBytes())
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
    public func health() async throws -> DatabaseHealth {
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
