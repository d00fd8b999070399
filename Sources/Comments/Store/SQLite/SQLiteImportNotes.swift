import GRDB

/// What an import does to a SQLite copy, noted for `ImportMerge` to carry into PostgreSQL:
/// temporary tables and triggers on the copy's one writer connection (where the import runs)
/// keep the key of every row inserted into the tables an import writes, and the first state of
/// every stored row it updates.
enum SQLiteImportNotes {
    /// The two notes kept of each table.
    enum Kind {
        /// The keys of rows the import inserted.
        case newRows
        /// The first state of stored rows the import updated.
        case oldRows
    }

    /// The temporary table (and trigger) keeping `kind` of `table`.
    static func name(_ kind: Kind, of table: ImportMerge.Table) -> String {
        switch kind {
        case .newRows: "merge_new_\(table.name)"
        case .oldRows: "merge_old_\(table.name)"
        }
    }

    /// Starts noting, on the copy's one writer connection (where the import runs), every row
    /// inserted into `tables` and the first state of every stored row updated.
    static func start(on copy: SQLiteStore, tables: [ImportMerge.Table]) async throws {
        try await copy.writer.writeWithoutTransaction { db in
            for table in tables {
                let info = try db.columns(in: table.name)
                let columns = info.map(\.name)
                let types = Dictionary(info.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
                // Declared as in the table: the values keep their types, and a key without one
                // would make every lookup in the triggers below a scan (each insert O(n)).
                func declared(_ names: [String]) -> String {
                    names.map { "\($0.quotedDatabaseIdentifier) \(types[$0] ?? "")" }.joined(separator: ", ")
                }
                let newRows = name(.newRows, of: table), oldRows = name(.oldRows, of: table)
                // Keys compare with IS (as = does, indexes and all, but a global blocklist
                // entry's null site matches itself).
                let keys = table.key.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
                let list = columns.map(\.quotedDatabaseIdentifier).joined(separator: ", ")
                let matchesOld = table.key.map { "k.\($0.quotedDatabaseIdentifier) IS OLD.\($0.quotedDatabaseIdentifier)" }
                    .joined(separator: " AND ")
                let matchesNew = table.key.map { "k.\($0.quotedDatabaseIdentifier) IS NEW.\($0.quotedDatabaseIdentifier)" }
                    .joined(separator: " AND ")
                try db.execute(sql: "CREATE TEMP TABLE \(newRows) (\(declared(table.key)), PRIMARY KEY (\(keys)))")
                try db.execute(sql: "CREATE TEMP TABLE \(oldRows) (\(declared(columns)), PRIMARY KEY (\(keys)))")
                try db.execute(sql: """
                    CREATE TEMP TRIGGER \(newRows) AFTER INSERT ON main.\(table.name.quotedDatabaseIdentifier)
                    WHEN NOT EXISTS (SELECT 1 FROM temp.\(newRows) k WHERE \(matchesNew))
                    BEGIN
                        INSERT INTO \(newRows) (\(keys)) VALUES (\(table.key.map { "NEW.\($0.quotedDatabaseIdentifier)" }.joined(separator: ", ")));
                    END
                    """)
                try db.execute(sql: """
                    CREATE TEMP TRIGGER \(oldRows) AFTER UPDATE ON main.\(table.name.quotedDatabaseIdentifier)
                    WHEN NOT EXISTS (SELECT 1 FROM temp.\(newRows) k WHERE \(matchesOld))
                        AND NOT EXISTS (SELECT 1 FROM temp.\(oldRows) k WHERE \(matchesOld))
                    BEGIN
                        INSERT INTO \(oldRows) (\(list)) VALUES (\(columns.map { "OLD.\($0.quotedDatabaseIdentifier)" }.joined(separator: ", ")));
                    END
                    """)
            }
        }
    }

    /// The copy's columns of `table`, in order.
    static func columns(of table: String, in copy: SQLiteStore) async throws -> [String] {
        try await copy.writer.read { db in try db.columns(in: table).map(\.name) }
    }

    /// Pages through the copy's rows noted as `kind` (joined to the table on its key): the
    /// row's `columns`, then the noted first state's `notedColumns`, in the order the import
    /// wrote them.
    static func pages(
        in copy: SQLiteStore, of table: ImportMerge.Table, noted kind: Kind, columns: [String], notedColumns: [String] = [],
        _ each: ([[StoredValue]]) async throws -> Void
    ) async throws {
        let selected = (columns.map { "t.\($0.quotedDatabaseIdentifier)" } + notedColumns.map { "n.\($0.quotedDatabaseIdentifier)" })
            .joined(separator: ", ")
        let join = table.key.map { "t.\($0.quotedDatabaseIdentifier) IS n.\($0.quotedDatabaseIdentifier)" }.joined(separator: " AND ")
        let sql = """
            SELECT n.rowid, \(selected) FROM temp.\(name(kind, of: table)) n JOIN main.\(table.name.quotedDatabaseIdentifier) t ON \(join)
            WHERE n.rowid > ? ORDER BY n.rowid LIMIT 500
            """
        var after: Int64 = 0
        while true {
            // Temporary tables live on the writer connection alone.
            let from = after
            let page = try await copy.writer.writeWithoutTransaction { db in
                try Row.fetchAll(db, sql: sql, arguments: [from]).map { row in row.databaseValues.map(SQLiteRowReader.value) }
            }
            guard let last = page.last, case .integer(let rowid) = last[0] else { return }
            after = rowid
            try await each(page.map { Array($0.dropFirst()) })
        }
    }
}
