import Foundation
import GRDB

// Moderation, the facts the spam rules ask for, the blocklist and the learned classifier on SQLite.
extension SQLiteStore {
    public func moderationQueue(siteID: String?, status: CommentStatus?, limit: Int) async throws -> [(CommentThread, Comment)] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let siteID { conditions.append("site_id = ?"); arguments += [siteID] }
            if let status { conditions.append("status = ?"); arguments += [status.rawValue] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            let comments = try Row.fetchAll(
                db, sql: "SELECT \(Comment.columns) FROM comments \(filter) ORDER BY created_at DESC, id DESC LIMIT ?", arguments: arguments
            ).map(Comment.init(row:))
            return try comments.map { comment in
                (try Self.requireThread(db, comment.threadID), comment)
            }
        }
    }

    public func moderate(_ decision: ModerationDecision, features: [String]?, mail: MailBuilder?) async throws -> ModerationOutcome {
        try await write { db in
            let commentID = decision.commentID
            let current = try Self.comment(db, commentID)
            if let link = decision.link {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM used_links WHERE nonce = ?", arguments: [link.nonce]) == true {
                    return .linkAlreadyUsed(current)
                }
                // A person decided since the link was mailed: theirs stands, and the link stays unspent.
                if let decided = try Self.logEntries(db, sql: """
                    SELECT * FROM moderation_log WHERE comment_id = ? AND actor IN ('cli', 'link', 'admin-api')
                        AND action IN ('approve', 'reject', 'spam', 'delete', 'restore') AND at >= ?
                    ORDER BY id DESC LIMIT 1
                    """, arguments: [commentID, link.issuedAt]).first {
                    return .alreadyDecided(decided, current)
                }
                try db.execute(
                    sql: "INSERT INTO used_links (nonce, used_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
                    arguments: [link.nonce, decision.at, link.expiresAt])
                if db.changesCount == 0 { return .linkAlreadyUsed(current) }
            }
            guard let current else { throw CommentsError.commentNotFound(commentID) }
            let thread = try Self.requireThread(db, current.threadID)
            let target = try decision.action.resultingStatus ?? Self.restoredStatus(db, current)
            try Self.log(db, ModerationLogEntry(
                commentID: commentID, siteID: thread.siteID, action: decision.action.rawValue, actor: decision.actor,
                moderator: decision.moderator, reason: decision.reason, fromStatus: current.status, at: decision.at))
            if let features {
                switch (decision.action, target) {
                case (.approve, _), (.restore, .approved): try Self.retrain(db, commentID: commentID, features: features, asSpam: false)
                case (.spam, _), (.restore, .spam): try Self.retrain(db, commentID: commentID, features: features, asSpam: true)
                case (.restore, _): try Self.untrain(db, commentID: commentID, features: features)
                default: break
                }
            }
            let event = HookEventRecord.decision(decision, from: current.status, to: target)
            if decision.action == .delete {
                // The event carries the comment as it was, so it is recorded before the row goes.
                if let event { try Self.recordHookEvent(db, event, thread: thread, comment: current, at: decision.at) }
                _ = try Self.deleteComment(db, commentID)
                return .applied(try Self.comment(db, commentID))
            }
            try db.execute(sql: "UPDATE comments SET status = ? WHERE id = ?", arguments: [target.rawValue, commentID])
            let updated = try Self.comment(db, commentID)!
            try Self.queue(db, mail, thread: thread, comment: updated, previousStatus: current.status)
            if let event { try Self.recordHookEvent(db, event, thread: thread, comment: updated, at: decision.at) }
            return .applied(updated)
        }
    }

    /// A comment by id, every column, in the caller's transaction.
    static func comment(_ db: Database, _ id: Int64) throws -> Comment? {
        try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [id]).map(Comment.init(row:))
    }

    /// Where `restore` takes `comment`: the status before the latest decision a person made that
    /// was not a restore (`pending` when it was logged before statuses were). Throws
    /// `nothingToRestore` when no person decided: what the spam filter held was never decided.
    static func restoredStatus(_ db: Database, _ comment: Comment) throws -> CommentStatus {
        // A tombstone lost its text and author: there is nothing left to bring back.
        if comment.status == .deleted {
            throw CommentsError.invalidField(field: "action", message: "a deleted comment cannot be restored")
        }
        guard let row = try Row.fetchOne(db, sql: """
            SELECT from_status FROM moderation_log
            WHERE comment_id = ? AND actor IN ('cli', 'link', 'admin-api') AND action IN ('approve', 'reject', 'spam', 'delete')
            ORDER BY id DESC LIMIT 1
            """, arguments: [comment.id])
        else { throw CommentsError.nothingToRestore(comment.id) }
        return (row["from_status"] as String?).flatMap(CommentStatus.init(rawValue:)) ?? .pending
    }

    /// Takes one comment's training back out of the classifier's counts.
    static func untrain(_ db: Database, commentID: Int64, features: [String]) throws {
        guard let previous = try String.fetchOne(db, sql: "SELECT trained_as FROM comments WHERE id = ?", arguments: [commentID]) else { return }
        try count(db, features: features, asSpam: previous == "spam", delta: -1)
        try db.execute(sql: "UPDATE comments SET trained_as = NULL WHERE id = ?", arguments: [commentID])
    }

    /// Moves one comment's training to `asSpam`'s side, undoing an earlier opposite decision.
    static func retrain(_ db: Database, commentID: Int64, features: [String], asSpam: Bool) throws {
        let label = asSpam ? "spam" : "ham"
        let previous = try String.fetchOne(db, sql: "SELECT trained_as FROM comments WHERE id = ?", arguments: [commentID])
        if previous == label { return }
        if let previous { try count(db, features: features, asSpam: previous == "spam", delta: -1) }
        try count(db, features: features, asSpam: asSpam, delta: 1)
        try db.execute(sql: "UPDATE comments SET trained_as = ? WHERE id = ?", arguments: [label, commentID])
    }

    static func count(_ db: Database, features: [String], asSpam: Bool, delta: Int) throws {
        let column = asSpam ? "spam_count" : "ham_count"
        let statement = try db.cachedStatement(sql: """
            INSERT INTO spam_tokens (token, \(column)) VALUES (?, MAX(0, ?))
            ON CONFLICT (token) DO UPDATE SET \(column) = MAX(0, \(column) + excluded.\(column) + (CASE WHEN ? < 0 THEN ? ELSE 0 END))
            """)
        for feature in Set(features) {
            // For a decrement the inserted value is clamped to 0, so add the delta back explicitly.
            try statement.execute(arguments: [feature, delta, delta, delta])
        }
        let documents = asSpam ? "spam_documents" : "ham_documents"
        try db.execute(sql: "UPDATE spam_totals SET \(documents) = MAX(0, \(documents) + ?) WHERE id = 1", arguments: [delta])
    }

    public func isLinkUsed(nonce: String) async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM used_links WHERE nonce = ?", arguments: [nonce]) ?? false }
    }

    public func moderationLog(commentID: Int64?, limit: Int) async throws -> [ModerationLogEntry] {
        try await read { db in
            if let commentID {
                return try Self.logEntries(
                    db, sql: "SELECT * FROM moderation_log WHERE comment_id = ? ORDER BY at DESC, id DESC LIMIT ?", arguments: [commentID, limit])
            }
            return try Self.logEntries(db, sql: "SELECT * FROM moderation_log ORDER BY at DESC, id DESC LIMIT ?", arguments: [limit])
        }
    }

    /// The log entries a `SELECT * FROM moderation_log …` finds.
    static func logEntries(_ db: Database, sql: String, arguments: StatementArguments) throws -> [ModerationLogEntry] {
        try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            ModerationLogEntry(
                id: row["id"], commentID: row["comment_id"], siteID: row["site_id"], action: row["action"],
                actor: ModerationActor(rawValue: row["actor"]) ?? .cli, moderator: row["moderator"], reason: row["reason"],
                fromStatus: (row["from_status"] as String?).flatMap(CommentStatus.init(rawValue:)), at: row["at"])
        }
    }

    static func log(_ db: Database, _ entry: ModerationLogEntry) throws {
        try db.execute(
            sql: """
            INSERT INTO moderation_log (comment_id, site_id, action, actor, moderator, reason, from_status, at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [entry.commentID, entry.siteID, entry.action, entry.actor.rawValue, entry.moderator, entry.reason,
                        entry.fromStatus?.rawValue, entry.at])
    }

    public func screeningFacts(siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts {
        // One read transaction: each costs file-lock system calls, and a POST used to make three here.
        try await read { db in try Self.screeningFacts(db, siteID: siteID, query: query) }
    }

    static func screeningFacts(_ db: Database, siteID: String, query: ScreeningQuery) throws -> ScreeningFacts {
        ScreeningFacts(
            stored: try storedFacts(db, siteID: siteID, query: query),
            blocklist: try blocklist(db, siteID: siteID),
            classifier: try classifierCounts(db, features: query.features))
    }

    static func storedFacts(_ db: Database, siteID: String, query: ScreeningQuery) throws -> StoredFacts {
        let excluding = query.excluding ?? 0
        // Trust follows the author key alone; an edit is judged by its own comment's key.
        var key = query.authorKeyHash
        if key == nil, let edited = query.excluding {
            key = try String.fetchOne(db, sql: "SELECT author_key_hash FROM comments WHERE id = ?", arguments: [edited])
        }
        var approved = 0
        if let key {
            approved = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM comments WHERE author_key_hash = ? AND site_id = ? AND status = 'approved' AND id != ?"),
                arguments: [key, siteID, excluding]) ?? 0
        }
        let duplicates = try Int.fetchOne(
            db.cachedStatement(sql: """
            SELECT COUNT(*) FROM comments
            WHERE site_id = ? AND body_digest = ? AND created_at >= ? AND id != ?
            """),
            arguments: [siteID, query.bodyDigest, query.since, excluding]) ?? 0
        return StoredFacts(approvedBefore: approved, duplicates: duplicates)
    }

    // MARK: Blocklist

    public func blocklist() async throws -> [BlockEntry] {
        try await read { db in try Self.blocklist(db, siteID: nil) }
    }

    /// Every entry, or (with `siteID`) the entries that apply to that site: its own and the global ones.
    static func blocklist(_ db: Database, siteID: String?) throws -> [BlockEntry] {
        let all = "SELECT * FROM blocklist ORDER BY kind, value, site_id NULLS FIRST"
        let ofSite = "SELECT * FROM blocklist WHERE site_id IS NULL OR site_id = ? ORDER BY kind, value, site_id NULLS FIRST"
        let rows = try siteID.map { try Row.fetchAll(db.cachedStatement(sql: ofSite), arguments: [$0]) }
            ?? Row.fetchAll(db.cachedStatement(sql: all))
        return rows.map { row in
            BlockEntry(kind: BlockKind(rawValue: row["kind"]) ?? .word, value: row["value"], reason: row["reason"], createdAt: row["created_at"],
                       siteID: row["site_id"])
        }
    }

    public func addBlock(_ entry: BlockEntry) async throws {
        try await write { db in
            if let siteID = entry.siteID, try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [siteID]) != true {
                throw CommentsError.siteNotFound(siteID)
            }
            try db.execute(
                sql: """
                INSERT INTO blocklist (kind, value, reason, created_at, site_id) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (kind, value, coalesce(site_id, '')) DO UPDATE SET reason = excluded.reason
                """,
                arguments: [entry.kind.rawValue, entry.value, entry.reason, entry.createdAt, entry.siteID])
        }
    }

    public func removeBlock(kind: BlockKind, value: String, siteID: String?) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "DELETE FROM blocklist WHERE kind = ? AND value = ? AND coalesce(site_id, '') = ?",
                arguments: [kind.rawValue, value, siteID ?? ""])
            return db.changesCount > 0
        }
    }

    // MARK: Learned classifier

    public func classifierCounts(features: [String]) async throws -> ClassifierCounts {
        try await read { db in try Self.classifierCounts(db, features: features) }
    }

    static func classifierCounts(_ db: Database, features: [String]) throws -> ClassifierCounts {
        var tokens: [String: (spam: Int, ham: Int)] = [:]
        if !features.isEmpty {
            // One statement for all features: a lookup each cost a statement round trip apiece, the
            // largest part of screening a comment inside the write transaction.
            var list = JSONWriter(capacity: features.count * 16)
            list.strings(features)
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT token, spam_count, ham_count FROM json_each(?) AS feature JOIN spam_tokens ON token = feature.value"),
                arguments: [String(decoding: list.bytes, as: UTF8.self)])
            while let row = try rows.next() {
                tokens[row[0]] = (row[1], row[2])
            }
        }
        let totals = try Row.fetchOne(db.cachedStatement(sql: "SELECT spam_documents, ham_documents FROM spam_totals WHERE id = 1"))
        return ClassifierCounts(tokens: tokens, spamDocuments: totals?["spam_documents"] ?? 0, hamDocuments: totals?["ham_documents"] ?? 0)
    }

    public func train(features: [String], asSpam: Bool) async throws {
        try await write { db in try Self.count(db, features: features, asSpam: asSpam, delta: 1) }
    }
}
