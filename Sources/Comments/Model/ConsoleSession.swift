/// A signed-in console session, as listed (never with its secret).
public struct ConsoleSession: Sendable, Equatable, Codable {
    public var id: String
    public var email: String
    public var createdAt: Int64
    public var lastSeenAt: Int64
    public var revokedAt: Int64?
    public var userAgent: String?

    public init(id: String, email: String, createdAt: Int64, lastSeenAt: Int64, revokedAt: Int64? = nil, userAgent: String? = nil) {
        self.id = id
        self.email = email
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
        self.revokedAt = revokedAt
        self.userAgent = userAgent
    }

    enum CodingKeys: String, CodingKey {
        case id, email
        case createdAt = "created_at"
        case lastSeenAt = "last_seen_at"
        case revokedAt = "revoked_at"
        case userAgent = "user_agent"
    }
}
