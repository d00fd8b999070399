/// One page's comment thread.
public struct CommentThread: Sendable, Equatable {
    public var id: Int64
    public var siteID: String
    public var uri: String
    public var title: String?
    public var locked: Bool
    public var createdAt: Int64
    /// Bumped by the database on every change to the thread's comments or votes.
    public var version: Int64

    public init(id: Int64, siteID: String, uri: String, title: String?, locked: Bool, createdAt: Int64, version: Int64) {
        self.id = id
        self.siteID = siteID
        self.uri = uri
        self.title = title
        self.locked = locked
        self.createdAt = createdAt
        self.version = version
    }
}
