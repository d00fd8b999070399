import Foundation
import GRDB
import Logging
import PostgresNIO

/// Moves a whole installation from one store to another (SQLite to PostgreSQL and back, or
/// between two of either): every row of every table both stores hold, with its ids, read from
/// one consistent snapshot of the source and written into an empty target, then counted again
/// on both sides. Signing keys, secrets and admin tokens travel too, so links mailed and tokens
/// handed out before the move keep working after it.
///
/// The target must hold no thread and no comment. A PostgreSQL target is written in one
/// transaction; a SQLite target is built in a file beside the path and renamed into place once
/// complete, so a move that fails leaves no half-filled target behind.
public struct StoreMigration: Sendable {
    /// The tables both stores hold, parents before children. PostgreSQL's `rate_buckets` are
    /// left out: buckets refill.
    public static let tables = [
        "sites", "threads", "comments", "votes", "moderation_log", "used_links", "blocklist", "signing_keys", "secrets",
        "spam_tokens", "spam_totals", "outbox", "admin_tokens", "reply_consent",
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
    /// `CommentsError.migrationRefused` when the target is not empty or a count differs.
    public func run(logger: Logger = StoreMigration.quietLogger) async throws -> Summary {
        if Self.sameStore(source, target) {
            throw CommentsError.migrationRefused("--from and --to name the same database")
        }
        let from = try await Self.end(source, logger: logger)
        defer { from.close() }
        let target = self.target
        return try await Self.move(from: from, to: { try await Self.end(target, logger: logger) })
    }

    /// Copies `from` into the store `makeTarget` opens, then counts every table on a target
    /// opened afresh.
    static func move(from: any MigrationEnd, to makeTarget: @Sendable () async throws -> any MigrationEnd) async throws -> Summary {
        guard from.exists else {
            throw CommentsError.migrationRefused("the source \(from.name) does not exist")
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
                            throw CommentsError.migrationRefused(
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
            throw CommentsError.migrationRefused(
                "\(wrong.table): \(wrong.source) rows in \(from.name) but \(wrong.target) in \(to.name) after the move")
        }
        return Summary(from: from.name, to: to.name, tables: tables)
    }

    /// Runs `work` (an import) on a SQLite copy of `store`, then, unless `keep` is false (a dry
    /// run), writes the result back in one transaction: into a database without threads and
    /// comments the whole copy moves, ids and all (an export comes back byte for byte); into
    /// one that holds some, `ImportMerge` writes only what the import added or changed.
    private static func staged<T: Sendable>(
        into store: PostgresStore, keep: @escaping @Sendable (T) -> Bool, _ work: @Sendable (SQLiteStore) async throws -> T
    ) async throws -> T {
        try await withTemporaryCopy(of: store) { copy, path in
            let heldAny = try await copy.holdsThreadsOrComments()
            try await ImportMerge.track(copy)
            let result = try await work(copy)
            guard keep(result) else { return result }
            if heldAny {
                // Nodes keep serving: only what the import adds or changes is written back.
                _ = try await ImportMerge.apply(from: copy, into: store)
                return result
            }
            do {
                _ = try await move(from: SQLiteEnd(path: path), to: { PostgresEnd(store: store, closes: false) })
            } catch CommentsError.migrationRefused(let why) {
                // A node stored the first comment while the import ran: merge instead.
                guard try await PostgresEnd(store: store, closes: false).holdsThreadsOrComments() else {
                    throw CommentsError.migrationRefused(why)
                }
                _ = try await ImportMerge.apply(from: copy, into: store)
            }
            return result
        }
    }

    /// Copies one snapshot of `store` into a new SQLite file at `path`, counted on both sides.
    public static func copy(_ store: PostgresStore, toSQLite path: String) async throws -> Summary {
        try await move(from: PostgresEnd(store: store, closes: false), to: { SQLiteEnd(path: path) })
    }

    /// Runs `work` (an export) on `store` itself when it is SQLite, or, when it is PostgreSQL, on
    /// a SQLite copy of one consistent snapshot of it (the same bytes as from SQLite), in a
    /// temporary folder removed afterwards.
    public static func reading<T: Sendable>(
        _ store: any CommentStore, _ work: @Sendable (SQLiteStore) async throws -> T
    ) async throws -> T {
        switch store {
        case let sqlite as SQLiteStore: return try await work(sqlite)
        case let postgres as PostgresStore: return try await withTemporaryCopy(of: postgres) { copy, _ in try await work(copy) }
        default: throw CommentsError.storageUnavailable("this store cannot be read as a whole")
        }
    }

    /// Runs `work` (an import) on `store` itself when it is SQLite, or staged through a copy
    /// when it is PostgreSQL (`staged`; `keep` false for a dry run).
    public static func importing<T: Sendable>(
        into store: any CommentStore, keep: @escaping @Sendable (T) -> Bool, _ work: @Sendable (SQLiteStore) async throws -> T
    ) async throws -> T {
        switch store {
        case let sqlite as SQLiteStore: return try await work(sqlite)
        case let postgres as PostgresStore: return try await staged(into: postgres, keep: keep, work)
        default: throw CommentsError.storageUnavailable("this store takes no import")
        }
    }

    private static func withTemporaryCopy<T: Sendable>(
        of store: PostgresStore, _ work: @Sendable (SQLiteStore, String) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("copy.sqlite").path
        _ = try await copy(store, toSQLite: path)
        return try await work(try SQLiteStore(path: path), path)
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

    static func end(_ spec: String, logger: Logger) async throws -> any MigrationEnd {
        if PostgresLocation.isURL(spec) {
            return PostgresEnd(store: try await PostgresStore(location: PostgresLocation(url: spec), logger: logger), closes: true)
        }
        return SQLiteEnd(path: spec)
    }
}

/// One column value as either store holds it.
enum StoredValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// One side of a move.
protocol MigrationEnd: Sendable {
    /// How messages name it (a PostgreSQL URL without its password).
    var name: String { get }
    /// False for a SQLite path with no file.
    var exists: Bool { get }
    /// Runs `body` on one consistent snapshot of every table.
    func reading<T: Sendable>(_ body: @escaping @Sendable (any RowReader) async throws -> T) async throws -> T
    /// Runs `body` with a writer into this store, which must hold no thread and no comment; what
    /// it wrote stays only if it returns.
    func writing<T: Sendable>(_ body: @escaping @Sendable (any RowWriter) async throws -> T) async throws -> T
    func close()
}

/// Reads tables from a snapshot.
protocol RowReader: Sendable {
    func columns(of table: String) async throws -> [String]
    func count(_ table: String) async throws -> Int
    /// Every row of `table` in key order, in batches of a few hundred.
    func rows(of table: String, columns: [String], _ each: @escaping @Sendable ([[StoredValue]]) async throws -> Void) async throws
}

/// Writes rows into an empty store.
protocol RowWriter: Sendable {
    /// The table's columns and their declared types.
    func columns(of table: String) async throws -> [String: String]
    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws
}

// MARK: SQLite

extension SQLiteStore {
    /// Whether any thread or comment is stored (`margin migrate` moves only into a store without).
    public func holdsThreadsOrComments() async throws -> Bool {
        try await writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM threads) OR EXISTS (SELECT 1 FROM comments)") ?? false
        }
    }
}

/// A SQLite file as either side.
struct SQLiteEnd: MigrationEnd {
    let path: String
    var name: String { path }
    var exists: Bool { FileManager.default.fileExists(atPath: path) }

    func reading<T: Sendable>(_ body: @escaping @Sendable (any RowReader) async throws -> T) async throws -> T {
        let store = try SQLiteStore(path: path)
        guard let pool = store.writer as? DatabasePool else {
            throw CommentsError.storageUnavailable("\(path) is not a database file")
        }
        let snapshot = try pool.makeSnapshot()
        let result = try await body(SQLiteReader(snapshot: snapshot))
        withExtendedLifetime(store) {}
        return result
    }

    func writing<T: Sendable>(_ body: @escaping @Sendable (any RowWriter) async throws -> T) async throws -> T {
        let manager = FileManager.default
        if manager.fileExists(atPath: path) {
            guard try await !SQLiteStore(path: path).holdsThreadsOrComments() else {
                throw CommentsError.migrationRefused("\(path) already holds threads or comments: move into a new file")
            }
        }
        // Built beside the target and renamed into place once complete.
        let building = path + ".migrating"
        for suffix in ["", "-wal", "-shm"] { try? manager.removeItem(atPath: building + suffix) }
        do {
            let result: T
            do {
                let store = try SQLiteStore(path: building)
                let writer = try await SQLiteWriter.open(store.writer)
                result = try await body(writer)
                try await writer.finish()
                try await store.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
                try (store.writer as? DatabasePool)?.close()
            }
            if let size = (try? manager.attributesOfItem(atPath: building + "-wal"))?[.size] as? Int, size > 0 {
                throw CommentsError.storageUnavailable("\(building) kept a write-ahead log after closing")
            }
            for suffix in ["-wal", "-shm"] { try? manager.removeItem(atPath: building + suffix) }
            for suffix in ["-wal", "-shm"] { try? manager.removeItem(atPath: path + suffix) }
            if manager.fileExists(atPath: path) { try manager.removeItem(atPath: path) }
            try manager.moveItem(atPath: building, toPath: path)
            return result
        } catch {
            for suffix in ["", "-wal", "-shm"] { try? manager.removeItem(atPath: building + suffix) }
            throw error
        }
    }

    func close() {}
}

/// Reads a SQLite snapshot, a page of rows at a time by rowid.
struct SQLiteReader: RowReader {
    /// A connection that holds one read transaction open until it is released.
    let snapshot: DatabaseSnapshot

    func columns(of table: String) async throws -> [String] {
        try await snapshot.read { db in try db.columns(in: table).map { $0.name } }
    }

    func count(_ table: String) async throws -> Int {
        try await snapshot.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \(table.quotedDatabaseIdentifier)") ?? 0 }
    }

    func rows(of table: String, columns: [String], _ each: @escaping @Sendable ([[StoredValue]]) async throws -> Void) async throws {
        let list = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
        // Pages in key order: by rowid, or by the primary key of a WITHOUT ROWID table.
        let key = try await snapshot.read { db -> [String] in
            let primaryKey = try db.primaryKey(table)
            return primaryKey.rowIDColumn == nil && !primaryKey.isRowID ? primaryKey.columns : ["rowid"]
        }
        let keyList = key.map { $0 == "rowid" ? "rowid" : $0.quotedDatabaseIdentifier }.joined(separator: ", ")
        let placeholders = Array(repeating: "?", count: key.count).joined(separator: ", ")
        var after: [DatabaseValue]?
        while true {
            let start = after
            let (batch, last) = try await snapshot.read { db -> ([[StoredValue]], [DatabaseValue]?) in
                var batch: [[StoredValue]] = []
                var last: [DatabaseValue]?
                let filter = start == nil ? "" : "WHERE (\(keyList)) > (\(placeholders))"
                let rows = try Row.fetchCursor(db, sql: """
                    SELECT \(keyList), \(list) FROM \(table.quotedDatabaseIdentifier) \(filter) ORDER BY \(keyList) LIMIT 500
                    """, arguments: StatementArguments(start ?? []))
                while let row = try rows.next() {
                    let values = Array(row.databaseValues)
                    last = Array(values[..<key.count])
                    batch.append(values[key.count...].map(Self.value))
                }
                return (batch, last)
            }
            guard let last else { return }
            try await each(batch)
            after = last
        }
    }

    static func value(_ value: DatabaseValue) -> StoredValue {
        switch value.storage {
        case .null: return .null
        case .int64(let int): return .integer(int)
        case .double(let double): return .real(double)
        case .string(let string): return .text(string)
        case .blob(let data): return .blob(Array(data))
        }
    }
}

/// Writes into a new SQLite file: the rows its migrations seeded go first, and the triggers that
/// count thread versions rest until the end (the versions travel as they are).
final class SQLiteWriter: RowWriter, @unchecked Sendable {
    let writer: any DatabaseWriter
    /// The dropped triggers' `CREATE` statements.
    private let triggers: [String]

    private init(writer: any DatabaseWriter, triggers: [String]) {
        self.writer = writer
        self.triggers = triggers
    }

    static func open(_ writer: any DatabaseWriter) async throws -> SQLiteWriter {
        // Rows arrive in key order, a batch a transaction, and a reply may have a smaller id
        // than its parent (an import meets parents after their children): references are
        // checked once, at the end (`finish`).
        try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        let triggers = try await writer.write { db -> [String] in
            let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
            for row in triggers { try db.execute(sql: "DROP TRIGGER \((row["name"] as String).quotedDatabaseIdentifier)") }
            for table in StoreMigration.tables.reversed() { try db.execute(sql: "DELETE FROM \(table.quotedDatabaseIdentifier)") }
            return triggers.map { $0["sql"] }
        }
        return SQLiteWriter(writer: writer, triggers: triggers)
    }

    func columns(of table: String) async throws -> [String: String] {
        try await writer.read { db in
            Dictionary(try db.columns(in: table).map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
        }
    }

    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws {
        let sql = "INSERT INTO \(table.quotedDatabaseIdentifier) (\(columns.map(\.quotedDatabaseIdentifier).joined(separator: ", "))) "
            + "VALUES (\(Array(repeating: "?", count: columns.count).joined(separator: ", ")))"
        try await writer.write { db in
            let statement = try db.cachedStatement(sql: sql)
            for row in rows {
                try statement.execute(arguments: StatementArguments(row.map(Self.databaseValue)))
            }
        }
    }

    /// Checks every reference, then puts the triggers back.
    func finish() async throws {
        let triggers = self.triggers
        try await writer.writeWithoutTransaction { db in
            if let broken = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                throw CommentsError.migrationRefused("a row of \(broken[0] as String? ?? "a table") refers to a missing \(broken[2] as String? ?? "row")")
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        try await writer.write { db in
            for sql in triggers { try db.execute(sql: sql) }
        }
    }

    static func databaseValue(_ value: StoredValue) -> DatabaseValue {
        switch value {
        case .null: return .null
        case .integer(let int): return int.databaseValue
        case .real(let double): return double.databaseValue
        case .text(let string): return string.databaseValue
        case .blob(let bytes): return Data(bytes).databaseValue
        }
    }
}

// MARK: PostgreSQL

/// A PostgreSQL database as either side.
struct PostgresEnd: MigrationEnd {
    let store: PostgresStore
    /// Whether `close()` closes the store (false for a store someone else opened).
    let closes: Bool
    var name: String { store.location.description }
    var exists: Bool { true }

    func reading<T: Sendable>(_ body: @escaping @Sendable (any RowReader) async throws -> T) async throws -> T {
        try await store.explicitTransaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { connection, logger in
            try await body(PostgresReader(connection: connection, logger: logger))
        }
    }

    func writing<T: Sendable>(_ body: @escaping @Sendable (any RowWriter) async throws -> T) async throws -> T {
        let location = store.location
        return try await store.explicitTransaction { connection, logger in
            let run = { (sql: String) in try await PostgresStore.execute(sql, on: connection, logger: logger) }
            guard try await !Self.holdsThreadsOrComments(on: connection, logger: logger) else {
                throw CommentsError.migrationRefused("\(location) already holds threads or comments: move into an empty database")
            }
            // The triggers that count versions rest while rows arrive with their versions;
            // ALTER TABLE is transactional, so they come back on rollback too.
            for table in ["sites", "threads", "comments"] { try await run("ALTER TABLE \(table) DISABLE TRIGGER USER") }
            // A reply may come before its parent (a smaller id): checked once all are in.
            try await run("SET CONSTRAINTS comments_parent_id_fkey DEFERRED")
            for table in StoreMigration.tables.reversed() { try await run("DELETE FROM \(table)") }
            let result = try await body(PostgresWriter(connection: connection, logger: logger))
            // Every parent is there now; checked before the triggers may change again.
            try await run("SET CONSTRAINTS comments_parent_id_fkey IMMEDIATE")
            for table in ["sites", "threads", "comments"] { try await run("ALTER TABLE \(table) ENABLE TRIGGER USER") }
            // New ids continue after the moved ones.
            for table in ["threads", "comments", "moderation_log", "outbox"] {
                try await run("SELECT setval(pg_get_serial_sequence('\(table)', 'id'), COALESCE((SELECT MAX(id) FROM \(table)), 0) + 1, false)")
            }
            return result
        }
    }

    /// Whether any thread or comment is stored (a move goes only into a database without).
    func holdsThreadsOrComments() async throws -> Bool {
        try await store.read { connection, logger in try await Self.holdsThreadsOrComments(on: connection, logger: logger) }
    }

    static func holdsThreadsOrComments(on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        try await PostgresReader.count("SELECT (EXISTS (SELECT 1 FROM threads) OR EXISTS (SELECT 1 FROM comments))::int",
                                       on: connection, logger: logger) > 0
    }

    func close() { if closes { store.close() } }
}

/// Reads tables inside the snapshot transaction `PostgresEnd.reading` opened.
struct PostgresReader: RowReader {
    let connection: PostgresConnection
    let logger: Logger

    /// The one number a `SELECT COUNT(*) …` of our own text answers.
    static func count(_ sql: String, on connection: PostgresConnection, logger: Logger) async throws -> Int {
        Int(try await PostgresStore.values(connection.query(PostgresQuery(unsafeSQL: sql), logger: logger), as: Int64.self).first ?? 0)
    }

    func columns(of table: String) async throws -> [String] {
        try await PostgresWriter.columnTypes(of: table, on: connection, logger: logger).map(\.name)
    }

    func count(_ table: String) async throws -> Int {
        try await Self.count("SELECT COUNT(*) FROM \(table)", on: connection, logger: logger)
    }

    func rows(of table: String, columns: [String], _ each: @escaping @Sendable ([[StoredValue]]) async throws -> Void) async throws {
        let key = try await primaryKey(of: table)
        let sql = "SELECT \(columns.map { "\"\($0)\"" }.joined(separator: ", ")) FROM \(table) ORDER BY \(key.joined(separator: ", "))"
        var batch: [[StoredValue]] = []
        for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) {
            batch.append(try row.map(Self.value))
            if batch.count == 500 {
                try await each(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try await each(batch) }
    }

    private func primaryKey(of table: String) async throws -> [String] {
        var key: [String] = []
        let rows = try await connection.query(PostgresQuery("""
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = \(table)::regclass AND i.indisprimary ORDER BY array_position(i.indkey, a.attnum)
            """), logger: logger)
        for try await name in rows.decode(String.self) { key.append("\"\(name)\"") }
        return key.isEmpty ? ["ctid"] : key
    }

    static func value(_ cell: PostgresCell) throws -> StoredValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bytea: return .blob(Array(try cell.decode(ByteBuffer.self).readableBytesView))
        default: return .text(try cell.decode(String.self))
        }
    }
}

/// Inserts rows inside the transaction `PostgresEnd.writing` opened, binding each value as its
/// column's declared type (SQLite's 0 and 1 become booleans, its blobs bytea).
struct PostgresWriter: RowWriter {
    let connection: PostgresConnection
    let logger: Logger

    /// The columns of `table` in order, with their types.
    static func columnTypes(of table: String, on connection: PostgresConnection, logger: Logger) async throws -> [(name: String, type: String)] {
        var columns: [(name: String, type: String)] = []
        let rows = try await connection.query(PostgresQuery("""
            SELECT column_name::text, data_type::text FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table) ORDER BY ordinal_position
            """), logger: logger)
        for try await (name, type) in rows.decode((String, String).self) { columns.append((name, type)) }
        return columns
    }

    func columns(of table: String) async throws -> [String: String] {
        Dictionary(try await Self.columnTypes(of: table, on: connection, logger: logger).map { ($0.name, $0.type) },
                   uniquingKeysWith: { first, _ in first })
    }

    func insert(_ rows: [[StoredValue]], into table: String, columns: [String]) async throws {
        let types = try await self.columns(of: table)
        for query in try Self.statements(rows, into: table, columns: columns, types: types) {
            try await connection.query(query, logger: logger)
        }
    }

    /// `INSERT` statements for `rows`, as many as the parameter limit needs, each ending in
    /// `suffix` (an `ON CONFLICT` or `RETURNING` clause).
    static func statements(
        _ rows: [[StoredValue]], into table: String, columns: [String], types: [String: String], suffix: String = ""
    ) throws -> [PostgresQuery] {
        // At most 65,535 parameters a statement.
        let perStatement = max(1, 30_000 / max(columns.count, 1))
        var statements: [PostgresQuery] = []
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            var bindings = PostgresBindings(capacity: chunk.count * columns.count)
            var tuples: [String] = []
            for row in chunk {
                var placeholders: [String] = []
                for (index, value) in row.enumerated() {
                    try bind(value, as: types[columns[index]] ?? "text", column: columns[index], into: &bindings)
                    placeholders.append("$\(bindings.count)")
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            let sql = "INSERT INTO \(table) (\(columns.map { "\"\($0)\"" }.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", ")) \(suffix)"
            statements.append(PostgresQuery(unsafeSQL: sql, binds: bindings))
            start += chunk.count
        }
        return statements
    }

    static func bind(_ value: StoredValue, as type: String, column: String, into bindings: inout PostgresBindings) throws {
        switch (value, type) {
        case (.null, _): bindings.appendNull()
        case (.integer(let int), "boolean"): bindings.append(int != 0)
        case (.integer(let int), "smallint"):
            guard let small = Int16(exactly: int) else { throw outOfRange(int, column: column, type: type) }
            bindings.append(small)
        case (.integer(let int), "integer"):
            guard let small = Int32(exactly: int) else { throw outOfRange(int, column: column, type: type) }
            bindings.append(small)
        case (.integer(let int), "double precision"), (.integer(let int), "real"): bindings.append(Double(int))
        case (.integer(let int), "text"): bindings.append(String(int))
        case (.integer(let int), _): bindings.append(int)
        case (.real(let double), "text"): bindings.append(String(double))
        case (.real(let double), _): bindings.append(double)
        case (.text(let text), "bytea"): bindings.append(ByteBuffer(string: text))
        case (.text(let text), _): bindings.append(text)
        case (.blob(let bytes), "bytea"): bindings.append(ByteBuffer(bytes: bytes))
        case (.blob, _):
            throw CommentsError.migrationRefused("\(column) holds bytes where PostgreSQL keeps \(type)")
        }
    }

    static func outOfRange(_ value: Int64, column: String, type: String) -> CommentsError {
        .migrationRefused("\(column) holds \(value), out of range for PostgreSQL's \(type)")
    }
}
