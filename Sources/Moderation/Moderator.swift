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
    /// (undoing an earlier opposite decision); an approval mails whoever asked for replies.
    public func act(
        on commentID: Int64, action: ModerationAction, actor: ModerationActor, reason: String? = nil,
        linkNonce: (nonce: String, expiresAt: Int64)? = nil
    ) async throws -> ModerationOutcome {
        guard let comment = try await store.comment(id: commentID) else {
            if let linkNonce {
                // A link for a comment that is gone may still have been used: report that rather than 404.
                return try await store.moderate(
                    commentID: commentID, action: action, actor: actor, reason: reason, at: clock.nowMillis(),
                    linkNonce: linkNonce, features: nil, mail: nil)
            }
            throw CommentsError.commentNotFound(commentID)
        }
        let mail = try await notifier?.builder()
        return try await store.moderate(
            commentID: commentID, action: action, actor: actor, reason: reason, at: clock.nowMillis(),
            linkNonce: linkNonce, features: SpamClassifier.features(comment.body), mail: mail)
    }
}
