import Comments
import Foundation

/// The one place hooks are managed, by the CLI (`margin hooks`) and the API alike: what is
/// given is checked (URL, target, token, events, site, destination), a webhook gets its
/// signing secret, and test events are sent on the spot.
public struct HookRegistry: Sendable {
    public let store: any CommentStore
    public let sender: HookSender
    public let clock: any MarginClock
    public let random: any RandomSource

    /// The most hooks one server keeps: each adds a row to every comment change it hears.
    public static let limit = 100

    public init(store: any CommentStore, sender: HookSender, clock: any MarginClock, random: any RandomSource) {
        self.store = store
        self.sender = sender
        self.clock = clock
        self.random = random
    }

    /// Checks and stores a new hook. A webhook gets a fresh `whsec_` secret: the hook returned
    /// carries it in clear, the only time it is shown. Refuses (`invalid_hooks`) beyond `limit` hooks.
    public func add(_ input: HookInput) async throws -> Hook {
        let preset = input.preset
        guard let given = input.url ?? preset.defaultURL else {
            throw HookError.invalid(field: "url", message: "give the \(preset.rawValue) URL")
        }
        let (url, host) = try HookValidator.url(given, preset: preset)
        let target = try HookValidator.target(input.target, preset: preset)
        let token = try HookValidator.token(input.token, preset: preset)
        let name = try HookValidator.name(input.name, preset: preset, host: host)
        let events = try HookValidator.events(input.events ?? HookInput.defaultEvents(for: preset))
        if let siteID = input.siteID { try await requireSite(siteID) }
        try await HookValidator.destination(host: host, allowPrivate: input.allowPrivate)
        guard try await store.hooks(siteID: nil).count < Self.limit else {
            throw HookError.invalid(field: "hooks", message: "at most \(Self.limit) hooks; remove one first")
        }
        let secret = preset == .webhook ? HookSignature.makeSecret(random: random) : token
        return try await store.addHook(Hook(
            name: name, siteID: input.siteID, preset: preset, url: url, target: target, secret: secret, events: events,
            trusted: input.trusted, allowPrivate: input.allowPrivate, enabled: input.enabled, createdAt: clock.nowMillis()))
    }

    /// Applies `changes` to hook `id`, checked as `add` checks; returns the hook and, when the
    /// secret was rotated, the new one in clear (the only time it is shown). A URL on another
    /// host (scheme, name or port) needs the token given again when the hook has one.
    public func update(id: Int64, _ changes: HookChanges) async throws -> (hook: Hook, newSecret: String?) {
        var hook = try await hook(id: id)
        let preset = hook.preset
        var host = try HookValidator.parse(hook.url)
        var recheck = false
        if let url = changes.url {
            let before = HookValidator.origin(hook.url)
            (hook.url, host) = try HookValidator.url(url, preset: preset)
            recheck = true
            // A stored token is not handed to another host: a new origin needs it given again.
            if preset != .webhook, hook.secret != nil, changes.token == nil, HookValidator.origin(hook.url) != before {
                throw HookError.invalid(field: "token", message: "give the token again when the URL moves to another host")
            }
        }
        if let name = changes.name { hook.name = try HookValidator.name(name, preset: preset, host: host) }
        if let siteID = changes.siteID {
            if let siteID { try await requireSite(siteID) }
            hook.siteID = siteID
        }
        if let target = changes.target { hook.target = try HookValidator.target(target, preset: preset) }
        if let token = changes.token { hook.secret = try HookValidator.token(token, preset: preset) }
        if let events = changes.events { hook.events = try HookValidator.events(events) }
        if let trusted = changes.trusted { hook.trusted = trusted }
        if let allowPrivate = changes.allowPrivate {
            recheck = recheck || (hook.allowPrivate && !allowPrivate)
            hook.allowPrivate = allowPrivate
        }
        if let enabled = changes.enabled { hook.enabled = enabled }
        var newSecret: String?
        if changes.rotateSecret {
            guard preset == .webhook else {
                throw HookError.invalid(field: "rotate_secret", message: "only a webhook has a signing secret to rotate")
            }
            newSecret = HookSignature.makeSecret(random: random)
            hook.secret = newSecret
        }
        if recheck { try await HookValidator.destination(host: host, allowPrivate: hook.allowPrivate) }
        hook.updatedAt = clock.nowMillis()
        return (try await store.updateHook(hook), newSecret)
    }

    /// Removes hook `id` with its deliveries; false when there was none.
    public func remove(id: Int64) async throws -> Bool {
        try await store.removeHook(id: id)
    }

    /// The hooks that hear `siteID` (its own and those for every site), or all when nil.
    public func list(siteID: String?) async throws -> [Hook] {
        if let siteID { try await requireSite(siteID) }
        return try await store.hooks(siteID: siteID)
    }

    /// Hook `id`; throws `CommentsError.hookNotFound`.
    public func hook(id: Int64) async throws -> Hook {
        guard let hook = try await store.hook(id: id) else { throw CommentsError.hookNotFound(id) }
        return hook
    }

    /// Sends a sample `comment.held` event to hook `id` now (not through the queue, and
    /// whether or not the hook is enabled), and stores it as a delivery already attempted:
    /// delivered, or failed with the answer or error. It carries no moderation links.
    public func test(id: Int64) async throws -> HookDelivery {
        let hook = try await hook(id: id)
        let now = clock.nowMillis()
        let site = try await sampleSite(for: hook)
        let thread = CommentThread(id: 0, siteID: site.id, uri: "/margin-hook-test", title: "A test from Margin", locked: false,
                                   createdAt: now, version: 0)
        let text = "This is a test message from Margin: the hook “\(hook.name)” works."
        let comment = Comment(
            id: 0, threadID: 0, status: .pending, author: "Margin", email: "test@example.org", body: text,
            html: "<p>\(HookText.html(text))</p>", createdAt: now, spamScore: 0.5, spamReasons: ["a sample reason (test)"])
        let data = HookEventData(type: .held, site: site, thread: thread, comment: comment, actor: .cli, moderator: nil,
                                 previousStatus: nil, trusted: hook.trusted)
        var delivery = HookDelivery(hookID: hook.id, eventID: HookEventData.makeEventID(), type: .held, commentID: nil, siteID: site.id,
                                    payload: data.json(), createdAt: now)
        let attempt = await sender.attempt(delivery, hook: hook)
        delivery.attempts = 1
        delivery.nextAttemptAt = attempt.at
        if attempt.error == nil { delivery.deliveredAt = attempt.at } else { delivery.failedAt = attempt.at }
        delivery.lastStatus = attempt.status
        delivery.lastError = attempt.error
        delivery.lastResponse = attempt.response
        return try await store.queueHookDelivery(delivery)
    }

    /// Hook `id`'s latest deliveries, newest first; throws `CommentsError.hookNotFound`.
    public func deliveries(hookID: Int64, limit: Int) async throws -> [HookDelivery] {
        _ = try await hook(id: hookID)
        return try await store.hookDeliveries(hookID: hookID, limit: max(1, min(limit, 1000)))
    }

    /// Puts a failed delivery back in the queue, due now; false when there is no such failed one.
    public func retry(deliveryID: Int64) async throws -> Bool {
        try await store.retryHookDelivery(id: deliveryID, at: clock.nowMillis())
    }

    private func requireSite(_ id: String) async throws {
        guard try await store.site(id: id) != nil else { throw CommentsError.siteNotFound(id) }
    }

    /// The hook's site, or the first site for a hook that hears them all.
    private func sampleSite(for hook: Hook) async throws -> Site {
        if let siteID = hook.siteID, let site = try await store.site(id: siteID) { return site }
        return try await store.sites().first ?? Site.embeddedDefault(createdAt: 0)
    }
}
