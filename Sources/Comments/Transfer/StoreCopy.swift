import Foundation
import GRDB
import Logging

/// Moves a whole installation from one store to another (SQLite to PostgreSQL and back, or
/// between two of either): every row of every table both stores hold, with its ids, read from
/// one consistent snapshot of the source and written into an empty target, then counted again
/// on both sides. Signing keys, secrets, admin tokens, console admins and their sessions travel
/// too, so links mailed, tokens handed out and console sign-ins made before the move keep
/// working after it. SQLite's search index (`comments_fts`) is no table of the list: the target
/// rebuilds its own. Hooks travel with their secrets, and so does the hook outbox: what was
/// not delivered yet goes out from the target.
///
/// The target must hold no thread and no comment. A PostgreSQL target is written in one
/// transaction; a SQLite target is built in a file beside the path and renamed into place once
/// complete, so a move that fails leaves no half-filled target behind.
public struct StoreCopy: Sendable {
    /// The tables both stores hold, parents before children. PostgreSQL's `rate_buckets` are
    /// left out: buckets refill.
    public static let tables = [
        "sites", "threads", "comments", "votes", "moderation_log", "used_links", "blocklist", "signing_keys", "secrets",
        "spam_tokens", "spam_totals", "outbox", "admin_tokens", "reply_consent", "admin_users", "console_sessions",
        "hooks", "hook_deliveries",
    ]

    /// Rows of one table on each side after the move.
    public struct TableCount: Sendable, Codable, Equatable {
        public let table: String
        public let source: Int
        public let target: Int
    }

    /// What a move did: the counts of every table, equal on both sides.
    public struct Summary: Sendable, Codable, Equatable {
        public let from: String
        public let to: String
        public let tables: [TableCount]
        public var rows: Int { tables.reduce(0) { $0 + $1.target } }
    }

    public let source: String
    public let target: String

    /// `source` and `target`: a SQLite file path or a `postgres://` URL each.
    public init(from source: String, to target: String) {
        self.source = source
        self.target = target
    }

    /// Copies everything, then counts every table again on both sides; throws
    /// `CommentsError.copyRefused` when the target is not empty or a count differs.
    public func run(logger: Logger = StoreCopy.quietLogger) async throws -> Summary {
        if Self.sameStore(source, target) {
            throw CommentsError.copyRefused("--from and --to name the same database")
        }
        let from = try await Self.end(source, logger: logger)
        defer { from.close() }
        let target = self.target
        return try await Self.move(from: from, to: { try await Self.end(target, logger: logger) })
    }

    /// Copies `from` into the store `makeTarget` opens, then counts every table on a target
    /// opened afresh.
    static func move(from: any StoreCopyEnd, to makeTarget: @Sendable () async throws -> any StoreCopyEnd) async throws -> Summary {
        guard from.exists else {
            throw CommentsError.copyRefused("the source \(from.name) does not exist")
        }
        let to = try await makeTarget()
        let sourceCounts: [String: Int]
        do {
            sourceCounts = try await from.reading { reader in
                try await to.writing { writer in
                    var counts: [String: Int] = [:]
                    for table in Self.tables {
                        let columns = try await reader.columns(of: table)
                        let wanted = try await writer.columns(of: table)
                        let missing = Set(columns).subtracting(wanted.keys)
                        guard missing.isEmpty else {
                            throw CommentsError.copyRefused(
                                "\(to.name) has no column \(missing.sorted().joined(separator: ", ")) in \(table): is it older than \(from.name)?")
                        }
                        try await reader.rows(of: table, columns: columns) { batch in
                            try await writer.insert(batch, into: table, columns: columns)
                        }
                        counts[table] = try await reader.count(table)
                    }
                    return counts
                }
            }
            to.close()
        } catch let error as DatabaseError {
            to.close()
            throw CommentsError.storageUnavailable("SQLite: \(error)")
        } catch {
            to.close()
            throw error
        }
        // Counted again from scratch: what a node opening the target would find.
        let check = try await makeTarget()
        defer { check.close() }
        let targetCounts = try await check.reading { reader in
            var counts: [String: Int] = [:]
            for table in Self.tables { counts[table] = try await reader.count(table) }
            return counts
        }
        let tables = Self.tables.map { TableCount(table: $0, source: sourceCounts[$0] ?? 0, target: targetCounts[$0] ?? 0) }
        if let wrong = tables.first(where: { $0.source != $0.target }) {
            throw CommentsError.copyRefused(
                "\(wrong.table): \(wrong.source) rows in \(from.name) but \(wrong.target) in \(to.name) after the move")
        }
        return Summary(from: from.name, to: to.name, tables: tables)
    }

    /// Copies one snapshot of `store` into a new SQLite file at `path`, counted on both sides.
    public static func copy(_ store: PostgresStore, toSQLite path: String) async throws -> Summary {
        try await move(from: PostgresCopyEnd(store: store, closes: false), to: { SQLiteCopyEnd(path: path) })
    }

    /// The driver logs every failed connection attempt at `info`; a command reports the
    /// outcome in one sentence instead.
    public static var quietLogger: Logger {
        var logger = Logger(label: "margin.migrate")
        logger.logLevel = .error
        return logger
    }

    static func sameStore(_ a: String, _ b: String) -> Bool {
        if PostgresLocation.isURL(a) || PostgresLocation.isURL(b) { return a == b }
        return URL(fileURLWithPath: a).standardizedFileURL.path == URL(fileURLWithPath: b).standardizedFileURL.path
    }

    static func end(_ spec: String, logger: Logger) async throws -> any StoreCopyEnd {
        if PostgresLocation.isURL(spec) {
            return PostgresCopyEnd(store: try await PostgresStore(location: PostgresLocation(url: spec), logger: logger), closes: true)
        }
        return SQLiteCopyEnd(path: spec)
    }
}
