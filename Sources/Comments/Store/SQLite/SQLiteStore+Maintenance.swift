import Foundation
import GRDB

// Thread remaps, privacy requests and backups on SQLite.
extension SQLiteStore {
    /// Applies remap rules to stored threads: a thread moves to its new path, or merges into the
    /// thread already there, whose exact duplicate comments (author, time, text) are then dropped.
    public func remapThreads(rules: RemapRules, siteID: String?, dryRun: Bool) async throws -> RemapSummary {
        try await writer.writeWithoutTransaction { db in
            var summary = RemapSummary()
            summary.dryRun = dryRun
            try db.inTransaction {
                let filter = siteID == nil ? "" : "WHERE site_id = ?"
                let threads = try Row.fetchAll(db, sql: "SELECT id, site_id, uri FROM threads \(filter) ORDER BY id",
                                               arguments: siteID.map { [$0] } ?? [])
                for row in threads {
                    let id: Int64 = row["id"], site: String = row["site_id"], uri: String = row["uri"]
                    let target = try rules.apply(uri)
                    guard target != uri else { continue }
                    if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM threads WHERE site_id = ? AND uri = ?", arguments: [site, target]) {
                        try db.execute(sql: "UPDATE comments SET thread_id = ? WHERE thread_id = ?", arguments: [existing, id])
                        try db.execute(sql: "DELETE FROM threads WHERE id = ?", arguments: [id])
                        summary.threadsMerged += 1
                        summary.duplicatesDropped += try Self.dropDuplicates(db, threadID: existing)
                    } else {
                        try db.execute(sql: "UPDATE threads SET uri = ? WHERE id = ?", arguments: [target, id])
                        summary.threadsMoved += 1
                    }
                }
                return dryRun ? .rollback : .commit
            }
            return summary
        }
    }

    /// Removes later copies of the same comment in a thread, re-pointing their replies.
    static func dropDuplicates(_ db: Database, threadID: Int64) throws -> Int {
        let copies = try Row.fetchAll(db, sql: """
            SELECT c.id AS copy, MIN(k.id) AS kept FROM comments c JOIN comments k
              ON k.thread_id = c.thread_id AND k.id < c.id AND k.created_at = c.created_at AND k.body = c.body
              AND COALESCE(k.author, '') = COALESCE(c.author, '') AND k.status = c.status
            WHERE c.thread_id = ? GROUP BY c.id
            """, arguments: [threadID])
        for copy in copies {
            let copyID: Int64 = copy["copy"], keptID: Int64 = copy["kept"]
            try db.execute(sql: "UPDATE comments SET parent_id = ? WHERE parent_id = ?", arguments: [keptID, copyID])
            try db.execute(sql: "DELETE FROM comments WHERE id = ?", arguments: [copyID])
        }
        return copies.count
    }

    /// Every comment stored with this email address (any site, any status).
    public func comments(byEmail email: String) async throws -> [(CommentThread, Comment)] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT \(Comment.columns) FROM comments WHERE email = ? COLLATE NOCASE ORDER BY id", arguments: [email])
                .map(Comment.init(row:))
                .map { (try Self.requireThread(db, $0.threadID), $0) }
        }
    }

    /// Erases a person's comments: tombstones where replies exist, otherwise deletion; name,
    /// email, website and address cleared; each logged. Returns how many comments were affected.
    public func forget(email: String, at time: Int64) async throws -> Int {
        try await writer.write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, site_id FROM comments WHERE email = ? COLLATE NOCASE", arguments: [email])
            // Queued hook deliveries carry the comments' text and author: they go too.
            try Self.dropHookDeliveries(db, commentIDs: rows.map { $0["id"] })
            for row in rows {
                let id: Int64 = row["id"]
                try Self.log(db, ModerationLogEntry(commentID: id, siteID: row["site_id"], action: "gdpr-forget", actor: .cli,
                                                    reason: "privacy request", at: time))
                if try Self.hasReplies(db, id) {
                    try db.execute(sql: """
                        UPDATE comments SET status = 'deleted', body = '', html = '', author = NULL, email = NULL, website = NULL,
                            ip = NULL, user_agent = NULL, notify = 0, edit_key_hash = NULL, body_digest = NULL WHERE id = ?
                        """, arguments: [id])
                } else {
                    _ = try Self.deleteComment(db, id)
                }
            }
            return rows.count
        }
    }

    /// Logs that a person's data was exported.
    public func logPrivacyExport(email: String, at time: Int64) async throws {
        try await writer.write { db in
            for row in try Row.fetchAll(db, sql: "SELECT id, site_id FROM comments WHERE email = ? COLLATE NOCASE", arguments: [email]) {
                try Self.log(db, ModerationLogEntry(commentID: row["id"], siteID: row["site_id"], action: "gdpr-export", actor: .cli,
                                                    reason: "privacy request", at: time))
            }
        }
    }

    /// A consistent copy of the live database (SQLite's online backup), safe while the server runs.
    public func backup(to path: String) async throws {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw CommentsError.invalidField(field: "file", message: "\(path) already exists; choose a new file")
        }
        let destination = try DatabaseQueue(path: path)
        try await writer.read { db in
            try destination.writeWithoutTransaction { target in
                try db.backup(to: target)
            }
        }
        try destination.close()
    }

    /// Whether any thread or comment is stored (`margin migrate` moves only into a store without).
    public func holdsThreadsOrComments() async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM threads) OR EXISTS (SELECT 1 FROM comments)") ?? false
        }
    }
}
