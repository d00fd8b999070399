/// A key for signing moderation links. The newest unretired key signs; every key verifies.
public struct SigningKey: Sendable, Equatable {
    /// Short public id, carried in links as `kid`.
    public var id: String
    public var secret: [UInt8]
    public var createdAt: Int64
    /// When a newer key took over signing; nil for the current key.
    public var retiredAt: Int64?

    public init(id: String, secret: [UInt8], createdAt: Int64, retiredAt: Int64? = nil) {
        self.id = id
        self.secret = secret
        self.createdAt = createdAt
        self.retiredAt = retiredAt
    }
}
