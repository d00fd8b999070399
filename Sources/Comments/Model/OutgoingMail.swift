/// A mail waiting in (or delivered from) the outbox.
public struct OutgoingMail: Sendable, Equatable {
    /// Why the mail exists.
    public enum Kind: String, Sendable {
        case moderation, reply
        /// The one mail that asks an address whether it wants reply notifications.
        case confirmation
    }

    public var id: Int64
    public var kind: Kind
    public var commentID: Int64?
    public var recipients: [String]
    public var subject: String
    public var body: String
    public var headers: [[String]]
    public var messageID: String
    public var createdAt: Int64
    public var attempts: Int
    public var nextAttemptAt: Int64
    public var sentAt: Int64?
    public var failedAt: Int64?
    public var lastError: String?
    /// For reader mail: at most this many mails to its (one) recipient in any 24 hours; the
    /// store drops the mail instead of queueing one more. Not stored.
    public var dailyCap: Int?

    public init(id: Int64 = 0, kind: Kind, commentID: Int64?, recipients: [String], subject: String, body: String,
                headers: [[String]] = [], messageID: String, createdAt: Int64, attempts: Int = 0, nextAttemptAt: Int64? = nil,
                sentAt: Int64? = nil, failedAt: Int64? = nil, lastError: String? = nil, dailyCap: Int? = nil) {
        self.dailyCap = dailyCap
        self.id = id
        self.kind = kind
        self.commentID = commentID
        self.recipients = recipients
        self.subject = subject
        self.body = body
        self.headers = headers
        self.messageID = messageID
        self.createdAt = createdAt
        self.attempts = attempts
        self.nextAttemptAt = nextAttemptAt ?? createdAt
        self.sentAt = sentAt
        self.failedAt = failedAt
        self.lastError = lastError
    }
}

extension OutgoingMail {
    /// The key (`AddressKey`) of the one recipient the outbox checks before queueing this mail:
    /// against their daily cap (reader mail) or to record that their consent was asked (a
    /// confirmation); nil for mail it queues unchecked (moderators').
    var checkedRecipientKey: String? {
        guard dailyCap != nil || kind == .confirmation, let recipient = recipients.first else { return nil }
        return AddressKey.hash(recipient)
    }
}
