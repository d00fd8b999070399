import Foundation
import GRDB

/// A bearer token for the admin API, as listed (never with its secret).
public struct AdminToken: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var createdAt: Int64
    public var lastUsedAt: Int64?
    public var revokedAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, name
        case createdAt = "created_at"
        case lastUsedAt = "last_used_at"
        case revokedAt = "revoked_at"
    }
}

extension SQLiteStore {
    /// Creates a token and returns it in full, once: `mgn_<id>_<secret>`. Only a hash of the
    /// secret is stored.
    public func createAdminToken(name: String, random: any RandomSource, at time: Int64) async throws -> (AdminToken, String) {
        let id = Base64URL.encode(random.bytes(6)).replacingOccurrences(of: "_", with: "x")
        let secret = Base64URL.encode(random.bytes(32))
        let token = AdminToken(id: id, name: name, createdAt: time)
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO admin_tokens (id, name, secret_hash, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [id, name, CommentService.hash(token: secret), time])
        }
        return (token, "mgn_\(id)_\(secret)")
    }

    /// Every token, oldest first.
    public func adminTokens() async throws -> [AdminToken] {
        try await writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM admin_tokens ORDER BY created_at, id").map { row in
                AdminToken(id: row["id"], name: row["name"], createdAt: row["created_at"], lastUsedAt: row["last_used_at"], revokedAt: row["revoked_at"])
            }
        }
    }

    /// Revokes a token; false when there is no such active token.
    public func revokeAdminToken(id: String, at time: Int64) async throws -> Bool {
        try await writer.write { db in
            try db.execute(sql: "UPDATE admin_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [time, id])
            return db.changesCount > 0
        }
    }

    /// The active token a presented bearer value proves, compared in constant time.
    public func verifyAdminToken(_ presented: String, at time: Int64) async throws -> AdminToken? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "mgn" else { return nil }
        let id = String(parts[1]), secret = String(parts[2])
        return try await writer.write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM admin_tokens WHERE id = ? AND revoked_at IS NULL", arguments: [id]) else {
                return nil
            }
            let stored: String = row["secret_hash"]
            guard CommentService.constantTimeEquals(Array(CommentService.hash(token: secret).utf8), Array(stored.utf8)) else { return nil }
            try db.execute(sql: "UPDATE admin_tokens SET last_used_at = ? WHERE id = ?", arguments: [time, id])
            return AdminToken(id: id, name: row["name"], createdAt: row["created_at"], lastUsedAt: time, revokedAt: nil)
        }
    }

}
