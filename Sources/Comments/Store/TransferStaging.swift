/// How a store meets imports and exports, which are written once, for SQLite: a SQLite store
/// hands over itself; another store hands over a SQLite copy of one snapshot of itself and, for
/// an import, writes what the copy gained back.
public protocol TransferStaging: Sendable {
    /// Runs `work` (an export) on a SQLite store holding exactly this store's data, read at one
    /// moment.
    func withSQLiteSnapshot<T: Sendable>(_ work: @Sendable (SQLiteStore) async throws -> T) async throws -> T
    /// Runs `work` (an import) on a SQLite store whose changes end up in this store, unless
    /// `keep` says no to its result (a dry run): then nothing is written.
    func importStaged<T: Sendable>(keep: @escaping @Sendable (T) -> Bool, _ work: @Sendable (SQLiteStore) async throws -> T) async throws -> T
}
