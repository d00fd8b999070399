/// What happened to a comment, as hooks subscribe to it and receivers see it in `type`.
public enum HookEventType: String, Sendable, Codable, CaseIterable {
    /// A new comment went live.
    case published = "comment.published"
    /// A new (or edited) comment waits for a moderator.
    case held = "comment.held"
    /// The spam filter or a moderator marked a comment as spam.
    case spam = "comment.spam"
    case approved = "comment.approved"
    case rejected = "comment.rejected"
    /// Its author or a moderator deleted it.
    case deleted = "comment.deleted"
    /// Its author or a moderator changed its text.
    case edited = "comment.edited"

    /// The event a new comment causes, by the status the screening gave it.
    public static func forNew(status: CommentStatus) -> HookEventType? {
        switch status {
        case .approved: .published
        case .pending: .held
        case .spam: .spam
        case .rejected: .rejected
        case .deleted: nil
        }
    }

    /// The event a moderator's decision causes, by the status it left the comment in.
    public static func forDecision(_ action: ModerationAction, resulting status: CommentStatus) -> HookEventType? {
        if action == .delete { return .deleted }
        return switch status {
        case .approved: .approved
        case .pending: .held
        case .spam: .spam
        case .rejected: .rejected
        case .deleted: .deleted
        }
    }

    /// Parses a comma-separated list (`comment.held,comment.spam`, `held,spam` or `all`);
    /// throws `invalidField` naming the first unknown item.
    public static func parseList(_ text: String) throws -> [HookEventType] {
        let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items == ["all"] { return allCases }
        var events: [HookEventType] = []
        for item in items {
            // `held` is accepted for `comment.held`.
            guard let event = HookEventType(rawValue: item) ?? HookEventType(rawValue: "comment." + item) else {
                throw CommentsError.invalidField(
                    field: "events", message: "unknown event '\(item)'; known: \(allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !events.contains(event) { events.append(event) }
        }
        if events.isEmpty { throw CommentsError.invalidField(field: "events", message: "name at least one event") }
        return events
    }
}
