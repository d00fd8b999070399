import Foundation
import GRDB

/// The SQL of an export (`Exporter` writes the formats): every row of a database, or of one
/// site, in a stable order, a row at a time, inside one read transaction on a SQLite store.
struct SQLiteExportReader {
    let db: Database

    /// Runs `body` on one consistent read of `store`.
    static func read<T: Sendable>(_ store: SQLiteStore, _ body: @escaping @Sendable (SQLiteExportReader) throws -> T) async throws -> T {
        try await store.writer.read { db in try body(SQLiteExportReader(db: db)) }
    }

    /// The `WHERE` clause (and its argument) keeping one site's rows, or none for every site.
    static func siteFilter(_ siteID: String?, column: String = "site_id") -> (String, StatementArguments) {
        guard let siteID else { return ("", []) }
        return ("WHERE \(column) = ?", [siteID])
    }

    /// Whether a site has this id.
    func siteExists(_ id: String) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [id]) == true
    }

    /// Every site (or the one), by id.
    func eachSite(_ siteID: String?, _ body: (Site) throws -> Void) throws {
        let (siteWhere, siteArguments) = Self.siteFilter(siteID, column: "id")
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM sites \(siteWhere) ORDER BY id", arguments: siteArguments)
        while let row = try cursor.next() { try body(Site(row: row)) }
    }

    /// Every thread (of the site), by id.
    func eachThread(_ siteID: String?, _ body: (CommentThread) throws -> Void) throws {
        let (where_, arguments) = Self.siteFilter(siteID)
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM threads \(where_) ORDER BY id", arguments: arguments)
        while let row = try cursor.next() { try body(CommentThread(row: row)) }
    }

    /// Every comment (of the site), by id, with its site and what the spam filter learnt from it.
    func eachComment(_ siteID: String?, _ body: (_ comment: Comment, _ site: String, _ trainedAs: String?) throws -> Void) throws {
        let (where_, arguments) = Self.siteFilter(siteID)
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(Comment.columns), site_id, trained_as FROM comments \(where_) ORDER BY id", arguments: arguments)
        while let row = try cursor.next() { try body(Comment(row: row), row["site_id"], row["trained_as"]) }
    }

    /// Every comment readers see (published, or a tombstone holding replies), by id.
    func eachVisibleComment(_ siteID: String?, _ body: (Comment) throws -> Void) throws {
        let (where_, arguments) = Self.siteFilter(siteID)
        let visible = (where_.isEmpty ? "WHERE" : where_ + " AND") + " status IN ('approved', 'deleted')"
        let cursor = try Row.fetchCursor(db, sql: "SELECT \(Comment.columns) FROM comments \(visible) ORDER BY id", arguments: arguments)
        while let row = try cursor.next() { try body(Comment(row: row)) }
    }

    /// Every comment (of the site), by id, with its site and its thread's address and title.
    func eachCommentWithThread(
        _ siteID: String?, _ body: (_ comment: Comment, _ site: String, _ uri: String, _ title: String?) throws -> Void
    ) throws {
        let (where_, arguments) = Self.siteFilter(siteID, column: "c.site_id")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT \(Comment.qualifiedColumns), c.site_id, t.uri AS thread_uri, t.title AS thread_title FROM comments c JOIN threads t ON t.id = c.thread_id
            \(where_) ORDER BY c.id
            """, arguments: arguments)
        while let row = try rows.next() { try body(Comment(row: row), row["site_id"], row["thread_uri"], row["thread_title"]) }
    }

    /// Every vote (on the site's comments), by comment and voter.
    func eachVote(_ siteID: String?, _ body: (_ comment: Int64, _ voter: String, _ value: Int, _ createdAt: Int64) throws -> Void) throws {
        let (_, arguments) = Self.siteFilter(siteID)
        let voteFilter = siteID == nil ? "" : "WHERE comment_id IN (SELECT id FROM comments WHERE site_id = ?)"
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM votes \(voteFilter) ORDER BY comment_id, voter", arguments: arguments)
        while let row = try cursor.next() { try body(row["comment_id"], row["voter"], row["value"], row["created_at"]) }
    }

    /// Every moderation log entry (of the site), by id.
    func eachLogEntry(_ siteID: String?, _ body: (ModerationLogEntry) throws -> Void) throws {
        let (where_, arguments) = Self.siteFilter(siteID)
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM moderation_log \(where_) ORDER BY id", arguments: arguments)
        while let row = try cursor.next() {
            try body(ModerationLogEntry(
                id: row["id"], commentID: row["comment_id"], siteID: row["site_id"], action: row["action"],
                actor: ModerationActor(rawValue: row["actor"]) ?? .cli, moderator: row["moderator"], reason: row["reason"],
                fromStatus: (row["from_status"] as String?).flatMap(CommentStatus.init(rawValue:)), at: row["at"]))
        }
    }

    /// Every blocklist entry (global and of every site), or (with `siteID`) that site's own, by
    /// kind, value and site.
    func eachBlock(_ siteID: String?, _ body: (BlockEntry) throws -> Void) throws {
        let (where_, arguments) = Self.siteFilter(siteID)
        let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM blocklist \(where_) ORDER BY kind, value, site_id NULLS FIRST", arguments: arguments)
        while let row = try cursor.next() {
            try body(BlockEntry(
                kind: BlockKind(rawValue: row["kind"]) ?? .word, value: row["value"], reason: row["reason"], createdAt: row["created_at"],
                siteID: row["site_id"]))
        }
    }
}
