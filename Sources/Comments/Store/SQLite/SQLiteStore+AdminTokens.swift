import GRDB

// Admin tokens on SQLite: only a hash of each secret is stored.
extension SQLiteStore {
    public func createAdminToken(name: String, random: any RandomSource, at time: Int64) async throws -> (AdminToken, String) {
        let made = PrefixedSecret.adminToken.make(random: random)
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO admin_tokens (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [made.id, name, made.hash, time])
        }
        return (AdminToken(id: made.id, name: name, createdAt: time), made.presented)
    }

    public func adminTokens() async throws -> [AdminToken] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM admin_tokens ORDER BY created_at, id").map { row in
                AdminToken(id: row["id"], name: row["name"], createdAt: row["created_at"], lastUsedAt: row["last_used_at"], revokedAt: row["revoked_at"])
            }
        }
    }

    public func revokeAdminToken(id: String, at time: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [time, id])
            return db.changesCount > 0
        }
    }

    public func verifyAdminToken(_ presented: String, at time: Int64) async throws -> AdminToken? {
        guard let (id, secret) = PrefixedSecret.adminToken.parse(presented) else { return nil }
        // Checked in a read: a wrong token never takes the write lock (it once queued behind
        // every writer, and answered 503 while another process held the file), nor writes.
        let found = try await read { db -> AdminToken? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM admin_tokens WHERE id = ? AND revoked_at IS NULL", arguments: [id]),
                  PrefixedSecret.matches(secret, hash: row["secret_hash"])
            else { return nil }
            return AdminToken(id: id, name: row["name"], createdAt: row["created_at"], lastUsedAt: time, revokedAt: nil)
        }
        guard let found else { return nil }
        let stillActive = try await writer.write { db in
            try db.execute(sql: "UPDATE admin_tokens SET last_used_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [time, id])
            return db.changesCount > 0
        }
        return stillActive ? found : nil
    }
}
