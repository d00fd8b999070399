import Foundation

/// A comment as an export describes it.
public struct ImportedPost: Sendable, Equatable {
    /// The export's own id, unprefixed (`"123"`); the importer forms the provenance
    /// (`disqus:123`, `wordpress:45`) from it.
    public var key: String
    /// The `key` of the thread the comment belongs to (which may not exist in the file).
    public var threadKey: String
    /// The `key` of the comment replied to, if any. It may appear later in the file, or not at all.
    public var parentKey: String?
    /// The author's display name.
    public var authorName: String?
    /// The author's e-mail address.
    public var authorEmail: String?
    /// The author's website.
    public var authorURL: String?
    /// The author's IP address as exported.
    public var ip: String?
    /// The message as exported (HTML). Backslashes and whitespace are exactly as the file holds
    /// them; only whitespace outside CDATA sections at the ends (pretty-printing) is dropped.
    public var html: String
    /// Creation time in unix milliseconds, UTC.
    public var createdAt: Int64?
    /// Moderation state.
    public var status: ImportedStatus
    /// Up-votes, when the export has them.
    public var likes: Int
    /// Down-votes, when the export has them.
    public var dislikes: Int

    /// Creates a post record.
    public init(key: String, threadKey: String, parentKey: String? = nil, authorName: String? = nil,
                authorEmail: String? = nil, authorURL: String? = nil, ip: String? = nil, html: String,
                createdAt: Int64? = nil, status: ImportedStatus = .approved, likes: Int = 0, dislikes: Int = 0) {
        self.key = key
        self.threadKey = threadKey
        self.parentKey = parentKey
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.authorURL = authorURL
        self.ip = ip
        self.html = html
        self.createdAt = createdAt
        self.status = status
        self.likes = likes
        self.dislikes = dislikes
    }
}

/// The moderation state of an imported comment.
public enum ImportedStatus: String, Sendable {
    /// Published.
    case approved
    /// Awaiting moderation (WordPress `0`, or no approval value at all).
    case pending
    /// Marked as spam.
    case spam
    /// Deleted or trashed.
    case deleted
}
