/// One line of the audit log.
public struct ModerationLogEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var commentID: Int64
    public var siteID: String
    /// A `ModerationAction` raw value, or another event such as `held` or `unsubscribe`.
    public var action: String
    public var actor: ModerationActor
    public var reason: String?
    public var at: Int64

    enum CodingKeys: String, CodingKey {
        case id, action, actor, reason, at
        case commentID = "comment_id"
        case siteID = "site"
    }

    public init(id: Int64 = 0, commentID: Int64, siteID: String, action: String, actor: ModerationActor, reason: String?, at: Int64) {
        self.id = id
        self.commentID = commentID
        self.siteID = siteID
        self.action = action
        self.actor = actor
        self.reason = reason
        self.at = at
    }
}

/// Who acted, as written to `moderation_log`.
public enum ModerationActor: String, Sendable, Codable, CaseIterable {
    case cli
    case link
    case adminAPI = "admin-api"
    case spamFilter = "spam-filter"
    case author
    case reader
}
