import Foundation

/// A thread (page) as an export describes it.
public struct ImportedThread: Sendable, Equatable {
    /// The export's own id: the Disqus thread `dsq:id`, or the WordPress `wp:post_id`
    /// (an item without one falls back to its `link`, then its `guid`, then `item-N`).
    public var key: String
    /// The page URL as exported.
    public var link: String?
    /// Other names of the page: Disqus `<id>` values (often none), WordPress `post_name` and `guid`.
    public var identifiers: [String]
    /// The page title as exported (entities decoded by the XML parser, otherwise untouched).
    public var title: String?
    /// Creation time in unix milliseconds, UTC.
    public var createdAt: Int64?
    /// Whether new comments were closed on the page.
    public var isClosed: Bool
    /// Whether the page was deleted (Disqus `isDeleted`, WordPress status `trash`).
    public var isDeleted: Bool

    /// Creates a thread record.
    public init(key: String, link: String? = nil, identifiers: [String] = [], title: String? = nil,
                createdAt: Int64? = nil, isClosed: Bool = false, isDeleted: Bool = false) {
        self.key = key
        self.link = link
        self.identifiers = identifiers
        self.title = title
        self.createdAt = createdAt
        self.isClosed = isClosed
        self.isDeleted = isDeleted
    }
}
