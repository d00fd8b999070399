/// A destination that hears about comment events: a generic signed webhook, or a chat service
/// the sender formats for (its preset).
public struct Hook: Sendable, Equatable {
    /// How deliveries are shaped and where they go.
    public enum Preset: String, Sendable, Codable, CaseIterable {
        /// Standard Webhooks: the event as JSON, signed with the hook's `whsec_` secret.
        case webhook
        /// A Slack incoming webhook (`url`).
        case slack
        /// A Mattermost incoming webhook (`url`).
        case mattermost
        /// A Discord channel webhook (`url`).
        case discord
        /// The Telegram Bot API's `sendMessage`: `url` is the API's base, `target` the chat,
        /// `secret` the bot token.
        case telegram
        /// A Matrix room message: `url` is the homeserver, `target` the room id, `secret` an
        /// access token.
        case matrix
        /// An ntfy topic: `url` is the server, `target` the topic, `secret` an optional token.
        case ntfy

        /// The base URL a preset uses when none is given; nil when the URL must be given.
        public var defaultURL: String? {
            switch self {
            case .telegram: "https://api.telegram.org"
            case .ntfy: "https://ntfy.sh"
            case .webhook, .slack, .mattermost, .discord, .matrix: nil
            }
        }

        /// Whether the preset needs `target` (chat, room or topic).
        public var needsTarget: Bool { self == .telegram || self == .matrix || self == .ntfy }

        /// Whether the preset needs `secret` given (a bot or access token); `webhook` makes its own.
        public var needsToken: Bool { self == .telegram || self == .matrix }

        /// Whether `url` itself is a credential (the chat services' webhook addresses carry it).
        public var urlIsSecret: Bool { self == .slack || self == .mattermost || self == .discord }
    }

    public var id: Int64
    /// A label for people ("team chat"); unique is not required.
    public var name: String
    /// The one site whose events it hears; nil for every site.
    public var siteID: String?
    public var preset: Preset
    /// The endpoint (webhook, Slack, Mattermost, Discord) or the service's base URL (Telegram,
    /// Matrix, ntfy).
    public var url: String
    /// The chat id (Telegram), room id (Matrix) or topic (ntfy); nil for the others.
    public var target: String?
    /// The signing secret (`whsec_…`, webhook), bot token (Telegram), access token (Matrix,
    /// optional for ntfy). Shown once when made; masked everywhere after.
    public var secret: String?
    /// The events it subscribes to.
    public var events: [HookEventType]
    /// Deliveries carry the commenter's email and network (else both are null).
    public var trusted: Bool
    /// Loopback, private, link-local and metadata destinations are allowed.
    public var allowPrivate: Bool
    /// A disabled hook gets no new deliveries (its queued ones still go out).
    public var enabled: Bool
    public var createdAt: Int64
    public var updatedAt: Int64

    public init(
        id: Int64 = 0, name: String, siteID: String?, preset: Preset, url: String, target: String? = nil, secret: String? = nil,
        events: [HookEventType], trusted: Bool = false, allowPrivate: Bool = false, enabled: Bool = true, createdAt: Int64,
        updatedAt: Int64? = nil
    ) {
        self.id = id
        self.name = name
        self.siteID = siteID
        self.preset = preset
        self.url = url
        self.target = target
        self.secret = secret
        self.events = events
        self.trusted = trusted
        self.allowPrivate = allowPrivate
        self.enabled = enabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
    }

    /// Whether an event of `type` on `siteID` reaches this hook.
    public func hears(_ type: HookEventType, siteID: String) -> Bool {
        enabled && (self.siteID == nil || self.siteID == siteID) && events.contains(type)
    }
}
