import Comments

/// Changes to a hook as `margin hooks update` and `PATCH /api/v1/admin/hooks/{id}` give them;
/// nil leaves a setting as it is.
public struct HookChanges: Sendable {
    public var name: String?
    /// `.some(nil)` makes the hook hear every site.
    public var siteID: String??
    public var url: String?
    public var target: String?
    /// A new bot or access token (not for webhooks: `rotateSecret` makes their secret).
    public var token: String?
    public var events: [HookEventType]?
    public var trusted: Bool?
    public var allowPrivate: Bool?
    public var enabled: Bool?
    /// Webhooks only: a new `whsec_` secret, returned in clear this once.
    public var rotateSecret: Bool

    public init(
        name: String? = nil, siteID: String?? = nil, url: String? = nil, target: String? = nil, token: String? = nil,
        events: [HookEventType]? = nil, trusted: Bool? = nil, allowPrivate: Bool? = nil, enabled: Bool? = nil, rotateSecret: Bool = false
    ) {
        self.name = name
        self.siteID = siteID
        self.url = url
        self.target = target
        self.token = token
        self.events = events
        self.trusted = trusted
        self.allowPrivate = allowPrivate
        self.enabled = enabled
        self.rotateSecret = rotateSecret
    }
}
