/// What the database holds now, for monitoring (`GET /metrics`).
public struct StoreStatistics: Sendable, Equatable {
    /// Comments by status; a status with none may be missing.
    public var comments: [CommentStatus: Int]
    /// Mail waiting to be sent (not sent, not given up on).
    public var outboxPending: Int
    /// Mail given up on after its last attempt.
    public var outboxFailed: Int
    /// Hook deliveries waiting to be sent, a retry included (not delivered, not given up on).
    public var hooksPending: Int
    /// Hook deliveries given up on after their last attempt (kept until pruned or retried).
    public var hooksFailed: Int
    /// The database file plus its write-ahead log, in bytes.
    public var databaseBytes: Int64

    public init(comments: [CommentStatus: Int], outboxPending: Int, outboxFailed: Int, hooksPending: Int = 0, hooksFailed: Int = 0,
                databaseBytes: Int64) {
        self.comments = comments
        self.outboxPending = outboxPending
        self.outboxFailed = outboxFailed
        self.hooksPending = hooksPending
        self.hooksFailed = hooksFailed
        self.databaseBytes = databaseBytes
    }
}

/// What a store can say it holds, for `GET /metrics` and `GET /healthz` (every `CommentStore` can).
public protocol StatisticsStore: Sendable {
    /// Counts by status, mail outbox and hook delivery state, and the size of the database.
    func statistics() async throws -> StoreStatistics
    /// Only the hook deliveries not delivered: waiting (a retry included) and given up on; the
    /// same figures as `statistics()`, for `GET /healthz`, without counting the comments.
    func hookBacklog() async throws -> (pending: Int, failed: Int)
}
