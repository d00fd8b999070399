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

/// Admin tokens live in the store, so that any node verifies any token.
public protocol AdminTokenStore: Sendable {
    /// Creates a token and returns it in full, once: `mgn_<id>_<secret>`. Only a hash of the
    /// secret is stored.
    func createAdminToken(name: String, random: any RandomSource, at time: Int64) async throws -> (AdminToken, String)
    /// Every token, oldest first.
    func adminTokens() async throws -> [AdminToken]
    /// Revokes a token; false when there is no such active token.
    func revokeAdminToken(id: String, at time: Int64) async throws -> Bool
    /// The active token a presented bearer value proves, compared in constant time; marks it used.
    func verifyAdminToken(_ presented: String, at time: Int64) async throws -> AdminToken?
}

extension AdminToken {
    /// A new token's id, its secret in full (shown once) and the hash that is stored.
    static func make(random: any RandomSource) -> (id: String, presented: String, hash: String) {
        let id = Base64URL.encode(random.bytes(6)).replacingOccurrences(of: "_", with: "x")
        let secret = Base64URL.encode(random.bytes(32))
        return (id, "mgn_\(id)_\(secret)", CommentService.hash(token: secret))
    }

    /// The id and secret of a presented `mgn_<id>_<secret>`; nil for anything else.
    static func parse(_ presented: String) -> (id: String, secret: String)? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "mgn" else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    /// Whether `secret` hashes to `stored`, in constant time.
    static func matches(_ secret: String, hash stored: String) -> Bool {
        CommentService.constantTimeEquals(Array(CommentService.hash(token: secret).utf8), Array(stored.utf8))
    }
}

extension SQLiteStore: AdminTokenStore {
    public func createAdminToken(name: String, random: any RandomSource, at time: Int64) async throws -> (AdminToken, String) {
        let made = AdminToken.make(random: random)
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
        guard let (id, secret) = AdminToken.parse(presented) else { return nil }
        // Checked in a read: a wrong token never takes the write lock (it once queued behind
        // every writer, and answered 503 while another process held the file), nor writes.
        let found = try await read { db -> AdminToken? in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM admin_tokens WHERE id = ? AND revoked_at IS NULL", arguments: [id]),
                  AdminToken.matches(secret, hash: row["secret_hash"])
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
