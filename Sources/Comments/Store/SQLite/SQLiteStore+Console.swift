import GRDB

// The moderators' views on SQLite: search, context, history, log and statistics.
extension SQLiteStore {
    public func comments(matching query: CommentQuery) async throws -> [(CommentThread, Comment)] {
        if query.siteIDs?.isEmpty == true || query.limit <= 0 { return [] }
        var filter = Self.siteFilter(query.siteIDs, column: "site_id")
        if let status = query.status { filter.add("status = ?", [status.rawValue]) }
        if let email = query.email { filter.add(SQLiteFilter.foldedEquals("email", email), [email]) }
        if let author = query.author { filter.add(SQLiteFilter.foldedEquals("author", author), [author]) }
        if let network = query.network { filter.add("ip = ?", [network]) }
        if let threadID = query.threadID { filter.add("thread_id = ?", [threadID]) }
        let words = query.searchWords
        if !words.isEmpty {
            // Each word a quoted prefix (quotes doubled), all required: FTS5 then reads nothing
            // in them as its own syntax.
            let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"*" }.joined(separator: " AND ")
            filter.add("id IN (SELECT rowid FROM comments_fts WHERE comments_fts MATCH ?)", [match])
        }
        let direction = query.newestFirst ? "DESC" : "ASC"
        if let after = query.after {
            let comparison = query.newestFirst ? "<" : ">"
            filter.add("(created_at \(comparison) ? OR (created_at = ? AND id \(comparison) ?))", [after.createdAt, after.createdAt, after.id])
        }
        let index = Self.index(for: query).map { " INDEXED BY \($0)" } ?? ""
        let sql = "SELECT \(Comment.columns) FROM comments\(index) \(filter.whereClause) ORDER BY created_at \(direction), id \(direction) LIMIT ?"
        let arguments = filter.arguments + [query.limit]
        return try await read { db in
            try Self.withThreads(db, try Row.fetchAll(db, sql: sql, arguments: arguments).map(Comment.init(row:)))
        }
    }

    /// The index a listing must walk, when SQLite (which has no planner statistics here) would
    /// pick a worse one: an address, a network or a thread narrows best; a text search walks
    /// the time order of the status or site asked for and checks each comment against the
    /// full-text matches, so a common word (a third of a million matches) stops at the first
    /// page instead of reading and sorting every match. Nil: the planner's choice is right.
    static func index(for query: CommentQuery) -> String? {
        // An address with other than ASCII letters cannot use the NOCASE index at all.
        if let email = query.email, email.isASCIIOnly { return "comments_by_email" }
        if query.network != nil { return "comments_by_ip" }
        if query.threadID != nil { return "comments_by_thread" }
        guard !query.searchWords.isEmpty else { return nil }
        let oneSite = query.siteIDs?.count == 1
        switch (query.status != nil, oneSite) {
        case (true, true): return "comments_by_site_status"
        case (true, false): return "comments_by_status_time"
        case (false, true): return "comments_by_site_time"
        case (false, false): return "comments_by_time"
        }
    }

    public func statusCounts(siteIDs: [String]?) async throws -> [CommentStatus: Int] {
        if siteIDs?.isEmpty == true { return [:] }
        let filter = Self.siteFilter(siteIDs, column: "site_id")
        return try await read { db in
            var counts: [CommentStatus: Int] = [:]
            for row in try Row.fetchAll(
                db, sql: "SELECT status, COUNT(*) AS n FROM comments \(filter.whereClause) GROUP BY status", arguments: filter.arguments) {
                if let status = CommentStatus(rawValue: row["status"]) { counts[status] = row["n"] }
            }
            return counts
        }
    }

    public func replies(to commentID: Int64, limit: Int) async throws -> [Comment] {
        try await read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Comment.columns) FROM comments WHERE parent_id = ? ORDER BY created_at, id LIMIT ?",
                arguments: [commentID, limit]
            ).map(Comment.init(row:))
        }
    }

    public func authorHistory(
        email: String?, network: String?, siteIDs: [String]?, excluding: Int64, limit: Int
    ) async throws -> [(CommentThread, Comment)] {
        if siteIDs?.isEmpty == true || (email == nil && network == nil) { return [] }
        var filter = Self.siteFilter(siteIDs, column: "site_id")
        var either: [String] = []
        var arguments: StatementArguments = []
        if let email { either.append(SQLiteFilter.foldedEquals("email", email)); arguments += [email] }
        if let network { either.append("ip = ?"); arguments += [network] }
        filter.add("(" + either.joined(separator: " OR ") + ")", arguments)
        filter.add("id != ?", [excluding])
        let sql = "SELECT \(Comment.columns) FROM comments \(filter.whereClause) ORDER BY created_at DESC, id DESC LIMIT ?"
        let all = filter.arguments + [limit]
        return try await read { db in
            try Self.withThreads(db, try Row.fetchAll(db, sql: sql, arguments: all).map(Comment.init(row:)))
        }
    }

    public func moderationLog(siteIDs: [String]?, beforeID: Int64?, limit: Int) async throws -> [ModerationLogEntry] {
        if siteIDs?.isEmpty == true { return [] }
        var filter = Self.siteFilter(siteIDs, column: "site_id")
        if let beforeID { filter.add("id < ?", [beforeID]) }
        let sql = "SELECT * FROM moderation_log \(filter.whereClause) ORDER BY id DESC LIMIT ?"
        let arguments = filter.arguments + [limit]
        return try await read { db in try Self.logEntries(db, sql: sql, arguments: arguments) }
    }

    public func dailyCounts(siteIDs: [String]?, since: Int64) async throws -> [DailyCount] {
        if siteIDs?.isEmpty == true { return [] }
        var filter = Self.siteFilter(siteIDs, column: "site_id")
        filter.add("created_at >= ?", [since])
        let sql = """
            SELECT strftime('%Y-%m-%d', created_at / 1000, 'unixepoch') AS day, status, COUNT(*) AS n
            FROM comments \(filter.whereClause) GROUP BY day, status ORDER BY day, status
            """
        let arguments = filter.arguments
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
                CommentStatus(rawValue: row["status"]).map { DailyCount(day: row["day"], status: $0, count: row["n"]) }
            }
        }
    }

    public func busiestThreads(siteIDs: [String]?, since: Int64, limit: Int) async throws -> [(CommentThread, Int)] {
        if siteIDs?.isEmpty == true { return [] }
        var filter = Self.siteFilter(siteIDs, column: "site_id")
        filter.add("created_at >= ?", [since])
        let sql = "SELECT thread_id, COUNT(*) AS n FROM comments \(filter.whereClause) GROUP BY thread_id ORDER BY n DESC, thread_id LIMIT ?"
        let arguments = filter.arguments + [limit]
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                (try Self.requireThread(db, row["thread_id"]), row["n"] as Int)
            }
        }
    }

    public func moderatorEdit(commentID: Int64, body: String, html: String, moderator: String, at: Int64) async throws -> Comment {
        try await write { db in
            guard let current = try Self.comment(db, commentID) else { throw CommentsError.commentNotFound(commentID) }
            let thread = try Self.requireThread(db, current.threadID)
            try db.execute(
                sql: "UPDATE comments SET body = ?, html = ?, edited_at = ?, body_digest = ? WHERE id = ?",
                arguments: [body, html, at, Self.digest(body), commentID])
            try Self.log(db, ModerationLogEntry(
                commentID: commentID, siteID: thread.siteID, action: "edit", actor: .adminAPI, moderator: moderator, reason: nil,
                fromStatus: current.status, at: at))
            let updated = try Self.comment(db, commentID)!
            try Self.recordHookEvent(
                db, HookEventRecord(type: .edited, actor: .adminAPI, moderator: moderator, previousStatus: current.status),
                thread: thread, comment: updated, at: at)
            return updated
        }
    }

    // MARK: Helpers

    /// Comments paired with their threads, each thread read once.
    static func withThreads(_ db: Database, _ comments: [Comment]) throws -> [(CommentThread, Comment)] {
        var threads: [Int64: CommentThread] = [:]
        return try comments.map { comment in
            if let thread = threads[comment.threadID] { return (thread, comment) }
            let thread = try requireThread(db, comment.threadID)
            threads[comment.threadID] = thread
            return (thread, comment)
        }
    }

    /// `column IN (…)` for a list of sites; no condition for nil (every site).
    static func siteFilter(_ siteIDs: [String]?, column: String) -> SQLiteFilter {
        var filter = SQLiteFilter()
        if let siteIDs {
            filter.add("\(column) IN (\(Array(repeating: "?", count: siteIDs.count).joined(separator: ", ")))", StatementArguments(siteIDs))
        }
        return filter
    }
}

extension SQLiteStore {
    /// Refills the search index (`comments_fts`) from `comments`: after a bulk path that set
    /// its triggers aside. An external-content index left out of step would answer wrongly, and
    /// its triggers' deletes of rows it never held would damage it.
    static func rebuildSearchIndex(_ db: Database) throws {
        try db.execute(sql: "INSERT INTO comments_fts (comments_fts) VALUES ('rebuild')")
    }
}
