import GRDB

/// A bulk import alone on its file writes through a rollback journal rather than the WAL. In WAL
/// mode every page goes to the WAL and is copied again into the database by the checkpoint at
/// commit: for a million comments that is 900 MB twice and about 7 s of a 60 s import. With a
/// rollback journal, pages appended to the file need no journal entry at all, and the file stays
/// exactly as safe: one transaction, rolled back from the journal after a crash.
///
/// Leaving WAL mode needs every other connection closed, so with a server running on the file
/// the import keeps the WAL (and does not wait to find out).
enum BulkJournal {
    /// Switches `db` (outside any transaction) to a rollback journal; false when it cannot.
    static func leaveWAL(_ db: Database) -> Bool {
        guard let timeout = try? Int.fetchOne(db, sql: "PRAGMA busy_timeout") else { return false }
        defer { try? db.execute(sql: "PRAGMA busy_timeout = \(timeout)") }
        guard (try? db.execute(sql: "PRAGMA busy_timeout = 0")) != nil,
              let mode = try? String.fetchOne(db, sql: "PRAGMA journal_mode = DELETE")
        else { return false }
        return mode.lowercased() == "delete"
    }

    /// Back to WAL for the server's readers; if another connection appeared meanwhile, the next
    /// one to open the file sets it (every store opens in WAL mode).
    static func returnToWAL(_ db: Database) {
        _ = try? String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
    }
}
