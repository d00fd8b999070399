/// One event on its way to one hook (or delivered, or given up): the hook outbox's row.
public struct HookDelivery: Sendable, Equatable {
    /// Where a delivery stands.
    public enum State: String, Sendable, Codable {
        /// Waiting for its first or next attempt.
        case pending
        case delivered
        /// Given up: its last answer is kept.
        case failed
    }

    public var id: Int64
    public var hookID: Int64
    /// The event's id (`msg_…`): the same for every hook one event reaches and on every retry;
    /// receivers see it as `webhook-id`.
    public var eventID: String
    public var type: HookEventType
    public var commentID: Int64?
    public var siteID: String
    /// The event's data as stored when it happened (`HookEventData`, JSON).
    public var payload: String
    public var createdAt: Int64
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var deliveredAt: Int64?
    public var failedAt: Int64?
    /// The HTTP status of the last attempt; nil when none came back.
    public var lastStatus: Int?
    /// Why the last attempt failed, for people (refused destination, timeout, status…).
    public var lastError: String?
    /// The start of the last answer's body (at most `HookDelivery.responseLimit` bytes).
    public var lastResponse: String?

    /// How much of an answer's body is read and kept.
    public static let responseLimit = 4096

    public init(
        id: Int64 = 0, hookID: Int64, eventID: String, type: HookEventType, commentID: Int64?, siteID: String, payload: String,
        createdAt: Int64, attempts: Int = 0, nextAttemptAt: Int64? = nil, deliveredAt: Int64? = nil, failedAt: Int64? = nil,
        lastStatus: Int? = nil, lastError: String? = nil, lastResponse: String? = nil
    ) {
        self.id = id
        self.hookID = hookID
        self.eventID = eventID
        self.type = type
        self.commentID = commentID
        self.siteID = siteID
        self.payload = payload
        self.createdAt = createdAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt ?? createdAt
        self.deliveredAt = deliveredAt
        self.failedAt = failedAt
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.lastResponse = lastResponse
    }

    public var state: State { deliveredAt != nil ? .delivered : failedAt != nil ? .failed : .pending }
}

/// How one delivery attempt ended, as the sender records it.
public struct HookAttempt: Sendable, Equatable {
    /// The HTTP status, when an answer came.
    public var status: Int?
    /// Why it failed; nil when delivered.
    public var error: String?
    /// The start of the answer's body.
    public var response: String?
    public var at: Int64
    /// When to try again; nil to give up (only read when `error` is set).
    public var retryAt: Int64?

    public init(status: Int?, error: String?, response: String?, at: Int64, retryAt: Int64? = nil) {
        self.status = status
        self.error = error
        self.response = response
        self.at = at
        self.retryAt = retryAt
    }
}
