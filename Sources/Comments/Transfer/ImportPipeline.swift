import Foundation
import GRDB

/// A post with the work that needs no database already done: sanitised HTML, plain text, the
/// duplicate fingerprint, the anonymised IP, the trimmed author and the checked website.
struct PreparedPost: Sendable {
    var post: ImportedPost
    var html: String
    var body: String
    /// Nil when the post has no date of its own (the thread's date, known only in order, stands in).
    var fingerprint: Digest?
    var ip: String?
    var website: String?
    var author: String?
    var email: String?

    init(_ post: ImportedPost) {
        self.post = post
        let deleted = post.status == .deleted
        (html, body) = deleted ? ("", "") : HTMLSanitizer.sanitizeWithPlainText(post.html)
        fingerprint = post.createdAt.map { Digest.of(author: post.authorName, created: $0, html: post.html) }
        ip = deleted ? nil : post.ip.flatMap(IPAnonymizer.anonymize)
        website = deleted ? nil : ImportSession.website(post.authorURL)
        author = deleted ? nil : ImportSession.nonEmpty(post.authorName)
        email = deleted ? nil : ImportSession.nonEmpty(post.authorEmail)
    }
}

/// One record for the database side of an import.
enum PreparedEvent: Sendable {
    case thread(ImportedThread)
    case post(PreparedPost)
    case skipped(reason: String)
}

/// A bounded hand-over from the thread that parses and sanitises to the one that writes, so the
/// two run on two cores while memory stays flat (at most `capacity` batches wait).
final class ImportPipe: @unchecked Sendable {
    /// Thrown into the reader when the writer has given up.
    struct Cancelled: Error {}

    private let condition = NSCondition()
    private var batches: [[PreparedEvent]] = []
    /// The reader has returned: no batch will follow.
    private var finished = false
    private var failure: (any Error)?
    private var cancelled = false
    private let capacity: Int

    init(capacity: Int = 8) {
        self.capacity = capacity
    }

    /// Reader side: waits while the pipe is full; throws `Cancelled` once the writer gave up.
    func push(_ batch: [PreparedEvent]) throws {
        condition.lock()
        defer { condition.unlock() }
        while batches.count >= capacity && !cancelled { condition.wait() }
        if cancelled { throw Cancelled() }
        batches.append(batch)
        condition.broadcast()
    }

    /// Reader side: no more batches; `error` is what stopped the reader, if anything.
    func close(error: (any Error)?) {
        condition.lock()
        finished = true
        if failure == nil, !(error is Cancelled) { failure = error }
        condition.broadcast()
        condition.unlock()
    }

    /// Writer side: the next batch, nil at the end; rethrows the reader's error.
    func pop() throws -> [PreparedEvent]? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        if !batches.isEmpty {
            let batch = batches.removeFirst()
            condition.broadcast()
            return batch
        }
        if let failure { throw failure }
        return nil
    }

    /// Writer side: stops the reader and waits until it has returned, so nothing outlives the
    /// transaction.
    func cancelAndWait() {
        condition.lock()
        cancelled = true
        batches.removeAll()
        condition.broadcast()
        while !finished { condition.wait() }
        condition.unlock()
    }

    /// Runs `produce` on its own thread, preparing each event and pushing them in batches.
    func startReader(
        skipInvalid: Bool,
        produce: @escaping @Sendable (_ skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws -> Void
    ) {
        let thread = Thread { [self] in
            var batch: [PreparedEvent] = []
            batch.reserveCapacity(Self.batchSize)
            do {
                try produce(skipInvalid) { event in
                    switch event {
                    case .thread(let thread): batch.append(.thread(thread))
                    case .post(let post): batch.append(.post(PreparedPost(post)))
                    case .skipped(let reason, _): batch.append(.skipped(reason: reason))
                    }
                    if batch.count >= Self.batchSize {
                        try push(batch)
                        batch.removeAll(keepingCapacity: true)
                    }
                }
                if !batch.isEmpty { try push(batch) }
                close(error: nil)
            } catch {
                close(error: error)
            }
        }
        // libxml2 and the sanitiser recurse little, but a hostile file should not meet a small stack.
        thread.stackSize = 8 << 20
        thread.start()
    }

    static let batchSize = 256
}

/// The secondary indexes and triggers of `comments`, set aside during a bulk load and rebuilt
/// from their own stored SQL afterwards, all inside the load's transaction (readers never see
/// the table without them).
///
/// Building an index once from sorted data is several times faster than keeping six indexes up
/// to date row by row once they outgrow the page cache, and the per-row thread-version trigger
/// doubles the writes; the loader bumps each touched thread once instead.
struct BulkLoad {
    /// `CREATE …` statements of what was dropped, indexes first.
    private(set) var indexes: [String] = []
    private(set) var triggers: [String] = []

    /// Drops the triggers on `comments`, and its secondary indexes too when `dropIndexes`
    /// (worth it when the load is large next to what is stored); `keep` names indexes the load
    /// itself needs.
    static func suspend(_ db: Database, dropIndexes: Bool, keep: Set<String>) throws -> BulkLoad {
        var load = BulkLoad()
        let rows = try Row.fetchAll(db, sql: """
            SELECT type, name, sql FROM sqlite_master
            WHERE tbl_name = 'comments' AND type IN ('index', 'trigger') AND sql IS NOT NULL
            ORDER BY rowid
            """)
        for row in rows {
            let type: String = row["type"], name: String = row["name"], sql: String = row["sql"]
            if type == "trigger" {
                try db.execute(sql: "DROP TRIGGER \(name.quotedDatabaseIdentifier)")
                load.triggers.append(sql)
            } else if dropIndexes && !keep.contains(name) {
                try db.execute(sql: "DROP INDEX \(name.quotedDatabaseIdentifier)")
                load.indexes.append(sql)
            }
        }
        return load
    }

    /// Rebuilds the dropped indexes.
    mutating func restoreIndexes(_ db: Database) throws {
        for sql in indexes { try db.execute(sql: sql) }
        indexes = []
    }

    /// Recreates the dropped triggers.
    mutating func restoreTriggers(_ db: Database) throws {
        for sql in triggers { try db.execute(sql: sql) }
        triggers = []
    }
}

/// A bulk import alone on its file writes through a rollback journal rather than the WAL. In WAL
/// mode every page goes to the WAL and is copied again into the database by the checkpoint at
/// commit: for a million comments that is 900 MB twice and about 7 s of a 60 s import. With a
/// rollback journal, pages appended to the file need no journal entry at all, and the file stays
/// exactly as safe: one transaction, rolled back from the journal after a crash.
///
/// Leaving WAL mode needs every other connection closed, so with a server running on the file
/// the import keeps the WAL (and does not wait to find out).
enum BulkJournal {
    /// Switches `db` (outside any transaction) to a rollback journal; false when it cannot.
    static func leaveWAL(_ db: Database) -> Bool {
        guard let timeout = try? Int.fetchOne(db, sql: "PRAGMA busy_timeout") else { return false }
        defer { try? db.execute(sql: "PRAGMA busy_timeout = \(timeout)") }
        guard (try? db.execute(sql: "PRAGMA busy_timeout = 0")) != nil,
              let mode = try? String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
        else { return false }
        return mode.lowercased() == "delete"
    }

    /// Back to WAL for the server's readers; if another connection appeared meanwhile, the next
    /// one to open the file sets it (every store opens in WAL mode).
    static func returnToWAL(_ db: Database) {
        _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
    }
}
