import Foundation
import Logging
import PostgresNIO

// Threads and comments on PostgreSQL: the same rules as `SQLiteStore`, in one transaction each.
extension PostgresStore {
    static let threadColumns = "id, site_id, uri, title, locked, created_at, version"

    public func thread(siteID: String, uri: String) async throws -> CommentThread? {
        try await transaction { connection, logger in try await Self.fetchThread(connection, logger, siteID: siteID, uri: uri) }
    }

    public func thread(id: Int64) async throws -> CommentThread? {
        try await transaction { connection, logger in
            try await Self.threads(connection.query("SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(id)", logger: logger)).first
        }
    }

    public func visibleComments(siteID: String, uri: String) async throws -> (CommentThread, [Comment])? {
        try await transaction { connection, logger in
            guard let thread = try await Self.fetchThread(connection, logger, siteID: siteID, uri: uri) else { return nil }
            // Approved comments, plus every ancestor of one (shown as a tombstone when not approved).
            let comments = try await Self.comments(connection.query("""
                WITH RECURSIVE visible(id) AS (
                    SELECT id FROM comments WHERE thread_id = \(thread.id) AND status = 'approved'
                    UNION
                    SELECT c.parent_id FROM comments c JOIN visible v ON c.id = v.id WHERE c.parent_id IS NOT NULL
                )
                SELECT \(unescaped: Comment.columns) FROM comments WHERE id IN (SELECT id FROM visible) ORDER BY created_at, id
                """, logger: logger))
            return (thread, comments)
        }
    }

    public func insert(_ new: NewComment, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        try await transaction { connection, logger in try await Self.insert(connection, logger, new, mail: mail) }
    }

    public func comment(id: Int64) async throws -> Comment? {
        try await transaction { connection, logger in
            try await Self.comments(connection.query("SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(id)", logger: logger)).first
        }
    }

    public func approvedCounts(siteID: String, uris: [String]) async throws -> [String: Int] {
        guard !uris.isEmpty else { return [:] }
        return try await transaction { connection, logger in
            var counts = Dictionary(uris.map { ($0, 0) }, uniquingKeysWith: { first, _ in first })
            let rows = try await connection.query("""
                SELECT t.uri, COUNT(c.id) FROM threads t JOIN comments c ON c.thread_id = t.id AND c.status = 'approved'
                WHERE t.site_id = \(siteID) AND t.uri = ANY(\(uris)) GROUP BY t.uri
                """, logger: logger)
            for try await (uri, count) in rows.decode((String, Int64).self) { counts[uri] = Int(count) }
            return counts
        }
    }

    public func commentCount(siteID: String) async throws -> Int {
        try await transaction { connection, logger in
            try await Int(Self.values(connection.query("SELECT COUNT(*) FROM comments WHERE site_id = \(siteID)", logger: logger),
                                      as: Int64.self).first ?? 0)
        }
    }

    // MARK: Inside a transaction

    static func fetchThread(_ connection: PostgresConnection, _ logger: Logger, siteID: String, uri: String) async throws -> CommentThread? {
        try await threads(connection.query(
            "SELECT \(unescaped: threadColumns) FROM threads WHERE site_id = \(siteID) AND uri = \(uri)", logger: logger)).first
    }

    /// Inserts `new` into its thread (created on first use), as `SQLiteStore` does: the site must
    /// exist, the thread be open, and a parent be an approved comment of the same thread.
    static func insert(_ connection: PostgresConnection, _ logger: Logger, _ new: NewComment, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        // Two nodes creating the same thread at once: the second finds the first's row.
        let created = try await threads(connection.query("""
            INSERT INTO threads (site_id, uri, title, created_at)
            SELECT \(new.siteID), \(new.uri), \(new.title), \(new.comment.createdAt) WHERE EXISTS (SELECT 1 FROM sites WHERE id = \(new.siteID))
            ON CONFLICT (site_id, uri) DO NOTHING
            RETURNING \(unescaped: threadColumns)
            """, logger: logger)).first
        var found = created
        if found == nil { found = try await fetchThread(connection, logger, siteID: new.siteID, uri: new.uri) }
        guard var thread = found else { throw CommentsError.siteNotFound(new.siteID) }
        if thread.locked { throw CommentsError.threadLocked }
        if let parentID = new.comment.parentID {
            let parents = try await connection.query(
                "SELECT thread_id, status FROM comments WHERE id = \(parentID)", logger: logger)
            var visible = false
            for try await (threadID, status) in parents.decode((Int64, String).self) {
                visible = threadID == thread.id && status == CommentStatus.approved.rawValue
            }
            guard visible else {
                throw CommentsError.invalidField(field: "parent", message: "no visible comment \(parentID) in this thread")
            }
        }
        var comment = new.comment
        comment.threadID = thread.id
        let reasons = JSONText.encode(comment.spamReasons)
        let digest = SQLiteStore.digest(comment.body)
        comment.id = try await values(connection.query("""
            INSERT INTO comments (site_id, thread_id, parent_id, status, author, email, website, body, html,
                created_at, edited_at, ip, user_agent, spam_score, spam_reasons, likes, dislikes, notify,
                edit_key_hash, origin, body_digest)
            VALUES (\(new.siteID), \(comment.threadID), \(comment.parentID), \(comment.status.rawValue), \(comment.author),
                \(comment.email), \(comment.website), \(comment.body), \(comment.html), \(comment.createdAt),
                \(comment.editedAt), \(comment.ip), \(comment.userAgent), \(comment.spamScore), \(reasons),
                \(Int64(comment.likes)), \(Int64(comment.dislikes)), \(comment.notify), \(comment.editKeyHash), \(comment.origin), \(digest))
            RETURNING id
            """, logger: logger), as: Int64.self).first ?? 0
        thread.version = try await values(
            connection.query("SELECT version FROM threads WHERE id = \(thread.id)", logger: logger), as: Int64.self).first ?? thread.version
        if comment.status == .pending || comment.status == .spam {
            try await log(connection, logger, ModerationLogEntry(
                commentID: comment.id, siteID: new.siteID, action: comment.status == .spam ? "spam" : "hold",
                actor: .spamFilter, reason: comment.spamReasons.joined(separator: "; "), at: comment.createdAt))
        }
        try await queue(connection, logger, mail, thread: thread, comment: comment, previousStatus: nil)
        return (thread, comment)
    }

    static func log(_ connection: PostgresConnection, _ logger: Logger, _ entry: ModerationLogEntry) async throws {
        try await connection.query("""
            INSERT INTO moderation_log (comment_id, site_id, action, actor, reason, at)
            VALUES (\(entry.commentID), \(entry.siteID), \(entry.action), \(entry.actor.rawValue), \(entry.reason), \(entry.at))
            """, logger: logger)
    }

    /// Queues the mail `mail` builds for this change in the outbox, in the caller's transaction.
    static func queue(_ connection: PostgresConnection, _ logger: Logger, _ mail: MailBuilder?, thread: CommentThread,
                      comment: Comment, previousStatus: CommentStatus?) async throws {
        guard let mail,
              let site = try await sites(connection.query(
                  "SELECT \(unescaped: siteColumns) FROM sites WHERE id = \(thread.siteID)", logger: logger)).first
        else { return }
        var parent: Comment?
        if let parentID = comment.parentID {
            parent = try await comments(connection.query(
                "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(parentID)", logger: logger)).first
        }
        for message in mail(MailContext(site: site, thread: thread, comment: comment, parent: parent, previousStatus: previousStatus)) {
            try await connection.query("""
                INSERT INTO outbox (kind, comment_id, recipients, subject, body, headers, message_id, created_at, next_attempt_at)
                VALUES (\(message.kind.rawValue), \(message.commentID), \(JSONText.encode(message.recipients)), \(message.subject),
                        \(message.body), \(JSONText.encodeRows(message.headers)), \(message.messageID), \(message.createdAt),
                        \(message.nextAttemptAt))
                """, logger: logger)
        }
    }

    // MARK: Decoding

    static func threads(_ rows: PostgresRowSequence) async throws -> [CommentThread] {
        var threads: [CommentThread] = []
        for try await (id, siteID, uri, title, locked, createdAt, version)
            in rows.decode((Int64, String, String, String?, Bool, Int64, Int64).self) {
            threads.append(CommentThread(id: id, siteID: siteID, uri: uri, title: title, locked: locked, createdAt: createdAt, version: version))
        }
        return threads
    }

    /// Rows of `SELECT \(Comment.columns)`, decoded by position.
    static func comments(_ rows: PostgresRowSequence) async throws -> [Comment] {
        var comments: [Comment] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            comments.append(Comment(
                id: try cells[0].decode(Int64.self), threadID: try cells[1].decode(Int64.self), parentID: try cells[2].decode(Int64?.self),
                status: CommentStatus(rawValue: try cells[3].decode(String.self)) ?? .pending,
                author: try cells[4].decode(String?.self), email: try cells[5].decode(String?.self), website: try cells[6].decode(String?.self),
                body: try cells[7].decode(String.self), html: try cells[8].decode(String.self), createdAt: try cells[9].decode(Int64.self),
                editedAt: try cells[10].decode(Int64?.self), ip: try cells[11].decode(String?.self), userAgent: try cells[12].decode(String?.self),
                spamScore: try cells[13].decode(Double.self), spamReasons: JSONText.decode(try cells[14].decode(String.self)),
                likes: Int(try cells[15].decode(Int64.self)), dislikes: Int(try cells[16].decode(Int64.self)),
                notify: try cells[17].decode(Bool.self), editKeyHash: try cells[18].decode(String?.self), origin: try cells[19].decode(String?.self)))
        }
        return comments
    }
}
