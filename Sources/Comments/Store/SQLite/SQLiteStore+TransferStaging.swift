/// A SQLite store is imported into and exported from directly.
extension SQLiteStore {
    /// Runs `work` on this store: its read transactions are snapshots already.
    public func withSQLiteSnapshot<T: Sendable>(_ work: @Sendable (SQLiteStore) async throws -> T) async throws -> T {
        try await work(self)
    }

    /// Runs `work` on this store; the importers' own transactions (and dry runs) decide what is kept.
    public func importStaged<T: Sendable>(keep: @escaping @Sendable (T) -> Bool, _ work: @Sendable (SQLiteStore) async throws -> T) async throws -> T {
        try await work(self)
    }
}
