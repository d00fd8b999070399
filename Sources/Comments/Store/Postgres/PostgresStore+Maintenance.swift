import Foundation
import Logging
import PostgresNIO

// Thread remaps, privacy requests and backups on PostgreSQL: the same rules as `SQLiteStore`'s.
extension PostgresStore {
    public func remapThreads(rules: RemapRules, siteID: String?, dryRun: Bool) async throws -> RemapSummary {
        let run: @Sendable (PostgresConnection, Logger) async throws -> RemapSummary = { connection, logger in
            var summary = RemapSummary()
            summary.dryRun = dryRun
            let query: PostgresQuery = siteID.map { "SELECT id, site_id, uri FROM threads WHERE site_id = \($0) ORDER BY id FOR UPDATE" }
                ?? "SELECT id, site_id, uri FROM threads ORDER BY id FOR UPDATE"
            var threads: [(Int64, String, String)] = []
            for try await row in try await connection.query(query, logger: logger).decode((Int64, String, String).self) { threads.append(row) }
            for (id, site, uri) in threads {
                let target = try rules.apply(uri)
                guard target != uri else { continue }
                let existing = try await Self.values(connection.query(
                    "SELECT id FROM threads WHERE site_id = \(site) AND uri = \(target)", logger: logger), as: Int64.self).first
                if let existing {
                    try await connection.query("UPDATE comments SET thread_id = \(existing) WHERE thread_id = \(id)", logger: logger)
                    try await connection.query("DELETE FROM threads WHERE id = \(id)", logger: logger)
                    summary.threadsMerged += 1
                    summary.duplicatesDropped += try await Self.dropDuplicates(connection, logger, threadID: existing)
                } else {
                    try await connection.query("UPDATE threads SET uri = \(target) WHERE id = \(id)", logger: logger)
                    summary.threadsMoved += 1
                }
            }
            return summary
        }
        guard dryRun else { return try await transaction(run) }
        // A dry run does the same work and rolls it back.
        return try await explicitTransaction(keep: { _ in false }, run)
    }

    /// Removes later copies of the same comment in a thread, re-pointing their replies.
    static func dropDuplicates(_ connection: PostgresConnection, _ logger: Logger, threadID: Int64) async throws -> Int {
        var copies: [(Int64, Int64)] = []
        for try await pair in try await connection.query("""
            SELECT c.id, MIN(k.id) FROM comments c JOIN comments k
              ON k.thread_id = c.thread_id AND k.id < c.id AND k.created_at = c.created_at AND k.body = c.body
              AND COALESCE(k.author, '') = COALESCE(c.author, '') AND k.status = c.status
            WHERE c.thread_id = \(threadID) GROUP BY c.id ORDER BY c.id
            """, logger: logger).decode((Int64, Int64).self) { copies.append(pair) }
        for (copy, kept) in copies {
            try await connection.query("UPDATE comments SET parent_id = \(kept) WHERE parent_id = \(copy)", logger: logger)
            try await connection.query("DELETE FROM comments WHERE id = \(copy)", logger: logger)
        }
        return copies.count
    }

    public func comments(byEmail email: String) async throws -> [(CommentThread, Comment)] {
        try await read { connection, logger in
            let comments = try await Self.comments(connection.query(
                "SELECT \(unescaped: Comment.columns) FROM comments WHERE lower(email) = lower(\(email)) ORDER BY id", logger: logger))
            let ids = Array(Set(comments.map(\.threadID)))
            let threads = try await Self.threads(connection.query(
                "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = ANY(\(ids))", logger: logger))
            let byID = Dictionary(threads.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            return comments.compactMap { comment in byID[comment.threadID].map { ($0, comment) } }
        }
    }

    public func forget(email: String, at time: Int64) async throws -> Int {
        try await transaction { connection, logger in
            let rows = try await Self.commentSites(ofEmail: email, locking: true, connection, logger)
            // Queued hook deliveries carry the comments' text and author: they go too.
            try await connection.query("DELETE FROM hook_deliveries WHERE comment_id = ANY(\(rows.map(\.0)))", logger: logger)
            for (id, site) in rows {
                try await Self.log(connection, logger, ModerationLogEntry(
                    commentID: id, siteID: site, action: "gdpr-forget", actor: .cli, reason: "privacy request", at: time))
                // An earlier deletion in this loop may have removed it with a dead tombstone.
                guard try await !Self.values(connection.query("SELECT id FROM comments WHERE id = \(id)", logger: logger), as: Int64.self).isEmpty
                else { continue }
                if try await Self.hasReplies(connection, logger, id) {
                    try await connection.query("""
                        UPDATE comments SET status = 'deleted', body = '', html = '', author = NULL, email = NULL, website = NULL,
                            ip = NULL, user_agent = NULL, notify = false, edit_key_hash = NULL, body_digest = NULL WHERE id = \(id)
                        """, logger: logger)
                } else {
                    _ = try await Self.deleteComment(connection, logger, id)
                }
            }
            return rows.count
        }
    }

    public func logPrivacyExport(email: String, at time: Int64) async throws {
        try await transaction { connection, logger in
            for (id, site) in try await Self.commentSites(ofEmail: email, locking: false, connection, logger) {
                try await Self.log(connection, logger, ModerationLogEntry(
                    commentID: id, siteID: site, action: "gdpr-export", actor: .cli, reason: "privacy request", at: time))
            }
        }
    }

    /// The id and site of every comment stored with `email` (any letter case), locked for the
    /// transaction when `locking`.
    static func commentSites(ofEmail email: String, locking: Bool, _ connection: PostgresConnection, _ logger: Logger) async throws -> [(Int64, String)] {
        let query: PostgresQuery = locking
            ? "SELECT id, site_id FROM comments WHERE lower(email) = lower(\(email)) ORDER BY id FOR UPDATE"
            : "SELECT id, site_id FROM comments WHERE lower(email) = lower(\(email)) ORDER BY id"
        var rows: [(Int64, String)] = []
        for try await row in try await connection.query(query, logger: logger).decode((Int64, String).self) { rows.append(row) }
        return rows
    }

    /// The whole store, from one snapshot, into a new SQLite file (`margin migrate`'s copy,
    /// counted on both sides); `margin migrate --from FILE --to URL` restores it.
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CommentsError.invalidField(field: "file", message: "\(path) already exists; choose a new file")
        }
        _ = try await StoreCopy.copy(self, toSQLite: path)
    }
}
