import Comments

/// A new hook as `margin hooks add` and `POST /api/v1/admin/hooks` give it; `HookRegistry.add`
/// checks it and fills in what is left out.
public struct HookInput: Sendable {
    /// A label; nil for the preset and the host (`slack hooks.slack.com`).
    public var name: String?
    /// The one site it hears; nil for every site.
    public var siteID: String?
    public var preset: Hook.Preset
    /// nil for the preset's default URL (Telegram, ntfy); the others need one.
    public var url: String?
    /// The chat (Telegram), room (Matrix) or topic (ntfy).
    public var target: String?
    /// The bot token (Telegram) or access token (Matrix, ntfy).
    public var token: String?
    /// nil for the preset's default: every event for a webhook, published and held for chats.
    public var events: [HookEventType]?
    public var trusted: Bool
    public var allowPrivate: Bool
    public var enabled: Bool

    public init(
        name: String? = nil, siteID: String? = nil, preset: Hook.Preset, url: String? = nil, target: String? = nil,
        token: String? = nil, events: [HookEventType]? = nil, trusted: Bool = false, allowPrivate: Bool = false, enabled: Bool = true
    ) {
        self.name = name
        self.siteID = siteID
        self.preset = preset
        self.url = url
        self.target = target
        self.token = token
        self.events = events
        self.trusted = trusted
        self.allowPrivate = allowPrivate
        self.enabled = enabled
    }

    /// The events a preset hears when none are named.
    public static func defaultEvents(for preset: Hook.Preset) -> [HookEventType] {
        preset == .webhook ? HookEventType.allCases : [.published, .held]
    }
}
