/// Which comments a moderator asks for.
public struct CommentQuery: Sendable, Equatable {
    /// The sites to look in; nil means every site (admins), empty means none.
    public var siteIDs: [String]?
    public var status: CommentStatus?
    /// Words that must each begin a word of the comment's text or author name (case-insensitive).
    public var text: String?
    /// The author name, exactly (case-insensitive).
    public var author: String?
    /// The author's address, exactly (case-insensitive).
    public var email: String?
    /// A stored network, as `IPAnonymizer.anonymize` writes it (`203.0.113.0`, `2001:db8:1::`).
    public var network: String?
    public var threadID: Int64?
    public var newestFirst: Bool
    /// Keyset pagination: only comments strictly after this one in the query's order.
    public var after: CommentCursor?
    public var limit: Int

    public init(
        siteIDs: [String]? = nil, status: CommentStatus? = nil, text: String? = nil, author: String? = nil,
        email: String? = nil, network: String? = nil, threadID: Int64? = nil, newestFirst: Bool = true,
        after: CommentCursor? = nil, limit: Int = 50
    ) {
        self.siteIDs = siteIDs
        self.status = status
        self.text = text
        self.author = author
        self.email = email
        self.network = network
        self.threadID = threadID
        self.newestFirst = newestFirst
        self.after = after
        self.limit = limit
    }

    /// The search words of `text`: runs of letters and digits, lowercased, at most eight.
    /// Both stores match each as a word prefix, all of them required.
    public var searchWords: [String] {
        guard let text else { return [] }
        var words: [String] = []
        var current = ""
        for character in text.lowercased() {
            if character.isLetter || character.isNumber {
                current.append(character)
            } else if !current.isEmpty {
                words.append(current)
                current = ""
            }
        }
        if !current.isEmpty { words.append(current) }
        return Array(words.prefix(8))
    }
}
