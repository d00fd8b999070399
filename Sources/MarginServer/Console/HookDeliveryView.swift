import Comments
import Foundation
import Moderation

/// A hook delivery as the API and `margin hooks deliveries --json` show it: where it stands and
/// the last answer.
public struct HookDeliveryView: Encodable, Sendable {
    public var delivery: HookDelivery

    public init(_ delivery: HookDelivery) { self.delivery = delivery }

    enum CodingKeys: String, CodingKey {
        case id, type, state, attempts
        case hookID = "hook_id"
        case eventID = "event_id"
        case commentID = "comment_id"
        case createdAt = "created_at"
        case nextAttemptAt = "next_attempt_at"
        case deliveredAt = "delivered_at"
        case failedAt = "failed_at"
        case lastStatus = "last_status"
        case lastError = "last_error"
        case lastResponse = "last_response"
    }

    /// Every key, `null` included.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(delivery.id, forKey: .id)
        try container.encode(delivery.hookID, forKey: .hookID)
        try container.encode(delivery.eventID, forKey: .eventID)
        try container.encode(delivery.type.rawValue, forKey: .type)
        try container.encode(delivery.commentID, forKey: .commentID)
        try container.encode(delivery.state.rawValue, forKey: .state)
        try container.encode(delivery.attempts, forKey: .attempts)
        try container.encode(delivery.createdAt, forKey: .createdAt)
        try container.encode(delivery.nextAttemptAt, forKey: .nextAttemptAt)
        try container.encode(delivery.deliveredAt, forKey: .deliveredAt)
        try container.encode(delivery.failedAt, forKey: .failedAt)
        try container.encode(delivery.lastStatus, forKey: .lastStatus)
        try container.encode(delivery.lastError, forKey: .lastError)
        try container.encode(delivery.lastResponse, forKey: .lastResponse)
    }
}
