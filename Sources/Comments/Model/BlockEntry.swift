/// One blocklist entry: of one site, or (`siteID` nil) of every site.
public struct BlockEntry: Sendable, Equatable, Codable {
    public var kind: BlockKind
    public var value: String
    public var reason: String?
    public var createdAt: Int64
    /// The site it applies to; nil for every site.
    public var siteID: String?

    public init(kind: BlockKind, value: String, reason: String? = nil, createdAt: Int64 = 0, siteID: String? = nil) {
        self.kind = kind
        self.value = value
        self.reason = reason
        self.createdAt = createdAt
        self.siteID = siteID
    }

    /// Whether it applies to comments of site `id`.
    public func applies(to id: String) -> Bool {
        siteID == nil || siteID == id
    }

    enum CodingKeys: String, CodingKey {
        case kind, value, reason
        case createdAt = "created_at"
        case siteID = "site"
    }

    /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(kind, forKey: .kind)
        try container.encode(value, forKey: .value)
        try container.encode(reason, forKey: .reason)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(siteID, forKey: .siteID)
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
