/// What the database holds now, for monitoring (`GET /metrics`).
public struct StoreStatistics: Sendable, Equatable {
    /// Comments by status; a status with none may be missing.
    public var comments: [CommentStatus: Int]
    /// Mail waiting to be sent (not sent, not given up on).
    public var outboxPending: Int
    /// Mail given up on after its last attempt.
    public var outboxFailed: Int
    /// The database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64

    public init(comments: [CommentStatus: Int], outboxPending: Int, outboxFailed: Int, databaseBytes: Int64) {
        self.comments = comments
        self.outboxPending = outboxPending
        self.outboxFailed = outboxFailed
        self.databaseBytes = databaseBytes
    }
}

/// What a store can say it holds, for `GET /metrics` (every `CommentStore` can).
public protocol StatisticsStore: Sendable {
    /// Counts by status and outbox state, and the size of the database.
    func statistics() async throws -> StoreStatistics
}
