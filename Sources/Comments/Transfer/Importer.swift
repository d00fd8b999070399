import Crypto
import Foundation
import GRDB

/// What an import did, for people and (as JSON) for scripts.
public struct ImportSummary: Sendable, Codable, Equatable {
    public var threads = 0
    public var comments = 0
    public var replies = 0
    public var tombstones = 0
    public var spam = 0
    public var pending = 0
    public var duplicatesDropped = 0
    /// Records not imported, counted by reason.
    public var skipped: [String: Int] = [:]
    public var seconds = 0.0
    public var dryRun = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case threads, comments, replies, tombstones, spam, pending, skipped, seconds
        case duplicatesDropped = "duplicates_dropped"
        case dryRun = "dry_run"
    }

    mutating func skip(_ reason: String, _ count: Int = 1) {
        skipped[reason, default: 0] += count
    }
}

/// Where the records come from, which names their provenance (`disqus:123`).
public enum ImportSource: String, Sendable, CaseIterable {
    case disqus, wordpress, isso
}

/// Streams records from a reader into the store in ONE transaction: a malformed file leaves the
/// database exactly as it was. Threads merge by normalised (and remapped) path, exact duplicate
/// posts are dropped, parents may come after their children, deleted posts with replies stay as
/// tombstones, and every comment remembers its origin so running the same import again adds nothing.
public struct Importer: Sendable {
    public let store: SQLiteStore
    public let clock: any MarginClock

    public init(store: SQLiteStore, clock: any MarginClock = SystemClock()) {
        self.store = store
        self.clock = clock
    }

    /// Options of one import.
    public struct Options: Sendable {
        public var siteID: String
        public var source: ImportSource
        public var rules: RemapRules
        public var dryRun: Bool
        public var skipInvalid: Bool

        public init(siteID: String, source: ImportSource, rules: RemapRules = RemapRules(), dryRun: Bool = false, skipInvalid: Bool = false) {
            self.siteID = siteID
            self.source = source
            self.rules = rules
            self.dryRun = dryRun
            self.skipInvalid = skipInvalid
        }
    }

    /// Runs `produce`, which feeds events to the handler it is given (a reader's `read`), inside
    /// one write transaction. `progress` is called now and then with the number of posts read.
    ///
    /// The reader parses and sanitises on its own thread while this one writes. When the import
    /// is at least as large as what the site already stores (`expectedPosts`, or always into an
    /// empty table) the secondary indexes are rebuilt once at the end instead of row by row, and,
    /// when nothing else has the file open, the data is written once with a rollback journal
    /// instead of twice through the WAL (see `BulkJournal`).
    public func run(
        _ options: Options,
        expectedPosts: Int = 0,
        progress: (@Sendable (Int) -> Void)? = nil,
        produce: @escaping @Sendable (_ skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws -> Void
    ) async throws -> ImportSummary {
        let started = Date()
        let now = clock.nowMillis()
        var summary = try await store.writer.writeWithoutTransaction { db -> ImportSummary in
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
                    guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [options.siteID]) == true else {
                        throw CommentsError.siteNotFound(options.siteID)
                    }
                    try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_parents (comment_id INTEGER PRIMARY KEY, parent_key TEXT NOT NULL)")
                    try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_aliases (key TEXT PRIMARY KEY, comment_id INTEGER NOT NULL) WITHOUT ROWID")
                    var bulk = try BulkLoad.suspend(db, dropIndexes: bulkLoad, keep: ["comments_by_origin"])
                    var session = ImportSession(db: db, options: options, now: now, progress: progress)
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
        summary.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        summary.dryRun = options.dryRun
        return summary
    }
}

/// The state of one running import (inside its transaction).
struct ImportSession {
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

    var prefix: String { options.source.rawValue + ":" }

    mutating func handle(_ event: PreparedEvent) throws {
        switch event {
        case .thread(let thread):
            threadPaths[thread.key] = try path(for: thread)
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

    /// The thread's page path: from its link, unless that points at disqus.com or is empty,
    /// then from an identifier that looks like a path or URL.
    func path(for thread: ImportedThread) throws -> String? {
        var candidates: [String] = []
        if let link = thread.link?.trimmingWhiteSpace(), !link.isEmpty,
           !(URLHost.of(link)?.hasSuffix("disqus.com") ?? false) {
            candidates.append(link)
        }
        candidates += thread.identifiers.filter { $0.hasPrefix("/") || $0.hasPrefix("http://") || $0.hasPrefix("https://") }
        if candidates.isEmpty, options.source == .wordpress, Int(thread.key) != nil {
            // WordPress's own address for a post when the export gives no permalink.
            candidates.append("/?p=\(thread.key)")
        }
        guard let first = candidates.first, var path = ThreadURI.normalize(first) else { return nil }
        // A site root with a query (`/?p=198`, WordPress before pretty links) names a post, not the
        // home page: keep the query, or every such thread would collapse into `/`.
        if path == "/", let query = first.split(separator: "?", maxSplits: 1).dropFirst().first?.split(separator: "#").first, !query.isEmpty {
            path = "/?" + query
        }
        return try options.rules.apply(path)
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

    static func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingWhiteSpace(), !text.isEmpty else { return nil }
        return text
    }

    static func website(_ url: String?) -> String? {
        guard let url = nonEmpty(url) else { return nil }
        return (try? FieldRules.website(url)) ?? nil
    }

    /// Links replies whose parents came later in the file, unlinks replies whose parent a
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

/// The first 64 bits of a SHA-256 of a post's author, time and message: enough to tell a
/// million posts apart (a false match is about one in ten million) without keeping their text.
struct Digest: Hashable, Sendable {
    let value: UInt64

    /// The fingerprint of a post: who, when, what.
    static func of(author: String?, created: Int64, html: String) -> Digest {
        Digest("\(author ?? "")|\(created)|\(html)")
    }

    init(_ text: String) {
        value = SHA256.hash(data: Array(text.utf8)).withUnsafeBytes { bytes in
            bytes.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
    }
}

/// Fingerprint → the comment kept for it and whether it sits on a legacy address, packed in
/// one integer: a million posts cost about 32 MB here.
struct KeptPosts {
    private var entries: [UInt64: Int64] = [:]

    subscript(fingerprint: Digest) -> (id: Int64, legacy: Bool)? {
        get { entries[fingerprint.value].map { ($0 >> 1, $0 & 1 == 1) } }
        set { entries[fingerprint.value] = newValue.map { $0.id << 1 | ($0.legacy ? 1 : 0) } }
    }

    /// Makes room for `count` posts at once, instead of growing (and briefly doubling) as they come.
    mutating func reserve(_ count: Int) {
        entries.reserveCapacity(count)
    }
}

extension ImportSource {
    /// Streams the file at `url` through this format's reader.
    public func read(_ url: URL, skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws {
        switch self {
        case .disqus: try DisqusReader(url: url).read(skipInvalid: skipInvalid, handle)
        case .wordpress: try WXRReader(url: url).read(skipInvalid: skipInvalid, handle)
        case .isso: try IssoReader(path: url.path).read(skipInvalid: skipInvalid, handle)
        }
    }
}

extension Importer {
    /// Imports the file at `url`, read with the reader of `options.source`.
    public func run(_ options: Options, file url: URL, progress: (@Sendable (Int) -> Void)? = nil) async throws -> ImportSummary {
        let source = options.source
        // About a kilobyte per post in real exports; only decides whether to rebuild indexes.
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        return try await run(options, expectedPosts: size / 1000, progress: progress) { skipInvalid, handle in
            try source.read(url, skipInvalid: skipInvalid, handle)
        }
    }
}
