import Foundation
import GRDB

/// Reads Margin's own JSON Lines export back, in one transaction. Ids are kept when they are
/// free, so an export imported into an empty database exports again byte for byte; comments
/// already present (same id, time and text, or same origin) are skipped, so re-running adds nothing.
///
/// A file is not trusted: each comment's `html` goes through `MarginImportChecks.html` (kept byte
/// for byte only when it is what Margin's own renderer or sanitiser makes, else sanitised),
/// `website` through the posting rules, a `created_at` or `edited_at` in the future is refused,
/// and an `edit_key_hash` is kept only for a comment whose edit window has already closed.
public struct MarginImporter: Sendable {
    public let store: SQLiteStore
    /// The importing server's edit window: an `edit_key_hash` is kept only for comments older than this.
    public let editWindowMillis: Int64
    /// The time imported dates are checked against.
    public let clock: any MarginClock

    /// An importer into `store`; `editWindowMillis` is the `edit_window` setting in milliseconds.
    public init(store: SQLiteStore, editWindowMillis: Int64 = 15 * 60 * 1000, clock: any MarginClock = SystemClock()) {
        self.store = store
        self.editWindowMillis = editWindowMillis
        self.clock = clock
    }

    /// Imports the file at `url`; `dryRun` reports without writing.
    public func run(url: URL, dryRun: Bool) async throws -> ImportSummary {
        let started = Date()
        var summary = try await store.writer.writeWithoutTransaction { db -> ImportSummary in
            var result = ImportSummary()
            try db.inTransaction {
                var session = MarginImportSession(db: db, now: clock.nowMillis(), editWindowMillis: editWindowMillis)
                try JSONLines.read(url: url) { line, number in try session.handle(line, number: number) }
                guard session.sawHeader else { throw ImportError(message: "the file is empty", line: 1, column: 1) }
                try session.finish()
                result = session.summary
                return dryRun ? .rollback : .commit
            }
            return result
        }
        summary.seconds = (Date().timeIntervalSince(started) * 1000).rounded() / 1000
        summary.dryRun = dryRun
        return summary
    }
}

/// Splits a file into lines without reading it whole. A line longer than `maxLineBytes` is
/// refused by number as soon as it passes the limit, so a file with no newline costs time linear
/// in the limit and memory bounded by it, never by the file.
enum JSONLines {
    /// The longest line read: 16 MiB (a comment's text is at most 10,000 characters).
    static let maxLineBytes = 16 << 20

    /// Calls `handle` with each line of `url` (without its newline) and its 1-based number.
    static func read(url: URL, maxLineBytes: Int = maxLineBytes, _ handle: ([UInt8], Int) throws -> Void) throws {
        guard let file = try? FileHandle(forReadingFrom: url) else {
            throw ImportError(message: "cannot read \(url.path)", line: 0, column: 0)
        }
        defer { try? file.close() }
        var pending: [UInt8] = []
        var number = 0
        func tooLong() -> ImportError {
            ImportError(message: "line \(number + 1) is longer than \(maxLineBytes >> 20) MiB (\(maxLineBytes) bytes); a Margin export has one record a line",
                        line: number + 1, column: 1)
        }
        while true {
            let chunk = try file.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            try chunk.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
                let bytes = raw.bindMemory(to: UInt8.self)
                guard let base = bytes.baseAddress else { return }
                var start = 0
                while start < bytes.count {
                    // memchr: each byte is looked at once, at memory speed.
                    guard let hit = memchr(base + start, 0x0A, bytes.count - start) else {
                        pending.append(contentsOf: bytes[start...])
                        if pending.count > maxLineBytes { throw tooLong() }
                        break
                    }
                    let end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
                    pending.append(contentsOf: bytes[start..<end])
                    if pending.count > maxLineBytes { throw tooLong() }
                    number += 1
                    try handle(pending, number)
                    pending.removeAll(keepingCapacity: true)
                    start = end + 1
                }
            }
        }
        if !pending.isEmpty {
            number += 1
            try handle(pending, number)
        }
    }
}

/// What a Margin import checks in each comment of a file it does not trust.
public enum MarginImportChecks {
    /// Stored markup for a comment: `html` unchanged when it is exactly what Margin itself would
    /// store (the sanitiser's own output, which sanitising leaves as it is, or `Markdown.render`
    /// of the comment's `body`), else `html` sanitised. Nothing reaches the database that did not
    /// come out of the sanitiser or the renderer.
    public static func html(_ html: String, body: String) -> String {
        let sanitized = HTMLSanitizer.sanitize(html)
        if sanitized == html { return html }
        // Markdown adds attributes the sanitiser drops (`class` on code, `start`, `title`).
        if Markdown.render(body) == html { return html }
        return sanitized
    }

    /// The edit key hash kept for an imported comment: only one whose edit window (by the
    /// importing server's `edit_window`) has already closed keeps its hash, so a file can never
    /// hand anyone a working edit token; a comment still inside its window loses it.
    public static func editKeyHash(_ hash: String?, createdAt: Int64, now: Int64, editWindowMillis: Int64) -> String? {
        guard let hash, createdAt + editWindowMillis < now else { return nil }
        return hash
    }

    /// Slack allowed for a clock a little ahead of this one: one minute.
    public static let clockSkewMillis: Int64 = 60_000
}

/// One running Margin import.
struct MarginImportSession {
    let db: Database
    var summary = ImportSummary()
    var sawHeader = false
    var threadIDs: [Int64: Int64] = [:]
    var commentIDs: [Int64: Int64] = [:]
    var parents: [(Int64, Int64)] = []
    /// The time of the import, in milliseconds.
    let now: Int64
    let editWindowMillis: Int64

    init(db: Database, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000), editWindowMillis: Int64 = 15 * 60 * 1000) {
        self.db = db
        self.now = now
        self.editWindowMillis = editWindowMillis
    }

    mutating func handle(_ bytes: [UInt8], number: Int) throws {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw ImportError(message: "not a JSON object", line: number, column: 1)
        }
        let line = JSONFields(values: object) { key, problem in
            ImportError(message: "field '\(key)' \(problem)", line: number, column: 1)
        }
        if !sawHeader {
            guard try line.string("format") == "margin", try line.integer("version") == 1 else {
                throw ImportError(message: "not a Margin export (the first line must be \(Exporter.marginHeader))", line: number, column: 1)
            }
            sawHeader = true
            return
        }
        switch try line.string("type") {
        case "site": try site(line, number: number)
        case "thread": try thread(line, number: number)
        case "comment": try comment(line, number: number)
        case "vote": try vote(line, number: number)
        case "log": try log(line, number: number)
        case "block": try block(line, number: number)
        default: throw ImportError(message: "unknown record type", line: number, column: 1)
        }
    }

    func site(_ line: JSONFields, number: Int) throws {
        // Exports written before sites had an avatar setting leave it out.
        let avatars = try line.string("avatars") ?? AvatarSource.identicon.rawValue
        guard AvatarSource(rawValue: avatars) != nil else {
            throw ImportError(message: "avatars must be one of \(AvatarSource.allCases.map(\.rawValue).joined(separator: ", "))", line: number, column: 1)
        }
        // A limit the server could not read would silently become the default: refuse it by name.
        var limits: [String: String] = [:]
        for key in ["rate_limit", "vote_rate_limit"] {
            guard let text = try line.string(key) else { continue }
            guard let limit = RateLimit(parsing: text) else {
                throw ImportError(message: "\(key) is like 3/min,20/h or off, not '\(text)'", line: number, column: 1)
            }
            limits[key] = limit.description
        }
        try db.execute(
            sql: """
            INSERT INTO sites (id, name, origins, moderation, require_author, require_email, rate_limit, moderators, created_at, avatars,
                vote_rate_limit)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
            """,
            arguments: [try line.required("id"), try line.required("name"), JSONText.encode((try line.strings("origins") ?? [])),
                        try line.string("moderation") ?? "none", (try line.boolean("require_author") ?? false), (try line.boolean("require_email") ?? false),
                        limits["rate_limit"], JSONText.encode((try line.strings("moderators") ?? [])), try line.integer("created_at") ?? 0,
                        avatars, limits["vote_rate_limit"]])
    }

    mutating func thread(_ line: JSONFields, number: Int) throws {
        let exportedID = try line.requiredInteger("id")
        let site = try line.required("site")
        let uri = try line.required("uri")
        if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM threads WHERE site_id = ? AND uri = ?", arguments: [site, uri]) {
            threadIDs[exportedID] = existing
            return
        }
        let idFree = try Int64.fetchOne(db, sql: "SELECT id FROM threads WHERE id = ?", arguments: [exportedID]) == nil
        try db.execute(
            sql: "INSERT INTO threads (id, site_id, uri, title, locked, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [idFree ? exportedID : nil, site, uri, try line.string("title"), (try line.boolean("locked") ?? false), try line.integer("created_at") ?? 0])
        threadIDs[exportedID] = db.lastInsertedRowID
        summary.threads += 1
    }

    mutating func comment(_ line: JSONFields, number: Int) throws {
        let exportedID = try line.requiredInteger("id")
        let site = try line.required("site")
        guard let threadID = threadIDs[try line.requiredInteger("thread")] else {
            throw ImportError(message: "comment \(exportedID) names a thread that is not in the file", line: number, column: 1)
        }
        let created = try line.integer("created_at") ?? 0
        let body = try line.string("body") ?? ""
        let origin = try line.string("origin")
        let edited = try line.integer("edited_at")
        for (field, value) in [("created_at", created), ("edited_at", edited ?? 0)] where value > now + MarginImportChecks.clockSkewMillis {
            throw ImportError(message: "comment \(exportedID): field '\(field)' lies in the future (\(value) ms; now is \(now))", line: number, column: 1)
        }
        let website: String?
        do {
            website = try FieldRules.website(try line.string("website"))
        } catch let CommentsError.invalidField(field, message) {
            throw ImportError(message: "comment \(exportedID): field '\(field)' \(message)", line: number, column: 1)
        }
        if let existing = try Row.fetchOne(db, sql: "SELECT id, created_at, body FROM comments WHERE id = ?", arguments: [exportedID]),
           existing["created_at"] as Int64 == created, existing["body"] as String == body {
            commentIDs[exportedID] = exportedID
            summary.skip("already imported")
            return
        }
        if let origin, let existing = try Int64.fetchOne(db, sql: "SELECT id FROM comments WHERE site_id = ? AND origin = ?", arguments: [site, origin]) {
            commentIDs[exportedID] = existing
            summary.skip("already imported")
            return
        }
        let status = try line.string("status") ?? "approved"
        guard CommentStatus(rawValue: status) != nil else {
            throw ImportError(message: "unknown status '\(status)'", line: number, column: 1)
        }
        let idFree = try Int64.fetchOne(db, sql: "SELECT id FROM comments WHERE id = ?", arguments: [exportedID]) == nil
        try db.execute(
            sql: """
            INSERT INTO comments (id, site_id, thread_id, parent_id, status, author, email, website, body, html, created_at, edited_at,
                ip, user_agent, spam_score, spam_reasons, likes, dislikes, notify, edit_key_hash, trained_as, origin)
            VALUES (?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            arguments: [
                idFree ? exportedID : nil, site, threadID, status, try line.string("author"), try line.string("email"),
                website, body, MarginImportChecks.html(try line.string("html") ?? "", body: body), created, edited,
                try line.string("ip"), try line.string("user_agent"), (try line.double("spam_score") ?? 0),
                JSONText.encode((try line.strings("spam_reasons") ?? [])), try line.integer("likes") ?? 0, try line.integer("dislikes") ?? 0,
                (try line.boolean("notify") ?? false),
                MarginImportChecks.editKeyHash(try line.string("edit_key_hash"), createdAt: created, now: now, editWindowMillis: editWindowMillis),
                try line.string("trained_as"), origin,
            ])
        let id = db.lastInsertedRowID
        commentIDs[exportedID] = id
        if let parent = try line.integer("parent") { parents.append((id, parent)) }
        summary.comments += 1
        switch status {
        case "spam": summary.spam += 1
        case "pending": summary.pending += 1
        case "deleted": summary.tombstones += 1
        default: break
        }
    }

    func vote(_ line: JSONFields, number: Int) throws {
        guard let comment = commentIDs[try line.requiredInteger("comment")] else { return }
        try db.execute(
            sql: "INSERT INTO votes (comment_id, voter, value, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [comment, try line.required("voter"), try line.requiredInteger("value"), try line.integer("created_at") ?? 0])
    }

    func log(_ line: JSONFields, number: Int) throws {
        let exportedComment = try line.requiredInteger("comment")
        let comment = commentIDs[exportedComment] ?? exportedComment
        let action = try line.required("action"), actor = try line.required("actor"), at = try line.integer("at") ?? 0
        let exists = try Bool.fetchOne(
            db, sql: "SELECT 1 FROM moderation_log WHERE comment_id = ? AND action = ? AND actor = ? AND at = ?",
            arguments: [comment, action, actor, at]) ?? false
        if exists { return }
        let exportedID = try line.requiredInteger("id")
        let idFree = try Int64.fetchOne(db, sql: "SELECT id FROM moderation_log WHERE id = ?", arguments: [exportedID]) == nil
        try db.execute(
            sql: "INSERT INTO moderation_log (id, comment_id, site_id, action, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            arguments: [idFree ? exportedID : nil, comment, try line.required("site"), action, actor, try line.string("reason"), at])
    }

    func block(_ line: JSONFields, number: Int) throws {
        try db.execute(
            sql: "INSERT INTO blocklist (kind, value, reason, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            arguments: [try line.required("kind"), try line.required("value"), try line.string("reason"), try line.integer("created_at") ?? 0])
    }

    mutating func finish() throws {
        for (id, exportedParent) in parents {
            guard let parent = commentIDs[exportedParent] else { summary.skip("parent missing (kept as top-level)"); continue }
            try db.execute(sql: "UPDATE comments SET parent_id = ? WHERE id = ?", arguments: [parent, id])
            summary.replies += 1
        }
    }
}
