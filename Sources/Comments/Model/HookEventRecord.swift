/// One change to a comment as a store records it for hooks, inside the change's transaction.
public struct HookEventRecord: Sendable {
    public var type: HookEventType
    public var actor: ModerationActor
    public var moderator: String?
    public var previousStatus: CommentStatus?

    /// A record of `type` caused by `actor`; `moderator` names the person who moderated, if one did.
    public init(type: HookEventType, actor: ModerationActor, moderator: String? = nil, previousStatus: CommentStatus?) {
        self.type = type
        self.actor = actor
        self.moderator = moderator
        self.previousStatus = previousStatus
    }
}
