import Comments
import Foundation
import Logging

/// Delivers the hook outbox in the background, like `OutboxSender` does mail: due deliveries
/// are claimed as slots free up, sent (up to eight at once and two per hook, so one slow
/// receiver holds up nobody), and each attempt recorded; failures are retried with exponential
/// backoff until two days after the event, then kept as failed with their last answer.
/// Delivered and failed deliveries are deleted after `keepMillis`.
public struct HookSender: Sendable {
    public let store: any CommentStore
    public let settings: HookSettings
    public let clock: any MarginClock
    public let random: any RandomSource
    public let logger: Logger
    /// How often to look for due deliveries.
    public let pollInterval: Duration

    /// Attempts in flight at once.
    static let concurrency = 8
    /// Attempts in flight at once to one hook: a slow receiver takes at most this many of the
    /// slots, and the others keep going.
    static let perHook = 2
    /// How many claimed deliveries one pass may hold unstarted (waiting for their hook, or
    /// left to lapse) before it claims no more.
    static let parkLimit = 256
    /// How often delivered and failed deliveries are pruned, and how long they are kept.
    static let pruneEveryMillis: Int64 = 3_600_000
    static let keepMillis: Int64 = 30 * 86_400_000

    public init(store: any CommentStore, settings: HookSettings, clock: any MarginClock, random: any RandomSource, logger: Logger,
                pollInterval: Duration = .seconds(1)) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.random = random
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Attempts what is due now, and what falls due while those are under way; returns how many
    /// were delivered. Deliveries are claimed only as slots free up; a hook gets at most
    /// `perHook` attempts at once, its other claimed deliveries waiting for it (as many as can
    /// still start well before their claim lapses; more are left to lapse and come due again),
    /// so one slow receiver cannot hold up the others. When `stopping()` turns true, nothing
    /// more is started and the attempts under way are finished.
    @discardableResult
    public func deliverDue(stopping: @Sendable () -> Bool = { false }) async throws -> Int {
        let timeoutMillis = max(settings.timeout.wholeMilliseconds, 1)
        // A waiting delivery starts only while its attempt can end a margin before its claim lapses.
        let startWithin = OutboxClaim.leaseMillis - timeoutMillis - 30_000
        let rounds = max(0, Int(startWithin / timeoutMillis) - 1)
        var slots = HookSlots(total: Self.concurrency, perHook: Self.perHook, waitingPerHook: rounds * Self.perHook)
        var claimError: (any Error)?
        let delivered = await withTaskGroup(of: (hookID: Int64, delivered: Bool).self) { group in
            var delivered = 0
            var lapsing = 0
            // Whether the last claim may have left due deliveries behind.
            var more = true
            while true {
                if !stopping() && !Task.isCancelled {
                    for delivery in slots.startable(claimedAfter: clock.nowMillis() - startWithin) {
                        group.addTask { (delivery.hookID, await self.deliver(delivery)) }
                    }
                    while more && slots.free > 0 && lapsing + slots.waitingCount < Self.parkLimit && !stopping() && !Task.isCancelled {
                        let free = slots.free
                        let now = clock.nowMillis()
                        let due: [HookDelivery]
                        do {
                            due = try await store.dueHookDeliveries(now: now, limit: free)
                        } catch {
                            claimError = error
                            more = false
                            break
                        }
                        more = due.count == free
                        let taken = slots.take(due, claimedAt: now)
                        lapsing += taken.lapsing
                        for delivery in taken.start {
                            group.addTask { (delivery.hookID, await self.deliver(delivery)) }
                        }
                    }
                }
                guard let done = await group.next() else { break }
                slots.finished(hookID: done.hookID)
                if done.delivered { delivered += 1 }
                // A slot is free: look again, unless the store is failing.
                more = claimError == nil
            }
            return delivered
        }
        if let claimError, delivered == 0 { throw claimError }
        return delivered
    }

    /// One attempt at `delivery`, recorded; true when delivered. A store failure is logged, not
    /// thrown, so it does not cut short the attempts beside it (the delivery stays claimed
    /// until its lease lapses, then is due again).
    private func deliver(_ delivery: HookDelivery) async -> Bool {
        do {
            // A hook removed meanwhile took its deliveries with it; a disabled one keeps its
            // deliveries for when it is enabled again.
            guard let hook = try await store.hook(id: delivery.hookID), hook.enabled else { return false }
            let result = await attempt(delivery, hook: hook)
            try await store.recordHookAttempt(deliveryID: delivery.id, result)
            if let error = result.error {
                // Never the URL: for some presets it is the credential.
                logger.warning("hook delivery \(delivery.id) not delivered", metadata: [
                    "hook": "\(hook.id)", "event": "\(delivery.eventID)", "error": "\(error)", "retry": "\(result.retryAt != nil)",
                ])
            }
            return result.error == nil
        } catch {
            logger.error("hook delivery \(delivery.id) not recorded", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Deletes delivered and failed deliveries older than `keepMillis` when the last pruning,
    /// at `lastPruned`, is `pruneEveryMillis` ago or more; returns when it last pruned.
    func pruneIfDue(lastPruned: Int64?) async -> Int64? {
        let now = clock.nowMillis()
        if let lastPruned, now - lastPruned < Self.pruneEveryMillis { return lastPruned }
        do {
            let pruned = try await store.pruneHookDeliveries(before: now - Self.keepMillis)
            if pruned > 0 { logger.info("pruned \(pruned) old hook deliveries") }
            return now
        } catch {
            logger.error("pruning old hook deliveries failed", metadata: ["error": "\(error)"])
            return lastPruned
        }
    }

    /// Delivers until cancelled or `stopping()` turns true, polling every `pollInterval`, and
    /// prunes old deliveries once an hour. An attempt under way when asked to stop is finished
    /// and recorded; nothing new is claimed then.
    public func run(stopping: @escaping @Sendable () -> Bool = { false }) async {
        var lastPruned: Int64?
        while !Task.isCancelled && !stopping() {
            lastPruned = await pruneIfDue(lastPruned: lastPruned)
            do {
                try await deliverDue(stopping: stopping)
            } catch {
                logger.error("hook outbox check failed", metadata: ["error": "\(error)"])
            }
            var waited: Duration = .zero
            while waited < pollInterval && !stopping() && !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(50))
                waited += .milliseconds(50)
            }
        }
    }

    /// One attempt at `delivery` to `hook`, not recorded: the request is shaped (with links
    /// signed now), sent to the vetted address, and its outcome returned with when to try again
    /// (nil to give up).
    public func attempt(_ delivery: HookDelivery, hook: Hook) async -> HookAttempt {
        let start = clock.nowMillis()
        let response: HookResponse
        do {
            let request = try await request(for: delivery, hook: hook, now: start)
            response = await HookTransport.send(request, allowPrivate: hook.allowPrivate, timeout: settings.timeout)
        } catch let error as DecodingError {
            // A payload that cannot be read now never will be.
            let now = clock.nowMillis()
            return HookAttempt(status: nil, error: "the stored event cannot be read: \(error)", response: nil, at: now, retryAt: nil)
        } catch {
            response = .failure("\(error)")
        }
        let now = clock.nowMillis()
        let retryAt = response.error == nil ? nil : Self.retryAt(
            attemptsBefore: delivery.attempts, createdAt: delivery.createdAt, now: now,
            retryAfterSeconds: response.status == 429 || response.status == 503 ? response.retryAfterSeconds : nil, settings: settings)
        return HookAttempt(status: response.status, error: response.error, response: response.body, at: now, retryAt: retryAt)
    }

    /// The request for one attempt at `now`, with freshly signed moderation links (none for a
    /// deleted comment or a test event), and for a trusted hook the commenter's email and
    /// network as the comment has them now.
    func request(for delivery: HookDelivery, hook: Hook, now: Int64) async throws -> HookRequest {
        var data = try HookEventData.parse(delivery.payload)
        if hook.trusted, let commentID = delivery.commentID {
            // Stored payloads hold neither: a trusted hook gets what the comment has now, so a
            // deleted or forgotten commenter's address is never sent.
            data = data.withContact(of: try await store.comment(id: commentID))
        } else if !hook.trusted {
            // Rows queued while the hook was trusted keep nothing it may no longer see.
            data = data.withContact(email: nil, network: nil)
            data.moderator = nil
        }
        var links: [HookLink] = []
        if let commentID = delivery.commentID, delivery.type != .deleted {
            let signer = LinkSigner(keys: try await store.signingKeys())
            links = HookLink.signed(site: delivery.siteID, commentID: commentID, signer: signer, settings: settings, now: now, random: random)
        }
        return try HookFormatter.request(hook: hook, delivery: delivery, data: data, links: links, now: now)
    }

    /// When to try again after a failed attempt: `firstRetryMillis` doubling with each earlier
    /// attempt up to `maximumRetryMillis`, or the receiver's `Retry-After` when that asks for
    /// longer (capped alike); nil once that would be more than `giveUpAfterMillis` after the event.
    static func retryAt(attemptsBefore: Int, createdAt: Int64, now: Int64, retryAfterSeconds: Int64?, settings: HookSettings) -> Int64? {
        let maximum = max(settings.maximumRetryMillis, 1)
        var wait = max(settings.firstRetryMillis, 1)
        // Doubled step by step, stopping at the maximum: no shift or product can overflow.
        for _ in 0..<max(attemptsBefore, 0) where wait < maximum { wait = wait > maximum / 2 ? maximum : wait * 2 }
        wait = min(wait, maximum)
        if let retryAfterSeconds, retryAfterSeconds > 0 {
            let asked = retryAfterSeconds.multipliedReportingOverflow(by: 1000)
            wait = max(wait, min(maximum, asked.overflow ? maximum : asked.partialValue))
        }
        let (next, overflow) = now.addingReportingOverflow(wait)
        return overflow || next - createdAt > settings.giveUpAfterMillis ? nil : next
    }
}
