import Comments
import Foundation
import Logging

/// Delivers the hook outbox in the background, like `OutboxSender` does mail: due deliveries
/// are claimed, sent (up to eight at once, so one slow receiver holds up nobody), and each
/// attempt recorded; failures are retried with exponential backoff until two days after the
/// event, then kept as failed with their last answer.
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
    /// Deliveries claimed per look: two rounds of the longest attempts fit in one claim's lease.
    static let batch = 16

    public init(store: any CommentStore, settings: HookSettings, clock: any MarginClock, random: any RandomSource, logger: Logger,
                pollInterval: Duration = .seconds(1)) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.random = random
        self.logger = logger
        self.pollInterval = pollInterval
    }

    /// Attempts what is due now; returns how many were delivered.
    @discardableResult
    public func deliverDue(stopping: @Sendable () -> Bool = { false }) async throws -> Int {
        let due = try await store.dueHookDeliveries(now: clock.nowMillis(), limit: Self.batch)
        return await withTaskGroup(of: Bool.self) { group in
            var started = 0
            var delivered = 0
            while started < due.count && started < Self.concurrency && !stopping() && !Task.isCancelled {
                let delivery = due[started]
                group.addTask { await self.deliver(delivery) }
                started += 1
            }
            while let ok = await group.next() {
                if ok { delivered += 1 }
                // What is not started stays claimed until its lease lapses, then is due again.
                if started < due.count && !stopping() && !Task.isCancelled {
                    let delivery = due[started]
                    group.addTask { await self.deliver(delivery) }
                    started += 1
                }
            }
            return delivered
        }
    }

    /// One attempt at `delivery`, recorded; true when delivered. A store failure is logged, not
    /// thrown, so it does not cut short the attempts beside it (the delivery stays claimed
    /// until its lease lapses, then is due again).
    private func deliver(_ delivery: HookDelivery) async -> Bool {
        do {
            // A hook removed meanwhile took its deliveries with it.
            guard let hook = try await store.hook(id: delivery.hookID) else { return false }
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

    /// Delivers until cancelled or `stopping()` turns true, polling every `pollInterval`. An
    /// attempt under way when asked to stop is finished and recorded.
    public func run(stopping: @escaping @Sendable () -> Bool = { false }) async {
        while !Task.isCancelled && !stopping() {
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
    /// deleted comment or a test event).
    func request(for delivery: HookDelivery, hook: Hook, now: Int64) async throws -> HookRequest {
        let data = try HookEventData.parse(delivery.payload)
        var links: [HookLink] = []
        if let commentID = delivery.commentID, delivery.type != .deleted {
            let signer = LinkSigner(keys: try await store.signingKeys())
            links = HookLink.signed(site: delivery.siteID, commentID: commentID, signer: signer, settings: settings, now: now, random: random)
        }
        return try HookFormatter.request(hook: hook, delivery: delivery, data: data, links: links, settings: settings, now: now)
    }

    /// When to try again after a failed attempt: `firstRetryMillis` doubling with each earlier
    /// attempt up to `maximumRetryMillis`, or the receiver's `Retry-After` (capped alike);
    /// nil once that would be more than `giveUpAfterMillis` after the event.
    static func retryAt(attemptsBefore: Int, createdAt: Int64, now: Int64, retryAfterSeconds: Int64?, settings: HookSettings) -> Int64? {
        let doubled = settings.firstRetryMillis << Int64(min(max(attemptsBefore, 0), 30))
        var wait = min(settings.maximumRetryMillis, doubled)
        if let retryAfterSeconds, retryAfterSeconds >= 0 {
            let asked = retryAfterSeconds.multipliedReportingOverflow(by: 1000)
            wait = min(settings.maximumRetryMillis, asked.overflow ? .max : asked.partialValue)
        }
        let next = now + wait
        return next - createdAt > settings.giveUpAfterMillis ? nil : next
    }
}
