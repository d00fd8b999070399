import Foundation

/// What an event says, as stored with each delivery when the event happens (so a retry sends
/// what was true then). Its comment has the moderation API's field names. Stored payloads
/// never hold the commenter's email or network: a sender fills them in for a trusted hook at
/// attempt time from the live comment (`withContact(of:)`), so a deleted or forgotten
/// commenter's address is never sent later.
public struct HookEventData: Codable, Sendable, Equatable {
    /// The site the comment belongs to.
    public struct SiteRef: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
    }

    /// The page a comment is on; `url` when the site names a fixed origin.
    public struct ThreadRef: Codable, Sendable, Equatable {
        public var id: Int64
        public var uri: String
        public var title: String?
        public var url: String?

        enum CodingKeys: String, CodingKey { case id, uri, title, url }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(uri, forKey: .uri)
            try container.encode(title, forKey: .title)
            try container.encode(url, forKey: .url)
        }
    }

    /// The comment as it was right after the change (a deleted one without its text or author).
    public struct CommentRef: Codable, Sendable, Equatable {
        public var id: Int64
        public var site: String
        public var thread: ThreadRef
        public var parentID: Int64?
        public var status: CommentStatus
        public var author: String?
        public var email: String?
        public var website: String?
        public var network: String?
        public var createdAt: Int64
        public var editedAt: Int64?
        public var body: String
        public var html: String
        public var spamScore: Double
        public var spamReasons: [String]

        enum CodingKeys: String, CodingKey {
            case id, site, thread, status, author, email, website, network, body, html
            case parentID = "parent_id"
            case createdAt = "created_at"
            case editedAt = "edited_at"
            case spamScore = "spam_score"
            case spamReasons = "spam_reasons"
        }

        /// Every key, `null` included.
        public func encode(to encoder: any Encoder) throws {
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
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(editedAt, forKey: .editedAt)
            try container.encode(body, forKey: .body)
            try container.encode(html, forKey: .html)
            try container.encode(spamScore, forKey: .spamScore)
            try container.encode(spamReasons, forKey: .spamReasons)
        }
    }

    public var site: SiteRef
    public var comment: CommentRef
    /// Who caused it: `author`, `spam-filter`, `link`, `admin-api`, `cli`… (`ModerationActor`).
    public var actor: String
    /// The acting moderator's address or `token:<name>`, when a person moderated.
    public var moderator: String?
    /// The comment's status before the change; nil for a new comment.
    public var previousStatus: CommentStatus?

    enum CodingKeys: String, CodingKey {
        case site, comment, actor, moderator
        case previousStatus = "previous_status"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(site, forKey: .site)
        try container.encode(comment, forKey: .comment)
        try container.encode(actor, forKey: .actor)
        try container.encode(moderator, forKey: .moderator)
        try container.encode(previousStatus, forKey: .previousStatus)
    }

    /// The data of one event. `trusted` keeps the commenter's email and network; a deleted
    /// comment keeps neither its text nor its author.
    public init(
        type: HookEventType, site: Site, thread: CommentThread, comment: Comment, actor: ModerationActor, moderator: String?,
        previousStatus: CommentStatus?, trusted: Bool
    ) {
        self.site = SiteRef(id: site.id, name: site.name)
        let gone = type == .deleted
        self.comment = CommentRef(
            id: comment.id, site: site.id,
            thread: ThreadRef(id: thread.id, uri: thread.uri, title: thread.title, url: site.pageOrigin.map { $0 + thread.uri }),
            parentID: comment.parentID, status: gone ? .deleted : comment.status,
            author: gone ? nil : comment.author, email: gone || !trusted ? nil : comment.email,
            website: gone ? nil : comment.website, network: gone || !trusted ? nil : comment.ip.map(IPAnonymizer.storedNetwork),
            createdAt: comment.createdAt, editedAt: comment.editedAt, body: gone ? "" : comment.body, html: gone ? "" : comment.html,
            spamScore: comment.spamScore, spamReasons: comment.spamReasons)
        self.actor = actor.rawValue
        self.moderator = moderator
        self.previousStatus = previousStatus
    }

    /// The same data with the commenter's email and network as given (a trusted hook's send).
    public func withContact(email: String?, network: String?) -> HookEventData {
        var data = self
        data.comment.email = email
        data.comment.network = network
        return data
    }

    /// The same data with the email and network of `live`, the comment as it is now: both stay
    /// null when it is gone, deleted, another comment, or this event is a deletion.
    public func withContact(of live: Comment?) -> HookEventData {
        guard let live, live.id == comment.id, live.status != .deleted, comment.status != .deleted else {
            return withContact(email: nil, network: nil)
        }
        return withContact(email: live.email, network: live.ip.map(IPAnonymizer.storedNetwork))
    }

    /// The same event with its comment in the deleted form: no text, author, website or contact,
    /// status `deleted` (what an earlier delivery about a comment that was deleted since keeps).
    func redacted() -> HookEventData {
        var data = withContact(email: nil, network: nil)
        data.comment.status = .deleted
        data.comment.author = nil
        data.comment.website = nil
        data.comment.body = ""
        data.comment.html = ""
        return data
    }

    /// `payload` redacted (`redacted()`); one that cannot be read becomes `{}`, which no sender sends.
    static func redacted(payload: String) -> String {
        (try? parse(payload))?.redacted().json() ?? "{}"
    }

    /// The stored form (`HookDelivery.payload`).
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these plain values cannot fail.
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// Reads a stored payload back.
    public static func parse(_ json: String) throws -> HookEventData {
        try JSONDecoder().decode(HookEventData.self, from: Data(json.utf8))
    }

    /// A fresh event id: `msg_` and 128 random bits, base64url.
    public static func makeEventID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "msg_" + Base64URL.encode((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
