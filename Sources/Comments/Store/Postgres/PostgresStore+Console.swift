import Logging
import PostgresNIO

// The moderators' views on PostgreSQL: search, context, history, log and statistics.
extension PostgresStore {
    /// The text search looks in, exactly as the GIN index `comments_by_words` is built (so that
    /// the planner uses it). Every run of other than letters and digits becomes a space first:
    /// PostgreSQL's parser would keep an address, a host, a path or `3.14` as one token, where
    /// SQLite's unicode61 tokenizer (and `CommentQuery.searchWords`) see several words.
    static let searchedText = "to_tsvector('simple', regexp_replace(coalesce(author, '') || ' ' || body, '[^[:alnum:]]+', ' ', 'g'))"

    public func comments(matching query: CommentQuery) async throws -> [(CommentThread, Comment)] {
        if query.siteIDs?.isEmpty == true || query.limit <= 0 { return [] }
        let filter = PostgresFilter.sites(query.siteIDs, column: "site_id")
        if let status = query.status { filter.add("status = \(filter.bind(status.rawValue))") }
        if let email = query.email { filter.add("lower(email) = lower(\(filter.bind(email)))") }
        if let author = query.author { filter.add("lower(author) = lower(\(filter.bind(author)))") }
        if let network = query.network { filter.add("ip = \(filter.bind(network))") }
        if let threadID = query.threadID { filter.add("thread_id = \(filter.bind(threadID))") }
        let words = query.searchWords
        if !words.isEmpty {
            // Each word quoted (quotes and backslashes escaped) as a prefix, all required: the
            // query parser then reads nothing in them as its own syntax.
            let tsquery = words.map { word in
                "'" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "':*"
            }.joined(separator: " & ")
            filter.add("\(Self.searchedText) @@ to_tsquery('simple', \(filter.bind(tsquery)))")
        }
        let direction = query.newestFirst ? "DESC" : "ASC"
        if let after = query.after {
            let comparison = query.newestFirst ? "<" : ">"
            filter.add("(created_at, id) \(comparison) (\(filter.bind(after.createdAt)), \(filter.bind(after.id)))")
        }
        let sql = "SELECT \(Comment.columns) FROM comments \(filter.whereClause) ORDER BY created_at \(direction), id \(direction) "
            + "LIMIT \(filter.bind(Int64(query.limit)))"
        let statement = filter.query(sql)
        return try await read { connection, logger in
            try await Self.withThreads(try await Self.comments(connection.query(statement, logger: logger)), connection, logger)
        }
    }

    public func statusCounts(siteIDs: [String]?) async throws -> [CommentStatus: Int] {
        if siteIDs?.isEmpty == true { return [:] }
        let filter = PostgresFilter.sites(siteIDs, column: "site_id")
        let statement = filter.query("SELECT status, COUNT(*) FROM comments \(filter.whereClause) GROUP BY status")
        return try await read { connection, logger in
            var counts: [CommentStatus: Int] = [:]
            for try await (status, count) in try await connection.query(statement, logger: logger).decode((String, Int64).self) {
                if let status = CommentStatus(rawValue: status) { counts[status] = Int(count) }
            }
            return counts
        }
    }

    public func replies(to commentID: Int64, limit: Int) async throws -> [Comment] {
        try await read { connection, logger in
            try await Self.comments(connection.query("""
                SELECT \(unescaped: Comment.columns) FROM comments WHERE parent_id = \(commentID) ORDER BY created_at, id LIMIT \(Int64(limit))
                """, logger: logger))
        }
    }

    public func authorHistory(
        email: String?, network: String?, siteIDs: [String]?, excluding: Int64, limit: Int
    ) async throws -> [(CommentThread, Comment)] {
        if siteIDs?.isEmpty == true || (email == nil && network == nil) { return [] }
        let filter = PostgresFilter.sites(siteIDs, column: "site_id")
        var either: [String] = []
        if let email { either.append("lower(email) = lower(\(filter.bind(email)))") }
        if let network { either.append("ip = \(filter.bind(network))") }
        filter.add("(" + either.joined(separator: " OR ") + ")")
        filter.add("id != \(filter.bind(excluding))")
        let statement = filter.query(
            "SELECT \(Comment.columns) FROM comments \(filter.whereClause) ORDER BY created_at DESC, id DESC LIMIT \(filter.bind(Int64(limit)))")
        return try await read { connection, logger in
            try await Self.withThreads(try await Self.comments(connection.query(statement, logger: logger)), connection, logger)
        }
    }

    public func moderationLog(siteIDs: [String]?, beforeID: Int64?, limit: Int) async throws -> [ModerationLogEntry] {
        if siteIDs?.isEmpty == true { return [] }
        let filter = PostgresFilter.sites(siteIDs, column: "site_id")
        if let beforeID { filter.add("id < \(filter.bind(beforeID))") }
        let statement = filter.query(
            "SELECT \(Self.logColumns) FROM moderation_log \(filter.whereClause) ORDER BY id DESC LIMIT \(filter.bind(Int64(limit)))")
        return try await read { connection, logger in try await Self.logEntries(connection.query(statement, logger: logger)) }
    }

    public func dailyCounts(siteIDs: [String]?, since: Int64) async throws -> [DailyCount] {
        if siteIDs?.isEmpty == true { return [] }
        let filter = PostgresFilter.sites(siteIDs, column: "site_id")
        filter.add("created_at >= \(filter.bind(since))")
        let statement = filter.query("""
            SELECT to_char(to_timestamp(created_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, status, COUNT(*)
            FROM comments \(filter.whereClause) GROUP BY day, status ORDER BY day, status
            """)
        return try await read { connection, logger in
            var counts: [DailyCount] = []
            for try await (day, status, count) in try await connection.query(statement, logger: logger).decode((String, String, Int64).self) {
                if let status = CommentStatus(rawValue: status) { counts.append(DailyCount(day: day, status: status, count: Int(count))) }
            }
            return counts
        }
    }

    public func busiestThreads(siteIDs: [String]?, since: Int64, limit: Int) async throws -> [(CommentThread, Int)] {
        if siteIDs?.isEmpty == true { return [] }
        let filter = PostgresFilter.sites(siteIDs, column: "site_id")
        filter.add("created_at >= \(filter.bind(since))")
        let statement = filter.query("""
            SELECT thread_id, COUNT(*) AS n FROM comments \(filter.whereClause)
            GROUP BY thread_id ORDER BY n DESC, thread_id LIMIT \(filter.bind(Int64(limit)))
            """)
        return try await read { connection, logger in
            var counted: [(Int64, Int)] = []
            for try await (thread, count) in try await connection.query(statement, logger: logger).decode((Int64, Int64).self) {
                counted.append((thread, Int(count)))
            }
            var busiest: [(CommentThread, Int)] = []
            for (id, count) in counted {
                guard let thread = try await Self.threads(connection.query(
                    "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(id)", logger: logger)).first
                else { continue }
                busiest.append((thread, count))
            }
            return busiest
        }
    }

    public func moderatorEdit(commentID: Int64, body: String, html: String, moderator: String, at: Int64) async throws -> Comment {
        try await transaction { connection, logger in
            guard let current = try await Self.comments(connection.query(
                "SELECT \(unescaped: Comment.columns) FROM comments WHERE id = \(commentID) FOR UPDATE", logger: logger)).first
            else { throw CommentsError.commentNotFound(commentID) }
            guard let thread = try await Self.threads(connection.query(
                "SELECT \(unescaped: Self.threadColumns) FROM threads WHERE id = \(current.threadID)", logger: logger)).first
            else { throw CommentsError.storageUnavailable("thread \(current.threadID) is missing") }
            guard let updated = try await Self.comments(connection.query("""
                UPDATE comments SET body = \(body), html = \(html), edited_at = \(at), body_digest = \(SQLiteStore.digest(body))
                WHERE id = \(commentID) RETURNING \(unescaped: Comment.columns)
                """, logger: logger)).first
            else { throw CommentsError.commentNotFound(commentID) }
            try await Self.log(connection, logger, ModerationLogEntry(
                commentID: commentID, siteID: thread.siteID, action: "edit", actor: .adminAPI, moderator: moderator, reason: nil,
                fromStatus: current.status, at: at))
            try await Self.recordHookEvent(
                connection, logger, HookEventRecord(type: .edited, actor: .adminAPI, moderator: moderator, previousStatus: current.status),
                thread: thread, comment: updated, at: at)
            return updated
        }
    }
}
