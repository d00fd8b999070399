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
