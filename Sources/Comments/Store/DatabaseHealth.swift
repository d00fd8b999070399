/// How a health check found the database.
public struct DatabaseHealth: Sendable, Equatable {
    /// The database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64
    /// The schema migrations applied.
    public var migrations: Int
}
