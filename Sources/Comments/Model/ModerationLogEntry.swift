/// One line of the audit log.
public struct ModerationLogEntry: Sendable, Equatable, Codable {
    public var id: Int64
    public var commentID: Int64
    public var siteID: String
    /// A `ModerationAction` raw value, or another event such as `held` or `unsubscribe`.
    public var action: String
    public var actor: ModerationActor
    /// The acting moderator's address (or `token:<name>`); nil for the CLI and the spam filter.
    public var moderator: String?
    public var reason: String?
    /// The comment's status before the decision; nil for entries that changed none.
    public var fromStatus: CommentStatus?
    public var at: Int64

    enum CodingKeys: String, CodingKey {
        case id, action, actor, moderator, reason, at
        case commentID = "comment_id"
        case siteID = "site"
        case fromStatus = "from_status"
    }

    public init(
        id: Int64 = 0, commentID: Int64, siteID: String, action: String, actor: ModerationActor, moderator: String? = nil,
        reason: String?, fromStatus: CommentStatus? = nil, at: Int64
    ) {
        self.id = id
        self.moderator = moderator
        self.fromStatus = fromStatus
        self.commentID = commentID
        self.siteID = siteID
        self.action = action
        self.actor = actor
        self.reason = reason
        self.at = at
    }

    /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(commentID, forKey: .commentID)
        try container.encode(siteID, forKey: .siteID)
        try container.encode(action, forKey: .action)
        try container.encode(actor, forKey: .actor)
        try container.encode(moderator, forKey: .moderator)
        try container.encode(reason, forKey: .reason)
        try container.encode(fromStatus, forKey: .fromStatus)
        try container.encode(at, forKey: .at)
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
