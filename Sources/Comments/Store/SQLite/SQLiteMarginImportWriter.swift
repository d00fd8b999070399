import Foundation
import GRDB

/// The SQL of a Margin import (`MarginImportSession` decides, this writes), inside the import's
/// one transaction on a SQLite store.
struct SQLiteMarginImportWriter {
    let db: Database

    /// Runs `body` in one write transaction on `store`, rolled back when `dryRun`.
    static func transaction<T: Sendable>(
        on store: SQLiteStore, dryRun: Bool, _ body: @escaping @Sendable (SQLiteMarginImportWriter) throws -> T
    ) async throws -> T {
        try await store.writer.writeWithoutTransaction { db -> T in
            var result: T?
            try db.inTransaction {
                result = try body(SQLiteMarginImportWriter(db: db))
                return dryRun ? .rollback : .commit
            }
            // `inTransaction` returns only after `body` did.
            return result!
        }
    }

    /// Adds a site unless its id is taken. The default site a new database starts with, still
    /// untouched and without threads, gives way to the file's: an export imported into a new
    /// database exports again byte for byte.
    func insertSite(
        id: String, name: String, origins: [String], moderation: String, requireAuthor: Bool, requireEmail: Bool, rateLimit: String?,
        moderators: [String], createdAt: Int64, avatars: String, voteRateLimit: String?
    ) throws {
        if let existing = try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE id = ?", arguments: [id]).map(Site.init(row:)),
           existing.isUntouchedDefault,
           try Bool.fetchOne(db, sql: "SELECT 1 FROM threads WHERE site_id = ? LIMIT 1", arguments: [id]) != true,
           // Its own blocklist entries would go with it.
           try Bool.fetchOne(db, sql: "SELECT 1 FROM blocklist WHERE site_id = ? LIMIT 1", arguments: [id]) != true {
            try db.execute(sql: "DELETE FROM sites WHERE id = ?", arguments: [id])
        }
        try db.execute(
            sql: """
            INSERT INTO sites (id, name, origins, moderation, require_author, require_email, rate_limit, moderators, created_at, avatars,
                vote_rate_limit)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """,
            arguments: [id, name, JSONText.encode(origins), moderation, requireAuthor, requireEmail, rateLimit, JSONText.encode(moderators),
                        createdAt, avatars, voteRateLimit])
    }

    /// The id of the thread at `uri` of `site`, if stored.
    func thread(site: String, uri: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM threads WHERE site_id = ? AND uri = ?", arguments: [site, uri])
    }

    /// Whether no thread has this id.
    func threadIDIsFree(_ id: Int64) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT id FROM threads WHERE id = ?", arguments: [id]) == nil
    }

    /// Adds a thread, with `id` or (nil) a new one; its id.
    func insertThread(id: Int64?, site: String, uri: String, title: String?, locked: Bool, createdAt: Int64) throws -> Int64 {
        try db.execute(
            sql: "INSERT INTO threads (id, site_id, uri, title, locked, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [id, site, uri, title, locked, createdAt])
        return db.lastInsertedRowID
    }

    /// The time and text of the comment with this id, if stored.
    func comment(id: Int64) throws -> (createdAt: Int64, body: String)? {
        try Row.fetchOne(db, sql: "SELECT id, created_at, body FROM comments WHERE id = ?", arguments: [id])
            .map { ($0["created_at"], $0["body"]) }
    }

    /// The id of the comment of `site` imported from `origin`, if stored.
    func comment(site: String, origin: String) throws -> Int64? {
        try Int64.fetchOne(db, sql: "SELECT id FROM comments WHERE site_id = ? AND origin = ?", arguments: [site, origin])
    }

    /// Whether no comment has this id.
    func commentIDIsFree(_ id: Int64) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT id FROM comments WHERE id = ?", arguments: [id]) == nil
    }

    /// A comment as a Margin export carries it (without its parent, linked at the end).
    struct CommentRow {
        var id: Int64?
        var site: String
        var thread: Int64
        var status: String
        var author: String?
        var email: String?
        var website: String?
        var body: String
        var html: String
        var createdAt: Int64
        var editedAt: Int64?
        var ip: String?
        var userAgent: String?
        var spamScore: Double
        var spamReasons: [String]
        var likes: Int64
        var dislikes: Int64
        var notify: Bool
        var editKeyHash: String?
        var trainedAs: String?
        var origin: String?
    }

    /// Adds a comment; its id.
    func insertComment(_ row: CommentRow) throws -> Int64 {
        try db.execute(
            sql: """
            INSERT INTO comments (id, site_id, thread_id, parent_id, status, author, email, website, body, html, created_at, edited_at,
                ip, user_agent, spam_score, spam_reasons, likes, dislikes, notify, edit_key_hash, trained_as, origin)
            VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [
                row.id, row.site, row.thread, row.status, row.author, row.email,
                row.website, row.body, row.html, row.createdAt, row.editedAt,
                row.ip, row.userAgent, row.spamScore,
                JSONText.encode(row.spamReasons), row.likes, row.dislikes,
                row.notify, row.editKeyHash, row.trainedAs, row.origin,
            ])
        return db.lastInsertedRowID
    }

    /// Adds a vote unless that voter's is stored.
    func insertVote(comment: Int64, voter: String, value: Int64, createdAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO votes (comment_id, voter, value, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [comment, voter, value, createdAt])
    }

    /// Whether this moderation log entry is stored.
    func logEntryExists(comment: Int64, action: String, actor: String, at: Int64) throws -> Bool {
        try Bool.fetchOne(
            db, sql: "SELECT 1 FROM moderation_log WHERE comment_id = ? AND action = ? AND actor = ? AND at = ?",
            arguments: [comment, action, actor, at]) ?? false
    }

    /// Whether no moderation log entry has this id.
    func logIDIsFree(_ id: Int64) throws -> Bool {
        try Int64.fetchOne(db, sql: "SELECT id FROM moderation_log WHERE id = ?", arguments: [id]) == nil
    }

    /// Adds a moderation log entry, with `id` or (nil) a new one.
    func insertLogEntry(
        id: Int64?, comment: Int64, site: String, action: String, actor: String, moderator: String?, reason: String?, fromStatus: String?, at: Int64
    ) throws {
        try db.execute(
            sql: """
            INSERT INTO moderation_log (id, comment_id, site_id, action, actor, moderator, reason, from_status, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [id, comment, site, action, actor, moderator, reason, fromStatus, at])
    }

    /// Adds a blocklist entry (`site` nil: of every site) unless it is stored.
    func insertBlock(kind: String, value: String, site: String?, reason: String?, createdAt: Int64) throws {
        try db.execute(
            sql: "INSERT INTO blocklist (kind, value, site_id, reason, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [kind, value, site, reason, createdAt])
    }

    /// Whether a site has this id.
    func siteExists(_ id: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [id]) == true
    }

    /// Hangs a comment from its parent.
    func setParent(_ parent: Int64, of id: Int64) throws {
        try db.execute(sql: "UPDATE comments SET parent_id = ? WHERE id = ?", arguments: [parent, id])
    }
}
