/// A stored comment, every column.
public struct Comment: Sendable, Equatable {
    public var id: Int64
    public var threadID: Int64
    public var parentID: Int64?
    public var status: CommentStatus
    public var author: String?
    public var email: String?
    public var website: String?
    /// Markdown as the author wrote it.
    public var body: String
    /// `body` rendered once, at write time, into safe HTML.
    public var html: String
    public var createdAt: Int64
    public var editedAt: Int64?
    /// Anonymised (/24 or /48) client address.
    public var ip: String?
    public var userAgent: String?
    public var spamScore: Double
    public var spamReasons: [String]
    public var likes: Int
    public var dislikes: Int
    public var notify: Bool
    public var editKeyHash: String?
    /// Import provenance such as `disqus:123`; nil for comments posted here.
    public var origin: String?

    public init(
        id: Int64 = 0, threadID: Int64, parentID: Int64? = nil, status: CommentStatus,
        author: String? = nil, email: String? = nil, website: String? = nil,
        body: String, html: String, createdAt: Int64, editedAt: Int64? = nil,
        ip: String? = nil, userAgent: String? = nil, spamScore: Double = 0, spamReasons: [String] = [],
        likes: Int = 0, dislikes: Int = 0, notify: Bool = false, editKeyHash: String? = nil,
        origin: String? = nil
    ) {
        self.id = id
        self.threadID = threadID
        self.parentID = parentID
        self.status = status
        self.author = author
        self.email = email
        self.website = website
        self.body = body
        self.html = html
        self.createdAt = createdAt
        self.editedAt = editedAt
        self.ip = ip
        self.userAgent = userAgent
        self.spamScore = spamScore
        self.spamReasons = spamReasons
        self.likes = likes
        self.dislikes = dislikes
        self.notify = notify
        self.editKeyHash = editKeyHash
        self.origin = origin
    }
}

/// Where a comment stands in its life: only `approved` is shown to readers.
public enum CommentStatus: String, Sendable, Codable, CaseIterable {
    case pending, approved, rejected, spam, deleted
}
