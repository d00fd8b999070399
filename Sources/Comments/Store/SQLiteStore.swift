import Foundation
import GRDB

/// The embedded store: one SQLite file in WAL mode (one writer, many readers), shared safely
/// with the CLI through the busy timeout.
public final class SQLiteStore: CommentStore {
    /// The GRDB connection (a pool on a file, a queue in memory).
    public let writer: any DatabaseWriter

    /// Opens (creating if needed) the database at `path` and migrates it.
    public init(path: String) throws {
        do {
            writer = try DatabasePool(path: path, configuration: Self.configuration())
            try Self.migrator.migrate(writer)
        } catch {
            throw Self.mapped(error)
        }
    }

    /// A private in-memory database, for tests and dry runs.
    public init() throws {
        writer = try DatabaseQueue(configuration: Self.configuration())
        try Self.migrator.migrate(writer)
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // The CLI and the server share the file: wait for the other writer instead of failing.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL + NORMAL is durable against process crashes; only power loss can drop the
            // last transactions, never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }

    /// The migrations of `Migrations.sqlite`, in order.
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        for (identifier, sql) in Migrations.sqlite {
            migrator.registerMigration(identifier) { db in try db.execute(sql: sql) }
        }
        return migrator
    }

    // MARK: Error mapping

    static func mapped(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.resultCode {
        case .SQLITE_FULL: return CommentsError.storageUnavailable("the disk is full")
        case .SQLITE_READONLY: return CommentsError.storageUnavailable("the database is read-only")
        case .SQLITE_BUSY, .SQLITE_LOCKED: return CommentsError.storageUnavailable("the database is busy")
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return CommentsError.storageUnavailable(error.message ?? "input/output error")
        default: return error
        }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw Self.mapped(error) }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.write(body) } catch { throw Self.mapped(error) }
    }

    // MARK: Sites

    public func sites() async throws -> [Site] {
        try await read { db in try Row.fetchAll(db, sql: "SELECT * FROM sites ORDER BY id").map(Site.init(row:)) }
    }

    public func site(id: String) async throws -> Site? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE id = ?", arguments: [id]).map(Site.init(row:))
        }
    }

    public func addSite(_ site: Site) async throws {
        try await write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [site.id]) == true {
                throw CommentsError.siteExists(site.id)
            }
            try Self.insertSite(site, db)
        }
    }

    public func addSiteIfNoneExist(_ site: Site) async throws -> Bool {
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sites") == 0 else { return false }
            try Self.insertSite(site, db)
            return true
        }
    }

    private static func insertSite(_ site: Site, _ db: Database) throws {
        try db.execute(
            sql: """
            INSERT INTO sites (id, name, origins, moderation, require_author, require_email, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [site.id, site.name, JSONText.encode(site.origins), site.moderation.rawValue,
                        site.requireAuthor, site.requireEmail, site.createdAt])
    }

    public func updateSite(_ site: Site) async throws {
        try await write { db in
            try db.execute(
                sql: """
                UPDATE sites SET name = ?, origins = ?, moderation = ?, require_author = ?, require_email = ?
                WHERE id = ?
                """,
                arguments: [site.name, JSONText.encode(site.origins), site.moderation.rawValue,
                            site.requireAuthor, site.requireEmail, site.id])
            if db.changesCount == 0 { throw CommentsError.siteNotFound(site.id) }
        }
    }

    public func removeSite(id: String, force: Bool) async throws -> Int {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [id]) == true else {
                throw CommentsError.siteNotFound(id)
            }
            let count = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments WHERE site_id = ?", arguments: [id]) ?? 0
            if count > 0 && !force { throw CommentsError.siteHasComments(id, count: count) }
            try db.execute(sql: "DELETE FROM sites WHERE id = ?", arguments: [id])
            return count
        }
    }

    // MARK: Threads and comments

    public func thread(siteID: String, uri: String) async throws -> CommentThread? {
        try await read { db in try Self.fetchThread(db, siteID: siteID, uri: uri) }
    }

    public func thread(id: Int64) async throws -> CommentThread? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [id]).map(CommentThread.init(row:))
        }
    }

    private static func fetchThread(_ db: Database, siteID: String, uri: String) throws -> CommentThread? {
        try Row.fetchOne(
            db, sql: "SELECT * FROM threads WHERE site_id = ? AND uri = ?", arguments: [siteID, uri]
        ).map(CommentThread.init(row:))
    }

    public func visibleComments(siteID: String, uri: String) async throws -> (CommentThread, [Comment])? {
        try await read { db in
            guard let thread = try Self.fetchThread(db, siteID: siteID, uri: uri) else { return nil }
            // Approved comments, plus every ancestor of one (shown as a tombstone when not approved).
            let rows = try Row.fetchAll(
                db,
                sql: """
                WITH RECURSIVE visible(id) AS (
                    SELECT id FROM comments WHERE thread_id = ?1 AND status = 'approved'
                    UNION
                    SELECT c.parent_id FROM comments c JOIN visible v ON c.id = v.id
                    WHERE c.parent_id IS NOT NULL
                )
                SELECT * FROM comments WHERE id IN visible ORDER BY created_at, id
                """,
                arguments: [thread.id])
            return (thread, rows.map(Comment.init(row:)))
        }
    }

    public func insert(_ new: NewComment) async throws -> (CommentThread, Comment) {
        try await write { db in
            var thread: CommentThread
            if let existing = try Self.fetchThread(db, siteID: new.siteID, uri: new.uri) {
                thread = existing
            } else {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [new.siteID]) == true else {
                    throw CommentsError.siteNotFound(new.siteID)
                }
                try db.execute(
                    sql: "INSERT INTO threads (site_id, uri, title, created_at) VALUES (?, ?, ?, ?)",
                    arguments: [new.siteID, new.uri, new.title, new.comment.createdAt])
                thread = CommentThread(
                    id: db.lastInsertedRowID, siteID: new.siteID, uri: new.uri, title: new.title,
                    locked: false, createdAt: new.comment.createdAt, version: 0)
            }
            if thread.locked { throw CommentsError.threadLocked }
            if let parentID = new.comment.parentID {
                let parent = try Row.fetchOne(
                    db, sql: "SELECT thread_id, status FROM comments WHERE id = ?", arguments: [parentID])
                guard let parent, parent["thread_id"] as Int64 == thread.id,
                      parent["status"] as String == CommentStatus.approved.rawValue
                else {
                    throw CommentsError.invalidField(
                        field: "parent", message: "no visible comment \(parentID) in this thread")
                }
            }
            var comment = new.comment
            comment.threadID = thread.id
            comment.id = try Self.insertComment(comment, siteID: new.siteID, db)
            let version = try Int64.fetchOne(db, sql: "SELECT version FROM threads WHERE id = ?", arguments: [thread.id])
            thread.version = version ?? thread.version
            return (thread, comment)
        }
    }

    static func insertComment(_ comment: Comment, siteID: String, _ db: Database) throws -> Int64 {
        try db.execute(
            sql: """
            INSERT INTO comments (site_id, thread_id, parent_id, status, author, email, website, body, html,
                created_at, edited_at, ip, user_agent, spam_score, spam_reasons, likes, dislikes, notify,
                edit_key_hash, origin)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [
                siteID, comment.threadID, comment.parentID, comment.status.rawValue, comment.author,
                comment.email, comment.website, comment.body, comment.html, comment.createdAt,
                comment.editedAt, comment.ip, comment.userAgent, comment.spamScore,
                JSONText.encode(comment.spamReasons), comment.likes, comment.dislikes, comment.notify,
                comment.editKeyHash, comment.origin,
            ])
        return db.lastInsertedRowID
    }

    public func comment(id: Int64) async throws -> Comment? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM comments WHERE id = ?", arguments: [id]).map(Comment.init(row:))
        }
    }

    public func update(_ comment: Comment) async throws -> Comment {
        try await write { db in
            try db.execute(
                sql: """
                UPDATE comments SET body = ?, html = ?, author = ?, website = ?, edited_at = ?, status = ?,
                    spam_score = ?, spam_reasons = ?
                WHERE id = ?
                """,
                arguments: [comment.body, comment.html, comment.author, comment.website, comment.editedAt,
                            comment.status.rawValue, comment.spamScore, JSONText.encode(comment.spamReasons),
                            comment.id])
            guard db.changesCount > 0,
                  let row = try Row.fetchOne(db, sql: "SELECT * FROM comments WHERE id = ?", arguments: [comment.id])
            else { throw CommentsError.commentNotFound(comment.id) }
            return Comment(row: row)
        }
    }

    public func delete(commentID: Int64) async throws -> DeletionOutcome {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM comments WHERE id = ?", arguments: [commentID]) == true else {
                throw CommentsError.commentNotFound(commentID)
            }
            if try Self.hasReplies(db, commentID) {
                try db.execute(
                    sql: """
                    UPDATE comments SET status = 'deleted', body = '', html = '', author = NULL, email = NULL,
                        website = NULL, ip = NULL, user_agent = NULL, notify = 0, edit_key_hash = NULL
                    WHERE id = ?
                    """,
                    arguments: [commentID])
                return .tombstoned
            }
            var parentID = try Int64.fetchOne(db, sql: "SELECT parent_id FROM comments WHERE id = ?", arguments: [commentID])
            try db.execute(sql: "DELETE FROM comments WHERE id = ?", arguments: [commentID])
            // Tombstones exist only to hold replies; one whose last reply went goes too.
            while let id = parentID {
                let row = try Row.fetchOne(db, sql: "SELECT parent_id, status FROM comments WHERE id = ?", arguments: [id])
                guard let row, row["status"] as String == CommentStatus.deleted.rawValue,
                      try !Self.hasReplies(db, id)
                else { break }
                parentID = row["parent_id"]
                try db.execute(sql: "DELETE FROM comments WHERE id = ?", arguments: [id])
            }
            return .removed
        }
    }

    private static func hasReplies(_ db: Database, _ id: Int64) throws -> Bool {
        try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM comments WHERE parent_id = ?)", arguments: [id]) ?? false
    }

    public func vote(commentID: Int64, voter: String, value: Int, at: Int64) async throws -> VoteTotals {
        precondition(value == 1 || value == -1, "a vote is +1 or -1")
        return try await write { db in
            guard let status = try String.fetchOne(db, sql: "SELECT status FROM comments WHERE id = ?", arguments: [commentID]),
                  status == CommentStatus.approved.rawValue
            else { throw CommentsError.commentNotFound(commentID) }
            let previous = try Int.fetchOne(
                db, sql: "SELECT value FROM votes WHERE comment_id = ? AND voter = ?", arguments: [commentID, voter])
            if previous != value {
                try db.execute(
                    sql: """
                    INSERT INTO votes (comment_id, voter, value, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (comment_id, voter) DO UPDATE SET value = excluded.value, created_at = excluded.created_at
                    """,
                    arguments: [commentID, voter, value, at])
                // Imported comments carry totals without vote rows, so adjust rather than recount.
                let likesDelta = (value == 1 ? 1 : 0) - (previous == 1 ? 1 : 0)
                let dislikesDelta = (value == -1 ? 1 : 0) - (previous == -1 ? 1 : 0)
                try db.execute(
                    sql: "UPDATE comments SET likes = MAX(0, likes + ?), dislikes = MAX(0, dislikes + ?) WHERE id = ?",
                    arguments: [likesDelta, dislikesDelta, commentID])
            }
            let row = try Row.fetchOne(db, sql: "SELECT likes, dislikes FROM comments WHERE id = ?", arguments: [commentID])!
            return VoteTotals(likes: row["likes"], dislikes: row["dislikes"])
        }
    }

    public func approvedCounts(siteID: String, uris: [String]) async throws -> [String: Int] {
        try await read { db in
            var counts: [String: Int] = [:]
            let statement = try db.cachedStatement(sql: """
                SELECT COUNT(c.id) FROM threads t JOIN comments c ON c.thread_id = t.id AND c.status = 'approved'
                WHERE t.site_id = ? AND t.uri = ?
                """)
            for uri in uris where counts[uri] == nil {
                counts[uri] = try Int.fetchOne(statement, arguments: [siteID, uri]) ?? 0
            }
            return counts
        }
    }

    public func latestApproved(siteID: String, limit: Int) async throws -> [(CommentThread, Comment)] {
        try await read { db in
            let comments = try Row.fetchAll(
                db,
                sql: """
                SELECT * FROM comments WHERE site_id = ? AND status = 'approved'
                ORDER BY created_at DESC, id DESC LIMIT ?
                """,
                arguments: [siteID, limit]
            ).map(Comment.init(row:))
            var threads: [Int64: CommentThread] = [:]
            return try comments.map { comment in
                if threads[comment.threadID] == nil {
                    threads[comment.threadID] = try Row.fetchOne(
                        db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [comment.threadID]
                    ).map(CommentThread.init(row:))
                }
                return (threads[comment.threadID]!, comment)
            }
        }
    }

    public func commentCount(siteID: String) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments WHERE site_id = ?", arguments: [siteID]) ?? 0
        }
    }

    // MARK: Secrets

    public func secret(named name: String, make: @Sendable () -> [UInt8], at: Int64) async throws -> [UInt8] {
        if let existing = try await read({ db in
            try Data.fetchOne(db, sql: "SELECT value FROM secrets WHERE name = ?", arguments: [name])
        }) {
            return Array(existing)
        }
        let fresh = Data(make())
        return try await write { db in
            // Another process may have won the race: keep whichever was stored first.
            try db.execute(
                sql: "INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
                arguments: [name, fresh, at])
            return Array(try Data.fetchOne(db, sql: "SELECT value FROM secrets WHERE name = ?", arguments: [name]) ?? fresh)
        }
    }

    // MARK: Health

    public func ping() async throws {
        _ = try await read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM sites") }
    }
}

/// JSON text columns (`origins`, `spam_reasons`).
enum JSONText {
    static func encode(_ strings: [String]) -> String {
        let data = (try? JSONEncoder().encode(strings)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decode(_ text: String?) -> [String] {
        guard let text, let value = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return [] }
        return value
    }
}

extension Site {
    init(row: Row) {
        self.init(
            id: row["id"], name: row["name"], origins: JSONText.decode(row["origins"]),
            moderation: ModerationMode(rawValue: row["moderation"]) ?? .none,
            requireAuthor: row["require_author"], requireEmail: row["require_email"], createdAt: row["created_at"])
    }
}

extension CommentThread {
    init(row: Row) {
        self.init(
            id: row["id"], siteID: row["site_id"], uri: row["uri"], title: row["title"], locked: row["locked"],
            createdAt: row["created_at"], version: row["version"])
    }
}

extension Comment {
    init(row: Row) {
        self.init(
            id: row["id"], threadID: row["thread_id"], parentID: row["parent_id"],
            status: CommentStatus(rawValue: row["status"]) ?? .pending,
            author: row["author"], email: row["email"], website: row["website"],
            body: row["body"], html: row["html"], createdAt: row["created_at"], editedAt: row["edited_at"],
            ip: row["ip"], userAgent: row["user_agent"], spamScore: row["spam_score"],
            spamReasons: JSONText.decode(row["spam_reasons"]), likes: row["likes"], dislikes: row["dislikes"],
            notify: row["notify"], editKeyHash: row["edit_key_hash"], origin: row["origin"])
    }
}
