import GRDB

// Console admins, sessions and sign-in link nonces on SQLite: only a hash of each session's
// secret is stored.
extension SQLiteStore {
    public func addAdminUser(email: String, at: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "INSERT INTO admin_users (email, created_at) VALUES (?, ?) ON CONFLICT (email) DO NOTHING",
                           arguments: [AdminUser.normalized(email), at])
            return db.changesCount > 0
        }
    }

    public func removeAdminUser(email: String, at: Int64) async throws -> Bool {
        let email = AdminUser.normalized(email)
        return try await write { db in
            try db.execute(sql: "DELETE FROM admin_users WHERE email = ?", arguments: [email])
            guard db.changesCount > 0 else { return false }
            try db.execute(sql: "UPDATE console_sessions SET revoked_at = ? WHERE email = ? AND revoked_at IS NULL", arguments: [at, email])
            return true
        }
    }

    public func adminUsers() async throws -> [AdminUser] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT email, created_at FROM admin_users ORDER BY email").map {
                AdminUser(email: $0["email"], createdAt: $0["created_at"])
            }
        }
    }

    public func createConsoleSession(
        email: String, userAgent: String?, random: any RandomSource, at: Int64
    ) async throws -> (ConsoleSession, String) {
        let made = PrefixedSecret.consoleSession.make(random: random)
        let session = ConsoleSession(id: made.id, email: AdminUser.normalized(email), createdAt: at, lastSeenAt: at, userAgent: userAgent)
        try await write { db in
            try db.execute(
                sql: """
                INSERT INTO console_sessions (id, email, secret_hash, created_at, last_seen_at, user_agent) VALUES (?, ?, ?, ?, ?, ?)
                """,
                arguments: [session.id, session.email, made.hash, at, at, userAgent])
        }
        return (session, made.presented)
    }

    public func verifyConsoleSession(_ presented: String, at: Int64, policy: SessionPolicy) async throws -> ConsoleSession? {
        guard let (id, secret) = PrefixedSecret.consoleSession.parse(presented) else { return nil }
        // Checked in a read: a wrong or stale cookie never takes the write lock.
        let found = try await read { db -> ConsoleSession? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM console_sessions WHERE id = ?", arguments: [id]),
                  PrefixedSecret.matches(secret, hash: row["secret_hash"])
            else { return nil }
            let session = Self.session(row)
            return session.isLive(at: at, policy: policy) ? session : nil
        }
        guard var found else { return nil }
        guard at - found.lastSeenAt >= ConsoleSession.seenResolutionMillis else { return found }
        let stillLive = try await write { db in
            try db.execute(sql: "UPDATE console_sessions SET last_seen_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [at, id])
            return db.changesCount > 0
        }
        found.lastSeenAt = at
        return stillLive ? found : nil
    }

    public func consoleSessions(email: String?, at: Int64, policy: SessionPolicy) async throws -> [ConsoleSession] {
        let email = email.map(AdminUser.normalized)
        return try await read { db in
            try Row.fetchAll(
                db, sql: """
                SELECT * FROM console_sessions
                WHERE revoked_at IS NULL AND last_seen_at >= ? AND created_at >= ? AND (? IS NULL OR email = ?)
                ORDER BY created_at DESC, id DESC
                """,
                arguments: [at - policy.idleMillis, at - policy.absoluteMillis, email, email]
            ).map(Self.session)
        }
    }

    public func revokeConsoleSession(id: String, at: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE console_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [at, id])
            return db.changesCount > 0
        }
    }

    public func revokeConsoleSessions(email: String, at: Int64, policy: SessionPolicy) async throws -> Int {
        let email = AdminUser.normalized(email)
        return try await write { db in
            let live = try Int.fetchOne(
                db, sql: """
                SELECT COUNT(*) FROM console_sessions
                WHERE email = ? AND revoked_at IS NULL AND last_seen_at >= ? AND created_at >= ?
                """,
                arguments: [email, at - policy.idleMillis, at - policy.absoluteMillis]) ?? 0
            try db.execute(sql: "UPDATE console_sessions SET revoked_at = ? WHERE email = ? AND revoked_at IS NULL", arguments: [at, email])
            return live
        }
    }

    public func spendLinkNonce(_ nonce: String, expiresAt: Int64, at: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "INSERT INTO used_links (nonce, used_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
                           arguments: [nonce, at, expiresAt])
            return db.changesCount > 0
        }
    }

    static func session(_ row: Row) -> ConsoleSession {
        ConsoleSession(id: row["id"], email: row["email"], createdAt: row["created_at"], lastSeenAt: row["last_seen_at"],
                       revokedAt: row["revoked_at"], userAgent: row["user_agent"])
    }
}
