import Comments
import Foundation

/// A comment as the moderation API shows it: every field a moderator judges by, the stored
/// (sanitised) HTML, the spam score with its reasons and the badges.
struct ModeratedComment: Encodable, Sendable {
    /// A comment's page, with its address on the blog when the site names a fixed origin.
    struct ThreadView: Encodable, Sendable {
        var id: Int64
        var uri: String
        var title: String?
        var url: String?

        enum CodingKeys: String, CodingKey { case id, uri, title, url }

        /// A thread with its address on the blog, when `site` names a fixed origin.
        init(_ thread: CommentThread, site: Site?) {
            id = thread.id
            uri = thread.uri
            title = thread.title
            url = site?.pageOrigin.map { $0 + thread.uri }
        }

        /// Every key, `null` included.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(uri, forKey: .uri)
            try container.encode(title, forKey: .title)
            try container.encode(url, forKey: .url)
        }
    }

    var id: Int64
    var site: String
    var thread: ThreadView
    var parentID: Int64?
    var status: CommentStatus
    var author: String?
    var email: String?
    var website: String?
    var network: String?
    var userAgent: String?
    var createdAt: Int64
    var editedAt: Int64?
    var body: String
    var html: String
    var spamScore: Double
    var spamReasons: [String]
    var likes: Int
    var dislikes: Int
    /// No approved comment from this address (or, without one, this name) on the site before.
    var firstTime: Bool
    /// How many links the comment holds.
    var links: Int
    var origin: String?

    enum CodingKeys: String, CodingKey {
        case id, site, thread, status, author, email, website, network, body, html, likes, dislikes, links, origin
        case parentID = "parent_id"
        case userAgent = "user_agent"
        case createdAt = "created_at"
        case editedAt = "edited_at"
        case spamScore = "spam_score"
        case spamReasons = "spam_reasons"
        case firstTime = "first_time"
    }

    /// Every key, `null` included: clients read a missing value as a mistake, not as null.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(site, forKey: .site)
        try container.encode(thread, forKey: .thread)
        try container.encode(parentID, forKey: .parentID)
        try container.encode(status, forKey: .status)
        try container.encode(author, forKey: .author)
        try container.encode(email, forKey: .email)
        try container.encode(website, forKey: .website)
        try container.encode(network, forKey: .network)
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(editedAt, forKey: .editedAt)
        try container.encode(body, forKey: .body)
        try container.encode(html, forKey: .html)
        try container.encode(spamScore, forKey: .spamScore)
        try container.encode(spamReasons, forKey: .spamReasons)
        try container.encode(likes, forKey: .likes)
        try container.encode(dislikes, forKey: .dislikes)
        try container.encode(firstTime, forKey: .firstTime)
        try container.encode(links, forKey: .links)
        try container.encode(origin, forKey: .origin)
    }

    init(_ comment: Comment, thread: CommentThread, site: Site?, firstTime: Bool) {
        id = comment.id
        self.site = thread.siteID
        self.thread = ThreadView(thread, site: site)
        parentID = comment.parentID
        status = comment.status
        author = comment.author
        email = comment.email
        website = comment.website
        network = comment.ip.map(IPAnonymizer.storedNetwork)
        userAgent = comment.userAgent
        createdAt = comment.createdAt
        editedAt = comment.editedAt
        body = comment.body
        html = comment.html
        spamScore = comment.spamScore.isFinite ? comment.spamScore : 0
        spamReasons = comment.spamReasons
        likes = comment.likes
        dislikes = comment.dislikes
        self.firstTime = firstTime
        links = Self.linkCount(comment.html)
        self.origin = comment.origin
    }

    /// Anchors in the stored HTML (the sanitiser writes every link as `<a href=`).
    static func linkCount(_ html: String) -> Int {
        html.components(separatedBy: "<a ").count - 1
    }
}
