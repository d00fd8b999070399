import Foundation

// Which hook events a store records for each change, decided alike by both stores.
extension HookEventRecord {
    /// The event a new comment causes: a held or spam one was judged by the spam filter, a
    /// published one was the reader's doing.
    static func newComment(_ comment: Comment) -> HookEventRecord? {
        guard let type = HookEventType.forNew(status: comment.status) else { return nil }
        let screened = comment.status == .pending || comment.status == .spam
        return HookEventRecord(type: type, actor: screened ? .spamFilter : .reader, previousStatus: nil)
    }

    /// The events an author's edit causes: `comment.edited`, and `comment.held` or
    /// `comment.spam` when the spam filter moved the edited comment there from another status.
    static func authorEdit(_ comment: Comment, previousStatus: CommentStatus?) -> [HookEventRecord] {
        var records = [HookEventRecord(type: .edited, actor: .author, previousStatus: previousStatus)]
        if comment.status != previousStatus, comment.status == .pending || comment.status == .spam {
            records.append(HookEventRecord(
                type: comment.status == .spam ? .spam : .held, actor: .spamFilter, previousStatus: previousStatus))
        }
        return records
    }

    /// The event a moderator's decision causes, or nil when it left the comment's status as it
    /// was (approving an approved comment tells nobody anything); a delete is always one.
    static func decision(_ decision: ModerationDecision, from previous: CommentStatus, to target: CommentStatus) -> HookEventRecord? {
        guard decision.action == .delete || target != previous,
              let type = HookEventType.forDecision(decision.action, resulting: target)
        else { return nil }
        return HookEventRecord(type: type, actor: decision.actor, moderator: decision.moderator, previousStatus: previous)
    }

    /// The time of a change whose caller gave none (an author's delete), in milliseconds.
    static func now() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}
