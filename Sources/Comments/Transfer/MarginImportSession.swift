import Foundation

/// One running Margin import.
struct MarginImportSession {
    let writer: SQLiteMarginImportWriter
    var summary = ImportSummary()
    var sawHeader = false
    var threadIDs: [Int64: Int64] = [:]
    var commentIDs: [Int64: Int64] = [:]
    var parents: [(Int64, Int64)] = []
    /// The time of the import, in milliseconds.
    let now: Int64
    let editWindowMillis: Int64

    init(writer: SQLiteMarginImportWriter, now: Int64, editWindowMillis: Int64) {
        self.writer = writer
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
        try writer.insertSite(
            id: try line.required("id"), name: try line.required("name"), origins: try line.strings("origins") ?? [],
            moderation: try line.string("moderation") ?? "none", requireAuthor: try line.boolean("require_author") ?? false,
            requireEmail: try line.boolean("require_email") ?? false, rateLimit: limits["rate_limit"],
            moderators: try line.strings("moderators") ?? [], createdAt: try line.integer("created_at") ?? 0,
            avatars: avatars, voteRateLimit: limits["vote_rate_limit"])
    }

    mutating func thread(_ line: JSONFields, number: Int) throws {
        let exportedID = try line.requiredInteger("id")
        let site = try line.required("site")
        let uri = try line.required("uri")
        if let existing = try writer.thread(site: site, uri: uri) {
            threadIDs[exportedID] = existing
            return
        }
        let idFree = try writer.threadIDIsFree(exportedID)
        threadIDs[exportedID] = try writer.insertThread(
            id: idFree ? exportedID : nil, site: site, uri: uri, title: try line.string("title"), locked: try line.boolean("locked") ?? false,
            createdAt: try line.integer("created_at") ?? 0)
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
        if let existing = try writer.comment(id: exportedID), existing.createdAt == created, existing.body == body {
            commentIDs[exportedID] = exportedID
            summary.skip("already imported")
            return
        }
        if let origin, let existing = try writer.comment(site: site, origin: origin) {
            commentIDs[exportedID] = existing
            summary.skip("already imported")
            return
        }
        let status = try line.string("status") ?? "approved"
        guard CommentStatus(rawValue: status) != nil else {
            throw ImportError(message: "unknown status '\(status)'", line: number, column: 1)
        }
        let idFree = try writer.commentIDIsFree(exportedID)
        let id = try writer.insertComment(SQLiteMarginImportWriter.CommentRow(
            id: idFree ? exportedID : nil, site: site, thread: threadID, status: status, author: try line.string("author"),
            email: try line.string("email"), website: website, body: body, html: MarginImportChecks.html(try line.string("html") ?? "", body: body),
            createdAt: created, editedAt: edited, ip: try line.string("ip"), userAgent: try line.string("user_agent"),
            spamScore: try line.double("spam_score") ?? 0, spamReasons: try line.strings("spam_reasons") ?? [],
            likes: try line.integer("likes") ?? 0, dislikes: try line.integer("dislikes") ?? 0, notify: try line.boolean("notify") ?? false,
            editKeyHash: MarginImportChecks.editKeyHash(try line.string("edit_key_hash"), createdAt: created, now: now, editWindowMillis: editWindowMillis),
            trainedAs: try line.string("trained_as"), origin: origin))
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
        try writer.insertVote(comment: comment, voter: try line.required("voter"), value: try line.requiredInteger("value"),
                              createdAt: try line.integer("created_at") ?? 0)
    }

    func log(_ line: JSONFields, number: Int) throws {
        let exportedComment = try line.requiredInteger("comment")
        let comment = commentIDs[exportedComment] ?? exportedComment
        let action = try line.required("action"), actor = try line.required("actor"), at = try line.integer("at") ?? 0
        if try writer.logEntryExists(comment: comment, action: action, actor: actor, at: at) { return }
        let exportedID = try line.requiredInteger("id")
        let idFree = try writer.logIDIsFree(exportedID)
        // Exports written before the console leave out the moderator and the status before.
        let fromStatus = try line.string("from_status")
        if let fromStatus, CommentStatus(rawValue: fromStatus) == nil {
            throw ImportError(message: "unknown from_status '\(fromStatus)'", line: number, column: 1)
        }
        try writer.insertLogEntry(
            id: idFree ? exportedID : nil, comment: comment, site: try line.required("site"), action: action, actor: actor,
            moderator: try line.string("moderator"), reason: try line.string("reason"), fromStatus: fromStatus, at: at)
    }

    func block(_ line: JSONFields, number: Int) throws {
        // Exports written before entries had a site leave it out: those were global.
        let site = try line.string("site")
        if let site, try !writer.siteExists(site) {
            throw ImportError(message: "block of site '\(site)', which is neither in the file nor in the database", line: number, column: 1)
        }
        try writer.insertBlock(kind: try line.required("kind"), value: try line.required("value"), site: site, reason: try line.string("reason"),
                               createdAt: try line.integer("created_at") ?? 0)
    }

    mutating func finish() throws {
        for (id, exportedParent) in parents {
            guard let parent = commentIDs[exportedParent] else { summary.skip("parent missing (kept as top-level)"); continue }
            try writer.setParent(parent, of: id)
            summary.replies += 1
        }
    }
}
