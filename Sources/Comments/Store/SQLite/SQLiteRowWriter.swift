import Foundation
import GRDB

/// Writes into a new SQLite file: the rows its migrations seeded go first, and the triggers that
/// count thread versions rest until the end (the versions travel as they are).
final class SQLiteRowWriter: RowWriter, @unchecked Sendable {
    let writer: any DatabaseWriter
    /// The dropped triggers' `CREATE` statements.
    private let triggers: [String]

    private init(writer: any DatabaseWriter, triggers: [String]) {
        self.writer = writer
        self.triggers = triggers
    }

    static func open(_ writer: any DatabaseWriter) async throws -> SQLiteRowWriter {
        // Rows arrive in key order, a batch a transaction, and a reply may have a smaller id
        // than its parent (an import meets parents after their children): references are
        // checked once, at the end (`finish`).
        try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA foreign_keys = OFF") }
        let triggers = try await writer.write { db -> [String] in
            let triggers = try Row.fetchAll(db, sql: "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY rowid")
            for row in triggers { try db.execute(sql: "DROP TRIGGER \((row["name"] as String).quotedDatabaseIdentifier)") }
            for table in StoreCopy.tables.reversed() { try db.execute(sql: "DELETE FROM \(table.quotedDatabaseIdentifier)") }
            return triggers.map { $0["sql"] }
        }
        return SQLiteRowWriter(writer: writer, triggers: triggers)
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

    /// Checks every reference, then puts the triggers back and fills the search index, whose
    /// triggers rested while the comments went in.
    func finish() async throws {
        let triggers = self.triggers
        try await writer.writeWithoutTransaction { db in
            if let broken = try Row.fetchOne(db, sql: "PRAGMA foreign_key_check") {
                throw CommentsError.copyRefused("a row of \(broken[0] as String? ?? "a table") refers to a missing \(broken[2] as String? ?? "row")")
            }
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        try await writer.write { db in
            for sql in triggers { try db.execute(sql: sql) }
            try SQLiteStore.rebuildSearchIndex(db)
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
