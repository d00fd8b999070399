import GRDB

/// Reads a SQLite snapshot, a page of rows at a time by rowid.
struct SQLiteRowReader: RowReader {
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
