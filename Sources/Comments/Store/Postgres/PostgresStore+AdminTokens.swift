import PostgresNIO

extension PostgresStore {
    public func createAdminToken(name: String, random: any RandomSource, at time: Int64) async throws -> (AdminToken, String) {
        let made = PrefixedSecret.adminToken.make(random: random)
        _ = try await transaction { connection, logger in
            try await connection.query(
                "INSERT INTO admin_tokens (id, name, secret_hash, created_at) VALUES (\(made.id), \(name), \(made.hash), \(time))",
                logger: logger)
        }
        return (AdminToken(id: made.id, name: name, createdAt: time), made.presented)
    }

    public func adminTokens() async throws -> [AdminToken] {
        try await transaction { connection, logger in
            var tokens: [AdminToken] = []
            let rows = try await connection.query(
                "SELECT id, name, created_at, last_used_at, revoked_at FROM admin_tokens ORDER BY created_at, id", logger: logger)
            for try await (id, name, createdAt, lastUsedAt, revokedAt) in rows.decode((String, String, Int64, Int64?, Int64?).self) {
                tokens.append(AdminToken(id: id, name: name, createdAt: createdAt, lastUsedAt: lastUsedAt, revokedAt: revokedAt))
            }
            return tokens
        }
    }

    public func revokeAdminToken(id: String, at time: Int64) async throws -> Bool {
        try await transaction { connection, logger in
            let revoked = try await Self.values(connection.query(
                "UPDATE admin_tokens SET revoked_at = \(time) WHERE id = \(id) AND revoked_at IS NULL RETURNING id", logger: logger),
                as: String.self)
            return !revoked.isEmpty
        }
    }

    public func verifyAdminToken(_ presented: String, at time: Int64) async throws -> AdminToken? {
        guard let (id, secret) = PrefixedSecret.adminToken.parse(presented) else { return nil }
        return try await transaction { connection, logger in
            let rows = try await connection.query(
                "SELECT name, created_at, secret_hash FROM admin_tokens WHERE id = \(id) AND revoked_at IS NULL", logger: logger)
            var found: (name: String, createdAt: Int64, hash: String)?
            for try await (name, createdAt, hash) in rows.decode((String, Int64, String).self) { found = (name, createdAt, hash) }
            // A wrong token writes nothing: only a valid one's last use is stamped.
            guard let found, PrefixedSecret.matches(secret, hash: found.hash) else { return nil }
            try await connection.query("UPDATE admin_tokens SET last_used_at = \(time) WHERE id = \(id)", logger: logger)
            return AdminToken(id: id, name: found.name, createdAt: found.createdAt, lastUsedAt: time, revokedAt: nil)
        }
    }
}
