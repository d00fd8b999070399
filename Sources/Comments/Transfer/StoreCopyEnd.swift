/// One side of a move.
protocol StoreCopyEnd: Sendable {
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
