import GRDB

// The model types decoded from SQLite rows (PostgreSQL decodes its own, in `Store/Postgres/`).

extension Site {
    /// A row of `SELECT * FROM sites`.
    init(row: Row) {
        self.init(
            id: row["id"], name: row["name"], origins: JSONText.decode(row["origins"]),
            moderation: ModerationMode(rawValue: row["moderation"]) ?? .none,
            requireAuthor: row["require_author"], requireEmail: row["require_email"], createdAt: row["created_at"],
            rateLimit: (row["rate_limit"] as String?).flatMap(RateLimit.init(parsing:)),
            moderators: JSONText.decode(row["moderators"]),
            avatars: AvatarSource(rawValue: row["avatars"]) ?? .identicon,
            voteRateLimit: (row["vote_rate_limit"] as String?).flatMap(RateLimit.init(parsing:)))
    }
}

extension CommentThread {
    /// A row of `SELECT * FROM threads`.
    init(row: Row) {
        self.init(
            id: row["id"], siteID: row["site_id"], uri: row["uri"], title: row["title"], locked: row["locked"],
            createdAt: row["created_at"], version: row["version"])
    }
}

extension Comment {
    /// Decodes a row of `SELECT \(Comment.columns)` by position: looking each column up by
    /// name lower-cased the name and compared strings, 6 % of the server's time under the mixed
    /// load (perf), where a new comment re-reads its thread.
    init(row: Row) {
        assert(Array(row.columnNames.prefix(Self.columnNames.count)) == Self.columnNames, "select Comment.columns first")
        self.init(
            id: row[0], threadID: row[1], parentID: row[2],
            status: CommentStatus(rawValue: row[3]) ?? .pending,
            author: row[4], email: row[5], website: row[6],
            body: row[7], html: row[8], createdAt: row[9], editedAt: row[10],
            ip: row[11], userAgent: row[12], spamScore: row[13],
            spamReasons: JSONText.decode(row[14]), likes: row[15], dislikes: row[16],
            notify: row[17], editKeyHash: row[18], origin: row[19])
    }
}

extension OutgoingMail {
    /// A row of `SELECT * FROM outbox`.
    init(row: Row) {
        self.init(
            id: row["id"], kind: OutgoingMail.Kind(rawValue: row["kind"]) ?? .moderation, commentID: row["comment_id"],
            recipients: JSONText.decode(row["recipients"]), subject: row["subject"], body: row["body"],
            headers: JSONText.decodeRows(row["headers"]), messageID: row["message_id"], createdAt: row["created_at"],
            attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], sentAt: row["sent_at"],
            failedAt: row["failed_at"], lastError: row["last_error"])
    }
}
