import Foundation

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
