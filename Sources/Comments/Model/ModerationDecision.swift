/// One moderation request, as `CommentStore.moderate` applies it.
public struct ModerationDecision: Sendable, Equatable {
    public var commentID: Int64
    public var action: ModerationAction
    public var actor: ModerationActor
    /// The acting moderator's address, or `token:<name>` for an admin token; nil for the CLI.
    public var moderator: String?
    public var reason: String?
    /// When it was decided, in milliseconds.
    public var at: Int64
    /// The signed link it came through, if any.
    public var link: LinkUse?

    public init(
        commentID: Int64, action: ModerationAction, actor: ModerationActor, moderator: String? = nil, reason: String? = nil,
        at: Int64, link: LinkUse? = nil
    ) {
        self.commentID = commentID
        self.action = action
        self.actor = actor
        self.moderator = moderator
        self.reason = reason
        self.at = at
        self.link = link
    }
}
