/// One blocklist entry.
public struct BlockEntry: Sendable, Equatable, Codable {
    public var kind: BlockKind
    public var value: String
    public var reason: String?
    public var createdAt: Int64

    public init(kind: BlockKind, value: String, reason: String? = nil, createdAt: Int64 = 0) {
        self.kind = kind
        self.value = value
        self.reason = reason
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case kind, value, reason
        case createdAt = "created_at"
    }
}

/// What a blocklist entry matches.
public enum BlockKind: String, Sendable, Codable, CaseIterable {
    /// A client address or CIDR range: such clients are refused outright (403).
    case ip
    /// An email address (case-insensitive).
    case email
    /// A domain, matched against email domains, websites and links (subdomains included).
    case domain
    /// A word or phrase in the text or name (case-insensitive, whole words).
    case word
    /// A display name (case-insensitive, exact).
    case author
}
