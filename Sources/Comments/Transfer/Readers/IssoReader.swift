import CSQLiteHardening
import Foundation
import GRDB
import GRDBSQLite
import SafeHTML

/// Reads an Isso SQLite database (Isso 0.12–0.14 schema: tables `threads(id, uri, title)` and
/// `comments(tid, id, parent, created, modified, mode, remote_addr, text, author, email, website,
/// likes, dislikes, voters, notification)`).
///
/// The file is opened read-only and read with cursors, so memory stays flat whatever its size.
/// It is an upload, so it is opened defensively: `SQLITE_DBCONFIG_DEFENSIVE` on,
/// `trusted_schema=OFF`, values over 16 MiB refused, and a file holding views, triggers, virtual
/// tables or generated columns (schema that runs code or computes values when read) is refused,
/// naming them, before anything in it is read.
/// Every thread comes first (by id), then every comment (by id):
///
/// - A thread's `link` is its Isso `uri` (a path, as the embedding page named it); its
///   `createdAt` is the time of its first comment, Isso keeping none of its own.
/// - A comment's `mode` gives its status: 1 (accepted) → approved, 2 (in moderation) → pending,
///   4 (deleted, kept for its replies) → deleted.
/// - `created` (float unix seconds) becomes milliseconds.
/// - `text` is the markdown source the author typed; it is rendered with `Markdown.render`, and
///   the importer sanitises that HTML like any other.
/// - Isso stores `author` and `email` HTML-escaped (`Tom &amp; Jerry`) and `website` escaped with
///   quotes too; the reader undoes exactly that escaping.
/// - Isso keeps one level of nesting: a reply to a reply is stored against the top-level comment,
///   so `parentKey` is always a top-level comment's id (or nil).
public struct IssoReader: Sendable {
    /// The database file.
    public let path: String

    /// Creates a reader for the Isso database at `path`.
    public init(path: String) {
        self.path = path
    }

    /// The columns read from each table; a file missing any is not an Isso database.
    static let threadColumns = ["id", "uri", "title"]
    static let commentColumns = ["tid", "id", "parent", "created", "mode", "remote_addr", "text",
                                 "author", "email", "website", "likes", "dislikes"]

    /// Calls `handle` for every thread, then every comment, in id order.
    ///
    /// Throws `ImportError` (line 0, column 0) when the file cannot be read or is not an Isso
    /// database, and rethrows whatever `handle` throws. A comment that cannot be imported as
    /// stored (no thread id, an unknown mode, a `created` that is not a number) throws
    /// `ImportError` too, or with `skipInvalid` is reported as `.skipped` (line 0: a database has
    /// no lines; the reason names the comment's id).
    public func read(skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: path) else {
            throw ImportError(message: "cannot read \(path)", line: 0, column: 0)
        }
        do {
            var configuration = Configuration()
            configuration.readonly = true
            configuration.label = "IssoReader"
            configuration.prepareDatabase { db in
                guard margin_sqlite_enable_defensive(db.sqliteConnection) == 1 else {
                    throw ImportError(message: "cannot open \(path) defensively (SQLITE_DBCONFIG_DEFENSIVE is not available)", line: 0, column: 0)
                }
                try db.execute(sql: "PRAGMA trusted_schema = OFF")
                sqlite3_limit(db.sqliteConnection, SQLITE_LIMIT_LENGTH, Self.maxValueBytes)
            }
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.read { db in
                // Both read only the schema: the shape first (another program's database is named
                // as such), then what could run or compute when rows are read.
                try checkSchema(db)
                try refuseActiveSchema(db)
                try readThreads(db, handle)
                try readComments(db, skipInvalid: skipInvalid, handle)
            }
        } catch let failure as HandlerFailure {
            throw failure.error
        } catch let error as ImportError {
            throw error
        } catch let error as DatabaseError {
            throw ImportError(message: describe(error), line: 0, column: 0)
        }
    }

    /// An error thrown by the caller's handler, carried out unchanged (it may be a
    /// `DatabaseError` of the store being imported into, which is not ours to rename).
    private struct HandlerFailure: Error {
        var error: any Error
    }

    private func emit(_ event: ImportEvent, _ handle: (ImportEvent) throws -> Void) throws {
        do {
            try handle(event)
        } catch {
            throw HandlerFailure(error: error)
        }
    }

    private func describe(_ error: DatabaseError) -> String {
        switch error.resultCode {
        case .SQLITE_NOTADB:
            "not an Isso database: \(path) is not an SQLite database"
        case .SQLITE_CORRUPT:
            "cannot read \(path): the database is corrupt (\(error.message ?? "SQLITE_CORRUPT"))"
        default:
            "cannot read \(path) as an Isso database: \(error.message ?? "\(error.resultCode)")"
        }
    }

    /// The largest text or blob read from an uploaded database: 16 MiB.
    static let maxValueBytes: Int32 = 16 << 20

    /// The one trigger Isso itself creates (it fires only on a DELETE, which a read-only
    /// connection never runs), in `normalizedSQL` form; any other trigger is refused.
    static let issoTrigger = "create trigger remove_stale_threads after delete on comments begin delete from threads where id not in (select tid from comments); end"

    /// `sql` lower-cased, runs of white space made one space, `if not exists` dropped.
    static func normalizedSQL(_ sql: String) -> String {
        sql.lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
            .replacingOccurrences(of: "create trigger if not exists ", with: "create trigger ")
    }

    /// Throws `ImportError` naming every view, trigger, virtual table and generated column: an
    /// Isso database has none (but Isso's own `remove_stale_threads` trigger), and each runs
    /// code or computes values when the file is read or written.
    private func refuseActiveSchema(_ db: Database) throws {
        var found: [String] = []
        let objects = try Row.fetchAll(db, sql: "SELECT type, name, sql FROM sqlite_schema ORDER BY rowid")
        var tables: [String] = []
        for row in objects {
            let type: String = row["type"] ?? "", name: String = row["name"] ?? "", sql: String = row["sql"] ?? ""
            switch type {
            case "view": found.append("view \"\(name)\"")
            case "trigger" where Self.normalizedSQL(sql) != Self.issoTrigger:
                found.append("trigger \"\(name)\"")
            case "table" where sql.range(of: #"^\s*CREATE\s+VIRTUAL\s+TABLE"#, options: [.regularExpression, .caseInsensitive]) != nil:
                found.append("virtual table \"\(name)\"")
            // SQLite writes every table it creates as `CREATE TABLE …`; any other text was written
            // into the schema by hand (`create /**/virtual table` would pass the pattern above).
            case "table" where !sql.hasPrefix("CREATE TABLE ") && !name.hasPrefix("sqlite_"):
                found.append("table \"\(name)\" with a hand-written definition")
            case "table": tables.append(name)
            default: break
            }
        }
        for table in tables {
            // table_xinfo marks generated columns hidden 2 (virtual) or 3 (stored); reading the
            // pragma does not compute them.
            let generated = try String.fetchAll(db, sql: "SELECT name FROM pragma_table_xinfo(?) WHERE hidden IN (2, 3)", arguments: [table])
            found += generated.map { "generated column \"\(table)\".\"\($0)\"" }
        }
        if !found.isEmpty {
            throw ImportError(message: "not an Isso database: \(path) holds " + found.joined(separator: ", ")
                              + " (refused: an uploaded database may hold no views, triggers, virtual tables or generated columns)",
                              line: 0, column: 0)
        }
    }

    /// Throws `ImportError` naming every missing table and column.
    private func checkSchema(_ db: Database) throws {
        var problems: [String] = []
        for (table, wanted) in [("threads", Self.threadColumns), ("comments", Self.commentColumns)] {
            guard try db.tableExists(table) else {
                problems.append("no table \"\(table)\"")
                continue
            }
            let present = Set(try db.columns(in: table).map { $0.name.lowercased() })
            let missing = wanted.filter { !present.contains($0) }
            if !missing.isEmpty {
                problems.append("table \"\(table)\" has no column \(missing.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
        }
        if !problems.isEmpty {
            throw ImportError(message: "not an Isso database: \(path): " + problems.joined(separator: "; "), line: 0, column: 0)
        }
    }

    private func readThreads(_ db: Database, _ handle: (ImportEvent) throws -> Void) throws {
        // One grouped pass over the comments for every thread's first time (no index on tid).
        let threads = try Row.fetchCursor(db, sql: """
            SELECT t.id, t.uri, t.title, f.first
            FROM threads t LEFT JOIN (SELECT tid, MIN(created) AS first FROM comments GROUP BY tid) f ON f.tid = t.id
            ORDER BY t.id
            """)
        while let row = try threads.next() {
            // A thread without an id cannot be referred to by any comment.
            guard let key = Self.key(row[0]) else { continue }
            try emit(.thread(ImportedThread(
                key: key,
                link: Self.text(row[1]),
                title: Self.text(row[2]).flatMap(ImportField.scalar),
                createdAt: Self.number(row[3]).flatMap(Self.millis))), handle)
        }
    }

    private func readComments(_ db: Database, skipInvalid: Bool, _ handle: (ImportEvent) throws -> Void) throws {
        let comments = try Row.fetchCursor(db, sql: """
            SELECT id, tid, parent, created, mode, remote_addr, text, author, email, website, likes, dislikes
            FROM comments ORDER BY id
            """)
        while let row = try comments.next() {
            let id: DatabaseValue = row[0]
            let name = Self.key(id).map { "comment \($0)" } ?? "comment without an id"
            var problems: [String] = []
            let key = Self.key(id)
            if key == nil { problems.append("no id") }
            let threadKey = Self.key(row[1])
            if threadKey == nil { problems.append("no thread id (tid)") }
            let modeValue: DatabaseValue = row[4]
            let status: ImportedStatus?
            switch Self.integer(modeValue) {
            case 1: status = .approved
            case 2: status = .pending
            case 4: status = .deleted
            default:
                status = nil
                problems.append("unknown mode \(Self.shown(modeValue))")
            }
            let createdValue: DatabaseValue = row[3]
            var createdAt: Int64?
            if !createdValue.isNull {
                createdAt = Self.number(createdValue).flatMap(Self.millis)
                if createdAt == nil { problems.append("created is not a time: \(Self.shown(createdValue))") }
            }
            guard problems.isEmpty, let key, let threadKey, let status else {
                let reason = "\(name): " + problems.joined(separator: "; ")
                if skipInvalid {
                    try emit(.skipped(reason: reason, line: 0), handle)
                    continue
                }
                throw ImportError(message: reason, line: 0, column: 0)
            }
            // Isso treats a parent of 0 as none.
            let parentKey = Self.key(row[2]).flatMap { $0 == "0" ? nil : $0 }
            let source = Self.text(row[6]) ?? ""
            try emit(.post(ImportedPost(
                key: key,
                threadKey: threadKey,
                parentKey: parentKey,
                authorName: Self.text(row[7]).map(Self.unescape),
                authorEmail: Self.text(row[8]).map(Self.unescape),
                authorURL: Self.text(row[9]).map(Self.unescape),
                ip: Self.text(row[5]),
                html: status == .deleted || source.isEmpty ? "" : Markdown.render(source),
                createdAt: createdAt,
                status: status,
                likes: Self.count(row[10]),
                dislikes: Self.count(row[11]))), handle)
        }
    }

    // MARK: - Values, whatever SQLite's dynamic typing left in a column

    /// An id as the record key: an integer (or a text or real that is one), in decimal.
    static func key(_ value: DatabaseValue) -> String? {
        integer(value).map(String.init)
    }

    static func integer(_ value: DatabaseValue) -> Int64? {
        switch value.storage {
        case .int64(let int): int
        case .double(let double): double.isFinite && double.rounded() == double && abs(double) < 9e18 ? Int64(double) : nil
        case .string(let string): Int64(string.trimmingCharacters(in: .whitespaces))
        case .null, .blob: nil
        }
    }

    static func number(_ value: DatabaseValue) -> Double? {
        switch value.storage {
        case .int64(let int): Double(int)
        case .double(let double): double.isFinite ? double : nil
        case .string(let string): Double(string.trimmingCharacters(in: .whitespaces)).flatMap { $0.isFinite ? $0 : nil }
        case .null, .blob: nil
        }
    }

    static func text(_ value: DatabaseValue) -> String? {
        switch value.storage {
        case .string(let string): string
        case .int64(let int): String(int)
        case .double(let double): String(double)
        case .blob(let data): String(decoding: data, as: UTF8.self)
        case .null: nil
        }
    }

    /// A vote count: negative, missing or unreadable counts are 0.
    static func count(_ value: DatabaseValue) -> Int {
        integer(value).map { Int(clamping: max(0, $0)) } ?? 0
    }

    /// Unix seconds → milliseconds, for times a comment can have (years 1970 to 9999).
    static func millis(_ seconds: Double) -> Int64? {
        guard seconds >= 0, seconds < 253_402_300_800 else { return nil }
        return Int64((seconds * 1000).rounded())
    }

    /// A value as a message shows it.
    static func shown(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "NULL"
        case .string(let string): "\"\(string.prefix(40))\""
        case .blob(let data): "a \(data.count)-byte blob"
        case .int64(let int): String(int)
        case .double(let double): String(double)
        }
    }

    /// Undoes Isso's escaping of author, e-mail and website (Python's `html.escape`): `&amp;`,
    /// `&lt;`, `&gt;`, `&quot;`, `&#x27;` and `&#39;`, in one pass; any other `&` stays.
    static func unescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let entities: [(String, String)] = [("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""),
                                            ("&#x27;", "'"), ("&#39;", "'")]
        var result = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            rest = rest[ampersand...]
            if let (entity, replacement) = entities.first(where: { rest.hasPrefix($0.0) }) {
                result += replacement
                rest = rest.dropFirst(entity.count)
            } else {
                result += "&"
                rest = rest.dropFirst()
            }
        }
        return result + rest
    }
}
