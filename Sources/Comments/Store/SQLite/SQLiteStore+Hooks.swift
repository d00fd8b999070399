import Foundation
import GRDB

// Hooks and the hook outbox on SQLite; events are recorded by the changes themselves
// (`recordHookEvent`, in their transaction).
extension SQLiteStore {
    public func addHook(_ hook: Hook) async throws -> Hook {
        try await write { db in
            try Self.requireSite(db, hook.siteID)
            try db.execute(
                sql: """
                INSERT INTO hooks (name, site_id, preset, url, target, secret, events, trusted, allow_private, enabled, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [hook.name, hook.siteID, hook.preset.rawValue, hook.url, hook.target, hook.secret, Hook.storedEvents(hook.events),
                            hook.trusted, hook.allowPrivate, hook.enabled, hook.createdAt, hook.updatedAt])
            var stored = hook
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func hook(id: Int64) async throws -> Hook? {
        try await read { db in try Row.fetchOne(db, sql: "SELECT * FROM hooks WHERE id = ?", arguments: [id]).map(Hook.init(row:)) }
    }

    public func hooks(siteID: String?) async throws -> [Hook] {
        try await read { db in
            if let siteID {
                return try Row.fetchAll(db, sql: "SELECT * FROM hooks WHERE site_id IS NULL OR site_id = ? ORDER BY id", arguments: [siteID])
                    .map(Hook.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM hooks ORDER BY id").map(Hook.init(row:))
        }
    }

    public func updateHook(_ hook: Hook) async throws -> Hook {
        try await write { db in
            guard let createdAt = try Int64.fetchOne(db, sql: "SELECT created_at FROM hooks WHERE id = ?", arguments: [hook.id]) else {
                throw CommentsError.hookNotFound(hook.id)
            }
            try Self.requireSite(db, hook.siteID)
            try db.execute(
                sql: """
                UPDATE hooks SET name = ?, site_id = ?, preset = ?, url = ?, target = ?, secret = ?, events = ?, trusted = ?,
                    allow_private = ?, enabled = ?, updated_at = ?
                WHERE id = ?
                """,
                arguments: [hook.name, hook.siteID, hook.preset.rawValue, hook.url, hook.target, hook.secret, Hook.storedEvents(hook.events),
                            hook.trusted, hook.allowPrivate, hook.enabled, hook.updatedAt, hook.id])
            var stored = hook
            stored.createdAt = createdAt
            return stored
        }
    }

    public func removeHook(id: Int64) async throws -> Bool {
        // Its deliveries go with it (ON DELETE CASCADE).
        try await write { db in
            try db.execute(sql: "DELETE FROM hooks WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func queueHookDelivery(_ delivery: HookDelivery) async throws -> HookDelivery {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM hooks WHERE id = ?", arguments: [delivery.hookID]) == true else {
                throw CommentsError.hookNotFound(delivery.hookID)
            }
            var stored = delivery
            stored.lastResponse = HookDelivery.keptResponse(delivery.lastResponse)
            try db.execute(
                sql: """
                INSERT INTO hook_deliveries (hook_id, event_id, type, comment_id, site_id, payload, created_at, attempts, next_attempt_at,
                    delivered_at, failed_at, last_status, last_error, last_response)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [stored.hookID, stored.eventID, stored.type.rawValue, stored.commentID, stored.siteID, stored.payload,
                            stored.createdAt, stored.attempts, stored.nextAttemptAt, stored.deliveredAt, stored.failedAt,
                            stored.lastStatus, stored.lastError, stored.lastResponse])
            stored.id = db.lastInsertedRowID
            return stored
        }
    }

    public func dueHookDeliveries(now: Int64, limit: Int) async throws -> [HookDelivery] {
        // One writer at a time: the claim is written in the transaction that reads the rows.
        try await write { db in
            let due = try Row.fetchAll(db, sql: Self.dueHookDeliveriesSQL, arguments: [now, now, limit]).map(HookDelivery.init(row:))
            for delivery in due {
                try db.execute(
                    sql: "UPDATE hook_deliveries SET claimed_until = ? WHERE id = ?", arguments: [now + OutboxClaim.leaseMillis, delivery.id])
            }
            return due
        }
    }

    public func recordHookAttempt(deliveryID: Int64, _ attempt: HookAttempt) async throws {
        let response = HookDelivery.keptResponse(attempt.response)
        try await write { db in
            // A delivery whose hook was removed meanwhile is gone: there is nothing to record.
            let outcome: String
            var arguments: StatementArguments = [attempt.status, attempt.error, response]
            if attempt.error == nil {
                outcome = "delivered_at = ?"
                arguments += [attempt.at]
            } else if let retryAt = attempt.retryAt {
                outcome = "next_attempt_at = ?"
                arguments += [retryAt]
            } else {
                outcome = "failed_at = ?"
                arguments += [attempt.at]
            }
            arguments += [deliveryID]
            try db.execute(
                sql: """
                UPDATE hook_deliveries SET attempts = attempts + 1, claimed_until = NULL, last_status = ?, last_error = ?,
                    last_response = ?, \(outcome)
                WHERE id = ?
                """,
                arguments: arguments)
        }
    }

    public func hookDeliveries(hookID: Int64, limit: Int) async throws -> [HookDelivery] {
        try await read { db in
            try Row.fetchAll(db, sql: Self.hookDeliveriesSQL, arguments: [hookID, limit]).map(HookDelivery.init(row:))
        }
    }

    public func pruneHookDeliveries(before: Int64) async throws -> Int {
        try await write { db in
            try db.execute(sql: Self.pruneHookDeliveriesSQL, arguments: [before])
            return db.changesCount
        }
    }

    public func retryHookDelivery(id: Int64, at: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(
                sql: "UPDATE hook_deliveries SET failed_at = NULL, claimed_until = NULL, next_attempt_at = ? WHERE id = ? AND failed_at IS NOT NULL",
                arguments: [at, id])
            return db.changesCount > 0
        }
    }

    // MARK: Inside a transaction

    /// Writes one delivery per enabled hook that hears `record.type` on the comment's site, all
    /// with one event id, in the caller's transaction (the change's own). Without such a hook
    /// it costs one indexed query and writes nothing.
    static func recordHookEvent(_ db: Database, _ record: HookEventRecord, thread: CommentThread, comment: Comment, at: Int64) throws {
        // One writer at a time: no hook can go between this read and the inserts below.
        let hooks = try Row.fetchAll(
            db.cachedStatement(sql: Self.hearingHooksSQL), arguments: [thread.siteID, Hook.hearingPattern(record.type)])
        guard !hooks.isEmpty,
              let site = try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE id = ?", arguments: [thread.siteID]).map(Site.init(row:))
        else { return }
        let eventID = HookEventData.makeEventID()
        // At most two payloads, with and without the moderator (trusted hooks only). Neither
        // holds the commenter's email or network: a sender reads those from the live comment.
        var payloads: [Bool: String] = [:]
        for row in hooks {
            let trusted: Bool = row["trusted"]
            let payload = payloads[trusted] ?? HookEventData(
                type: record.type, site: site, thread: thread, comment: comment, actor: record.actor,
                moderator: trusted ? record.moderator : nil, previousStatus: record.previousStatus, trusted: false).json()
            payloads[trusted] = payload
            try db.cachedStatement(sql: """
                INSERT INTO hook_deliveries (hook_id, event_id, type, comment_id, site_id, payload, created_at, next_attempt_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """
            ).execute(arguments: [row["id"] as Int64, eventID, record.type.rawValue, comment.id, site.id, payload, at, at])
        }
    }

    /// Rewrites the payloads of the earlier deliveries about a comment being deleted to the
    /// deleted form (`HookEventData.redacted()`), in the caller's transaction: neither a queued
    /// retry nor the stored outbox keeps its text or author.
    static func redactHookDeliveries(_ db: Database, commentID: Int64) throws {
        for row in try Row.fetchAll(db.cachedStatement(sql: Self.commentHookDeliveriesSQL), arguments: [commentID]) {
            try db.cachedStatement(sql: "UPDATE hook_deliveries SET payload = ? WHERE id = ?")
                .execute(arguments: [HookEventData.redacted(payload: row["payload"]), row["id"] as Int64])
        }
    }

    /// Removes the deliveries about these comments, in the caller's transaction (a privacy request).
    static func dropHookDeliveries(_ db: Database, commentIDs: [Int64]) throws {
        for id in commentIDs {
            try db.execute(sql: Self.dropHookDeliveriesSQL, arguments: [id])
        }
    }

    // MARK: Statements (the query-plan test explains these very strings)

    /// Due, unclaimed deliveries of enabled hooks, oldest first: arguments now, now, limit.
    static let dueHookDeliveriesSQL = """
        SELECT * FROM hook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
            AND (claimed_until IS NULL OR claimed_until <= ?)
            AND EXISTS (SELECT 1 FROM hooks WHERE hooks.id = hook_deliveries.hook_id AND hooks.enabled)
        ORDER BY next_attempt_at, id LIMIT ?
        """
    /// The enabled hooks that hear an event on a site: arguments site id, `Hook.hearingPattern`.
    static let hearingHooksSQL = """
        SELECT id, trusted FROM hooks WHERE enabled AND (site_id IS NULL OR site_id = ?) AND events LIKE ? ORDER BY id
        """
    /// A hook's deliveries, newest first: arguments hook id, limit.
    static let hookDeliveriesSQL = "SELECT * FROM hook_deliveries WHERE hook_id = ? ORDER BY id DESC LIMIT ?"
    /// The deliveries about a comment, but its deletion's own: argument comment id.
    static let commentHookDeliveriesSQL = "SELECT id, payload FROM hook_deliveries WHERE comment_id = ? AND type <> 'comment.deleted'"
    /// Every delivery about a comment: argument comment id.
    static let dropHookDeliveriesSQL = "DELETE FROM hook_deliveries WHERE comment_id = ?"
    /// Delivered and failed deliveries created before a time: argument the time.
    static let pruneHookDeliveriesSQL = """
        DELETE FROM hook_deliveries WHERE (delivered_at IS NOT NULL OR failed_at IS NOT NULL) AND created_at < ?
        """

    /// Throws `siteNotFound` unless the site exists (nil, every site, always does).
    private static func requireSite(_ db: Database, _ siteID: String?) throws {
        if let siteID, try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [siteID]) != true {
            throw CommentsError.siteNotFound(siteID)
        }
    }
}

extension Hook {
    /// A row of `SELECT * FROM hooks`.
    init(row: Row) {
        self.init(
            id: row["id"], name: row["name"], siteID: row["site_id"], preset: Preset(rawValue: row["preset"]) ?? .webhook, url: row["url"],
            target: row["target"], secret: row["secret"], events: Hook.events(stored: row["events"]), trusted: row["trusted"],
            allowPrivate: row["allow_private"], enabled: row["enabled"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}

extension HookDelivery {
    /// A row of `SELECT * FROM hook_deliveries`.
    init(row: Row) {
        self.init(
            id: row["id"], hookID: row["hook_id"], eventID: row["event_id"], type: HookEventType(rawValue: row["type"]) ?? .edited,
            commentID: row["comment_id"], siteID: row["site_id"], payload: row["payload"], createdAt: row["created_at"],
            attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], deliveredAt: row["delivered_at"], failedAt: row["failed_at"],
            lastStatus: row["last_status"], lastError: row["last_error"], lastResponse: row["last_response"])
    }
}
