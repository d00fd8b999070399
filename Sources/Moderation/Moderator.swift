import Comments
import Foundation

/// Moderation actions from any path (CLI, signed link, admin API): applied atomically with the
/// audit log, classifier training and the notifications they cause.
public struct Moderator: Sendable {
    public let store: any CommentStore
    public let clock: any MarginClock
    public let notifier: Notifier?

    public init(store: any CommentStore, clock: any MarginClock, notifier: Notifier?) {
        self.store = store
        self.clock = clock
        self.notifier = notifier
    }

    /// Applies `action` to a comment. Approve trains the classifier on it as ham, spam as spam
    /// (undoing an earlier opposite decision), restore as whatever it restores; an approval mails
    /// whoever asked for replies. `moderator` is the acting person's address for the log (nil
    /// for the CLI); `link` the signed link it came through.
    public func act(
        on commentID: Int64, action: ModerationAction, actor: ModerationActor, moderator: String? = nil, reason: String? = nil,
        link: LinkUse? = nil
    ) async throws -> ModerationOutcome {
        let decision = ModerationDecision(
            commentID: commentID, action: action, actor: actor, moderator: moderator, reason: reason, at: clock.nowMillis(), link: link)
        guard let comment = try await store.comment(id: commentID) else {
            if link != nil {
                // A link for a comment that is gone may still have been used: report that rather than 404.
                return try await store.moderate(decision, features: nil, mail: nil)
            }
            throw CommentsError.commentNotFound(commentID)
        }
        let mail = try await notifier?.builder()
        return try await store.moderate(decision, features: SpamClassifier.features(comment.body), mail: mail)
    }
}
