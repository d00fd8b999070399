import PostgresNIO

// Console admins, sessions and sign-in link nonces on PostgreSQL: only a hash of each
// session's secret is stored.
extension PostgresStore {
    public func addAdminUser(email: String, at: Int64) async throws -> Bool {
        let email = AdminUser.normalized(email)
        return try await transaction { connection, logger in
            try await !Self.values(connection.query(
                "INSERT INTO admin_users (email, created_at) VALUES (\(email), \(at)) ON CONFLICT (email) DO NOTHING RETURNING 1",
                logger: logger), as: Int32.self).isEmpty
        }
    }

    public func removeAdminUser(email: String, at: Int64) async throws -> Bool {
        let email = AdminUser.normalized(email)
        return try await transaction { connection, logger in
            let removed = try await !Self.values(connection.query(
                "DELETE FROM admin_users WHERE email = \(email) RETURNING 1", logger: logger), as: Int32.self).isEmpty
            guard removed else { return false }
            try await connection.query(
                "UPDATE console_sessions SET revoked_at = \(at) WHERE email = \(email) AND revoked_at IS NULL", logger: logger)
            return true
        }
    }

    public func adminUsers() async throws -> [AdminUser] {
        try await read { connection, logger in
            var users: [AdminUser] = []
            for try await (email, createdAt) in try await connection.query(
                "SELECT email, created_at FROM admin_users ORDER BY email", logger: logger).decode((String, Int64).self) {
                users.append(AdminUser(email: email, createdAt: createdAt))
            }
            return users
        }
    }

    public func createConsoleSession(
        email: String, userAgent: String?, random: any RandomSource, at: Int64
    ) async throws -> (ConsoleSession, String) {
        let made = PrefixedSecret.consoleSession.make(random: random)
        let session = ConsoleSession(id: made.id, email: AdminUser.normalized(email), createdAt: at, lastSeenAt: at, userAgent: userAgent)
        _ = try await transaction { connection, logger in
            try await connection.query("""
                INSERT INTO console_sessions (id, email, secret_hash, created_at, last_seen_at, user_agent)
                VALUES (\(session.id), \(session.email), \(made.hash), \(at), \(at), \(userAgent))
                """, logger: logger)
        }
        return (session, made.presented)
    }

    public func verifyConsoleSession(_ presented: String, at: Int64, policy: SessionPolicy) async throws -> ConsoleSession? {
        guard let (id, secret) = PrefixedSecret.consoleSession.parse(presented) else { return nil }
        // Checked in a read: a wrong or stale cookie writes nothing.
        let found = try await read { connection, logger -> ConsoleSession? in
            let rows = try await connection.query(
                "SELECT \(unescaped: Self.sessionColumns), secret_hash FROM console_sessions WHERE id = \(id)", logger: logger)
            for try await (id, email, createdAt, lastSeenAt, revokedAt, userAgent, hash)
                in rows.decode((String, String, Int64, Int64, Int64?, String?, String).self) {
                let session = ConsoleSession(id: id, email: email, createdAt: createdAt, lastSeenAt: lastSeenAt, revokedAt: revokedAt, userAgent: userAgent)
                if PrefixedSecret.matches(secret, hash: hash), session.isLive(at: at, policy: policy) { return session }
            }
            return nil
        }
        guard var found else { return nil }
        guard at - found.lastSeenAt >= ConsoleSession.seenResolutionMillis else { return found }
        let stillLive = try await transaction { connection, logger in
            try await !Self.values(connection.query(
                "UPDATE console_sessions SET last_seen_at = \(at) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger: logger),
                as: Int32.self).isEmpty
        }
        found.lastSeenAt = at
        return stillLive ? found : nil
    }

    public func consoleSessions(email: String?, at: Int64, policy: SessionPolicy) async throws -> [ConsoleSession] {
        let email = email.map(AdminUser.normalized)
        return try await read { connection, logger in
            let rows = try await connection.query("""
                SELECT \(unescaped: Self.sessionColumns) FROM console_sessions
                WHERE revoked_at IS NULL AND last_seen_at >= \(at - policy.idleMillis) AND created_at >= \(at - policy.absoluteMillis)
                    AND (\(email)::text IS NULL OR email = \(email))
                ORDER BY created_at DESC, id DESC
                """, logger: logger)
            var sessions: [ConsoleSession] = []
            for try await (id, email, createdAt, lastSeenAt, revokedAt, userAgent)
                in rows.decode((String, String, Int64, Int64, Int64?, String?).self) {
                sessions.append(ConsoleSession(
                    id: id, email: email, createdAt: createdAt, lastSeenAt: lastSeenAt, revokedAt: revokedAt, userAgent: userAgent))
            }
            return sessions
        }
    }

    public func revokeConsoleSession(id: String, at: Int64) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query(
                "UPDATE console_sessions SET revoked_at = \(at) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1", logger: logger),
                as: Int32.self).isEmpty
        }
    }

    public func revokeConsoleSessions(email: String, at: Int64, policy: SessionPolicy) async throws -> Int {
        let email = AdminUser.normalized(email)
        return try await transaction { connection, logger in
            // Expired sessions are revoked too, but only the live ones are counted.
            try await Self.values(connection.query("""
                UPDATE console_sessions SET revoked_at = \(at) WHERE email = \(email) AND revoked_at IS NULL
                RETURNING (last_seen_at >= \(at - policy.idleMillis) AND created_at >= \(at - policy.absoluteMillis))
                """, logger: logger), as: Bool.self).filter { $0 }.count
        }
    }

    public func spendLinkNonce(_ nonce: String, expiresAt: Int64, at: Int64) async throws -> Bool {
        try await transaction { connection, logger in
            try await !Self.values(connection.query("""
                INSERT INTO used_links (nonce, used_at, expires_at) VALUES (\(nonce), \(at), \(expiresAt))
                ON CONFLICT (nonce) DO NOTHING RETURNING 1
                """, logger: logger), as: Int32.self).isEmpty
        }
    }

    /// The columns of a session as listed, in the order the decoders read them.
    static let sessionColumns = "id, email, created_at, last_seen_at, revoked_at, user_agent"
}
