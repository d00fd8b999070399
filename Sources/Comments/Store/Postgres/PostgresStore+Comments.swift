import Foundation
import Logging
import PostgresNIO

// Threads and comments on PostgreSQL: the same rules as `SQLiteStore`, in one transaction each.
extension PostgresStore {
    static let threadColumns = "id, site_id, uri, title, locked, created_at, version"

    public func thread(siteID: String, uri: String) async throws -> CommentThread? {
        try await read { connection, logger in try await Self.fetchThread(connection, logger, siteID: siteID, uri: uri) }
    }

    public func thread(id: Int64) async throws -> CommentThread? {
        try await read { connection, logger in
            try await Self.threads(connection.query("SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(id)", logger: logger)).first
        }
    }

    public func visibleComments(siteID: String, uri: String) async throws -> (CommentThread, [Comment])? {
        try await read { connection, logger in
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

    public func insert(_ new: NewComment, screening plan: ScreeningPlan, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        try await transaction { connection, logger in
            let existing = try await Self.fetchThread(connection, logger, siteID: new.siteID, uri: new.uri)
            var found: ScreeningFacts?
            if let query = plan.query { found = try await Self.screeningFacts(connection, logger, siteID: new.siteID, query: query) }
            let judgement = plan.decide(existing, found)
            var screened = new
            screened.comment.status = judgement.status
            screened.comment.spamScore = judgement.score
            screened.comment.spamReasons = judgement.reasons
            return try await Self.insert(connection, logger, screened, mail: mail)
        }
    }

    public func comment(id: Int64) async throws -> Comment? {
        try await read { connection, logger in
            try await Self.comments(connection.query("SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(id)", logger: logger)).first
        }
    }

    public func approvedCounts(siteID: String, uris: [String]) async throws -> [String: Int] {
        guard !uris.isEmpty else { return [:] }
        return try await read { connection, logger in
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
        try await read { connection, logger in
            try await Int(Self.values(connection.query("SELECT COUNT(*) FROM comments WHERE site_id = \(siteID)", logger: logger),
                                      as: Int64.self).first ?? 0)
        }
    }

    public func update(_ comment: Comment, mail: MailBuilder?) async throws -> Comment {
        try await transaction { connection, logger in
            // FOR UPDATE: two nodes editing one comment take turns, as SQLite's single writer does.
            let previous = try await Self.values(
                connection.query("SELECT status FROM comments WHERE id = \(comment.id) FOR UPDATE", logger: logger), as: String.self
            ).first.flatMap(CommentStatus.init(rawValue:))
            let stored = try await Self.comments(connection.query("""
                UPDATE comments SET body = \(comment.body), html = \(comment.html), author = \(comment.author),
                    website = \(comment.website), edited_at = \(comment.editedAt), status = \(comment.status.rawValue),
                    spam_score = \(comment.spamScore), spam_reasons = \(JSONText.encode(comment.spamReasons)),
                    body_digest = \(SQLiteStore.digest(comment.body))
                WHERE id = \(comment.id)
                RETURNING \(unescaped: Comment.columns)
                """, logger: logger)).first
            guard let stored,
                  let thread = try await Self.threads(connection.query(
                      "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(stored.threadID)", logger: logger)).first
            else { throw CommentsError.commentNotFound(comment.id) }
            if stored.status != previous, stored.status == .pending || stored.status == .spam {
                try await Self.log(connection, logger, ModerationLogEntry(
                    commentID: stored.id, siteID: thread.siteID, action: stored.status == .spam ? "spam" : "hold",
                    actor: .spamFilter, reason: "edited: " + stored.spamReasons.joined(separator: "; "), at: stored.editedAt ?? 0))
            }
            try await Self.queue(connection, logger, mail, thread: thread, comment: stored, previousStatus: previous)
            for record in HookEventRecord.authorEdit(stored, previousStatus: previous) {
                try await Self.recordHookEvent(connection, logger, record, thread: thread, comment: stored, at: stored.editedAt ?? HookEventRecord.now())
            }
            return stored
        }
    }

    public func delete(commentID: Int64) async throws -> DeletionOutcome {
        try await transaction { connection, logger in
            // The event carries the comment as it was, so it is recorded before the row goes.
            if let current = try await Self.comments(connection.query(
                "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(commentID) FOR UPDATE", logger: logger)).first,
               let thread = try await Self.threads(connection.query(
                   "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(current.threadID)", logger: logger)).first {
                try await Self.recordHookEvent(
                    connection, logger, HookEventRecord(type: .deleted, actor: .author, previousStatus: current.status),
                    thread: thread, comment: current, at: HookEventRecord.now())
            }
            return try await Self.deleteComment(connection, logger, commentID)
        }
    }

    public func vote(commentID: Int64, voter: String, value: Int, at: Int64) async throws -> VoteTotals {
        precondition(value == 1 || value == -1, "a vote is +1 or -1")
        return try await transaction { connection, logger in
            guard try await Self.values(
                connection.query("SELECT status FROM comments WHERE id = \(commentID) FOR UPDATE", logger: logger), as: String.self
            ).first == CommentStatus.approved.rawValue else { throw CommentsError.commentNotFound(commentID) }
            let previous = try await Self.values(connection.query(
                "SELECT value FROM votes WHERE comment_id = \(commentID) AND voter = \(voter)", logger: logger), as: Int16.self).first
            if previous.map(Int.init) != value {
                try await connection.query("""
                    INSERT INTO votes (comment_id, voter, value, created_at) VALUES (\(commentID), \(voter), \(Int16(value)), \(at))
                    ON CONFLICT (comment_id, voter) DO UPDATE SET value = excluded.value, created_at = excluded.created_at
                    """, logger: logger)
                // Imported comments carry totals without vote rows, so adjust rather than recount.
                let likesDelta = Int64((value == 1 ? 1 : 0) - (previous == 1 ? 1 : 0))
                let dislikesDelta = Int64((value == -1 ? 1 : 0) - (previous == -1 ? 1 : 0))
                try await connection.query("""
                    UPDATE comments SET likes = GREATEST(0, likes + \(likesDelta)), dislikes = GREATEST(0, dislikes + \(dislikesDelta))
                    WHERE id = \(commentID)
                    """, logger: logger)
            }
            var totals = VoteTotals(likes: 0, dislikes: 0)
            for try await (likes, dislikes) in try await connection.query(
                "SELECT likes, dislikes FROM comments WHERE id = \(commentID)", logger: logger).decode((Int64, Int64).self) {
                totals = VoteTotals(likes: Int(likes), dislikes: Int(dislikes))
            }
            return totals
        }
    }

    public func latestApproved(siteID: String, limit: Int) async throws -> [(CommentThread, Comment)] {
        try await transaction { connection, logger in
            let comments = try await Self.comments(connection.query("""
                SELECT \(unescaped: Comment.columns) FROM comments WHERE site_id = \(siteID) AND status = 'approved'
                ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit))
                """, logger: logger))
            return try await Self.withThreads(comments, connection, logger)
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
        // FOR KEY SHARE: a site removed meanwhile either went before this read (siteNotFound) or
        // waits until this comment is stored and then takes it along; never a half-failed insert.
        guard try await !values(connection.query("SELECT 1 FROM sites WHERE id = \(new.siteID) FOR KEY SHARE", logger: logger),
                                as: Int32.self).isEmpty
        else { throw CommentsError.siteNotFound(new.siteID) }
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
                edit_key_hash, origin, body_digest, author_key_hash)
            VALUES (\(new.siteID), \(comment.threadID), \(comment.parentID), \(comment.status.rawValue), \(comment.author),
                \(comment.email), \(comment.website), \(comment.body), \(comment.html), \(comment.createdAt),
                \(comment.editedAt), \(comment.ip), \(comment.userAgent), \(comment.spamScore), \(reasons),
                \(Int64(comment.likes)), \(Int64(comment.dislikes)), \(comment.notify), \(comment.editKeyHash), \(comment.origin), \(digest),
                \(new.authorKeyHash))
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
        if let record = HookEventRecord.newComment(comment) {
            try await recordHookEvent(connection, logger, record, thread: thread, comment: comment, at: comment.createdAt)
        }
        return (thread, comment)
    }

    /// A tombstone when anything still replies to the comment, else the row and then any
    /// tombstone ancestors left with no replies.
    static func deleteComment(_ connection: PostgresConnection, _ logger: Logger, _ commentID: Int64) async throws -> DeletionOutcome {
        guard let parent = try await values(connection.query(
            "SELECT parent_id FROM comments WHERE id = \(commentID) FOR UPDATE", logger: logger), as: Int64?.self).first
        else { throw CommentsError.commentNotFound(commentID) }
        try await redactHookDeliveries(connection, logger, commentID: commentID)
        if try await hasReplies(connection, logger, commentID) {
            try await connection.query("""
                UPDATE comments SET status = 'deleted', body = '', html = '', author = NULL, email = NULL,
                    website = NULL, ip = NULL, user_agent = NULL, notify = false, edit_key_hash = NULL, body_digest = NULL
                WHERE id = \(commentID)
                """, logger: logger)
            return .tombstoned
        }
        try await connection.query("DELETE FROM comments WHERE id = \(commentID)", logger: logger)
        var parentID = parent
        // Tombstones exist only to hold replies; one whose last reply went goes too.
        while let id = parentID {
            var next: Int64??
            for try await (grandparent, status) in try await connection.query(
                "SELECT parent_id, status FROM comments WHERE id = \(id)", logger: logger).decode((Int64?, String).self)
            where status == CommentStatus.deleted.rawValue {
                next = .some(grandparent)
            }
            guard let next, try await !hasReplies(connection, logger, id) else { break }
            try await connection.query("DELETE FROM comments WHERE id = \(id)", logger: logger)
            parentID = next
        }
        return .removed
    }

    static func hasReplies(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws -> Bool {
        try await values(connection.query(
            "SELECT EXISTS (SELECT 1 FROM comments WHERE parent_id = \(id))", logger: logger), as: Bool.self).first ?? false
    }

    /// Each comment with its thread, each thread read once.
    static func withThreads(_ comments: [Comment], _ connection: PostgresConnection, _ logger: Logger) async throws -> [(CommentThread, Comment)] {
        var threads: [Int64: CommentThread] = [:]
        var paired: [(CommentThread, Comment)] = []
        for comment in comments {
            if threads[comment.threadID] == nil {
                threads[comment.threadID] = try await Self.threads(connection.query(
                    "SELECT \(unescaped: threadColumns) FROM threads WHERE id = \(comment.threadID)", logger: logger)).first
            }
            guard let thread = threads[comment.threadID] else { throw CommentsError.storageUnavailable("comment \(comment.id) has no thread") }
            paired.append((thread, comment))
        }
        return paired
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
