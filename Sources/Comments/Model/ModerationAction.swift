/// What a moderator (or the spam filter) can do to a comment.
public enum ModerationAction: String, Sendable, Codable, CaseIterable {
    case approve, reject, spam, delete
    /// Undoes the latest decision a person made that was not itself a restore: the comment goes
    /// back to the status it had before it; `CommentsError.nothingToRestore` when no person decided.
    case restore

    /// The actions mailed to moderators as signed links (restore is the console's alone).
    public static let linkActions: [ModerationAction] = [.approve, .reject, .spam, .delete]

    /// The status the comment ends in (delete may instead remove the row); nil for `restore`,
    /// whose status comes from the log.
    public var resultingStatus: CommentStatus? {
        switch self {
        case .approve: .approved
        case .reject: .rejected
        case .spam: .spam
        case .delete: .deleted
        case .restore: nil
        }
    }
}

/// How a moderation request ended.
public enum ModerationOutcome: Sendable, Equatable {
    /// The action was applied; the comment as it is now (nil when it was removed).
    case applied(Comment?)
    /// The single-use link was used before; the comment as it is now (nil when gone).
    case linkAlreadyUsed(Comment?)
    /// A link arrived after a person had decided about the comment since the link was mailed:
    /// that decision, and the comment as it is now (nil when gone). Nothing changed.
    case alreadyDecided(ModerationLogEntry, Comment?)
}
