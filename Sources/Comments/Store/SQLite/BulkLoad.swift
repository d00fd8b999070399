import GRDB

/// The secondary indexes and triggers of `comments`, set aside during a bulk load and rebuilt
/// from their own stored SQL afterwards, all inside the load's transaction (readers never see
/// the table without them).
///
/// Building an index once from sorted data is several times faster than keeping six indexes up
/// to date row by row once they outgrow the page cache, and the per-row thread-version trigger
/// doubles the writes; the loader bumps each touched thread once instead.
struct BulkLoad {
    /// `CREATE …` statements of what was dropped, indexes first.
    private(set) var indexes: [String] = []
    private(set) var triggers: [String] = []

    /// Drops the triggers on `comments`, and its secondary indexes too when `dropIndexes`
    /// (worth it when the load is large next to what is stored); `keep` names indexes the load
    /// itself needs.
    static func suspend(_ db: Database, dropIndexes: Bool, keep: Set<String>) throws -> BulkLoad {
        var load = BulkLoad()
        let rows = try Row.fetchAll(db, sql: """
            SELECT type, name, sql FROM sqlite_master
            WHERE tbl_name = 'comments' AND type IN ('index', 'trigger') AND sql IS NOT NULL
            ORDER BY rowid
            """)
        for row in rows {
            let type: String = row["type"], name: String = row["name"], sql: String = row["sql"]
            if type == "trigger" {
                try db.execute(sql: "DROP TRIGGER \(name.quotedDatabaseIdentifier)")
                load.triggers.append(sql)
            } else if dropIndexes && !keep.contains(name) {
                try db.execute(sql: "DROP INDEX \(name.quotedDatabaseIdentifier)")
                load.indexes.append(sql)
            }
        }
        return load
    }

    /// Rebuilds the dropped indexes.
    mutating func restoreIndexes(_ db: Database) throws {
        for sql in indexes { try db.execute(sql: sql) }
        indexes = []
    }

    /// Recreates the dropped triggers, and rebuilds the search index the load's rows bypassed.
    mutating func restoreTriggers(_ db: Database) throws {
        for sql in triggers { try db.execute(sql: sql) }
        triggers = []
        try SQLiteStore.rebuildSearchIndex(db)
    }
}
