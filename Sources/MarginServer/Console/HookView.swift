import Comments
import Foundation
import Moderation

/// A hook as the API and `margin hooks list --json` show it: the URL of a chat service whose
/// address is its credential, a webhook URL's query, an ntfy topic and the secret or token
/// masked, unless shown once in the answer that made the hook (`clearSecret`, `clearTarget`).
public struct HookView: Encodable, Sendable {
    public var hook: Hook
    /// A secret shown once (just made or rotated); nil shows the masked one.
    public var clearSecret: String?
    /// Shows the target (an ntfy topic is a password) in clear: only in the answer that made it.
    public var clearTarget: Bool

    public init(_ hook: Hook, clearSecret: String? = nil, clearTarget: Bool = false) {
        self.hook = hook
        self.clearSecret = clearSecret
        self.clearTarget = clearTarget
    }

    enum CodingKeys: String, CodingKey {
        case id, name, site, preset, url, target, secret, events, trusted, enabled
        case allowPrivate = "allow_private"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }

    /// Every key, `null` included: a client reads a missing key as a mistake, not as null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(hook.id, forKey: .id)
        try container.encode(hook.name, forKey: .name)
        try container.encode(hook.siteID, forKey: .site)
        try container.encode(hook.preset.rawValue, forKey: .preset)
        try container.encode(hook.maskedURL, forKey: .url)
        try container.encode(clearTarget ? hook.target : hook.maskedTarget, forKey: .target)
        try container.encode(clearSecret ?? hook.maskedSecret, forKey: .secret)
        try container.encode(hook.events.map(\.rawValue), forKey: .events)
        try container.encode(hook.trusted, forKey: .trusted)
        try container.encode(hook.allowPrivate, forKey: .allowPrivate)
        try container.encode(hook.enabled, forKey: .enabled)
        try container.encode(hook.createdAt, forKey: .createdAt)
        try container.encode(hook.updatedAt, forKey: .updatedAt)
    }
}
