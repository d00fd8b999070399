/// What a moderator (or the spam filter) can do to a comment.
public enum ModerationAction: String, Sendable, Codable, CaseIterable {
    case approve, reject, spam, delete

    /// The status the comment ends in (delete may instead remove the row).
    public var resultingStatus: CommentStatus {
        switch self {
        case .approve: .approved
        case .reject: .rejected
        case .spam: .spam
        case .delete: .deleted
        }
    }
}

/// How a moderation request ended.
public enum ModerationOutcome: Sendable, Equatable {
    /// The action was applied; the comment as it is now (nil when it was removed).
    case applied(Comment?)
    /// The single-use link was used before; the comment as it is now (nil when gone).
    case linkAlreadyUsed(Comment?)
}
