import Foundation
import Logging
import PostgresNIO

// Moderation, the facts the spam rules ask for, the blocklist and the learned classifier on
// PostgreSQL: the same rules as `SQLiteStore`, each in one transaction.
extension PostgresStore {
    public func moderationQueue(siteID: String?, status: CommentStatus?, limit: Int) async throws -> [(CommentThread, Comment)] {
        try await transaction { connection, logger in
            // NULL filters match everything, so one statement serves every combination.
            let comments = try await Self.comments(connection.query("""
                SELECT \(unescaped: Comment.columns) FROM comments
                WHERE (\(siteID)::text IS NULL OR site_id = \(siteID)) AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue))
                ORDER BY created_at DESC, id DESC LIMIT \(Int64(limit))
                """, logger: logger))
            return try await Self.withThreads(comments, connection, logger)
        }
    }

    public func moderate(_ decision: ModerationDecision, features: [String]?, mail: MailBuilder?) async throws -> ModerationOutcome {
        try await transaction { connection, logger in
            let commentID = decision.commentID
            let current = try await Self.comments(connection.query(
                "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(commentID) FOR UPDATE", logger: logger)).first
            if let link = decision.link {
                if try await !Self.values(connection.query("SELECT 1 FROM used_links WHERE nonce = \(link.nonce)", logger: logger), as: Int32.self).isEmpty {
                    return .linkAlreadyUsed(current)
                }
                // A person decided since the link was mailed: theirs stands, and the link stays unspent.
                if let decided = try await Self.logEntries(connection.query("""
                    SELECT \(unescaped: Self.logColumns) FROM moderation_log WHERE comment_id = \(commentID)
                        AND actor IN ('cli', 'link', 'admin-api') AND action IN ('approve', 'reject', 'spam', 'delete', 'restore')
                        AND at >= \(link.issuedAt)
                    ORDER BY id DESC LIMIT 1
                    """, logger: logger)).first {
                    return .alreadyDecided(decided, current)
                }
                // The nonce's primary key makes a link single-use across every node.
                let inserted = try await Self.values(connection.query("""
                    INSERT INTO used_links (nonce, used_at, expires_at) VALUES (\(link.nonce), \(decision.at), \(link.expiresAt))
                    ON CONFLICT (nonce) DO NOTHING RETURNING 1
                    """, logger: logger), as: Int32.self)
                if inserted.isEmpty { return .linkAlreadyUsed(current) }
            }
            guard let current else { throw CommentsError.commentNotFound(commentID) }
            guard let thread = try await Self.threads(connection.query(
                "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(current.threadID)", logger: logger)).first
            else { throw CommentsError.storageUnavailable("thread \(current.threadID) is missing") }
            let target: CommentStatus
            if let status = decision.action.resultingStatus {
                target = status
            } else {
                target = try await Self.restoredStatus(connection, logger, current)
            }
            try await Self.log(connection, logger, ModerationLogEntry(
                commentID: commentID, siteID: thread.siteID, action: decision.action.rawValue, actor: decision.actor,
                moderator: decision.moderator, reason: decision.reason, fromStatus: current.status, at: decision.at))
            if let features {
                switch (decision.action, target) {
                case (.approve, _), (.restore, .approved):
                    try await Self.retrain(connection, logger, commentID: commentID, features: features, asSpam: false)
                case (.spam, _), (.restore, .spam):
                    try await Self.retrain(connection, logger, commentID: commentID, features: features, asSpam: true)
                case (.restore, _): try await Self.untrain(connection, logger, commentID: commentID, features: features)
                default: break
                }
            }
            let event = HookEventRecord.decision(decision, from: current.status, to: target)
            if decision.action == .delete {
                // The event carries the comment as it was, so it is recorded before the row goes.
                if let event { try await Self.recordHookEvent(connection, logger, event, thread: thread, comment: current, at: decision.at) }
                _ = try await Self.deleteComment(connection, logger, commentID)
                return .applied(try await Self.comments(connection.query(
                    "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(commentID)", logger: logger)).first)
            }
            guard let updated = try await Self.comments(connection.query(
                "UPDATE comments SET status = \(target.rawValue) WHERE id = \(commentID) RETURNING \(unescaped: Comment.columns)",
                logger: logger)).first
            else { throw CommentsError.commentNotFound(commentID) }
            try await Self.queue(connection, logger, mail, thread: thread, comment: updated, previousStatus: current.status)
            if let event { try await Self.recordHookEvent(connection, logger, event, thread: thread, comment: updated, at: decision.at) }
            return .applied(updated)
        }
    }

    /// Where `restore` takes `comment`: the status before the latest decision a person made that
    /// was not a restore (`pending` when it was logged before statuses were). Throws
    /// `nothingToRestore` when no person decided: what the spam filter held was never decided.
    static func restoredStatus(_ connection: PostgresConnection, _ logger: Logger, _ comment: Comment) async throws -> CommentStatus {
        // A tombstone lost its text and author: there is nothing left to bring back.
        if comment.status == .deleted {
            throw CommentsError.invalidField(field: "action", message: "a deleted comment cannot be restored")
        }
        guard let before = try await values(connection.query("""
            SELECT from_status FROM moderation_log
            WHERE comment_id = \(comment.id) AND actor IN ('cli', 'link', 'admin-api') AND action IN ('approve', 'reject', 'spam', 'delete')
            ORDER BY id DESC LIMIT 1
            """, logger: logger), as: String?.self).first
        else { throw CommentsError.nothingToRestore(comment.id) }
        return before.flatMap(CommentStatus.init(rawValue:)) ?? .pending
    }

    /// Takes one comment's training back out of the classifier's counts.
    static func untrain(_ connection: PostgresConnection, _ logger: Logger, commentID: Int64, features: [String]) async throws {
        let previous = try await values(connection.query("SELECT trained_as FROM comments WHERE id = \(commentID)", logger: logger), as: String?.self).first ?? nil
        guard let previous else { return }
        try await count(connection, logger, features: features, asSpam: previous == "spam", delta: -1)
        try await connection.query("UPDATE comments SET trained_as = NULL WHERE id = \(commentID)", logger: logger)
    }

    public func isLinkUsed(nonce: String) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query("SELECT 1 FROM used_links WHERE nonce = \(nonce)", logger: logger), as: Int32.self).isEmpty
        }
    }

    public func moderationLog(commentID: Int64?, limit: Int) async throws -> [ModerationLogEntry] {
        try await transaction { connection, logger in
            try await Self.logEntries(connection.query("""
                SELECT \(unescaped: Self.logColumns) FROM moderation_log
                WHERE \(commentID)::bigint IS NULL OR comment_id = \(commentID)
                ORDER BY at DESC, id DESC LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    /// The columns `logEntries` decodes, in its order.
    static let logColumns = "id, comment_id, site_id, action, actor, moderator, reason, from_status, at"

    /// The log entries of a `SELECT \(logColumns) FROM moderation_log …`.
    static func logEntries(_ rows: PostgresRowSequence) async throws -> [ModerationLogEntry] {
        var entries: [ModerationLogEntry] = []
        for try await (id, comment, site, action, actor, moderator, reason, from, at) in rows.decode(
            (Int64, Int64, String, String, String, String?, String?, String?, Int64).self) {
            entries.append(ModerationLogEntry(
                id: id, commentID: comment, siteID: site, action: action, actor: ModerationActor(rawValue: actor) ?? .cli,
                moderator: moderator, reason: reason, fromStatus: from.flatMap(CommentStatus.init(rawValue:)), at: at))
        }
        return entries
    }

    public func screeningFacts(siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts {
        try await read { connection, logger in try await Self.screeningFacts(connection, logger, siteID: siteID, query: query) }
    }

    // MARK: Blocklist

    public func blocklist() async throws -> [BlockEntry] {
        try await read { connection, logger in try await Self.blocklist(connection, logger, siteID: nil) }
    }

    public func addBlock(_ entry: BlockEntry) async throws {
        try await transaction { connection, logger in
            if let siteID = entry.siteID,
               try await Self.values(connection.query("SELECT 1 FROM sites WHERE id = \(siteID)", logger: logger), as: Int32.self).isEmpty {
                throw CommentsError.siteNotFound(siteID)
            }
            _ = try await connection.query("""
                INSERT INTO blocklist (kind, value, reason, created_at, site_id)
                VALUES (\(entry.kind.rawValue), \(entry.value), \(entry.reason), \(entry.createdAt), \(entry.siteID))
                ON CONFLICT (kind, value, (coalesce(site_id, ''))) DO UPDATE SET reason = excluded.reason
                """, logger: logger)
        }
    }

    public func removeBlock(kind: BlockKind, value: String, siteID: String?) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query("""
                DELETE FROM blocklist WHERE kind = \(kind.rawValue) AND value = \(value) AND coalesce(site_id, '') = \(siteID ?? "")
                RETURNING 1
                """, logger: logger), as: Int32.self).isEmpty
        }
    }

    // MARK: Learned classifier

    public func classifierCounts(features: [String]) async throws -> ClassifierCounts {
        try await transaction { connection, logger in try await Self.classifierCounts(connection, logger, features: features) }
    }

    public func train(features: [String], asSpam: Bool) async throws {
        try await transaction { connection, logger in try await Self.count(connection, logger, features: features, asSpam: asSpam, delta: 1) }
    }

    // MARK: Inside a transaction

    static func log(_ connection: PostgresConnection, _ logger: Logger, _ entry: ModerationLogEntry) async throws {
        try await connection.query("""
            INSERT INTO moderation_log (comment_id, site_id, action, actor, moderator, reason, from_status, at)
            VALUES (\(entry.commentID), \(entry.siteID), \(entry.action), \(entry.actor.rawValue), \(entry.moderator), \(entry.reason),
                \(entry.fromStatus?.rawValue), \(entry.at))
            """, logger: logger)
    }

    static func screeningFacts(_ connection: PostgresConnection, _ logger: Logger, siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts {
        let excluding = query.excluding ?? 0
        // Trust follows the author key alone; an edit is judged by its own comment's key.
        var key = query.authorKeyHash
        if key == nil, let edited = query.excluding {
            key = try await values(connection.query(
                "SELECT author_key_hash FROM comments WHERE id = \(edited)", logger: logger), as: String?.self).first ?? nil
        }
        var approved: Int64 = 0
        if let key {
            approved = try await values(connection.query("""
                SELECT COUNT(*) FROM comments WHERE author_key_hash = \(key) AND site_id = \(siteID) AND status = 'approved' AND id != \(excluding)
                """, logger: logger), as: Int64.self).first ?? 0
        }
        let duplicates = try await values(connection.query("""
            SELECT COUNT(*) FROM comments
            WHERE site_id = \(siteID) AND body_digest = \(query.bodyDigest) AND created_at >= \(query.since)
                AND id != \(excluding)
            """, logger: logger), as: Int64.self).first ?? 0
        return ScreeningFacts(
            stored: StoredFacts(approvedBefore: Int(approved), duplicates: Int(duplicates)),
            blocklist: try await blocklist(connection, logger, siteID: siteID),
            classifier: try await classifierCounts(connection, logger, features: query.features))
    }

    /// Every entry, or (with `siteID`) the entries that apply to that site: its own and the global ones.
    static func blocklist(_ connection: PostgresConnection, _ logger: Logger, siteID: String?) async throws -> [BlockEntry] {
        var entries: [BlockEntry] = []
        for try await (kind, value, reason, createdAt, site) in try await connection.query("""
            SELECT kind, value, reason, created_at, site_id FROM blocklist
            WHERE \(siteID)::text IS NULL OR site_id IS NULL OR site_id = \(siteID)
            ORDER BY kind, value, site_id NULLS FIRST
            """, logger: logger
        ).decode((String, String, String?, Int64, String?).self) {
            entries.append(BlockEntry(kind: BlockKind(rawValue: kind) ?? .word, value: value, reason: reason, createdAt: createdAt, siteID: site))
        }
        return entries
    }

    static func classifierCounts(_ connection: PostgresConnection, _ logger: Logger, features: [String]) async throws -> ClassifierCounts {
        var tokens: [String: (spam: Int, ham: Int)] = [:]
        if !features.isEmpty {
            for try await (token, spam, ham) in try await connection.query(
                "SELECT token, spam_count, ham_count FROM spam_tokens WHERE token = ANY(\(features))", logger: logger
            ).decode((String, Int64, Int64).self) {
                tokens[token] = (Int(spam), Int(ham))
            }
        }
        var totals = (spam: 0, ham: 0)
        for try await (spam, ham) in try await connection.query(
            "SELECT spam_documents, ham_documents FROM spam_totals WHERE id = 1", logger: logger).decode((Int64, Int64).self) {
            totals = (Int(spam), Int(ham))
        }
        return ClassifierCounts(tokens: tokens, spamDocuments: totals.spam, hamDocuments: totals.ham)
    }

    /// Moves one comment's training to `asSpam`'s side, undoing an earlier opposite decision.
    static func retrain(_ connection: PostgresConnection, _ logger: Logger, commentID: Int64, features: [String], asSpam: Bool) async throws {
        let label = asSpam ? "spam" : "ham"
        let previous = try await values(connection.query("SELECT trained_as FROM comments WHERE id = \(commentID)", logger: logger), as: String?.self).first ?? nil
        if previous == label { return }
        if let previous { try await count(connection, logger, features: features, asSpam: previous == "spam", delta: -1) }
        try await count(connection, logger, features: features, asSpam: asSpam, delta: 1)
        try await connection.query("UPDATE comments SET trained_as = \(label) WHERE id = \(commentID)", logger: logger)
    }

    static func count(_ connection: PostgresConnection, _ logger: Logger, features: [String], asSpam: Bool, delta: Int) async throws {
        let column = asSpam ? "spam_count" : "ham_count"
        let step = Int64(delta)
        // In token order, so that two nodes training at once lock rows in the same order.
        for feature in Set(features).sorted() {
            try await connection.query("""
                INSERT INTO spam_tokens (token, \(unescaped: column)) VALUES (\(feature), GREATEST(0, \(step)))
                ON CONFLICT (token) DO UPDATE SET \(unescaped: column) = GREATEST(0, spam_tokens.\(unescaped: column) + \(step))
                """, logger: logger)
        }
        let documents = asSpam ? "spam_documents" : "ham_documents"
        try await connection.query(
            "UPDATE spam_totals SET \(unescaped: documents) = GREATEST(0, \(unescaped: documents) + \(step)) WHERE id = 1", logger: logger)
    }
}
