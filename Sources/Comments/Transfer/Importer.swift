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
    public func run(
        _ options: Options,
        progress: (@Sendable (Int) -> Void)? = nil,
        produce: @escaping @Sendable (_ skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws -> Void
    ) async throws -> ImportSummary {
        let started = Date()
        let now = clock.nowMillis()
        var summary = try await store.writer.writeWithoutTransaction { db -> ImportSummary in
            var result = ImportSummary()
            // A bigger page cache for the one long transaction: the comment indexes are updated in
            // thread order, not insertion order, and misses dominate otherwise (about 48 MB).
            let previousCache = try Int.fetchOne(db, sql: "PRAGMA cache_size") ?? -2000
            try db.execute(sql: "PRAGMA cache_size = -49152")
            defer { try? db.execute(sql: "PRAGMA cache_size = \(previousCache)") }
            try db.inTransaction {
                guard try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [options.siteID]) == true else {
                    throw CommentsError.siteNotFound(options.siteID)
                }
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_parents (comment_id INTEGER PRIMARY KEY, parent_key TEXT NOT NULL)")
                try db.execute(sql: "CREATE TEMP TABLE IF NOT EXISTS import_aliases (key TEXT PRIMARY KEY, comment_id INTEGER NOT NULL) WITHOUT ROWID")
                var session = ImportSession(db: db, options: options, now: now, progress: progress)
                session.firstNewID = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM comments") ?? 0) + 1
                session.firstNewThreadID = (try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM threads") ?? 0) + 1
                try produce(options.skipInvalid) { event in try session.handle(event) }
                try session.finish()
                result = session.summary
                return options.dryRun ? .rollback : .commit
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
    /// What a dropped duplicate's key maps to (fingerprints themselves are in a temporary table).

    /// Thread id → whether its path is a query-keyed legacy address (`/?p=198`).
    var legacyThreads: [Int64: Bool] = [:]
    var aliases: [String: Int64] = [:]
    /// 128-bit digests of (author, time, message) of the posts kept so far: a million posts
    /// cost about 40 MB here, far less than their text.
    var fingerprints: [Digest: (id: Int64, legacy: Bool)] = [:]
    var postsRead = 0
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

    mutating func handle(_ event: ImportEvent) throws {
        switch event {
        case .thread(let thread):
            threadPaths[thread.key] = path(for: thread)
            if let title = thread.title, !title.isEmpty { threadTitles[thread.key] = title }
            if let created = thread.createdAt { threadCreated[thread.key] = created }
            threadLocked[thread.key] = thread.isClosed
        case .post(let post):
            postsRead += 1
            if postsRead % 10_000 == 0 { progress?(postsRead) }
            try insert(post)
        case .skipped(let reason, _):
            summary.skip(reason)
        }
    }

    /// The thread's page path: from its link, unless that points at disqus.com or is empty,
    /// then from an identifier that looks like a path or URL.
    func path(for thread: ImportedThread) -> String? {
        var candidates: [String] = []
        if let link = thread.link?.trimmingCharacters(in: .whitespacesAndNewlines), !link.isEmpty,
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
        return options.rules.apply(path)
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

    mutating func insert(_ post: ImportedPost) throws {
        guard !post.key.isEmpty else { summary.skip("post without id"); return }
        guard let threadID = try threadID(for: post.threadKey) else {
            summary.skip(threadPaths[post.threadKey] == nil ? "post of an unknown thread" : "thread without a usable link")
            return
        }
        let created = post.createdAt ?? threadCreated[post.threadKey] ?? now
        // The same comment twice (a blog that moved has each post under two thread addresses):
        // keep one, preferring the copy on a real path over a query-keyed legacy address.
        let fingerprint = Digest("\(post.authorName ?? "")|\(created)|\(post.html)")
        let isLegacy = legacyThreads[threadID] ?? false
        if let kept = fingerprints[fingerprint] {
            if kept.legacy && !isLegacy {
                try db.execute(sql: "UPDATE comments SET thread_id = ? WHERE id = ?", arguments: [threadID, kept.id])
                fingerprints[fingerprint] = (kept.id, false)
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
        let deleted = status == .deleted
        let html = deleted ? "" : HTMLSanitizer.sanitize(post.html)
        let body = deleted ? "" : HTMLSanitizer.plainText(post.html)
        // Cached statements: preparing a million inserts again would cost more than running them.
        let insertComment = try db.cachedStatement(sql: """
            INSERT INTO comments (site_id, thread_id, parent_id, status, author, email, website, body, html, created_at,
                ip, likes, dislikes, origin)
            VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (site_id, origin) WHERE origin IS NOT NULL DO NOTHING
            """)
        try insertComment.execute(
            arguments: [
                options.siteID, threadID, status.rawValue, deleted ? nil : nonEmpty(post.authorName),
                deleted ? nil : nonEmpty(post.authorEmail), deleted ? nil : website(post.authorURL), body, html, created,
                deleted ? nil : post.ip.flatMap(IPAnonymizer.anonymize), max(0, post.likes), max(0, post.dislikes), origin,
            ])
        guard db.changesCount > 0 else {
            // Later copies of it in this file are still duplicates of the stored one.
            if let existing = try Row.fetchOne(
                db, sql: "SELECT id, thread_id FROM comments WHERE site_id = ? AND origin = ?", arguments: [options.siteID, origin]) {
                let existingID: Int64 = existing["id"], existingThread: Int64 = existing["thread_id"]
                summary.skip(existingID >= firstNewID ? "id repeated in the file" : "already imported")
                if fingerprints[fingerprint] == nil {
                    fingerprints[fingerprint] = (existingID, existingThread == threadID ? isLegacy : false)
                }
            }
            return
        }
        let id = db.lastInsertedRowID
        if fingerprints[fingerprint] == nil { fingerprints[fingerprint] = (id, isLegacy) }
        if let parent = post.parentKey, !parent.isEmpty {
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

    func nonEmpty(_ text: String?) -> String? {
        guard let text = text?.trimmingCharacters(in: .whitespacesAndNewlines), !text.isEmpty else { return nil }
        return text
    }

    func website(_ url: String?) -> String? {
        guard let url = nonEmpty(url) else { return nil }
        return (try? FieldRules.website(url)) ?? nil
    }

    /// Links replies to parents (which may have come later), turns deleted posts without
    /// replies into nothing, and counts what the links produced.
    mutating func finish() throws {
        // Keys of dropped duplicates point at the comment that was kept.
        for (alias, kept) in aliases {
            try db.execute(sql: "INSERT OR REPLACE INTO temp.import_aliases (key, comment_id) VALUES (?, ?)", arguments: [alias, kept])
        }
        let prefixed = prefix
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
            arguments: [prefixed])
        let missing = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM temp.import_parents ip JOIN comments c ON c.id = ip.comment_id WHERE c.parent_id IS NULL
            """) ?? 0
        if missing > 0 { summary.skip("parent missing (kept as top-level)", missing) }
        summary.replies = try Int.fetchOne(db, sql: """
            SELECT COUNT(*) FROM temp.import_parents ip JOIN comments c ON c.id = ip.comment_id WHERE c.parent_id IS NOT NULL
            """) ?? 0
        // Deleted posts matter only as the place their replies hang from.
        var removed = 0
        while true {
            try db.execute(
                sql: """
                DELETE FROM comments WHERE id >= ? AND status = 'deleted'
                AND NOT EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = comments.id)
                """,
                arguments: [firstNewID])
            if db.changesCount == 0 { break }
            removed += db.changesCount
        }
        if removed > 0 {
            summary.skip("deleted without replies", removed)
            summary.comments -= removed
        }
        summary.tombstones = try Int.fetchOne(
            db, sql: "SELECT COUNT(*) FROM comments WHERE id >= ? AND status = 'deleted'", arguments: [firstNewID]) ?? 0
        // Threads that lost every comment to a better copy elsewhere are not kept.
        try db.execute(
            sql: "DELETE FROM threads WHERE id >= ? AND NOT EXISTS (SELECT 1 FROM comments WHERE thread_id = threads.id)",
            arguments: [firstNewThreadID])
        summary.threads = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM threads WHERE id >= ?", arguments: [firstNewThreadID]) ?? 0
        try db.execute(sql: "DELETE FROM temp.import_parents")
        try db.execute(sql: "DELETE FROM temp.import_aliases")
    }
}

/// The first 128 bits of a SHA-256: enough to tell posts apart without keeping their text.
struct Digest: Hashable {
    let high: UInt64
    let low: UInt64

    init(_ text: String) {
        let bytes = Array(SHA256.hash(data: Array(text.utf8)))
        high = bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
        low = bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
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
        return try await run(options, progress: progress) { skipInvalid, handle in
            try source.read(url, skipInvalid: skipInvalid, handle)
        }
    }
}
