/// A position in a comment listing: the last comment seen, by creation time then id.
public struct CommentCursor: Sendable, Equatable {
    public var createdAt: Int64
    public var id: Int64

    public init(createdAt: Int64, id: Int64) {
        self.createdAt = createdAt
        self.id = id
    }
}
