import Foundation
import GRDB

/// The formats `margin export` writes.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// Margin's own JSON Lines: every stored field; exporting, importing into an empty database
    /// and exporting again gives the same bytes.
    case margin
    /// Disqus's XML export format, which other comment systems import.
    case disqus
    /// One row per comment (RFC 4180, header row), for spreadsheets.
    case csv
}

/// Streams a database (or one site of it) out in a stable order, a few rows at a time, so memory
/// stays flat whatever the size.
public struct Exporter: Sendable {
    public let store: SQLiteStore

    public init(store: SQLiteStore) { self.store = store }

    /// The first line of a Margin export.
    public static let marginHeader = #"{"format":"margin","version":1}"#

    /// Writes the export in `format` through `write`, which receives chunks of bytes.
    public func export(format: ExportFormat, siteID: String?, write: @escaping @Sendable ([UInt8]) throws -> Void) async throws {
        try await store.writer.read { db in
            if let siteID, try Bool.fetchOne(db, sql: "SELECT 1 FROM sites WHERE id = ?", arguments: [siteID]) != true {
                throw CommentsError.siteNotFound(siteID)
            }
            var buffer = ChunkWriter(write: write)
            switch format {
            case .margin: try Self.margin(db, siteID: siteID, into: &buffer)
            case .csv: try Self.csv(db, siteID: siteID, into: &buffer)
            case .disqus: try Self.disqus(db, siteID: siteID, into: &buffer)
            }
            try buffer.flush()
        }
    }

    static func siteFilter(_ siteID: String?, column: String = "site_id") -> (String, StatementArguments) {
        guard let siteID else { return ("", []) }
        return ("WHERE \(column) = ?", [siteID])
    }

    // MARK: Margin JSON Lines

    static func margin(_ db: Database, siteID: String?, into out: inout ChunkWriter) throws {
        out.append(marginHeader + "\n")
        let (siteWhere, siteArguments) = siteFilter(siteID, column: "id")
        let cursor1 = try Row.fetchCursor(db, sql: "SELECT * FROM sites \(siteWhere) ORDER BY id", arguments: siteArguments)
        while let row1 = try cursor1.next() {
            let site = Site(row: row1)
            var json = JSONWriter()
            json.raw("{\"type\":\"site\",")
            json.key("id"); json.string(site.id); json.raw(",")
            json.key("name"); json.string(site.name); json.raw(",")
            json.key("origins"); json.strings(site.origins); json.raw(",")
            json.key("moderation"); json.string(site.moderation.rawValue); json.raw(",")
            json.key("require_author"); json.bool(site.requireAuthor); json.raw(",")
            json.key("require_email"); json.bool(site.requireEmail); json.raw(",")
            json.key("rate_limit"); json.string(site.rateLimit?.description); json.raw(",")
            json.key("vote_rate_limit"); json.string(site.voteRateLimit?.description); json.raw(",")
            json.key("moderators"); json.strings(site.moderators); json.raw(",")
            json.key("avatars"); json.string(site.avatars.rawValue); json.raw(",")
            json.key("created_at"); json.number(site.createdAt)
            json.raw("}\n")
            out.append(json.bytes)
        }
        let (where_, arguments) = siteFilter(siteID)
        let cursor2 = try Row.fetchCursor(db, sql: "SELECT * FROM threads \(where_) ORDER BY id", arguments: arguments)
        while let row2 = try cursor2.next() {
            let thread = CommentThread(row: row2)
            var json = JSONWriter()
            json.raw("{\"type\":\"thread\",")
            json.key("id"); json.number(thread.id); json.raw(",")
            json.key("site"); json.string(thread.siteID); json.raw(",")
            json.key("uri"); json.string(thread.uri); json.raw(",")
            json.key("title"); json.string(thread.title); json.raw(",")
            json.key("locked"); json.bool(thread.locked); json.raw(",")
            json.key("created_at"); json.number(thread.createdAt)
            json.raw("}\n")
            out.append(json.bytes)
        }
        let cursor3 = try Row.fetchCursor(db, sql: "SELECT \(Comment.columns), site_id, trained_as FROM comments \(where_) ORDER BY id", arguments: arguments)
        while let row = try cursor3.next() {
            let comment = Comment(row: row)
            var json = JSONWriter(capacity: 512 + comment.body.utf8.count + comment.html.utf8.count)
            json.raw("{\"type\":\"comment\",")
            json.key("id"); json.number(comment.id); json.raw(",")
            json.key("site"); json.string(row["site_id"] as String); json.raw(",")
            json.key("thread"); json.number(comment.threadID); json.raw(",")
            json.key("parent"); json.number(comment.parentID); json.raw(",")
            json.key("status"); json.string(comment.status.rawValue); json.raw(",")
            json.key("author"); json.string(comment.author); json.raw(",")
            json.key("email"); json.string(comment.email); json.raw(",")
            json.key("website"); json.string(comment.website); json.raw(",")
            json.key("body"); json.string(comment.body); json.raw(",")
            json.key("html"); json.string(comment.html); json.raw(",")
            json.key("created_at"); json.number(comment.createdAt); json.raw(",")
            json.key("edited_at"); json.number(comment.editedAt); json.raw(",")
            json.key("ip"); json.string(comment.ip); json.raw(",")
            json.key("user_agent"); json.string(comment.userAgent); json.raw(",")
            json.key("spam_score"); json.double(comment.spamScore); json.raw(",")
            json.key("spam_reasons"); json.strings(comment.spamReasons); json.raw(",")
            json.key("likes"); json.number(comment.likes); json.raw(",")
            json.key("dislikes"); json.number(comment.dislikes); json.raw(",")
            json.key("notify"); json.bool(comment.notify); json.raw(",")
            json.key("edit_key_hash"); json.string(comment.editKeyHash); json.raw(",")
            json.key("trained_as"); json.string(row["trained_as"] as String?); json.raw(",")
            json.key("origin"); json.string(comment.origin)
            json.raw("}\n")
            out.append(json.bytes)
        }
        let voteFilter = siteID == nil ? "" : "WHERE comment_id IN (SELECT id FROM comments WHERE site_id = ?)"
        let cursor4 = try Row.fetchCursor(db, sql: "SELECT * FROM votes \(voteFilter) ORDER BY comment_id, voter", arguments: arguments)
        while let row = try cursor4.next() {
            var json = JSONWriter()
            json.raw("{\"type\":\"vote\",")
            json.key("comment"); json.number(row["comment_id"] as Int64); json.raw(",")
            json.key("voter"); json.string(row["voter"] as String); json.raw(",")
            json.key("value"); json.number(row["value"] as Int); json.raw(",")
            json.key("created_at"); json.number(row["created_at"] as Int64)
            json.raw("}\n")
            out.append(json.bytes)
        }
        let cursor5 = try Row.fetchCursor(db, sql: "SELECT * FROM moderation_log \(where_) ORDER BY id", arguments: arguments)
        while let row = try cursor5.next() {
            var json = JSONWriter()
            json.raw("{\"type\":\"log\",")
            json.key("id"); json.number(row["id"] as Int64); json.raw(",")
            json.key("comment"); json.number(row["comment_id"] as Int64); json.raw(",")
            json.key("site"); json.string(row["site_id"] as String); json.raw(",")
            json.key("action"); json.string(row["action"] as String); json.raw(",")
            json.key("actor"); json.string(row["actor"] as String); json.raw(",")
            json.key("reason"); json.string(row["reason"] as String?); json.raw(",")
            json.key("at"); json.number(row["at"] as Int64)
            json.raw("}\n")
            out.append(json.bytes)
        }
        // The blocklist is server-wide; it travels with a whole-database export.
        if siteID == nil {
            let cursor6 = try Row.fetchCursor(db, sql: "SELECT * FROM blocklist ORDER BY kind, value")
        while let row = try cursor6.next() {
                var json = JSONWriter()
                json.raw("{\"type\":\"block\",")
                json.key("kind"); json.string(row["kind"] as String); json.raw(",")
                json.key("value"); json.string(row["value"] as String); json.raw(",")
                json.key("reason"); json.string(row["reason"] as String?); json.raw(",")
                json.key("created_at"); json.number(row["created_at"] as Int64)
                json.raw("}\n")
                out.append(json.bytes)
            }
        }
    }

    // MARK: CSV

    static let csvColumns = ["id", "site", "uri", "title", "parent", "status", "author", "email", "website", "created_at",
                             "edited_at", "likes", "dislikes", "spam_score", "origin", "text"]

    static func csv(_ db: Database, siteID: String?, into out: inout ChunkWriter) throws {
        out.append(csvColumns.joined(separator: ",") + "\r\n")
        let (where_, arguments) = siteFilter(siteID, column: "c.site_id")
        let rows = try Row.fetchCursor(db, sql: """
            SELECT \(Comment.qualifiedColumns), c.site_id, t.uri AS thread_uri, t.title AS thread_title FROM comments c JOIN threads t ON t.id = c.thread_id
            \(where_) ORDER BY c.id
            """, arguments: arguments)
        while let row = try rows.next() {
            let comment = Comment(row: row)
            let fields: [String] = [
                String(comment.id), row["site_id"], row["thread_uri"], row["thread_title"] ?? "", comment.parentID.map(String.init) ?? "",
                comment.status.rawValue, comment.author ?? "", comment.email ?? "", comment.website ?? "",
                AtomFeed.timestamp(comment.createdAt), comment.editedAt.map(AtomFeed.timestamp) ?? "", String(comment.likes),
                String(comment.dislikes), String(comment.spamScore), comment.origin ?? "", comment.body,
            ]
            out.append(fields.map(csvField).joined(separator: ",") + "\r\n")
        }
    }

    /// RFC 4180: quote fields with commas, quotes or line breaks; double inner quotes. A leading
    /// `=`, `+`, `-` or `@` is prefixed with `'` so spreadsheets do not run it as a formula.
    static func csvField(_ value: String) -> String {
        var value = value
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Disqus XML

    static func disqus(_ db: Database, siteID: String?, into out: inout ChunkWriter) throws {
        out.append("""
        <?xml version="1.0" encoding="utf-8"?>
        <disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">

        """)
        let (where_, arguments) = siteFilter(siteID)
        var origins: [String: String] = [:]
        for site in try Row.fetchAll(db, sql: "SELECT * FROM sites \(siteFilter(siteID, column: "id").0) ORDER BY id", arguments: arguments).map(Site.init(row:)) {
            origins[site.id] = site.origins.first { !$0.contains("*") } ?? "http://localhost"
            out.append("<category dsq:id=\"\(xml(site.id))\"><forum>\(xml(site.id))</forum><title>\(xml(site.name))</title><isDefault>true</isDefault></category>\n")
        }
        let cursor7 = try Row.fetchCursor(db, sql: "SELECT * FROM threads \(where_) ORDER BY id", arguments: arguments)
        while let row7 = try cursor7.next() {
            let thread = CommentThread(row: row7)
            let link = (origins[thread.siteID] ?? "http://localhost") + thread.uri
            out.append("""
            <thread dsq:id="\(thread.id)"><id>\(xml(thread.uri))</id><forum>\(xml(thread.siteID))</forum><category dsq:id="\(xml(thread.siteID))"/>\
            <link>\(xml(link))</link><title>\(xml(thread.title ?? thread.uri))</title><message/>\
            <createdAt>\(disqusTime(thread.createdAt))</createdAt><author><name>\(xml(thread.siteID))</name><isAnonymous>false</isAnonymous></author>\
            <isClosed>\(thread.locked)</isClosed><isDeleted>false</isDeleted></thread>

            """)
        }
        // What readers see: published comments and the tombstones that hold their replies. The
        // format has no "pending"; held, rejected and spam comments stay out (the Margin format
        // carries everything), or another system would publish them.
        let visible = (where_.isEmpty ? "WHERE" : where_ + " AND") + " status IN ('approved', 'deleted')"
        let cursor8 = try Row.fetchCursor(db, sql: "SELECT \(Comment.columns) FROM comments \(visible) ORDER BY id", arguments: arguments)
        while let row = try cursor8.next() {
            let comment = Comment(row: row)
            let message = comment.html.replacingOccurrences(of: "]]>", with: "]]]]><![CDATA[>")
            var post = "<post dsq:id=\"\(comment.id)\"><id/><message><![CDATA[\(message)]]></message>"
            post += "<createdAt>\(disqusTime(comment.createdAt))</createdAt>"
            post += "<isDeleted>\(comment.status == .deleted)</isDeleted><isSpam>\(comment.status == .spam)</isSpam>"
            post += "<author><email>\(xml(comment.email ?? ""))</email><name>\(xml(comment.author ?? ""))</name>"
            post += "<isAnonymous>\(comment.email == nil)</isAnonymous></author>"
            post += "<ipAddress>\(xml(comment.ip ?? "127.0.0.1"))</ipAddress><thread dsq:id=\"\(comment.threadID)\"/>"
            if let parent = comment.parentID { post += "<parent dsq:id=\"\(parent)\"/>" }
            post += "</post>\n"
            out.append(post)
        }
        out.append("</disqus>\n")
    }

    /// `2014-01-02T09:00:00Z`, as Disqus writes times.
    static func disqusTime(_ millis: Int64) -> String {
        let stamp = AtomFeed.timestamp(millis)
        return String(stamp.prefix(19)) + "Z"
    }

    static func xml(_ text: String) -> String { AtomFeed.escape(text) }
}

/// Collects output and hands it on in chunks of about 64 KiB.
struct ChunkWriter {
    let write: @Sendable ([UInt8]) throws -> Void
    var pending: [UInt8] = []

    init(write: @escaping @Sendable ([UInt8]) throws -> Void) {
        self.write = write
        pending.reserveCapacity(70_000)
    }

    mutating func append(_ text: String) { append(Array(text.utf8)) }

    mutating func append(_ bytes: [UInt8]) {
        pending += bytes
        if pending.count >= 65_536 { flushQuietly() }
    }

    private mutating func flushQuietly() {
        // Errors surface at the final flush: a write that failed once keeps failing.
        if (try? write(pending)) != nil { pending.removeAll(keepingCapacity: true) } else { failed = true }
    }

    var failed = false

    mutating func flush() throws {
        if failed { throw CommentsError.storageUnavailable("the export could not be written") }
        try write(pending)
        pending.removeAll(keepingCapacity: true)
    }
}
