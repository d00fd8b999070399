/// A comment ready to be inserted: the thread is found or created by its site and uri.
public struct NewComment: Sendable {
    public var siteID: String
    public var uri: String
    public var title: String?
    public var comment: Comment
    /// The SHA-256 hex of the author key the widget sent with the comment (see
    /// `CommentService.hash(authorKey:)`); the proof that earns trust. Never the key itself.
    public var authorKeyHash: String?

    public init(siteID: String, uri: String, title: String?, comment: Comment, authorKeyHash: String? = nil) {
        self.authorKeyHash = authorKeyHash
        self.siteID = siteID
        self.uri = uri
        self.title = title
        self.comment = comment
    }
}
