// The columns of `comments` both stores select, in the order their decoders read them.
extension Comment {
    /// The columns `init(row:)` reads, in its order: every query decoded into a `Comment`
    /// selects these first (`SELECT \(Comment.columns) FROM comments …`); more may follow.
    static let columns = columnNames.joined(separator: ", ")

    /// `columns` of the table aliased `c`, for joins.
    static let qualifiedColumns = columnNames.map { "c." + $0 }.joined(separator: ", ")

    /// `columns` one by one, for the debug check in `init(row:)`.
    static let columnNames = [
        "id", "thread_id", "parent_id", "status", "author", "email", "website", "body", "html", "created_at",
        "edited_at", "ip", "user_agent", "spam_score", "spam_reasons", "likes", "dislikes", "notify",
        "edit_key_hash", "origin",
    ]
}
