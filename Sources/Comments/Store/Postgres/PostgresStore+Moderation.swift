import Foundation
import Logging
import PostgresNIO

// Moderation, spam facts, the classifier, keys, the outbox and secrets on PostgreSQL: the same
// rules as `SQLiteStore`, each in one transaction.
extension PostgresStore {
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

    public func moderate(
        commentID: Int64, action: ModerationAction, actor: ModerationActor, reason: String?, at: Int64,
        linkNonce: (nonce: String, expiresAt: Int64)?, features: [String]?, mail: MailBuilder?
    ) async throws -> ModerationOutcome {
        try await transaction { connection, logger in
            let current = try await Self.comments(connection.query(
                "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(commentID) FOR UPDATE", logger: logger)).first
            if let linkNonce {
                // The nonce's primary key makes a link single-use across every node.
                let inserted = try await Self.values(connection.query("""
                    INSERT INTO used_links (nonce, used_at, expires_at) VALUES (\(linkNonce.nonce), \(at), \(linkNonce.expiresAt))
                    ON CONFLICT (nonce) DO NOTHING RETURNING 1
                    """, logger: logger), as: Int32.self)
                if inserted.isEmpty { return .linkAlreadyUsed(current) }
            }
            guard let current else { throw CommentsError.commentNotFound(commentID) }
            guard let thread = try await Self.threads(connection.query(
                "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(current.threadID)", logger: logger)).first
            else { throw CommentsError.storageUnavailable("thread \(current.threadID) is missing") }
            try await Self.log(connection, logger, ModerationLogEntry(
                commentID: commentID, siteID: thread.siteID, action: action.rawValue, actor: actor, reason: reason, at: at))
            if let features, action == .approve || action == .spam {
                try await Self.retrain(connection, logger, commentID: commentID, features: features, asSpam: action == .spam)
            }
            if action == .delete {
                _ = try await Self.deleteComment(connection, logger, commentID)
                return .applied(try await Self.comments(connection.query(
                    "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(commentID)", logger: logger)).first)
            }
            guard let updated = try await Self.comments(connection.query(
                "UPDATE comments SET status = \(action.resultingStatus.rawValue) WHERE id = \(commentID) RETURNING \(unescaped: Comment.columns)",
                logger: logger)).first
            else { throw CommentsError.commentNotFound(commentID) }
            try await Self.queue(connection, logger, mail, thread: thread, comment: updated, previousStatus: current.status)
            return .applied(updated)
        }
    }

    public func isLinkUsed(nonce: String) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query("SELECT 1 FROM used_links WHERE nonce = \(nonce)", logger: logger), as: Int32.self).isEmpty
        }
    }

    public func moderationLog(commentID: Int64?, limit: Int) async throws -> [ModerationLogEntry] {
        try await transaction { connection, logger in
            let rows = try await connection.query("""
                SELECT id, comment_id, site_id, action, actor, reason, at FROM moderation_log
                WHERE \(commentID)::bigint IS NULL OR comment_id = \(commentID)
                ORDER BY at DESC, id DESC LIMIT \(Int64(limit))
                """, logger: logger)
            var entries: [ModerationLogEntry] = []
            for try await (id, comment, site, action, actor, reason, at) in rows.decode((Int64, Int64, String, String, String, String?, Int64).self) {
                entries.append(ModerationLogEntry(
                    id: id, commentID: comment, siteID: site, action: action, actor: ModerationActor(rawValue: actor) ?? .cli, reason: reason, at: at))
            }
            return entries
        }
    }

    public func screeningFacts(siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts {
        try await read { connection, logger in try await Self.screeningFacts(connection, logger, siteID: siteID, query: query) }
    }

    // MARK: Blocklist

    public func blocklist() async throws -> [BlockEntry] {
        try await read { connection, logger in try await Self.blocklist(connection, logger) }
    }

    public func addBlock(_ entry: BlockEntry) async throws {
        try await transaction { connection, logger in
            _ = try await connection.query("""
                INSERT INTO blocklist (kind, value, reason, created_at) VALUES (\(entry.kind.rawValue), \(entry.value), \(entry.reason), \(entry.createdAt))
                ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason
                """, logger: logger)
        }
    }

    public func removeBlock(kind: BlockKind, value: String) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query(
                "DELETE FROM blocklist WHERE kind = \(kind.rawValue) AND value = \(value) RETURNING 1", logger: logger), as: Int32.self).isEmpty
        }
    }

    // MARK: Learned classifier

    public func classifierCounts(features: [String]) async throws -> ClassifierCounts {
        try await transaction { connection, logger in try await Self.classifierCounts(connection, logger, features: features) }
    }

    public func train(features: [String], asSpam: Bool) async throws {
        try await transaction { connection, logger in try await Self.count(connection, logger, features: features, asSpam: asSpam, delta: 1) }
    }

    // MARK: Signing keys

    public func signingKeys() async throws -> [SigningKey] {
        try await read { connection, logger in
            var keys: [SigningKey] = []
            for try await (id, secret, createdAt, retiredAt) in try await connection.query(
                "SELECT id, secret, created_at, retired_at FROM signing_keys ORDER BY created_at, id", logger: logger
            ).decode((String, Data, Int64, Int64?).self) {
                keys.append(SigningKey(id: id, secret: Array(secret), createdAt: createdAt, retiredAt: retiredAt))
            }
            return keys
        }
    }

    public func addSigningKeyIfNoneExist(_ key: SigningKey) async throws -> Bool {
        try await transaction { connection, logger in
            // Nodes starting together: the lock makes the second wait and find the first's key.
            _ = try await connection.query("LOCK TABLE signing_keys IN EXCLUSIVE MODE", logger: logger)
            let count = try await Self.values(connection.query("SELECT COUNT(*) FROM signing_keys", logger: logger), as: Int64.self).first ?? 0
            guard count == 0 else { return false }
            _ = try await connection.query(
                "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (\(key.id), \(Data(key.secret)), \(key.createdAt), NULL)",
                logger: logger)
            return true
        }
    }

    public func removeSigningKey(id: String) async throws -> Bool {
        try await transaction { connection, logger in
            !(try await Self.values(connection.query("DELETE FROM signing_keys WHERE id = \(id) RETURNING id", logger: logger), as: String.self)).isEmpty
        }
    }

    public func addSigningKey(_ key: SigningKey) async throws {
        try await transaction { connection, logger in
            try await connection.query("UPDATE signing_keys SET retired_at = \(key.createdAt) WHERE retired_at IS NULL", logger: logger)
            _ = try await connection.query(
                "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (\(key.id), \(Data(key.secret)), \(key.createdAt), NULL)",
                logger: logger)
        }
    }

    // MARK: Mail outbox

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

    // MARK: Secrets

    public func secret(named name: String, make: @Sendable () -> [UInt8], at: Int64) async throws -> [UInt8] {
        let fresh = Data(make())
        return try await transaction { connection, logger in
            // Another node may have won the race: keep whichever was stored first.
            try await connection.query(
                "INSERT INTO secrets (name, value, created_at) VALUES (\(name), \(fresh), \(at)) ON CONFLICT (name) DO NOTHING", logger: logger)
            return Array(try await Self.values(connection.query("SELECT value FROM secrets WHERE name = \(name)", logger: logger), as: Data.self).first ?? fresh)
        }
    }

    // MARK: Inside a transaction

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
            WHERE site_id = \(siteID) AND body_digest = \(SQLiteStore.digest(query.body)) AND created_at >= \(query.since)
                AND id != \(excluding)
            """, logger: logger), as: Int64.self).first ?? 0
        return ScreeningFacts(
            stored: StoredFacts(approvedBefore: Int(approved), duplicates: Int(duplicates)),
            blocklist: try await blocklist(connection, logger),
            classifier: try await classifierCounts(connection, logger, features: query.features))
    }

    static func blocklist(_ connection: PostgresConnection, _ logger: Logger) async throws -> [BlockEntry] {
        var entries: [BlockEntry] = []
        for try await (kind, value, reason, createdAt) in try await connection.query(
            "SELECT kind, value, reason, created_at FROM blocklist ORDER BY kind, value", logger: logger
        ).decode((String, String, String?, Int64).self) {
            entries.append(BlockEntry(kind: BlockKind(rawValue: kind) ?? .word, value: value, reason: reason, createdAt: createdAt))
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

// Rate limits every node shares: a row per (window, client), locked while it is read and written.
extension PostgresStore: SharedRateLimits {
    public func take(key: String, limit: RateLimit, now: Int64) async throws -> Int? {
        guard !limit.windows.isEmpty else { return nil }
        return try await transaction { connection, logger in
            let scopes = limit.windows.map { "\($0.count)/\($0.seconds)" }
            var states: [TokenBucket.State?] = []
            for (scope, window) in zip(scopes, limit.windows) {
                // A first request from two nodes at once: one inserts, both then lock the row.
                try await connection.query("""
                    INSERT INTO rate_buckets (scope, key, tokens, updated_at) VALUES (\(scope), \(key), \(Double(window.count)), \(now))
                    ON CONFLICT (scope, key) DO NOTHING
                    """, logger: logger)
                var state: TokenBucket.State?
                for try await (tokens, updatedAt) in try await connection.query(
                    "SELECT tokens, updated_at FROM rate_buckets WHERE scope = \(scope) AND key = \(key) FOR UPDATE", logger: logger
                ).decode((Double, Int64).self) {
                    state = TokenBucket.State(tokens: tokens, updatedAt: updatedAt)
                }
                states.append(state)
            }
            let (next, wait) = TokenBucket.take(states, limit: limit, now: now)
            for (scope, state) in zip(scopes, next) {
                try await connection.query(
                    "UPDATE rate_buckets SET tokens = \(state.tokens), updated_at = \(state.updatedAt) WHERE scope = \(scope) AND key = \(key)",
                    logger: logger)
            }
            // Now and then, forget clients whose longest window has refilled: they are like new ones.
            if Int.random(in: 0..<200) == 0 {
                let longest = Int64(limit.windows.map(\.seconds).max() ?? 0) * 1000
                try await connection.query("DELETE FROM rate_buckets WHERE updated_at < \(now - max(longest, 86_400_000))", logger: logger)
            }
            return wait
        }
    }
}
