import Comments

/// Shapes one delivery into the request its hook's preset sends (pure: the links are signed
/// by the caller, the time is given).
enum HookFormatter {
    /// The request for `delivery` to `hook` at `now` (unix ms), carrying `links`.
    static func request(hook: Hook, delivery: HookDelivery, data: HookEventData, links: [HookLink], now: Int64) throws -> HookRequest {
        let summary = {
            HookSummary(data: data, type: delivery.type, eventTime: delivery.createdAt, links: links, isTest: delivery.commentID == nil)
        }
        return switch hook.preset {
        case .webhook:
            try WebhookFormat.request(hook: hook, eventID: delivery.eventID, type: delivery.type, eventTime: delivery.createdAt,
                                      data: data, links: links, now: now)
        case .slack: SlackFormat.request(url: hook.url, summary())
        case .mattermost: MattermostFormat.request(url: hook.url, summary())
        case .discord: DiscordFormat.request(url: hook.url, summary())
        case .telegram: try TelegramFormat.request(hook: hook, summary())
        case .matrix: try MatrixFormat.request(hook: hook, eventID: delivery.eventID, summary())
        case .ntfy: try NtfyFormat.request(hook: hook, summary())
        }
    }
}
