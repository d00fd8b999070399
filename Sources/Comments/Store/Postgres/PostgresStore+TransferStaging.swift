import Foundation

/// PostgreSQL meets imports and exports through a SQLite copy of one snapshot of it.
extension PostgresStore {
    /// Runs `work` (an export) on a SQLite copy of one consistent snapshot (the same bytes as
    /// from SQLite), in a temporary folder removed afterwards.
    public func withSQLiteSnapshot<T: Sendable>(_ work: @Sendable (SQLiteStore) async throws -> T) async throws -> T {
        try await withTemporaryCopy { copy, _ in try await work(copy) }
    }

    /// Runs `work` (an import) on a SQLite copy of this store, then, unless `keep` is false (a dry
    /// run), writes the result back in one transaction: into a database without threads and
    /// comments the whole copy moves, ids and all (an export comes back byte for byte); into
    /// one that holds some, `ImportMerge` writes only what the import added or changed.
    public func importStaged<T: Sendable>(
        keep: @escaping @Sendable (T) -> Bool, _ work: @Sendable (SQLiteStore) async throws -> T
    ) async throws -> T {
        try await withTemporaryCopy { copy, path in
            let heldAny = try await copy.holdsThreadsOrComments()
            try await ImportMerge.track(copy)
            let result = try await work(copy)
            guard keep(result) else { return result }
            if heldAny {
                // Nodes keep serving: only what the import adds or changes is written back.
                _ = try await ImportMerge.apply(from: copy, into: self)
                return result
            }
            do {
                _ = try await StoreCopy.move(from: SQLiteCopyEnd(path: path), to: { PostgresCopyEnd(store: self, closes: false) })
            } catch CommentsError.copyRefused(let why) {
                // A node stored the first comment while the import ran: merge instead.
                guard try await PostgresCopyEnd(store: self, closes: false).holdsThreadsOrComments() else {
                    throw CommentsError.copyRefused(why)
                }
                _ = try await ImportMerge.apply(from: copy, into: self)
            }
            return result
        }
    }

    /// Runs `work` on a SQLite copy of one snapshot of this store (and its path), in a temporary
    /// folder removed afterwards.
    private func withTemporaryCopy<T: Sendable>(
        _ work: @Sendable (SQLiteStore, String) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("margin-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("copy.sqlite").path
        _ = try await StoreCopy.copy(self, toSQLite: path)
        return try await work(try SQLiteStore(path: path), path)
    }
}
