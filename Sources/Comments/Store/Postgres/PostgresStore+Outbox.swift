import Foundation
import Logging
import PostgresNIO

// The mail outbox and readers' reply consent on PostgreSQL: the same rules as `SQLiteStore`,
// each in one transaction.
extension PostgresStore {
    static let outboxColumns =
        "id, kind, comment_id, recipients, subject, body, headers, message_id, created_at, attempts, next_attempt_at, sent_at, failed_at, last_error"

    public func dueMail(now: Int64, limit: Int) async throws -> [OutgoingMail] {
        try await transaction { connection, logger in
            // SKIP LOCKED: a node claiming at the same moment takes other rows, never these.
            try await Self.mails(connection.query("""
                UPDATE outbox SET claimed_until = \(now + OutboxClaim.leaseMillis)
                WHERE id IN (
                    SELECT id FROM outbox
                    WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= \(now)
                        AND (claimed_until IS NULL OR claimed_until <= \(now))
                    ORDER BY next_attempt_at, id LIMIT \(Int64(limit))
                    FOR UPDATE SKIP LOCKED)
                RETURNING \(unescaped: Self.outboxColumns)
                """, logger: logger)).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    public func queue(mail: OutgoingMail) async throws {
        try await transaction { connection, logger in
            _ = try await connection.query("""
                INSERT INTO outbox (kind, comment_id, recipients, subject, body, headers, message_id, created_at, next_attempt_at)
                VALUES (\(mail.kind.rawValue), \(mail.commentID), \(JSONText.encode(mail.recipients)), \(mail.subject),
                        \(mail.body), \(JSONText.encodeRows(mail.headers)), \(mail.messageID), \(mail.createdAt), \(mail.nextAttemptAt))
                """, logger: logger)
        }
    }

    public func markSent(mailID: Int64, at: Int64) async throws {
        try await transaction { connection, logger in
            _ = try await connection.query(
                "UPDATE outbox SET sent_at = \(at), attempts = attempts + 1, last_error = NULL, claimed_until = NULL WHERE id = \(mailID)", logger: logger)
        }
    }

    public func markFailed(mailID: Int64, error: String, at: Int64, retryAt: Int64?) async throws {
        try await transaction { connection, logger in
            if let retryAt {
                _ = try await connection.query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = \(error), next_attempt_at = \(retryAt), claimed_until = NULL WHERE id = \(mailID)",
                    logger: logger)
            } else {
                _ = try await connection.query(
                    "UPDATE outbox SET attempts = attempts + 1, last_error = \(error), failed_at = \(at), claimed_until = NULL WHERE id = \(mailID)", logger: logger)
            }
        }
    }

    public func outbox(limit: Int) async throws -> [OutgoingMail] {
        try await transaction { connection, logger in
            try await Self.mails(connection.query(
                "SELECT \(unescaped: Self.outboxColumns) FROM outbox ORDER BY id DESC LIMIT \(Int64(limit))", logger: logger))
        }
    }

    public func unsubscribe(email: String, threadID: Int64, at: Int64) async throws -> Int {
        try await transaction { connection, logger in
            var changed: [(Int64, String)] = []
            for try await row in try await connection.query("""
                UPDATE comments SET notify = false WHERE thread_id = \(threadID) AND lower(email) = lower(\(email)) AND notify
                RETURNING id, site_id
                """, logger: logger).decode((Int64, String).self) {
                changed.append(row)
            }
            for (id, siteID) in changed.sorted(by: { $0.0 < $1.0 }) {
                try await Self.log(connection, logger, ModerationLogEntry(commentID: id, siteID: siteID, action: "unsubscribe", actor: .reader, reason: nil, at: at))
            }
            return changed.count
        }
    }

    public func replyConsent(email: String, siteID: String) async throws -> ReplyConsent {
        try await read { connection, logger in
            try await Self.replyConsent(connection, logger, addressHash: AddressKey.hash(email), siteID: siteID)
        }
    }

    public func setReplyConsent(_ consent: ReplyConsent, email: String, siteID: String, at: Int64) async throws -> ReplyConsent {
        let key = AddressKey.hash(email)
        return try await transaction { connection, logger in
            try await Self.lockAddress(connection, logger, key)
            let before = try await Self.replyConsent(connection, logger, addressHash: key, siteID: siteID)
            if let state = consent.stateName {
                var requestedAt: Int64?
                if case .requested(let when) = consent { requestedAt = when }
                try await connection.query("""
                    INSERT INTO reply_consent (site_id, address_hash, state, requested_at, changed_at)
                    VALUES (\(siteID), \(key), \(state), \(requestedAt), \(at))
                    ON CONFLICT (site_id, address_hash) DO UPDATE SET state = excluded.state,
                        requested_at = COALESCE(excluded.requested_at, reply_consent.requested_at), changed_at = excluded.changed_at
                    """, logger: logger)
            } else {
                try await connection.query(
                    "DELETE FROM reply_consent WHERE site_id = \(siteID) AND address_hash = \(key)", logger: logger)
            }
            return before
        }
    }

    // MARK: Inside a transaction

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
        // The consent of every address that asked to hear of replies. The advisory lock per
        // address makes nodes queueing mail for one address take turns, so each sees the
        // other's confirmation mail and count. Locks are taken in one order (sorted), so two
        // replies to each other's authors at once cannot deadlock.
        var consents: [String: ReplyConsent] = [:]
        for key in MailContext.askingKeys(comment: comment, parent: parent) {
            try await lockAddress(connection, logger, key)
            consents[key] = try await replyConsent(connection, logger, addressHash: key, siteID: site.id)
        }
        let context = MailContext(site: site, thread: thread, comment: comment, parent: parent, previousStatus: previousStatus, consents: consents)
        for message in mail(context) {
            let recipientHash = message.checkedRecipientKey
            if let cap = message.dailyCap, let recipientHash {
                try await lockAddress(connection, logger, recipientHash)
                let sentToday = try await values(connection.query(
                    "SELECT COUNT(*) FROM outbox WHERE recipient_hash = \(recipientHash) AND created_at > \(message.createdAt - 86_400_000)",
                    logger: logger), as: Int64.self).first ?? 0
                if sentToday >= cap { continue }
            }
            if message.kind == .confirmation, let recipientHash {
                // Never over a confirmed or suppressed address: only the reader's own answer changes those.
                try await connection.query("""
                    INSERT INTO reply_consent (site_id, address_hash, state, requested_at, changed_at)
                    VALUES (\(site.id), \(recipientHash), 'requested', \(message.createdAt), \(message.createdAt))
                    ON CONFLICT (site_id, address_hash) DO UPDATE SET requested_at = excluded.requested_at, changed_at = excluded.changed_at
                    WHERE reply_consent.state = 'requested'
                    """, logger: logger)
            }
            try await connection.query("""
                INSERT INTO outbox (kind, comment_id, recipients, subject, body, headers, message_id, created_at, next_attempt_at, recipient_hash)
                VALUES (\(message.kind.rawValue), \(message.commentID), \(JSONText.encode(message.recipients)), \(message.subject),
                        \(message.body), \(JSONText.encodeRows(message.headers)), \(message.messageID), \(message.createdAt),
                        \(message.nextAttemptAt), \(recipientHash))
                """, logger: logger)
        }
    }

    /// Holds the transaction-scoped advisory lock of one address (by its hash) until COMMIT.
    static func lockAddress(_ connection: PostgresConnection, _ logger: Logger, _ addressHash: String) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(addressHash), 0))", logger: logger)
    }

    /// The stored consent of one address (by `AddressKey.hash`) on one site, in the caller's transaction.
    static func replyConsent(_ connection: PostgresConnection, _ logger: Logger, addressHash: String, siteID: String) async throws -> ReplyConsent {
        for try await (state, requestedAt) in try await connection.query(
            "SELECT state, requested_at FROM reply_consent WHERE site_id = \(siteID) AND address_hash = \(addressHash)", logger: logger
        ).decode((String, Int64?).self) {
            return ReplyConsent(state: state, requestedAt: requestedAt)
        }
        return .unasked
    }

    // MARK: Decoding

    static func mails(_ rows: PostgresRowSequence) async throws -> [OutgoingMail] {
        var mails: [OutgoingMail] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            mails.append(OutgoingMail(
                id: try cells[0].decode(Int64.self), kind: OutgoingMail.Kind(rawValue: try cells[1].decode(String.self)) ?? .moderation,
                commentID: try cells[2].decode(Int64?.self), recipients: JSONText.decode(try cells[3].decode(String.self)),
                subject: try cells[4].decode(String.self), body: try cells[5].decode(String.self),
                headers: JSONText.decodeRows(try cells[6].decode(String.self)), messageID: try cells[7].decode(String.self),
                createdAt: try cells[8].decode(Int64.self), attempts: Int(try cells[9].decode(Int32.self)),
                nextAttemptAt: try cells[10].decode(Int64.self), sentAt: try cells[11].decode(Int64?.self),
                failedAt: try cells[12].decode(Int64?.self), lastError: try cells[13].decode(String?.self)))
        }
        return mails
    }
}
