import Foundation
import GRDB

// Threads and comments on SQLite, each in one transaction; new comments through group commit.
extension SQLiteStore {
    public func thread(siteID: String, uri: String) async throws -> CommentThread? {
        try await read { db in try Self.fetchThread(db, siteID: siteID, uri: uri) }
    }

    public func thread(id: Int64) async throws -> CommentThread? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [id]).map(CommentThread.init(row:))
        }
    }

    private static func fetchThread(_ db: Database, siteID: String, uri: String) throws -> CommentThread? {
        // Cached statements on the hot paths: compiling SQL costs more than running it.
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM threads WHERE site_id = ? AND uri = ?"), arguments: [siteID, uri]
        ).map(CommentThread.init(row:))
    }

    public func visibleComments(siteID: String, uri: String) async throws -> (CommentThread, [Comment])? {
        try await read { db in
            guard let thread = try Self.fetchThread(db, siteID: siteID, uri: uri) else { return nil }
            // Approved comments, plus every ancestor of one (shown as a tombstone when not approved).
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
                WITH RECURSIVE visible(id) AS (
                    SELECT id FROM comments WHERE thread_id = ?1 AND status = 'approved'
                    UNION
                    SELECT c.parent_id FROM comments c JOIN visible v ON c.id = v.id
                    WHERE c.parent_id IS NOT NULL
                )
                SELECT \(Comment.columns) FROM comments WHERE id IN visible ORDER BY created_at, id
                """),
                arguments: [thread.id])
            return (thread, rows.map(Comment.init(row:)))
        }
    }

    public func insert(_ new: NewComment, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        try await write { db in
            try Self.insert(db, new, existing: try Self.fetchThread(db, siteID: new.siteID, uri: new.uri), mail: mail)
        }
    }

    public func insert(_ new: NewComment, screening plan: ScreeningPlan, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        try await newComments.submit(ScreenedComment(new: new, plan: plan, mail: mail))
    }

    /// A new comment waiting for its turn in `newComments`.
    struct ScreenedComment: Sendable {
        let new: NewComment
        let plan: ScreeningPlan
        let mail: MailBuilder?
    }

    /// Looks up, judges and inserts one new comment inside the caller's transaction.
    static func insertScreened(_ db: Database, _ item: ScreenedComment) throws -> (CommentThread, Comment) {
        let new = item.new
        let existing = try fetchThread(db, siteID: new.siteID, uri: new.uri)
        let found = try item.plan.query.map { try screeningFacts(db, siteID: new.siteID, query: $0) }
        let judgement = item.plan.decide(existing, found)
        var screened = new
        screened.comment.status = judgement.status
        screened.comment.spamScore = judgement.score
        screened.comment.spamReasons = judgement.reasons
        return try insert(db, screened, existing: existing, mail: item.mail)
    }

    /// Inserts `new` into `existing` (or a new thread), inside the caller's transaction.
    private static func insert(_ db: Database, _ new: NewComment, existing: CommentThread?, mail: MailBuilder?) throws -> (CommentThread, Comment) {
        var thread: CommentThread
        if let existing {
            thread = existing
        } else {
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [new.siteID]) == true else {
                throw CommentsError.siteNotFound(new.siteID)
            }
            try db.execute(
                sql: "INSERT INTO threads (site_id, uri, title, created_at) VALUES (?, ?, ?, ?)",
                arguments: [new.siteID, new.uri, new.title, new.comment.createdAt])
            thread = CommentThread(
                id: db.lastInsertedRowID, siteID: new.siteID, uri: new.uri, title: new.title,
                locked: false, createdAt: new.comment.createdAt, version: 0)
        }
        if thread.locked { throw CommentsError.threadLocked }
        if let parentID = new.comment.parentID {
            let parent = try Row.fetchOne(
                db.cachedStatement(sql: "SELECT thread_id, status FROM comments WHERE id = ?"), arguments: [parentID])
            guard let parent, parent["thread_id"] as Int64 == thread.id,
                  parent["status"] as String == CommentStatus.approved.rawValue
            else {
                throw CommentsError.invalidField(
                    field: "parent", message: "no visible comment \(parentID) in this thread")
            }
        }
        var comment = new.comment
        comment.threadID = thread.id
        comment.id = try Self.insertComment(comment, siteID: new.siteID, authorKeyHash: new.authorKeyHash, db)
        let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM threads WHERE id = ?"), arguments: [thread.id])
        thread.version = version ?? thread.version
        if comment.status == .pending || comment.status == .spam {
            try Self.log(db, ModerationLogEntry(
                commentID: comment.id, siteID: new.siteID, action: comment.status == .spam ? "spam" : "hold",
                actor: .spamFilter, reason: comment.spamReasons.joined(separator: "; "), at: comment.createdAt))
        }
        try Self.queue(db, mail, thread: thread, comment: comment, previousStatus: nil)
        if let record = HookEventRecord.newComment(comment) {
            try Self.recordHookEvent(db, record, thread: thread, comment: comment, at: comment.createdAt)
        }
        return (thread, comment)
    }

    /// What `comments.body_digest` holds: 64 bits of the SHA-256 of the text folded
    /// (`TextFold`: NFKC, case, invisible characters), to find the same text through an index
    /// however its letters are dressed up.
    static func digest(_ body: String) -> Int64 {
        Int64(bitPattern: Digest(TextFold.fold(body)).value)
    }

    static func insertComment(_ comment: Comment, siteID: String, authorKeyHash: String? = nil, _ db: Database) throws -> Int64 {
        try db.cachedStatement(
            sql: """
            INSERT INTO comments (site_id, thread_id, parent_id, status, author, email, website, body, html,
                created_at, edited_at, ip, user_agent, spam_score, spam_reasons, likes, dislikes, notify,
                edit_key_hash, origin, body_digest, author_key_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).execute(
            arguments: [
                siteID, comment.threadID, comment.parentID, comment.status.rawValue, comment.author,
                comment.email, comment.website, comment.body, comment.html, comment.createdAt,
                comment.editedAt, comment.ip, comment.userAgent, comment.spamScore,
                JSONText.encode(comment.spamReasons), comment.likes, comment.dislikes, comment.notify,
                comment.editKeyHash, comment.origin, Self.digest(comment.body), authorKeyHash,
            ])
        return db.lastInsertedRowID
    }

    public func comment(id: Int64) async throws -> Comment? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [id]).map(Comment.init(row:))
        }
    }

    public func update(_ comment: Comment, mail: MailBuilder?) async throws -> Comment {
        try await write { db in
            let previous = try String.fetchOne(db, sql: "SELECT status FROM comments WHERE id = ?", arguments: [comment.id])
                .flatMap(CommentStatus.init(rawValue:))
            try db.execute(
                sql: """
                UPDATE comments SET body = ?, html = ?, author = ?, website = ?, edited_at = ?, status = ?,
                    spam_score = ?, spam_reasons = ?, body_digest = ?
                WHERE id = ?
                """,
                arguments: [comment.body, comment.html, comment.author, comment.website, comment.editedAt,
                            comment.status.rawValue, comment.spamScore, JSONText.encode(comment.spamReasons),
                            Self.digest(comment.body), comment.id])
            guard db.changesCount > 0,
                  let row = try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [comment.id]),
                  let thread = try Row.fetchOne(db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [comment.threadID])
                    .map(CommentThread.init(row:))
            else { throw CommentsError.commentNotFound(comment.id) }
            let stored = Comment(row: row)
            if stored.status != previous, stored.status == .pending || stored.status == .spam {
                try Self.log(db, ModerationLogEntry(
                    commentID: stored.id, siteID: thread.siteID, action: stored.status == .spam ? "spam" : "hold",
                    actor: .spamFilter, reason: "edited: " + stored.spamReasons.joined(separator: "; "), at: stored.editedAt ?? 0))
            }
            try Self.queue(db, mail, thread: thread, comment: stored, previousStatus: previous)
            for record in HookEventRecord.authorEdit(stored, previousStatus: previous) {
                try Self.recordHookEvent(db, record, thread: thread, comment: stored, at: stored.editedAt ?? HookEventRecord.now())
            }
            return stored
        }
    }

    public func delete(commentID: Int64) async throws -> DeletionOutcome {
        try await write { db in
            // The event carries the comment as it was, so it is recorded before the row goes.
            if let current = try Self.comment(db, commentID) {
                try Self.recordHookEvent(
                    db, HookEventRecord(type: .deleted, actor: .author, previousStatus: current.status),
                    thread: try Self.requireThread(db, current.threadID), comment: current, at: HookEventRecord.now())
            }
            return try Self.deleteComment(db, commentID)
        }
    }

    static func deleteComment(_ db: Database, _ commentID: Int64) throws -> DeletionOutcome {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM comments WHERE id = ?", arguments: [commentID]) == true else {
            throw CommentsError.commentNotFound(commentID)
        }
        try redactHookDeliveries(db, commentID: commentID)
        if try hasReplies(db, commentID) {
            try db.execute(
                sql: """
                UPDATE comments SET status = 'deleted', body = '', html = '', author = NULL, email = NULL,
                    website = NULL, ip = NULL, user_agent = NULL, notify = 0, edit_key_hash = NULL, body_digest = NULL
                WHERE id = ?
                """,
                arguments: [commentID])
            return .tombstoned
        }
        var parentID = try Int64.fetchOne(db, sql: "SELECT parent_id FROM comments WHERE id = ?", arguments: [commentID])
        try db.execute(sql: "DELETE FROM comments WHERE id = ?", arguments: [commentID])
        // Tombstones exist only to hold replies; one whose last reply went goes too.
        while let id = parentID {
            let row = try Row.fetchOne(db, sql: "SELECT parent_id, status FROM comments WHERE id = ?", arguments: [id])
            guard let row, row["status"] as String == CommentStatus.deleted.rawValue,
                  try !hasReplies(db, id)
            else { break }
            parentID = row["parent_id"]
            try db.execute(sql: "DELETE FROM comments WHERE id = ?", arguments: [id])
        }
        return .removed
    }

    static func hasReplies(_ db: Database, _ id: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM comments WHERE parent_id = ?)", arguments: [id]) ?? false
    }

    public func vote(commentID: Int64, voter: String, value: Int, at: Int64) async throws -> VoteTotals {
        precondition(value == 1 || value == -1, "a vote is +1 or -1")
        return try await write { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM comments WHERE id = ?", arguments: [commentID]),
                  status == CommentStatus.approved.rawValue
            else { throw CommentsError.commentNotFound(commentID) }
            let previous = try Int.fetchOne(
                db, sql: "SELECT value FROM votes WHERE comment_id = ? AND voter = ?", arguments: [commentID, voter])
            if previous != value {
                try db.execute(
                    sql: """
                    INSERT INTO votes (comment_id, voter, value, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (comment_id, voter) DO UPDATE SET value = excluded.value, created_at = excluded.created_at
                    """,
                    arguments: [commentID, voter, value, at])
                // Imported comments carry totals without vote rows, so adjust rather than recount.
                let likesDelta = (value == 1 ? 1 : 0) - (previous == 1 ? 1 : 0)
                let dislikesDelta = (value == -1 ? 1 : 0) - (previous == -1 ? 1 : 0)
                try db.execute(
                    sql: "UPDATE comments SET likes = MAX(0, likes + ?), dislikes = MAX(0, dislikes + ?) WHERE id = ?",
                    arguments: [likesDelta, dislikesDelta, commentID])
            }
            let row = try Row.fetchOne(db, sql: "SELECT likes, dislikes FROM comments WHERE id = ?", arguments: [commentID])!
            return VoteTotals(likes: row["likes"], dislikes: row["dislikes"])
        }
    }

    public func approvedCounts(siteID: String, uris: [String]) async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            let statement = try db.cachedStatement(sql: """
                SELECT COUNT(c.id) FROM threads t JOIN comments c ON c.thread_id = t.id AND c.status = 'approved'
                WHERE t.site_id = ? AND t.uri = ?
                """)
            for uri in uris where counts[uri] == nil {
                counts[uri] = try Int.fetchOne(statement, arguments: [siteID, uri]) ?? 0
            }
            return counts
        }
    }

    public func latestApproved(siteID: String, limit: Int) async throws -> [(CommentThread, Comment)] {
        try await read { db in
            let comments = try Row.fetchAll(
                db,
                sql: """
                SELECT \(Comment.columns) FROM comments WHERE site_id = ? AND status = 'approved'
                ORDER BY created_at DESC, id DESC LIMIT ?
                """,
                arguments: [siteID, limit]
            ).map(Comment.init(row:))
            var threads: [Int64: CommentThread] = [:]
            return try comments.map { comment in
                if threads[comment.threadID] == nil {
                    threads[comment.threadID] = try Row.fetchOne(
                        db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [comment.threadID]
                    ).map(CommentThread.init(row:))
                }
                return (threads[comment.threadID]!, comment)
            }
        }
    }

    public func commentCount(siteID: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments WHERE site_id = ?", arguments: [siteID]) ?? 0
        }
    }

    static func requireThread(_ db: Database, _ id: Int64) throws -> CommentThread {
        guard let thread = try Row.fetchOne(db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [id]).map(CommentThread.init(row:)) else {
            throw CommentsError.storageUnavailable("thread \(id) is missing")
        }
        return thread
    }
}
