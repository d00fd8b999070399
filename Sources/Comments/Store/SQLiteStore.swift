import Foundation
import GRDB
import GRDBSQLite
import Synchronization

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
            watch = ChangeWatch(path: path)
            changes = ChangeTracker(watch: watch)
            writer.add(transactionObserver: changes, extent: .databaseLifetime)
            newComments = Self.newComments(writer, changes)
        } catch {
            throw Self.mapped(error)
        }
    }

    /// A private in-memory database, for tests and dry runs.
    public init() throws {
        writer = try DatabaseQueue(configuration: Self.configuration())
        try Self.migrator.migrate(writer)
        watch = nil
        changes = ChangeTracker(watch: nil)
        newComments = Self.newComments(writer, changes)
    }

    /// New comments, written with group commit (see `GroupCommit`).
    private let newComments: GroupCommit<ScreenedComment, (CommentThread, Comment)>

    private static func newComments(_ writer: any DatabaseWriter, _ changes: ChangeTracker) -> GroupCommit<ScreenedComment, (CommentThread, Comment)> {
        GroupCommit(
            writer: writer, prepare: { db in changes.markCommentsOnly(db) }, mapError: { mapped($0) },
            work: { db, item in
                let (thread, comment) = try insertScreened(db, item)
                changes.noteThreadChanged(thread.id)
                return (thread, comment)
            })
    }

    /// Asks `PRAGMA data_version` on a connection of its own; nil in memory.
    private let watch: ChangeWatch?
    /// Tells caches which commits changed what (see `ChangeTracker`).
    private let changes: ChangeTracker

    public func changeStamp() -> Int64? {
        watch?.stamp()
    }

    /// The database file; nil in memory.
    var filePath: String? { watch?.path }

    /// How often the change stamp had to be asked of SQLite (not answered from the WAL index).
    var changeStampQueries: Int { watch?.timesAsked ?? 0 }

    /// Copies what the WAL holds into the database file, from a connection of its own and
    /// without waiting for readers or the writer (a PASSIVE checkpoint), so that commits never
    /// do it on a request's time. The server calls it every half second; it also bounds what a
    /// power cut can cost, since the checkpoint syncs the WAL first. Returns the frames copied.
    @discardableResult
    public func checkpoint() async throws -> Int {
        guard let path = filePath else { return 0 }
        let connection = try checkpointer.withLock { connection -> DatabaseQueue in
            if let connection { return connection }
            let opened = try DatabaseQueue(path: path, configuration: Self.configuration())
            connection = opened
            return opened
        }
        do {
            return try await connection.writeWithoutTransaction { db in
                try db.checkpoint(.passive).checkpointedFrameCount
            }
        } catch {
            throw Self.mapped(error)
        }
    }

    /// The connection `checkpoint()` uses, opened on first use.
    private let checkpointer = Mutex<DatabaseQueue?>(nil)

    public func settingsStamp() -> Int64? {
        guard let stamp = changeStamp() else { return nil }
        return changes.epoch(at: stamp)
    }

    public func changeMark(at stamp: Int64) -> ChangeMark? {
        watch == nil ? nil : changes.mark(at: stamp)
    }

    public func markIfUnchanged(threadID: Int64, since mark: ChangeMark, at stamp: Int64) -> ChangeMark? {
        watch == nil ? nil : changes.markIfUnchanged(threadID: threadID, since: mark, at: stamp)
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // The CLI and the server share the file: wait for the other writer instead of failing.
        configuration.busyMode = .timeout(10)
        // Each reader keeps its own page cache (2 MB at most): more readers than cores only
        // add memory, since reads are short and rare behind the thread cache.
        configuration.maximumReaderCount = 3
        configuration.prepareDatabase { db in
            // WAL + NORMAL is durable against process crashes; only power loss can drop the
            // last transactions, never corrupt the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // After a large transaction (an import) the WAL is emptied by the checkpoint but
            // keeps its size on disk; cap what stays.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            // The server checkpoints from a connection of its own (`checkpoint()`), off the
            // request path; a commit does it only as a fallback, past 32 MB of WAL.
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8000")
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

    /// The one place SQLite's storage failures become `CommentsError.storageUnavailable` (503 in
    /// the API, a sentence in the CLI). A write refused by the disk (full, over the process's
    /// file size limit, an immutable file) changes nothing stored, and the next write after the
    /// condition clears works again on the same connections.
    static func mapped(_ error: any Error) -> any Error {
        guard let error = error as? DatabaseError else { return error }
        switch error.extendedResultCode {
        case .SQLITE_IOERR_READ, .SQLITE_IOERR_SHORT_READ:
            return CommentsError.storageUnavailable("the database file cannot be read (input/output error)")
        default: break
        }
        switch error.resultCode {
        case .SQLITE_FULL: return CommentsError.storageUnavailable("the database cannot be written because the disk is full")
        case .SQLITE_READONLY:
            return CommentsError.storageUnavailable("the database cannot be written because the file is read-only")
        case .SQLITE_IOERR:
            // A write refused with EFBIG (file size limit) or EPERM (immutable file) arrives here
            // as a plain I/O error; ENOSPC arrives as SQLITE_FULL.
            return CommentsError.storageUnavailable(
                "the database cannot be written (input/output error: the disk may be full or the file read-only)")
        case .SQLITE_CANTOPEN, .SQLITE_PERM:
            return CommentsError.storageUnavailable("the database file cannot be opened for writing")
        case .SQLITE_BUSY, .SQLITE_LOCKED: return CommentsError.storageUnavailable("the database is busy")
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return CommentsError.storageUnavailable(error.message ?? "the database file is damaged")
        default: return error
        }
    }

    /// Closes every connection once nothing uses the store any more (the server has stopped).
    /// A read-write connection closes last, so SQLite checkpoints the WAL into the database file
    /// and removes it: the file is then complete on its own.
    public func close() throws {
        watch?.close()
        do {
            try writer.close()
            let last = try checkpointer.withLock { connection -> DatabaseQueue? in
                defer { connection = nil }
                if let connection { return connection }
                return try watch.map { try DatabaseQueue(path: $0.path, configuration: Self.configuration()) }
            }
            try last?.close()
        } catch {
            throw Self.mapped(error)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.read(body) } catch { throw Self.mapped(error) }
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do { return try await writer.write(body) } catch { throw Self.mapped(error) }
    }

    // MARK: Sites

    public func sites() async throws -> [Site] {
        try await read { db in try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM sites ORDER BY id")).map(Site.init(row:)) }
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
            INSERT INTO sites (id, name, origins, moderation, require_author, require_email, created_at, rate_limit, moderators, avatars,
                vote_rate_limit)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [site.id, site.name, JSONText.encode(site.origins), site.moderation.rawValue,
                        site.requireAuthor, site.requireEmail, site.createdAt, site.rateLimit?.description,
                        JSONText.encode(site.moderators), site.avatars.rawValue, site.voteRateLimit?.description])
    }

    public func updateSite(_ site: Site) async throws {
        try await write { db in
            try db.execute(
                sql: """
                UPDATE sites SET name = ?, origins = ?, moderation = ?, require_author = ?, require_email = ?,
                    rate_limit = ?, moderators = ?, avatars = ?, vote_rate_limit = ?
                WHERE id = ?
                """,
                arguments: [site.name, JSONText.encode(site.origins), site.moderation.rawValue,
                            site.requireAuthor, site.requireEmail, site.rateLimit?.description,
                            JSONText.encode(site.moderators), site.avatars.rawValue, site.voteRateLimit?.description, site.id])
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
        // Cached statements on the hot paths: compiling SQL costs more than running it.
        try Row.fetchOne(
            db.cachedStatement(sql: "SELECT * FROM threads WHERE site_id = ? AND uri = ?"), arguments: [siteID, uri]
        ).map(CommentThread.init(row:))
    }

    public func visibleComments(siteID: String, uri: String) async throws -> (CommentThread, [Comment])? {
        try await read { db in
            guard let thread = try Self.fetchThread(db, siteID: siteID, uri: uri) else { return nil }
            // Approved comments, plus every ancestor of one (shown as a tombstone when not approved).
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
                WITH RECURSIVE visible(id) AS (
                    SELECT id FROM comments WHERE thread_id = ?1 AND status = 'approved'
                    UNION
                    SELECT c.parent_id FROM comments c JOIN visible v ON c.id = v.id
                    WHERE c.parent_id IS NOT NULL
                )
                SELECT \(Comment.columns) FROM comments WHERE id IN visible ORDER BY created_at, id
                """),
                arguments: [thread.id])
            return (thread, rows.map(Comment.init(row:)))
        }
    }

    public func insert(_ new: NewComment, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        try await write { db in
            try Self.insert(db, new, existing: try Self.fetchThread(db, siteID: new.siteID, uri: new.uri), mail: mail)
        }
    }

    public func insert(_ new: NewComment, screening plan: ScreeningPlan, mail: MailBuilder?) async throws -> (CommentThread, Comment) {
        try await newComments.submit(ScreenedComment(new: new, plan: plan, mail: mail))
    }

    /// A new comment waiting for its turn in `newComments`.
    struct ScreenedComment: Sendable {
        let new: NewComment
        let plan: ScreeningPlan
        let mail: MailBuilder?
    }

    /// Looks up, judges and inserts one new comment inside the caller's transaction.
    static func insertScreened(_ db: Database, _ item: ScreenedComment) throws -> (CommentThread, Comment) {
        let new = item.new
        let existing = try fetchThread(db, siteID: new.siteID, uri: new.uri)
        let found = try item.plan.query.map { try screeningFacts(db, siteID: new.siteID, query: $0) }
        let judgement = item.plan.decide(existing, found)
        var screened = new
        screened.comment.status = judgement.status
        screened.comment.spamScore = judgement.score
        screened.comment.spamReasons = judgement.reasons
        return try insert(db, screened, existing: existing, mail: item.mail)
    }

    /// Inserts `new` into `existing` (or a new thread), inside the caller's transaction.
    private static func insert(_ db: Database, _ new: NewComment, existing: CommentThread?, mail: MailBuilder?) throws -> (CommentThread, Comment) {
        var thread: CommentThread
        if let existing {
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
                db.cachedStatement(sql: "SELECT thread_id, status FROM comments WHERE id = ?"), arguments: [parentID])
            guard let parent, parent["thread_id"] as Int64 == thread.id,
                  parent["status"] as String == CommentStatus.approved.rawValue
            else {
                throw CommentsError.invalidField(
                    field: "parent", message: "no visible comment \(parentID) in this thread")
            }
        }
        var comment = new.comment
        comment.threadID = thread.id
        comment.id = try Self.insertComment(comment, siteID: new.siteID, authorKeyHash: new.authorKeyHash, db)
        let version = try Int64.fetchOne(db.cachedStatement(sql: "SELECT version FROM threads WHERE id = ?"), arguments: [thread.id])
        thread.version = version ?? thread.version
        if comment.status == .pending || comment.status == .spam {
            try Self.log(db, ModerationLogEntry(
                commentID: comment.id, siteID: new.siteID, action: comment.status == .spam ? "spam" : "hold",
                actor: .spamFilter, reason: comment.spamReasons.joined(separator: "; "), at: comment.createdAt))
        }
        try Self.queue(db, mail, thread: thread, comment: comment, previousStatus: nil)
        return (thread, comment)
    }

    /// What `comments.body_digest` holds: 64 bits of the SHA-256 of the text folded
    /// (`TextFold`: NFKC, case, invisible characters), to find the same text through an index
    /// however its letters are dressed up.
    static func digest(_ body: String) -> Int64 {
        Int64(bitPattern: Digest(TextFold.fold(body)).value)
    }

    static func insertComment(_ comment: Comment, siteID: String, authorKeyHash: String? = nil, _ db: Database) throws -> Int64 {
        try db.cachedStatement(
            sql: """
            INSERT INTO comments (site_id, thread_id, parent_id, status, author, email, website, body, html,
                created_at, edited_at, ip, user_agent, spam_score, spam_reasons, likes, dislikes, notify,
                edit_key_hash, origin, body_digest, author_key_hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """
        ).execute(
            arguments: [
                siteID, comment.threadID, comment.parentID, comment.status.rawValue, comment.author,
                comment.email, comment.website, comment.body, comment.html, comment.createdAt,
                comment.editedAt, comment.ip, comment.userAgent, comment.spamScore,
                JSONText.encode(comment.spamReasons), comment.likes, comment.dislikes, comment.notify,
                comment.editKeyHash, comment.origin, Self.digest(comment.body), authorKeyHash,
            ])
        return db.lastInsertedRowID
    }

    public func comment(id: Int64) async throws -> Comment? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [id]).map(Comment.init(row:))
        }
    }

    public func update(_ comment: Comment, mail: MailBuilder?) async throws -> Comment {
        try await write { db in
            let previous = try String.fetchOne(db, sql: "SELECT status FROM comments WHERE id = ?", arguments: [comment.id])
                .flatMap(CommentStatus.init(rawValue:))
            try db.execute(
                sql: """
                UPDATE comments SET body = ?, html = ?, author = ?, website = ?, edited_at = ?, status = ?,
                    spam_score = ?, spam_reasons = ?, body_digest = ?
                WHERE id = ?
                """,
                arguments: [comment.body, comment.html, comment.author, comment.website, comment.editedAt,
                            comment.status.rawValue, comment.spamScore, JSONText.encode(comment.spamReasons),
                            Self.digest(comment.body), comment.id])
            guard db.changesCount > 0,
                  let row = try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [comment.id]),
                  let thread = try Row.fetchOne(db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [comment.threadID])
                    .map(CommentThread.init(row:))
            else { throw CommentsError.commentNotFound(comment.id) }
            let stored = Comment(row: row)
            if stored.status != previous, stored.status == .pending || stored.status == .spam {
                try Self.log(db, ModerationLogEntry(
                    commentID: stored.id, siteID: thread.siteID, action: stored.status == .spam ? "spam" : "hold",
                    actor: .spamFilter, reason: "edited: " + stored.spamReasons.joined(separator: "; "), at: stored.editedAt ?? 0))
            }
            try Self.queue(db, mail, thread: thread, comment: stored, previousStatus: previous)
            return stored
        }
    }

    public func delete(commentID: Int64) async throws -> DeletionOutcome {
        try await write { db in try Self.deleteComment(db, commentID) }
    }

    static func deleteComment(_ db: Database, _ commentID: Int64) throws -> DeletionOutcome {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM comments WHERE id = ?", arguments: [commentID]) == true else {
            throw CommentsError.commentNotFound(commentID)
        }
        if try hasReplies(db, commentID) {
            try db.execute(
                sql: """
                UPDATE comments SET status = 'deleted', body = '', html = '', author = NULL, email = NULL,
                    website = NULL, ip = NULL, user_agent = NULL, notify = 0, edit_key_hash = NULL, body_digest = NULL
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
                  try !hasReplies(db, id)
            else { break }
            parentID = row["parent_id"]
            try db.execute(sql: "DELETE FROM comments WHERE id = ?", arguments: [id])
        }
        return .removed
    }

    static func hasReplies(_ db: Database, _ id: Int64) throws -> Bool {
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
                SELECT \(Comment.columns) FROM comments WHERE site_id = ? AND status = 'approved'
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

    // MARK: Moderation

    public func moderationQueue(siteID: String?, status: CommentStatus?, limit: Int) async throws -> [(CommentThread, Comment)] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let siteID { conditions.append("site_id = ?"); arguments += [siteID] }
            if let status { conditions.append("status = ?"); arguments += [status.rawValue] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            let comments = try Row.fetchAll(
                db, sql: "SELECT \(Comment.columns) FROM comments \(filter) ORDER BY created_at DESC, id DESC LIMIT ?", arguments: arguments
            ).map(Comment.init(row:))
            return try comments.map { comment in
                (try Self.requireThread(db, comment.threadID), comment)
            }
        }
    }

    public func moderate(
        commentID: Int64, action: ModerationAction, actor: ModerationActor, reason: String?, at: Int64,
        linkNonce: (nonce: String, expiresAt: Int64)?, features: [String]?, mail: MailBuilder?
    ) async throws -> ModerationOutcome {
        try await write { db in
            let current = try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [commentID]).map(Comment.init(row:))
            if let linkNonce {
                try db.execute(
                    sql: "INSERT INTO used_links (nonce, used_at, expires_at) VALUES (?, ?, ?) ON CONFLICT (nonce) DO NOTHING",
                    arguments: [linkNonce.nonce, at, linkNonce.expiresAt])
                if db.changesCount == 0 { return .linkAlreadyUsed(current) }
            }
            guard let current else { throw CommentsError.commentNotFound(commentID) }
            let thread = try Self.requireThread(db, current.threadID)
            try Self.log(db, ModerationLogEntry(
                commentID: commentID, siteID: thread.siteID, action: action.rawValue, actor: actor, reason: reason, at: at))
            if let features, action == .approve || action == .spam {
                try Self.retrain(db, commentID: commentID, features: features, asSpam: action == .spam)
            }
            if action == .delete {
                _ = try Self.deleteComment(db, commentID)
                return .applied(try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [commentID]).map(Comment.init(row:)))
            }
            try db.execute(sql: "UPDATE comments SET status = ? WHERE id = ?", arguments: [action.resultingStatus.rawValue, commentID])
            let updated = try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [commentID]).map(Comment.init(row:))!
            try Self.queue(db, mail, thread: thread, comment: updated, previousStatus: current.status)
            return .applied(updated)
        }
    }

    /// Moves one comment's training to `asSpam`'s side, undoing an earlier opposite decision.
    static func retrain(_ db: Database, commentID: Int64, features: [String], asSpam: Bool) throws {
        let label = asSpam ? "spam" : "ham"
        let previous = try String.fetchOne(db, sql: "SELECT trained_as FROM comments WHERE id = ?", arguments: [commentID])
        if previous == label { return }
        if let previous { try count(db, features: features, asSpam: previous == "spam", delta: -1) }
        try count(db, features: features, asSpam: asSpam, delta: 1)
        try db.execute(sql: "UPDATE comments SET trained_as = ? WHERE id = ?", arguments: [label, commentID])
    }

    static func count(_ db: Database, features: [String], asSpam: Bool, delta: Int) throws {
        let column = asSpam ? "spam_count" : "ham_count"
        let statement = try db.cachedStatement(sql: """
            INSERT INTO spam_tokens (token, \(column)) VALUES (?, MAX(0, ?))
            ON CONFLICT (token) DO UPDATE SET \(column) = MAX(0, \(column) + excluded.\(column) + (CASE WHEN ? < 0 THEN ? ELSE 0 END))
            """)
        for feature in Set(features) {
            // For a decrement the inserted value is clamped to 0, so add the delta back explicitly.
            try statement.execute(arguments: [feature, delta, delta, delta])
        }
        let documents = asSpam ? "spam_documents" : "ham_documents"
        try db.execute(sql: "UPDATE spam_totals SET \(documents) = MAX(0, \(documents) + ?) WHERE id = 1", arguments: [delta])
    }

    public func isLinkUsed(nonce: String) async throws -> Bool {
        try await read { db in try Bool.fetchOne(db, sql: "SELECT 1 FROM used_links WHERE nonce = ?", arguments: [nonce]) ?? false }
    }

    public func moderationLog(commentID: Int64?, limit: Int) async throws -> [ModerationLogEntry] {
        try await read { db in
            let rows: [Row]
            if let commentID {
                rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM moderation_log WHERE comment_id = ? ORDER BY at DESC, id DESC LIMIT ?",
                    arguments: [commentID, limit])
            } else {
                rows = try Row.fetchAll(db, sql: "SELECT * FROM moderation_log ORDER BY at DESC, id DESC LIMIT ?", arguments: [limit])
            }
            return rows.map { row in
                ModerationLogEntry(
                    id: row["id"], commentID: row["comment_id"], siteID: row["site_id"], action: row["action"],
                    actor: ModerationActor(rawValue: row["actor"]) ?? .cli, reason: row["reason"], at: row["at"])
            }
        }
    }

    static func log(_ db: Database, _ entry: ModerationLogEntry) throws {
        try db.execute(
            sql: "INSERT INTO moderation_log (comment_id, site_id, action, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [entry.commentID, entry.siteID, entry.action, entry.actor.rawValue, entry.reason, entry.at])
    }

    public func screeningFacts(siteID: String, query: ScreeningQuery) async throws -> ScreeningFacts {
        // One read transaction: each costs file-lock system calls, and a POST used to make three here.
        try await read { db in try Self.screeningFacts(db, siteID: siteID, query: query) }
    }

    static func screeningFacts(_ db: Database, siteID: String, query: ScreeningQuery) throws -> ScreeningFacts {
        ScreeningFacts(
            stored: try storedFacts(db, siteID: siteID, query: query),
            blocklist: try blocklist(db),
            classifier: try classifierCounts(db, features: query.features))
    }

    static func storedFacts(_ db: Database, siteID: String, query: ScreeningQuery) throws -> StoredFacts {
        let excluding = query.excluding ?? 0
        // Trust follows the author key alone; an edit is judged by its own comment's key.
        var key = query.authorKeyHash
        if key == nil, let edited = query.excluding {
            key = try String.fetchOne(db, sql: "SELECT author_key_hash FROM comments WHERE id = ?", arguments: [edited])
        }
        var approved = 0
        if let key {
            approved = try Int.fetchOne(
                db.cachedStatement(sql: "SELECT COUNT(*) FROM comments WHERE author_key_hash = ? AND site_id = ? AND status = 'approved' AND id != ?"),
                arguments: [key, siteID, excluding]) ?? 0
        }
        let duplicates = try Int.fetchOne(
            db.cachedStatement(sql: """
            SELECT COUNT(*) FROM comments
            WHERE site_id = ? AND body_digest = ? AND created_at >= ? AND id != ?
            """),
            arguments: [siteID, Self.digest(query.body), query.since, excluding]) ?? 0
        return StoredFacts(approvedBefore: approved, duplicates: duplicates)
    }

    // MARK: Blocklist

    public func blocklist() async throws -> [BlockEntry] {
        try await read { db in try Self.blocklist(db) }
    }

    static func blocklist(_ db: Database) throws -> [BlockEntry] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM blocklist ORDER BY kind, value")).map { row in
            BlockEntry(kind: BlockKind(rawValue: row["kind"]) ?? .word, value: row["value"], reason: row["reason"], createdAt: row["created_at"])
        }
    }

    public func addBlock(_ entry: BlockEntry) async throws {
        try await write { db in
            try db.execute(
                sql: """
                INSERT INTO blocklist (kind, value, reason, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (kind, value) DO UPDATE SET reason = excluded.reason
                """,
                arguments: [entry.kind.rawValue, entry.value, entry.reason, entry.createdAt])
        }
    }

    public func removeBlock(kind: BlockKind, value: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM blocklist WHERE kind = ? AND value = ?", arguments: [kind.rawValue, value])
            return db.changesCount > 0
        }
    }

    // MARK: Learned classifier

    public func classifierCounts(features: [String]) async throws -> ClassifierCounts {
        try await read { db in try Self.classifierCounts(db, features: features) }
    }

    static func classifierCounts(_ db: Database, features: [String]) throws -> ClassifierCounts {
        var tokens: [String: (spam: Int, ham: Int)] = [:]
        if !features.isEmpty {
            // One statement for all features: a lookup each cost a statement round trip apiece, the
            // largest part of screening a comment inside the write transaction.
            var list = JSONWriter(capacity: features.count * 16)
            list.strings(features)
            let rows = try Row.fetchCursor(
                db.cachedStatement(sql: "SELECT token, spam_count, ham_count FROM json_each(?) AS feature JOIN spam_tokens ON token = feature.value"),
                arguments: [String(decoding: list.bytes, as: UTF8.self)])
            while let row = try rows.next() {
                tokens[row[0]] = (row[1], row[2])
            }
        }
        let totals = try Row.fetchOne(db.cachedStatement(sql: "SELECT spam_documents, ham_documents FROM spam_totals WHERE id = 1"))
        return ClassifierCounts(tokens: tokens, spamDocuments: totals?["spam_documents"] ?? 0, hamDocuments: totals?["ham_documents"] ?? 0)
    }

    public func train(features: [String], asSpam: Bool) async throws {
        try await write { db in try Self.count(db, features: features, asSpam: asSpam, delta: 1) }
    }

    // MARK: Signing keys

    public func signingKeys() async throws -> [SigningKey] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM signing_keys ORDER BY created_at, id").map { row in
                SigningKey(id: row["id"], secret: Array(row["secret"] as Data), createdAt: row["created_at"], retiredAt: row["retired_at"])
            }
        }
    }

    public func addSigningKeyIfNoneExist(_ key: SigningKey) async throws -> Bool {
        try await write { db in
            guard try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM signing_keys") == 0 else { return false }
            try db.execute(
                sql: "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (?, ?, ?, NULL)",
                arguments: [key.id, Data(key.secret), key.createdAt])
            return true
        }
    }

    public func removeSigningKey(id: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM signing_keys WHERE id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func addSigningKey(_ key: SigningKey) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE signing_keys SET retired_at = ? WHERE retired_at IS NULL", arguments: [key.createdAt])
            try db.execute(
                sql: "INSERT INTO signing_keys (id, secret, created_at, retired_at) VALUES (?, ?, ?, NULL)",
                arguments: [key.id, Data(key.secret), key.createdAt])
        }
    }

    // MARK: Mail outbox

    /// Queues the mail `mail` builds for this change, in the caller's transaction: the builder
    /// sees the consent of the addresses that asked for replies; a confirmation mail records
    /// `requested`; reader mail past its recipient's daily cap is dropped.
    static func queue(_ db: Database, _ mail: MailBuilder?, thread: CommentThread, comment: Comment, previousStatus: CommentStatus?) throws {
        guard let mail,
              let site = try Row.fetchOne(db, sql: "SELECT * FROM sites WHERE id = ?", arguments: [thread.siteID]).map(Site.init(row:))
        else { return }
        let parent = try comment.parentID.flatMap { id in
            try Row.fetchOne(db, sql: "SELECT \(Comment.columns) FROM comments WHERE id = ?", arguments: [id]).map(Comment.init(row:))
        }
        // The consent of every address that asked to hear of replies, read in this transaction.
        var consents: [String: ReplyConsent] = [:]
        for asking in [comment, parent].compactMap({ $0 }) where asking.notify {
            guard let email = asking.email else { continue }
            let key = MailAddress.hash(email)
            consents[key] = try replyConsent(db, addressHash: key, siteID: site.id)
        }
        let context = MailContext(site: site, thread: thread, comment: comment, parent: parent, previousStatus: previousStatus, consents: consents)
        for message in mail(context) {
            var recipientHash: String?
            if message.dailyCap != nil || message.kind == .confirmation, let recipient = message.recipients.first {
                recipientHash = MailAddress.hash(recipient)
            }
            if let cap = message.dailyCap, let recipientHash {
                let sentToday = try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM outbox WHERE recipient_hash = ? AND created_at > ?",
                    arguments: [recipientHash, message.createdAt - 86_400_000]) ?? 0
                if sentToday >= cap { continue }
            }
            if message.kind == .confirmation, let recipientHash {
                // Never over a confirmed or suppressed address: only the reader's own answer changes those.
                try db.execute(
                    sql: """
                    INSERT INTO reply_consent (site_id, address_hash, state, requested_at, changed_at) VALUES (?, ?, 'requested', ?, ?)
                    ON CONFLICT (site_id, address_hash) DO UPDATE SET requested_at = excluded.requested_at, changed_at = excluded.changed_at
                    WHERE reply_consent.state = 'requested'
                    """,
                    arguments: [site.id, recipientHash, message.createdAt, message.createdAt])
            }
            try db.execute(
                sql: """
                INSERT INTO outbox (kind, comment_id, recipients, subject, body, headers, message_id, created_at, next_attempt_at, recipient_hash)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                arguments: [message.kind.rawValue, message.commentID, JSONText.encode(message.recipients), message.subject,
                            message.body, JSONText.encodeRows(message.headers), message.messageID, message.createdAt,
                            message.nextAttemptAt, recipientHash])
        }
    }

    /// The stored consent of one address (by `MailAddress.hash`) on one site, in the caller's transaction.
    static func replyConsent(_ db: Database, addressHash: String, siteID: String) throws -> ReplyConsent {
        guard let row = try Row.fetchOne(
            db, sql: "SELECT state, requested_at FROM reply_consent WHERE site_id = ? AND address_hash = ?", arguments: [siteID, addressHash])
        else { return .unasked }
        return ReplyConsent(state: row["state"], requestedAt: row["requested_at"])
    }

    public func replyConsent(email: String, siteID: String) async throws -> ReplyConsent {
        try await read { db in try Self.replyConsent(db, addressHash: MailAddress.hash(email), siteID: siteID) }
    }

    public func setReplyConsent(_ consent: ReplyConsent, email: String, siteID: String, at: Int64) async throws -> ReplyConsent {
        let key = MailAddress.hash(email)
        return try await write { db in
            let before = try Self.replyConsent(db, addressHash: key, siteID: siteID)
            if let state = consent.stateName {
                var requestedAt: Int64?
                if case .requested(let when) = consent { requestedAt = when }
                try db.execute(
                    sql: """
                    INSERT INTO reply_consent (site_id, address_hash, state, requested_at, changed_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (site_id, address_hash) DO UPDATE SET state = excluded.state,
                        requested_at = COALESCE(excluded.requested_at, reply_consent.requested_at), changed_at = excluded.changed_at
                    """,
                    arguments: [siteID, key, state, requestedAt, at])
            } else {
                try db.execute(sql: "DELETE FROM reply_consent WHERE site_id = ? AND address_hash = ?", arguments: [siteID, key])
            }
            return before
        }
    }

    public func dueMail(now: Int64, limit: Int) async throws -> [OutgoingMail] {
        try await write { db in
            let due = try Row.fetchAll(
                db,
                sql: """
                SELECT * FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?
                    AND (claimed_until IS NULL OR claimed_until <= ?)
                ORDER BY next_attempt_at, id LIMIT ?
                """,
                arguments: [now, now, limit]
            ).map(OutgoingMail.init(row:))
            for mail in due {
                try db.execute(sql: "UPDATE outbox SET claimed_until = ? WHERE id = ?", arguments: [now + OutboxClaim.leaseMillis, mail.id])
            }
            return due
        }
    }

    public func markSent(mailID: Int64, at: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE outbox SET sent_at = ?, attempts = attempts + 1, last_error = NULL, claimed_until = NULL WHERE id = ?", arguments: [at, mailID])
        }
    }

    public func markFailed(mailID: Int64, error: String, at: Int64, retryAt: Int64?) async throws {
        try await write { db in
            if let retryAt {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_until = NULL WHERE id = ?",
                    arguments: [error, retryAt, mailID])
            } else {
                try db.execute(
                    sql: "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed_at = ?, claimed_until = NULL WHERE id = ?",
                    arguments: [error, at, mailID])
            }
        }
    }

    public func outbox(limit: Int) async throws -> [OutgoingMail] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox ORDER BY id DESC LIMIT ?", arguments: [limit]).map(OutgoingMail.init(row:))
        }
    }

    public func unsubscribe(email: String, threadID: Int64, at: Int64) async throws -> Int {
        try await write { db in
            let ids = try Int64.fetchAll(
                db, sql: "SELECT id FROM comments WHERE thread_id = ? AND email = ? COLLATE NOCASE AND notify = 1",
                arguments: [threadID, email])
            guard !ids.isEmpty else { return 0 }
            let siteID = try Self.requireThread(db, threadID).siteID
            try db.execute(
                sql: "UPDATE comments SET notify = 0 WHERE thread_id = ? AND email = ? COLLATE NOCASE AND notify = 1",
                arguments: [threadID, email])
            for id in ids {
                try Self.log(db, ModerationLogEntry(commentID: id, siteID: siteID, action: "unsubscribe", actor: .reader, reason: nil, at: at))
            }
            return ids.count
        }
    }

    static func requireThread(_ db: Database, _ id: Int64) throws -> CommentThread {
        guard let thread = try Row.fetchOne(db, sql: "SELECT * FROM threads WHERE id = ?", arguments: [id]).map(CommentThread.init(row:)) else {
            throw CommentsError.storageUnavailable("thread \(id) is missing")
        }
        return thread
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
        var json = JSONWriter(capacity: 16 + strings.count * 32)
        json.strings(strings)
        return String(decoding: json.bytes, as: UTF8.self)
    }

    static func encodeRows(_ rows: [[String]]) -> String {
        let data = (try? JSONEncoder().encode(rows)) ?? Data("[]".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeRows(_ text: String?) -> [[String]] {
        guard let text, let value = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8)) else { return [] }
        return value
    }

    static func decode(_ text: String?) -> [String] {
        guard let text else { return [] }
        if let plain = plainStrings(text) { return plain }
        guard let value = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return [] }
        return value
    }

    /// A JSON array of strings without escapes and without whitespace, as `encode` writes spam
    /// reasons (`["links:3","shouting"]`), read without a decoder; nil for anything else, which
    /// `decode` hands to `JSONDecoder`. Every comment read decoded its reasons: 2 % of the
    /// server's time under the mixed load.
    static func plainStrings(_ text: String) -> [String]? {
        var text = text
        return text.withUTF8 { bytes -> [String]? in
            let (open, close, quote, comma, backslash): (UInt8, UInt8, UInt8, UInt8, UInt8) = (0x5B, 0x5D, 0x22, 0x2C, 0x5C)
            guard bytes.count >= 2, bytes[0] == open, bytes[bytes.count - 1] == close else { return nil }
            var strings: [String] = []
            var index = 1
            let end = bytes.count - 1
            while index < end {
                guard bytes[index] == quote else { return nil }
                let start = index + 1
                var cursor = start
                while cursor < end, bytes[cursor] != quote {
                    // Escapes and control characters (invalid unescaped) go to the real decoder.
                    if bytes[cursor] == backslash || bytes[cursor] < 0x20 { return nil }
                    cursor += 1
                }
                guard cursor < end else { return nil }
                strings.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<cursor]), as: UTF8.self))
                index = cursor + 1
                if index < end {
                    guard bytes[index] == comma, index + 1 < end else { return nil }
                    index += 1
                }
            }
            return strings
        }
    }
}

extension Site {
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
    init(row: Row) {
        self.init(
            id: row["id"], siteID: row["site_id"], uri: row["uri"], title: row["title"], locked: row["locked"],
            createdAt: row["created_at"], version: row["version"])
    }
}

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
    init(row: Row) {
        self.init(
            id: row["id"], kind: OutgoingMail.Kind(rawValue: row["kind"]) ?? .moderation, commentID: row["comment_id"],
            recipients: JSONText.decode(row["recipients"]), subject: row["subject"], body: row["body"],
            headers: JSONText.decodeRows(row["headers"]), messageID: row["message_id"], createdAt: row["created_at"],
            attempts: row["attempts"], nextAttemptAt: row["next_attempt_at"], sentAt: row["sent_at"],
            failedAt: row["failed_at"], lastError: row["last_error"])
    }
}

/// Which changes of the database a cache must drop, for `settingsStamp`, `changeMark` and
/// `markIfUnchanged(threadID:since:at:)`. It watches every commit of the store's writer connection: a
/// commit starts a new epoch (everything cached is doubtful) unless the transaction declared
/// that it wrote new comments only (`markCommentsOnly`, on the hot path), in which case only
/// the threads it named (`noteThreadChanged`) changed. Any commit by another connection
/// (another process, the CLI) starts an epoch too, seen as a change of the writer's own
/// `PRAGMA data_version`, which moves only for commits of other connections; so does a change
/// stamp (`PRAGMA data_version` of the watching connection) that no commit here accounts for.
/// Forgetting to mark a transaction costs a reload, never a stale answer.
///
/// A comments-only commit is visible to readers a moment before `databaseDidCommit` runs. A
/// reader that sees the stamp move in that moment applies the commit's threads itself instead
/// of starting an epoch: the transaction began by accounting for every commit of other
/// connections before it (`markCommentsOnly(_:)`, under the write lock), so while it commits
/// nothing else can have moved the stamp. (Before this, every such reader started an epoch:
/// under a mixed load most new comments emptied every cached thread and the sites.)
///
/// (Not by observing tables: SQLite reports no row changes of `WITHOUT ROWID` tables, which the
/// blocklist is.)
final class ChangeTracker: TransactionObserver, @unchecked Sendable {
    private struct State {
        var epoch: Int64 = 0
        /// Own comment-only commits so far.
        var sequence: Int64 = 0
        /// The commit (sequence) that last changed each thread, within the current epoch.
        var threadChanged: [Int64: Int64] = [:]
        /// The change stamp every commit up to now is accounted for in.
        var knownStamp: Int64?
        /// The writer's `data_version` at its last commit.
        var writerVersion: Int64?
        var commentsOnly = false
        var threadsInTransaction: Set<Int64> = []
        /// The threads of a comments-only commit under way (between the commit hook and
        /// `databaseDidCommit`), and whether a reader already applied them.
        var committing: Set<Int64>?
        var appliedEarly = false

        mutating func newEpoch() {
            epoch += 1
            threadChanged.removeAll(keepingCapacity: true)
        }

        mutating func mark(at current: Int64) -> ChangeMark {
            // data_version only grows on one connection: an older stamp (read before a commit
            // this tracker has already accounted for) hides nothing.
            if knownStamp.map({ current > $0 }) ?? true {
                if let threads = committing, knownStamp != nil {
                    applyCommentsOnly(threads)
                    committing = nil
                    appliedEarly = true
                } else {
                    newEpoch()
                }
                knownStamp = current
            }
            return ChangeMark(epoch: epoch, sequence: sequence)
        }

        /// Records a commit that changed only `threads`.
        mutating func applyCommentsOnly(_ threads: Set<Int64>) {
            sequence += 1
            for thread in threads { threadChanged[thread] = sequence }
        }
    }

    /// More remembered threads than this start a new epoch instead.
    private static let rememberedThreads = 100_000

    private let state = Mutex(State())
    private let watch: ChangeWatch?

    init(watch: ChangeWatch?) {
        self.watch = watch
    }

    /// The epoch for the current change stamp `current`.
    func epoch(at current: Int64) -> Int64 {
        mark(at: current).epoch
    }

    /// Where the history of changes stands at the change stamp `current`.
    func mark(at current: Int64) -> ChangeMark {
        state.withLock { $0.mark(at: current) }
    }

    /// The mark at `current` if thread `threadID` is unchanged since `mark`, else nil.
    func markIfUnchanged(threadID: Int64, since mark: ChangeMark, at current: Int64) -> ChangeMark? {
        state.withLock { state in
            let now = state.mark(at: current)
            return now.epoch == mark.epoch && (state.threadChanged[threadID] ?? 0) <= mark.sequence ? now : nil
        }
    }

    /// Declares, from inside a write transaction of the writer (which holds the write lock), that
    /// it only adds comments (with their threads, log entries and mail) to the threads it names
    /// with `noteThreadChanged`. Commits of other connections before it are accounted for here.
    func markCommentsOnly(_ db: Database) {
        let writerVersion = try? Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
        let current = watch?.stamp(openingIfNeeded: false)
        state.withLock { state in
            state.commentsOnly = true
            // Anything not accounted for yet (another connection's commit, or a stamp that moved
            // unexplained) is dealt with now, so that while this transaction commits a moving
            // stamp can only be its own doing.
            var accounted = false
            if let writerVersion, let current, let known = state.knownStamp, writerVersion == state.writerVersion {
                accounted = current <= known
            }
            if !accounted {
                state.newEpoch()
                state.writerVersion = writerVersion
                state.knownStamp = current
            }
        }
    }

    /// Names a thread the current (comments-only) transaction changes.
    func noteThreadChanged(_ threadID: Int64) {
        _ = state.withLock { $0.threadsInTransaction.insert(threadID) }
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }

    func databaseDidChange(with event: DatabaseEvent) {}

    func databaseWillCommit() throws {
        state.withLock { state in
            if state.commentsOnly { state.committing = state.threadsInTransaction }
        }
    }

    func databaseDidCommit(_ db: Database) {
        // The stamp first, then the writer's version: when the version shows no commit of another
        // connection, none is hidden in the stamp either. Not opening the watch: until someone
        // asks for a stamp there is nothing to keep (and a bulk import needs the file to itself).
        let current = watch?.stamp(openingIfNeeded: false)
        let writerVersion = try? Int64.fetchOne(db, sql: "PRAGMA data_version")
        state.withLock { state in
            if !state.commentsOnly || writerVersion == nil || writerVersion != state.writerVersion
                || state.threadChanged.count + state.threadsInTransaction.count > Self.rememberedThreads {
                state.newEpoch()
            } else if !state.appliedEarly {
                state.applyCommentsOnly(state.threadsInTransaction)
            }
            state.commentsOnly = false
            state.committing = nil
            state.appliedEarly = false
            state.threadsInTransaction.removeAll(keepingCapacity: true)
            state.writerVersion = writerVersion
            state.knownStamp = current
        }
    }

    func databaseDidRollback(_ db: Database) {
        state.withLock { state in
            state.commentsOnly = false
            state.committing = nil
            state.appliedEarly = false
            state.threadsInTransaction.removeAll(keepingCapacity: true)
        }
    }
}

/// A connection of its own that only asks `PRAGMA data_version`: the value changes whenever
/// another connection (the store's writer, the CLI, another process) commits. Opened on first
/// use, so a CLI command that never asks holds no second connection (a bulk import needs to be
/// alone on the file).
///
/// Asking SQLite costs a read transaction (file locks, two `fcntl` calls) behind a lock shared
/// by every request, which profiles showed at 15-20 % of a cached GET. So the watch also keeps
/// the WAL-index header (https://www.sqlite.org/walformat.html) that was current when it last
/// asked: every commit, from any process, rewrites that header with a new change counter, so
/// while both copies of it are unchanged, `data_version` is too, and the stamp is answered
/// from memory. The header is read through SQLite's own mapping of the shared memory (the VFS's
/// `xShmMap`), valid while the watch connection stays open and in WAL mode; anything unusual
/// (no WAL, a header being written) falls back to asking SQLite.
final class ChangeWatch: Sendable {
    /// The database file.
    let path: String
    private let state = Mutex(State())

    /// The watch connection, and what it last saw.
    private struct State: ~Copyable {
        var connection: DatabaseQueue?
        /// The WAL index (its first page) as SQLite maps it for the watch connection.
        var walIndex: UnsafeRawPointer?
        /// The header and the stamp it stood for when SQLite was last asked.
        var header: WALIndexHeader?
        var stamp: Int64?
        /// How often SQLite was asked.
        var asked = 0
    }

    /// How often `stamp` had to ask SQLite since the watch was opened.
    var timesAsked: Int { state.withLock { $0.asked } }

    init(path: String) {
        self.path = path
    }

    /// Closes the connection (`stamp()` would open it again).
    func close() {
        state.withLock { state in
            try? state.connection?.close()
            state = State()
        }
    }

    /// The current stamp; nil when the file cannot be read (or, unless `openingIfNeeded`, when
    /// no stamp was asked for yet).
    func stamp(openingIfNeeded: Bool = true) -> Int64? {
        state.withLock { state -> Int64? in
            if let walIndex = state.walIndex, let header = state.header, WALIndexHeader(reading: walIndex) == header {
                return state.stamp
            }
            if state.connection == nil {
                guard openingIfNeeded else { return nil }
                var watching = Configuration()
                watching.readonly = true
                state.connection = try? DatabaseQueue(path: path, configuration: watching)
            }
            guard let connection = state.connection else { return nil }
            // Read before asking, so the header is never newer than the stamp it stands for.
            let before = state.walIndex.flatMap { WALIndexHeader(reading: $0) }
            state.asked += 1
            // Once mapped, the region stays: while this connection is open the file cannot leave
            // WAL mode (that needs every other connection closed), so it is looked up only once.
            let known = state.walIndex
            let (stamp, walIndex) = (try? connection.inDatabase { db -> (Int64?, UnsafeRawPointer?) in
                let stamp = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
                return (stamp, try known ?? Self.walIndex(db))
            }) ?? (nil, nil)
            let usable = walIndex != nil && walIndex == state.walIndex && stamp != nil
            state.walIndex = walIndex
            state.header = usable ? before : nil
            state.stamp = usable ? stamp : nil
            return stamp
        }
    }

    /// SQLite's mapping of the first page of the WAL index for `db`; nil unless the database is
    /// in WAL mode with shared memory (asking would otherwise make SQLite open it).
    private static func walIndex(_ db: Database) throws -> UnsafeRawPointer? {
        guard try String.fetchOne(db.cachedStatement(sql: "PRAGMA journal_mode")) == "wal" else { return nil }
        var file: UnsafeMutablePointer<sqlite3_file>?
        guard sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK,
              let methods = file?.pointee.pMethods, methods.pointee.iVersion >= 2, let map = methods.pointee.xShmMap
        else { return nil }
        var region: UnsafeMutableRawPointer?
        // Region 0 is 32 KiB; with bExtend 0 SQLite only hands out what it has mapped already.
        guard map(file, 0, 32768, 0, &region) == SQLITE_OK, let region else { return nil }
        return UnsafeRawPointer(region)
    }
}

/// The WAL-index header: SQLite keeps two copies (48 bytes each, at offsets 0 and 48) and
/// writes the second, then the first; they differ only while a commit is rewriting them.
struct WALIndexHeader: Equatable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)

    /// Both copies at `index`; nil while they differ (a commit is rewriting them).
    init?(reading index: UnsafeRawPointer) {
        func copy(_ offset: Int) -> (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) {
            (index.load(fromByteOffset: offset, as: UInt64.self), index.load(fromByteOffset: offset + 8, as: UInt64.self),
             index.load(fromByteOffset: offset + 16, as: UInt64.self), index.load(fromByteOffset: offset + 24, as: UInt64.self),
             index.load(fromByteOffset: offset + 32, as: UInt64.self), index.load(fromByteOffset: offset + 40, as: UInt64.self))
        }
        let first = copy(0), second = copy(48)
        guard first == second else { return nil }
        words = first
    }

    static func == (lhs: Self, rhs: Self) -> Bool { lhs.words == rhs.words }
}
