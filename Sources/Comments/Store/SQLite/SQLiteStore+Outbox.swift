import Foundation
import GRDB

// The mail outbox and readers' reply consent on SQLite.
extension SQLiteStore {
    /// Queues the mail `mail` builds for this change, in the caller's transaction: the builder
    /// sees the consent of the addresses that asked for replies; a confirmation mail records
    /// `requested`; reader mail past its recipient's daily cap is dropped.
    static func queue(_ db: Database, _ mail: MailBuilder?, thread: CommentThread, comment: Comment, previousStatus: CommentStatus?) throws {
        guard let mail,
              let site = try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE id = ?", arguments: [thread.siteID]).map(Site.init(row:))
        else { return }
        let parent = try comment.parentID.flatMap { id in
            try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [id]).map(Comment.init(row:))
        }
        // The consent of every address that asked to hear of replies, read in this transaction.
        var consents: [String: ReplyConsent] = [:]
        for key in MailContext.askingKeys(comment: comment, parent: parent) {
            consents[key] = try replyConsent(db, addressHash: key, siteID: site.id)
        }
        let context = MailContext(site: site, thread: thread, comment: comment, parent: parent, previousStatus: previousStatus, consents: consents)
        for message in mail(context) {
            let recipientHash = message.checkedRecipientKey
            if let cap = message.dailyCap, let recipientHash {
                let sentToday = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM outbox WHERE recipient_hash = ? AND created_at > ?",
                    arguments: [recipientHash, message.createdAt - 86_400_000]) ?? 0
                if sentToday >= cap { continue }
            }
            if message.kind == .confirmation, let recipientHash {
                // Never over a confirmed or suppressed address: only the reader's own answer changes those.
                try db.execute(
                    sql: """
                    INSERT INTO reply_consent (site_id, address_hash, state, requested_at, changed_at) VALUES (?, ?, 'requested', ?, ?)
                    ON CONFLICT (site_id, address_hash) DO UPDATE SET requested_at = excluded.requested_at, changed_at = excluded.changed_at
                    WHERE reply_consent.state = 'requested'
                    """,
                    arguments: [site.id, recipientHash, message.createdAt, message.createdAt])
            }
            try db.execute(
                sql: """
                INSERT INTO outbox (kind, comment_id, recipients, subject, body, headers, message_id, created_at, next_attempt_at, recipient_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [message.kind.rawValue, message.commentID, JSONText.encode(message.recipients), message.subject,
                            message.body, JSONText.encodeRows(message.headers), message.messageID, message.createdAt,
                            message.nextAttemptAt, recipientHash])
        }
    }

    /// The stored consent of one address (by `AddressKey.hash`) on one site, in the caller's transaction.
    static func replyConsent(_ db: Database, addressHash: String, siteID: String) throws -> ReplyConsent {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT state, requested_at FROM reply_consent WHERE site_id = ? AND address_hash = ?", arguments: [siteID, addressHash])
        else { return .unasked }
        return ReplyConsent(state: row["state"], requestedAt: row["requested_at"])
    }

    public func replyConsent(email: String, siteID: String) async throws -> ReplyConsent {
        try await read { db in try Self.replyConsent(db, addressHash: AddressKey.hash(email), siteID: siteID) }
    }

    public func setReplyConsent(_ consent: ReplyConsent, email: String, siteID: String, at: Int64) async throws -> ReplyConsent {
        let key = AddressKey.hash(email)
        return try await write { db in
            let before = try Self.replyConsent(db, addressHash: key, siteID: siteID)
            if let state = consent.stateName {
                var requestedAt: Int64?
                if case .requested(let when) = consent { requestedAt = when }
                try db.execute(
                    sql: """
                    INSERT INTO reply_consent (site_id, address_hash, state, requested_at, changed_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (site_id, address_hash) DO UPDATE SET state = excluded.state,
                        requested_at = COALESCE(excluded.requested_at, reply_consent.requested_at), changed_at = excluded.changed_at
                    """,
                    arguments: [siteID, key, state, requestedAt, at])
            } else {
                try db.execute(sql: "DELETE FROM reply_consent WHERE site_id = ? AND address_hash = ?", arguments: [siteID, key])
            }
            return before
        }
    }

    public func dueMail(now: Int64, limit: Int) async throws -> [OutgoingMail] {
        try await write { db in
            let due = try Row.fetchAll(
                db,
                sql: """
                SELECT * FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
                    AND (claimed_until IS NULL OR claimed_until <= ?)
                ORDER BY next_attempt_at, id LIMIT ?
                """,
                arguments: [now, now, limit]
            ).map(OutgoingMail.init(row:))
            for mail in due {
                try db.execute(sql: "UPDATE outbox SET claimed_until = ? WHERE id = ?", arguments: [now + OutboxClaim.leaseMillis, mail.id])
            }
            return due
        }
    }

    public func queue(mail: OutgoingMail) async throws {
        try await write { db in
            try db.execute(
                sql: """
                INSERT INTO outbox (kind, comment_id, recipients, subject, body, headers, message_id, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [mail.kind.rawValue, mail.commentID, JSONText.encode(mail.recipients), mail.subject, mail.body,
                            JSONText.encodeRows(mail.headers), mail.messageID, mail.createdAt, mail.nextAttemptAt])
        }
    }

    public func markSent(mailID: Int64, at: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL, claimed_until = NULL WHERE id = ?", arguments: [at, mailID])
        }
    }

    public func markFailed(mailID: Int64, error: String, at: Int64, retryAt: Int64?) async throws {
        try await write { db in
            if let retryAt {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_until = NULL WHERE id = ?",
                    arguments: [error, retryAt, mailID])
            } else {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_at = ?, claimed_until = NULL WHERE id = ?",
                    arguments: [error, at, mailID])
            }
        }
    }

    public func outbox(limit: Int) async throws -> [OutgoingMail] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", arguments: [limit]).map(OutgoingMail.init(row:))
        }
    }

    public func unsubscribe(email: String, threadID: Int64, at: Int64) async throws -> Int {
        try await write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM comments WHERE thread_id = ? AND email = ? COLLATE NOCASE AND notify = 1",
                arguments: [threadID, email])
            guard !ids.isEmpty else { return 0 }
            let siteID = try Self.requireThread(db, threadID).siteID
            try db.execute(
                sql: "UPDATE comments SET notify = 0 WHERE thread_id = ? AND email = ? COLLATE NOCASE AND notify = 1",
                arguments: [threadID, email])
            for id in ids {
                try Self.log(db, ModerationLogEntry(commentID: id, siteID: siteID, action: "unsubscribe", actor: .reader, reason: nil, at: at))
            }
            return ids.count
        }
    }
}
