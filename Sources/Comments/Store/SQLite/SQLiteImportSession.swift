import Foundation
import GRDB

/// The database side of one `Importer` run on SQLite: the state of one running import (inside
/// its transaction), and the SQL that writes each prepared record.
struct SQLiteImportSession {
    let db: Database
    let options: Importer.Options
    let now: Int64
    let progress: (@Sendable (Int) -> Void)?
    var summary = ImportSummary()
    /// Thread key → normalised, remapped path (nil when the thread cannot be placed).
    var threadPaths: [String: String?] = [:]
    var threadTitles: [String: String] = [:]
    var threadCreated: [String: Int64] = [:]
    var threadLocked: [String: Bool] = [:]
    /// Path → thread row id, for threads used so far.
    var threadIDs: [String: Int64] = [:]
    /// Thread id → whether its path is a query-keyed legacy address (`/?p=198`).
    var legacyThreads: [Int64: Bool] = [:]
    /// What a dropped duplicate's key maps to: the comment kept in its place.
    var aliases: [String: Int64] = [:]
    /// The posts kept so far, by fingerprint.
    var fingerprints = KeptPosts()
    var postsRead = 0
    /// Threads that lost or gained an already stored comment (a duplicate kept on a better path).
    var movedBetween: Set<Int64> = []
    /// Every comment this import adds has an id at least this.
    var firstNewID: Int64 = 1
    /// Every thread this import creates has an id at least this.
    var firstNewThreadID: Int64 = 1

    init(db: Database, options: Importer.Options, now: Int64, progress: (@Sendable (Int) -> Void)?) {
        self.db = db
        self.options = options
        self.now = now
        self.progress = progress
    }

    /// Runs one import into `store` in ONE write transaction (rolled back for a dry run): the
    /// events `produce` feeds arrive through an `ImportPipe`, prepared on the reader's thread.
    /// When the import is at least as large as what the site already stores (`expectedPosts`,
    /// or always into an empty table) the secondary indexes are rebuilt once at the end instead
    /// of row by row, and, when nothing else has the file open, the data is written once with a
    /// rollback journal instead of twice through the WAL (see `BulkJournal`).
    static func run(
        in store: SQLiteStore,
        _ options: Importer.Options,
        now: Int64,
        expectedPosts: Int,
        progress: (@Sendable (Int) -> Void)?,
        produce: @escaping @Sendable (_ skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws -> Void
    ) async throws -> ImportSummary {
        try await store.writer.writeWithoutTransaction { db -> ImportSummary in
            var result = ImportSummary()
            // A bigger page cache for the one long transaction: what indexes stay are updated in
            // key order, not insertion order, and misses dominate otherwise (about 48 MB).
            let previousCache = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -49152")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(previousCache)") }
            let bulkLoad = (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments") ?? 0) <= expectedPosts
            let leftWAL = bulkLoad && BulkJournal.leaveWAL(db)
            defer { if leftWAL { BulkJournal.returnToWAL(db) } }
            let pipe = ImportPipe()
            var readerStarted = false
            do {
                try db.inTransaction {
                    if let seed = options.seedSite, seed.id == options.siteID {
                        _ = try SQLiteStore.insertSiteIfNoneExist(seed, db)
                    }
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [options.siteID]) == true else {
                        throw CommentsError.siteNotFound(options.siteID)
                    }
                    try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_parents (comment_id INTEGER PRIMARY KEY, parent_key TEXT NOT NULL)")
                    try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_aliases (key TEXT PRIMARY KEY, comment_id INTEGER NOT NULL) WITHOUT ROWID")
                    var bulk = try BulkLoad.suspend(db, dropIndexes: bulkLoad, keep: ["comments_by_origin"])
                    var session = SQLiteImportSession(db: db, options: options, now: now, progress: progress)
                    session.firstNewID = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM comments") ?? 0) + 1
                    session.firstNewThreadID = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM threads") ?? 0) + 1
                    session.fingerprints.reserve(min(expectedPosts, 4_000_000))
                    pipe.startReader(skipInvalid: options.skipInvalid, produce: produce)
                    readerStarted = true
                    while let batch = try pipe.pop() {
                        for event in batch { try session.handle(event) }
                    }
                    // Duplicates can only be found while reading; their memory is the sort's now.
                    session.fingerprints = KeptPosts()
                    try session.linkParents()
                    try bulk.restoreIndexes(db)
                    try session.finish()
                    try bulk.restoreTriggers(db)
                    try session.bumpThreadVersions()
                    result = session.summary
                    return options.dryRun ? .rollback : .commit
                }
            } catch {
                if readerStarted { pipe.cancelAndWait() }
                throw error
            }
            return result
        }
    }

    var prefix: String { options.source.rawValue + ":" }

    mutating func handle(_ event: PreparedEvent) throws {
        switch event {
        case .thread(let thread):
            threadPaths[thread.key] = try options.path(for: thread)
            if let title = thread.title, !title.isEmpty { threadTitles[thread.key] = title }
            if let created = thread.createdAt { threadCreated[thread.key] = created }
            threadLocked[thread.key] = thread.isClosed
        case .post(let post):
            postsRead += 1
            if postsRead % 10_000 == 0 { progress?(postsRead) }
            try insert(post)
        case .skipped(let reason):
            summary.skip(reason)
        }
    }

    mutating func threadID(for key: String) throws -> Int64? {
        guard let entry = threadPaths[key], let path = entry else { return nil }
        if let id = threadIDs[path] { return id }
        if let id = try Int64.fetchOne(db, sql: "SELECT id FROM threads WHERE site_id = ? AND uri = ?", arguments: [options.siteID, path]) {
            threadIDs[path] = id
            legacyThreads[id] = path.contains("?")
            if let title = threadTitles[key] {
                try db.execute(sql: "UPDATE threads SET title = ? WHERE id = ? AND title IS NULL", arguments: [title, id])
            }
            return id
        }
        try db.execute(
            sql: "INSERT INTO threads (site_id, uri, title, locked, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [options.siteID, path, threadTitles[key], threadLocked[key] ?? false, threadCreated[key] ?? now])
        let id = db.lastInsertedRowID
        threadIDs[path] = id
        legacyThreads[id] = path.contains("?")
        return id
    }

    mutating func insert(_ prepared: PreparedPost) throws {
        let post = prepared.post
        guard !post.key.isEmpty else { summary.skip("post without id"); return }
        guard let threadID = try threadID(for: post.threadKey) else {
            summary.skip(threadPaths[post.threadKey] == nil ? "post of an unknown thread" : "thread without a usable link")
            return
        }
        let created = post.createdAt ?? threadCreated[post.threadKey] ?? now
        // The same comment twice (a blog that moved has each post under two thread addresses):
        // keep one, preferring the copy on a real path over a query-keyed legacy address.
        let fingerprint = prepared.fingerprint ?? Digest.of(author: post.authorName, created: created, html: post.html)
        let isLegacy = legacyThreads[threadID] ?? false
        if let kept = fingerprints[fingerprint] {
            if kept.legacy && !isLegacy {
                if let previous = try Int64.fetchOne(db, sql: "SELECT thread_id FROM comments WHERE id = ?", arguments: [kept.id]) {
                    movedBetween.insert(previous)
                }
                movedBetween.insert(threadID)
                try db.execute(sql: "UPDATE comments SET thread_id = ? WHERE id = ?", arguments: [threadID, kept.id])
                fingerprints[fingerprint] = (kept.id, legacy: false)
            }
            aliases[post.key] = kept.id
            summary.duplicatesDropped += 1
            return
        }
        let origin = prefix + post.key
        let status: CommentStatus = switch post.status {
        case .approved: .approved
        case .pending: .pending
        case .spam: .spam
        case .deleted: .deleted
        }
        // Parents usually come first: link them now, which spares rewriting the reply later.
        var parentID: Int64?
        var parentLater = false
        if let parent = post.parentKey, !parent.isEmpty {
            if let found = try storedComment(key: parent) {
                if found.thread == threadID {
                    parentID = found.id
                } else {
                    summary.skip("parent missing (kept as top-level)")
                }
            } else {
                parentLater = true
            }
        }
        // Cached statements: preparing a million inserts again would cost more than running them.
        let insertComment = try db.cachedStatement(sql: """
            INSERT INTO comments (site_id, thread_id, parent_id, status, author, email, website, body, html, created_at,
                ip, likes, dislikes, origin)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (site_id, origin) WHERE origin IS NOT NULL DO NOTHING
            """)
        try insertComment.execute(
            arguments: [
                options.siteID, threadID, parentID, status.rawValue, prepared.author,
                prepared.email, prepared.website, prepared.body, prepared.html, created,
                prepared.ip, max(0, post.likes), max(0, post.dislikes), origin,
            ])
        guard db.changesCount > 0 else {
            // Later copies of it in this file are still duplicates of the stored one.
            if let existing = try commentWithOrigin(key: post.key) {
                summary.skip(existing.id >= firstNewID ? "id repeated in the file" : "already imported")
                if fingerprints[fingerprint] == nil {
                    fingerprints[fingerprint] = (existing.id, legacy: existing.thread == threadID ? isLegacy : false)
                }
            }
            return
        }
        let id = db.lastInsertedRowID
        if fingerprints[fingerprint] == nil { fingerprints[fingerprint] = (id, legacy: isLegacy) }
        if parentID != nil { summary.replies += 1 }
        if parentLater, let parent = post.parentKey {
            try db.cachedStatement(sql: "INSERT INTO temp.import_parents (comment_id, parent_key) VALUES (?, ?)")
                .execute(arguments: [id, parent])
        }
        summary.comments += 1
        switch status {
        case .spam: summary.spam += 1
        case .pending: summary.pending += 1
        default: break
        }
    }

    /// The comment stored under an export key, by this import or an earlier one.
    func commentWithOrigin(key: String) throws -> (id: Int64, thread: Int64)? {
        let byOrigin = try db.cachedStatement(sql: "SELECT id, thread_id FROM comments WHERE site_id = ? AND origin = ?")
        return try Row.fetchOne(byOrigin, arguments: [options.siteID, prefix + key]).map { ($0[0], $0[1]) }
    }

    /// The comment an export key names: stored under it, or kept in place of a dropped duplicate.
    func storedComment(key: String) throws -> (id: Int64, thread: Int64)? {
        if let stored = try commentWithOrigin(key: key) { return stored }
        guard let kept = aliases[key] else { return nil }
        let byID = try db.cachedStatement(sql: "SELECT thread_id FROM comments WHERE id = ?")
        return try Int64.fetchOne(byID, arguments: [kept]).map { (kept, $0) }
    }

    /// duplicate moved to another thread, and counts both.
    mutating func linkParents() throws {
        // Keys of dropped duplicates point at the comment that was kept.
        for (alias, kept) in aliases {
            try db.execute(sql: "INSERT OR REPLACE INTO temp.import_aliases (key, comment_id) VALUES (?, ?)", arguments: [alias, kept])
        }
        try db.execute(
            sql: """
            UPDATE comments SET parent_id = (
                SELECT p.id FROM temp.import_parents ip JOIN comments p
                    ON p.id = COALESCE(
                        (SELECT o.id FROM comments o WHERE o.site_id = comments.site_id AND o.origin = ? || ip.parent_key),
                        (SELECT a.comment_id FROM temp.import_aliases a WHERE a.key = ip.parent_key))
                WHERE ip.comment_id = comments.id AND p.thread_id = comments.thread_id AND p.id != comments.id
            )
            WHERE id IN (SELECT comment_id FROM temp.import_parents)
            """,
            arguments: [prefix])
        let missing = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM temp.import_parents ip JOIN comments c ON c.id = ip.comment_id WHERE c.parent_id IS NULL
            """) ?? 0
        if missing > 0 { summary.skip("parent missing (kept as top-level)", missing) }
        summary.replies += try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM temp.import_parents ip JOIN comments c ON c.id = ip.comment_id WHERE c.parent_id IS NOT NULL
            """) ?? 0
        guard !movedBetween.isEmpty else { return }
        // A reply whose parent was moved to a better copy of the thread, while it stayed behind.
        let moved = movedBetween.map(String.init).joined(separator: ",")
        try db.execute(
            sql: """
            UPDATE comments SET parent_id = NULL
            WHERE parent_id IS NOT NULL AND (id >= ? OR thread_id IN (\(moved)))
            AND thread_id != (SELECT p.thread_id FROM comments p WHERE p.id = comments.parent_id)
            """,
            arguments: [firstNewID])
        if db.changesCount > 0 {
            summary.skip("parent missing (kept as top-level)", db.changesCount)
            summary.replies -= db.changesCount
        }
    }

    /// Turns deleted posts without replies into nothing, drops threads left empty, and counts.
    mutating func finish() throws {
        // Deleted posts matter only as the place their replies hang from. (`site_id` and `status`
        // lead an index: no pass here reads the whole table.)
        var removed = 0
        while true {
            try db.execute(
                sql: """
                DELETE FROM comments WHERE site_id = ? AND status = 'deleted' AND id >= ?
                AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id)
                """,
                arguments: [options.siteID, firstNewID])
            if db.changesCount == 0 { break }
            removed += db.changesCount
        }
        if removed > 0 {
            summary.skip("deleted without replies", removed)
            summary.comments -= removed
        }
        summary.tombstones = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM comments WHERE site_id = ? AND status = 'deleted' AND id >= ?",
            arguments: [options.siteID, firstNewID]) ?? 0
        // Threads that lost every comment to a better copy elsewhere are not kept.
        try db.execute(
            sql: "DELETE FROM threads WHERE id >= ? AND NOT EXISTS (SELECT 1 FROM comments WHERE thread_id = threads.id)",
            arguments: [firstNewThreadID])
        summary.threads = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM threads WHERE id >= ?", arguments: [firstNewThreadID]) ?? 0
        try db.execute(sql: "DELETE FROM temp.import_parents")
        try db.execute(sql: "DELETE FROM temp.import_aliases")
    }

    /// Marks every thread this import changed as changed, once (the per-row triggers were off),
    /// so cached copies of it are served no more.
    func bumpThreadVersions() throws {
        let bump = try db.cachedStatement(sql: "UPDATE threads SET version = version + 1 WHERE id = ?")
        for thread in Set(threadIDs.values).union(movedBetween) {
            try bump.execute(arguments: [thread])
        }
    }
}
