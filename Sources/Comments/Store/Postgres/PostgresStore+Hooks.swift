import Foundation
import Logging
import PostgresNIO

// Hooks and the hook outbox on PostgreSQL: the same rules as `SQLiteStore`, each in one
// transaction; due deliveries are claimed with SKIP LOCKED so two nodes never take one row.
extension PostgresStore {
    static let hookColumns =
        "id, name, site_id, preset, url, target, secret, events, trusted, allow_private, enabled, created_at, updated_at"
    static let hookDeliveryColumns = """
        id, hook_id, event_id, type, comment_id, site_id, payload, created_at, attempts, next_attempt_at, delivered_at, failed_at, \
        last_status, last_error, last_response
        """

    public func addHook(_ hook: Hook) async throws -> Hook {
        try await transaction { connection, logger in
            try await Self.requireSite(connection, logger, hook.siteID)
            let id = try await Self.values(connection.query("""
                INSERT INTO hooks (name, site_id, preset, url, target, secret, events, trusted, allow_private, enabled, created_at, updated_at)
                VALUES (\(hook.name), \(hook.siteID), \(hook.preset.rawValue), \(hook.url), \(hook.target), \(hook.secret),
                        \(Hook.storedEvents(hook.events)), \(hook.trusted), \(hook.allowPrivate), \(hook.enabled), \(hook.createdAt),
                        \(hook.updatedAt))
                RETURNING id
                """, logger: logger), as: Int64.self).first ?? 0
            var stored = hook
            stored.id = id
            return stored
        }
    }

    public func hook(id: Int64) async throws -> Hook? {
        try await read { connection, logger in
            try await Self.hooks(connection.query("SELECT \(unescaped: Self.hookColumns) FROM hooks WHERE id = \(id)", logger: logger)).first
        }
    }

    public func hooks(siteID: String?) async throws -> [Hook] {
        try await read { connection, logger in
            if let siteID {
                return try await Self.hooks(connection.query(
                    "SELECT \(unescaped: Self.hookColumns) FROM hooks WHERE site_id IS NULL OR site_id = \(siteID) ORDER BY id", logger: logger))
            }
            return try await Self.hooks(connection.query("SELECT \(unescaped: Self.hookColumns) FROM hooks ORDER BY id", logger: logger))
        }
    }

    public func updateHook(_ hook: Hook) async throws -> Hook {
        try await transaction { connection, logger in
            try await Self.requireSite(connection, logger, hook.siteID)
            guard let stored = try await Self.hooks(connection.query("""
                UPDATE hooks SET name = \(hook.name), site_id = \(hook.siteID), preset = \(hook.preset.rawValue), url = \(hook.url),
                    target = \(hook.target), secret = \(hook.secret), events = \(Hook.storedEvents(hook.events)), trusted = \(hook.trusted),
                    allow_private = \(hook.allowPrivate), enabled = \(hook.enabled), updated_at = \(hook.updatedAt)
                WHERE id = \(hook.id)
                RETURNING \(unescaped: Self.hookColumns)
                """, logger: logger)).first
            else { throw CommentsError.hookNotFound(hook.id) }
            return stored
        }
    }

    public func removeHook(id: Int64) async throws -> Bool {
        // Its deliveries go with it (ON DELETE CASCADE).
        try await transaction { connection, logger in
            try await !Self.values(connection.query("DELETE FROM hooks WHERE id = \(id) RETURNING id", logger: logger), as: Int64.self).isEmpty
        }
    }

    public func queueHookDelivery(_ delivery: HookDelivery) async throws -> HookDelivery {
        var stored = delivery
        stored.lastResponse = HookDelivery.keptResponse(delivery.lastResponse)
        let kept = stored
        stored.id = try await transaction { connection, logger in
            // FOR KEY SHARE: the hook cannot be removed before this row refers to it.
            guard try await !Self.values(connection.query(
                "SELECT id FROM hooks WHERE id = \(kept.hookID) FOR KEY SHARE", logger: logger), as: Int64.self).isEmpty
            else { throw CommentsError.hookNotFound(kept.hookID) }
            return try await Self.values(connection.query("""
                INSERT INTO hook_deliveries (hook_id, event_id, type, comment_id, site_id, payload, created_at, attempts, next_attempt_at,
                    delivered_at, failed_at, last_status, last_error, last_response)
                VALUES (\(kept.hookID), \(kept.eventID), \(kept.type.rawValue), \(kept.commentID), \(kept.siteID), \(kept.payload),
                        \(kept.createdAt), \(Int32(kept.attempts)), \(kept.nextAttemptAt), \(kept.deliveredAt), \(kept.failedAt),
                        \(kept.lastStatus.map(Int32.init)), \(kept.lastError), \(kept.lastResponse))
                RETURNING id
                """, logger: logger), as: Int64.self).first ?? 0
        }
        return stored
    }

    public func dueHookDeliveries(now: Int64, limit: Int) async throws -> [HookDelivery] {
        try await transaction { connection, logger in
            // SKIP LOCKED: a node claiming at the same moment takes other rows, never these.
            try await Self.hookDeliveries(connection.query("""
                UPDATE hook_deliveries SET claimed_until = \(now + OutboxClaim.leaseMillis)
                WHERE id IN (
                    SELECT id FROM hook_deliveries
                    WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= \(now)
                        AND (claimed_until IS NULL OR claimed_until <= \(now))
                        AND EXISTS (SELECT 1 FROM hooks WHERE hooks.id = hook_deliveries.hook_id AND hooks.enabled)
                    ORDER BY next_attempt_at, id LIMIT \(Int64(limit))
                    FOR UPDATE OF hook_deliveries SKIP LOCKED)
                RETURNING \(unescaped: Self.hookDeliveryColumns)
                """, logger: logger)).sorted { ($0.nextAttemptAt, $0.id) < ($1.nextAttemptAt, $1.id) }
        }
    }

    public func recordHookAttempt(deliveryID: Int64, _ attempt: HookAttempt) async throws {
        let response = HookDelivery.keptResponse(attempt.response)
        let status = attempt.status.map(Int32.init)
        try await transaction { connection, logger in
            // A delivery whose hook was removed meanwhile is gone: there is nothing to record.
            let delivered: Int64? = attempt.error == nil ? attempt.at : nil
            let failed: Int64? = attempt.error != nil && attempt.retryAt == nil ? attempt.at : nil
            let retryAt: Int64? = attempt.error != nil ? attempt.retryAt : nil
            try await connection.query("""
                UPDATE hook_deliveries SET attempts = attempts + 1, claimed_until = NULL, last_status = \(status),
                    last_error = \(attempt.error), last_response = \(response),
                    delivered_at = COALESCE(\(delivered), delivered_at), failed_at = COALESCE(\(failed), failed_at),
                    next_attempt_at = COALESCE(\(retryAt), next_attempt_at)
                WHERE id = \(deliveryID)
                """, logger: logger)
        }
    }

    public func hookDeliveries(hookID: Int64, limit: Int) async throws -> [HookDelivery] {
        try await read { connection, logger in
            try await Self.hookDeliveries(connection.query("""
                SELECT \(unescaped: Self.hookDeliveryColumns) FROM hook_deliveries WHERE hook_id = \(hookID) ORDER BY id DESC LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    public func pruneHookDeliveries(before: Int64) async throws -> Int {
        try await transaction { connection, logger in
            try await Self.values(connection.query("""
                DELETE FROM hook_deliveries WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < \(before)
                RETURNING id
                """, logger: logger), as: Int64.self).count
        }
    }

    public func retryHookDelivery(id: Int64, at: Int64) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query("""
                UPDATE hook_deliveries SET failed_at = NULL, claimed_until = NULL, next_attempt_at = \(at)
                WHERE id = \(id) AND failed_at IS NOT NULL RETURNING id
                """, logger: logger), as: Int64.self).isEmpty
        }
    }

    // MARK: Inside a transaction

    /// Writes one delivery per enabled hook that hears `record.type` on the comment's site, all
    /// with one event id, in the caller's transaction (the change's own). Without such a hook
    /// it costs one indexed query and writes nothing.
    static func recordHookEvent(_ connection: PostgresConnection, _ logger: Logger, _ record: HookEventRecord, thread: CommentThread,
                                comment: Comment, at: Int64) async throws {
        // FOR KEY SHARE: a hook removed meanwhile (or with its site) either went before this read
        // and is skipped, or waits until this transaction has written its rows; without the lock
        // the inserts below would fail on the vanished hook and lose the comment.
        var hooks: [(id: Int64, trusted: Bool)] = []
        for try await (id, trusted) in try await connection.query("""
            SELECT id, trusted FROM hooks WHERE enabled AND (site_id IS NULL OR site_id = \(thread.siteID))
                AND events LIKE \(Hook.hearingPattern(record.type)) ORDER BY id FOR KEY SHARE
            """, logger: logger).decode((Int64, Bool).self) {
            hooks.append((id, trusted))
        }
        guard !hooks.isEmpty,
              let site = try await sites(connection.query(
                  "SELECT \(unescaped: siteColumns) FROM sites WHERE id = \(thread.siteID)", logger: logger)).first
        else { return }
        let eventID = HookEventData.makeEventID()
        // At most two payloads, with and without the moderator (trusted hooks only). Neither
        // holds the commenter's email or network: a sender reads those from the live comment.
        var payloads: [Bool: String] = [:]
        for hook in hooks {
            let payload = payloads[hook.trusted] ?? HookEventData(
                type: record.type, site: site, thread: thread, comment: comment, actor: record.actor,
                moderator: hook.trusted ? record.moderator : nil, previousStatus: record.previousStatus, trusted: false).json()
            payloads[hook.trusted] = payload
            try await connection.query("""
                INSERT INTO hook_deliveries (hook_id, event_id, type, comment_id, site_id, payload, created_at, next_attempt_at)
                VALUES (\(hook.id), \(eventID), \(record.type.rawValue), \(comment.id), \(site.id), \(payload), \(at), \(at))
                """, logger: logger)
        }
    }

    /// Rewrites the payloads of the earlier deliveries about a comment being deleted to the
    /// deleted form (`HookEventData.redacted()`), in the caller's transaction: neither a queued
    /// retry nor the stored outbox keeps its text or author.
    static func redactHookDeliveries(_ connection: PostgresConnection, _ logger: Logger, commentID: Int64) async throws {
        var rows: [(Int64, String)] = []
        for try await row in try await connection.query("""
            SELECT id, payload FROM hook_deliveries WHERE comment_id = \(commentID) AND type <> 'comment.deleted'
            """, logger: logger).decode((Int64, String).self) {
            rows.append(row)
        }
        for (id, payload) in rows {
            try await connection.query(
                "UPDATE hook_deliveries SET payload = \(HookEventData.redacted(payload: payload)) WHERE id = \(id)", logger: logger)
        }
    }

    /// Throws `siteNotFound` unless the site exists (nil, every site, always does).
    private static func requireSite(_ connection: PostgresConnection, _ logger: Logger, _ siteID: String?) async throws {
        guard let siteID else { return }
        // FOR SHARE: the site cannot be removed before the hook refers to it.
        if try await values(connection.query("SELECT 1 FROM sites WHERE id = \(siteID) FOR SHARE", logger: logger), as: Int32.self).isEmpty {
            throw CommentsError.siteNotFound(siteID)
        }
    }

    // MARK: Decoding

    static func hooks(_ rows: PostgresRowSequence) async throws -> [Hook] {
        var hooks: [Hook] = []
        for try await (id, name, siteID, preset, url, target, secret, events, trusted, allowPrivate, enabled, createdAt, updatedAt)
            in rows.decode((Int64, String, String?, String, String, String?, String?, String, Bool, Bool, Bool, Int64, Int64).self) {
            hooks.append(Hook(
                id: id, name: name, siteID: siteID, preset: Hook.Preset(rawValue: preset) ?? .webhook, url: url, target: target,
                secret: secret, events: Hook.events(stored: events), trusted: trusted, allowPrivate: allowPrivate, enabled: enabled,
                createdAt: createdAt, updatedAt: updatedAt))
        }
        return hooks
    }

    /// Rows of `SELECT \(hookDeliveryColumns)`, decoded by position.
    static func hookDeliveries(_ rows: PostgresRowSequence) async throws -> [HookDelivery] {
        var deliveries: [HookDelivery] = []
        for try await row in rows {
            let cells = row.makeRandomAccess()
            deliveries.append(HookDelivery(
                id: try cells[0].decode(Int64.self), hookID: try cells[1].decode(Int64.self), eventID: try cells[2].decode(String.self),
                type: HookEventType(rawValue: try cells[3].decode(String.self)) ?? .edited, commentID: try cells[4].decode(Int64?.self),
                siteID: try cells[5].decode(String.self), payload: try cells[6].decode(String.self), createdAt: try cells[7].decode(Int64.self),
                attempts: Int(try cells[8].decode(Int32.self)), nextAttemptAt: try cells[9].decode(Int64.self),
                deliveredAt: try cells[10].decode(Int64?.self), failedAt: try cells[11].decode(Int64?.self),
                lastStatus: try cells[12].decode(Int32?.self).map(Int.init), lastError: try cells[13].decode(String?.self),
                lastResponse: try cells[14].decode(String?.self)))
        }
        return deliveries
    }
}
