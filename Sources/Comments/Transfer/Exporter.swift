import Foundation

/// Streams a database (or one site of it) out in a stable order, a few rows at a time, so memory
/// stays flat whatever the size.
public struct Exporter: Sendable {
    public let store: SQLiteStore

    public init(store: SQLiteStore) { self.store = store }

    /// The first line of a Margin export.
    public static let marginHeader = #"{"format":"margin","version":1}"#

    /// Writes the export in `format` through `write`, which receives chunks of bytes.
    public func export(format: ExportFormat, siteID: String?, write: @escaping @Sendable ([UInt8]) throws -> Void) async throws {
        try await SQLiteExportReader.read(store) { rows in
            if let siteID, try !rows.siteExists(siteID) {
                throw CommentsError.siteNotFound(siteID)
            }
            var buffer = ChunkWriter(write: write)
            switch format {
            case .margin: try Self.margin(rows, siteID: siteID, into: &buffer)
            case .csv: try Self.csv(rows, siteID: siteID, into: &buffer)
            case .disqus: try Self.disqus(rows, siteID: siteID, into: &buffer)
            }
            try buffer.flush()
        }
    }

    // MARK: Margin JSON Lines

    static func margin(_ rows: SQLiteExportReader, siteID: String?, into out: inout ChunkWriter) throws {
        out.append(marginHeader + "\n")
        try rows.eachSite(siteID) { site in
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
        try rows.eachThread(siteID) { thread in
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
        try rows.eachComment(siteID) { comment, site, trainedAs in
            var json = JSONWriter(capacity: 512 + comment.body.utf8.count + comment.html.utf8.count)
            json.raw("{\"type\":\"comment\",")
            json.key("id"); json.number(comment.id); json.raw(",")
            json.key("site"); json.string(site); json.raw(",")
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
            json.key("trained_as"); json.string(trainedAs); json.raw(",")
            json.key("origin"); json.string(comment.origin)
            json.raw("}\n")
            out.append(json.bytes)
        }
        try rows.eachVote(siteID) { comment, voter, value, createdAt in
            var json = JSONWriter()
            json.raw("{\"type\":\"vote\",")
            json.key("comment"); json.number(comment); json.raw(",")
            json.key("voter"); json.string(voter); json.raw(",")
            json.key("value"); json.number(value); json.raw(",")
            json.key("created_at"); json.number(createdAt)
            json.raw("}\n")
            out.append(json.bytes)
        }
        try rows.eachLogEntry(siteID) { entry in
            var json = JSONWriter()
            json.raw("{\"type\":\"log\",")
            json.key("id"); json.number(entry.id); json.raw(",")
            json.key("comment"); json.number(entry.commentID); json.raw(",")
            json.key("site"); json.string(entry.siteID); json.raw(",")
            json.key("action"); json.string(entry.action); json.raw(",")
            json.key("actor"); json.string(entry.actor.rawValue); json.raw(",")
            json.key("moderator"); json.string(entry.moderator); json.raw(",")
            json.key("reason"); json.string(entry.reason); json.raw(",")
            json.key("from_status"); json.string(entry.fromStatus?.rawValue); json.raw(",")
            json.key("at"); json.number(entry.at)
            json.raw("}\n")
            out.append(json.bytes)
        }
        // Console admins and their sessions are not exported: a session's hash lets nobody in,
        // but which addresses may sign in is the installation's business, not the data's, and
        // a restore should not bring back sign-ins revoked since. (`margin migrate` moves both.)
        // Global entries travel with a whole-database export only; a site's own go with it too.
        try rows.eachBlock(siteID) { entry in
            var json = JSONWriter()
            json.raw("{\"type\":\"block\",")
            json.key("kind"); json.string(entry.kind.rawValue); json.raw(",")
            json.key("value"); json.string(entry.value); json.raw(",")
            json.key("site"); json.string(entry.siteID); json.raw(",")
            json.key("reason"); json.string(entry.reason); json.raw(",")
            json.key("created_at"); json.number(entry.createdAt)
            json.raw("}\n")
            out.append(json.bytes)
        }
    }

    // MARK: CSV

    static let csvColumns = ["id", "site", "uri", "title", "parent", "status", "author", "email", "website", "created_at",
                             "edited_at", "likes", "dislikes", "spam_score", "origin", "text"]

    static func csv(_ rows: SQLiteExportReader, siteID: String?, into out: inout ChunkWriter) throws {
        out.append(csvColumns.joined(separator: ",") + "\r\n")
        try rows.eachCommentWithThread(siteID) { comment, site, uri, title in
            let fields: [String] = [
                String(comment.id), site, uri, title ?? "", comment.parentID.map(String.init) ?? "",
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

    static func disqus(_ rows: SQLiteExportReader, siteID: String?, into out: inout ChunkWriter) throws {
        out.append("""
        <?xml version="1.0" encoding="utf-8"?>
        <disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://disqus.com/api/schemas/1.0/disqus.xsd http://disqus.com/api/schemas/1.0/disqus-internals.xsd">

        """)
        var origins: [String: String] = [:]
        try rows.eachSite(siteID) { site in
            origins[site.id] = site.pageOrigin ?? "http://localhost"
            out.append("<category dsq:id=\"\(xml(site.id))\"><forum>\(xml(site.id))</forum><title>\(xml(site.name))</title><isDefault>true</isDefault></category>\n")
        }
        try rows.eachThread(siteID) { thread in
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
        try rows.eachVisibleComment(siteID) { comment in
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
