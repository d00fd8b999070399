import Comments
import Foundation
import Logging
import Synchronization
import Testing
@testable import Moderation

/// The sender working through a real (in-memory SQLite) hook outbox: slots shared fairly
/// between hooks, the commenter's contact filled in at send time for trusted hooks only,
/// disabled hooks left waiting, and old deliveries pruned.
/// A *TimingTests suite: its time bounds run apart from the parallel suites (scripts/test).
@Suite struct HookSenderQueueTimingTests {
    /// A store with the sample site and a webhook hook to `url`.
    static func store(hookTo url: String, trusted: Bool = false, enabled: Bool = true) async throws -> (SQLiteStore, Hook) {
        let store = try SQLiteStore()
        try await store.addSite(HookSamples.site)
        let hook = try await store.addHook(Hook(name: "h", siteID: nil, preset: .webhook, url: url, secret: HookWebhookFormatTests.secret,
                                                events: HookEventType.allCases, trusted: trusted, allowPrivate: true, enabled: enabled,
                                                createdAt: 0))
        return (store, hook)
    }

    static func queue(_ store: SQLiteStore, hookID: Int64, count: Int) async throws {
        for _ in 0..<count {
            var delivery = HookSenderTimingTests.delivery()
            delivery.hookID = hookID
            _ = try await store.queueHookDelivery(delivery)
        }
    }

    @Test func aSlowHookWithABacklogTakesAtMostTwoSlotsAndTheOthersGoAtOnce() async throws {
        let slow = try await HookListener.started(.init(delay: .seconds(2)))
        let fast = try await HookListener.started()
        defer { Task { await slow.close(); await fast.close() } }
        let (store, slowHook) = try await Self.store(hookTo: slow.url)
        let fastHook = try await store.addHook(Hook(name: "f", siteID: nil, preset: .webhook, url: fast.url,
                                                    secret: HookWebhookFormatTests.secret, events: [.held], allowPrivate: true, createdAt: 0))
        // The slow hook's deliveries are older: the queue hands them out first.
        try await Self.queue(store, hookID: slowHook.id, count: 6)
        try await Self.queue(store, hookID: fastHook.id, count: 12)
        let run = Task { try await HookSenderTimingTests.sender(store).deliverDue() }
        let started = ContinuousClock.now
        while fast.requests.count < 12 && ContinuousClock.now - started < .seconds(1.5) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(fast.requests.count == 12 && ContinuousClock.now - started < .seconds(1.5))
        #expect(slow.requests.count <= 2)
        // The slow hook's others wait for it, two at a time, in the same pass.
        #expect(try await run.value == 18)
        #expect(slow.requests.count == 6)
    }

    @Test func slotsGoToWaitingDeliveriesOfAHookAsItsAttemptsEnd() {
        func delivery(_ id: Int64, hook: Int64) -> HookDelivery {
            HookDelivery(id: id, hookID: hook, eventID: "msg_\(id)", type: .held, commentID: nil, siteID: "s", payload: "{}", createdAt: 0)
        }
        var slots = HookSlots(total: 4, perHook: 2, waitingPerHook: 2)
        let first = slots.take((1...5).map { delivery($0, hook: 1) } + [delivery(6, hook: 2)], claimedAt: 1000)
        #expect(first.start.map(\.id) == [1, 2, 6] && first.lapsing == 1 && slots.waitingCount == 2 && slots.free == 1)
        // Hook 1 is busy: nothing of it starts, whatever the free slot.
        #expect(slots.startable(claimedAfter: 0).isEmpty)
        slots.finished(hookID: 1)
        #expect(slots.startable(claimedAfter: 0).map(\.id) == [3])
        // A waiting delivery whose claim is too old to start is dropped.
        slots.finished(hookID: 1)
        #expect(slots.startable(claimedAfter: 2000).isEmpty && slots.waitingCount == 0 && slots.running == 2)
    }

    @Test func aTrustedHookGetsTheContactTheCommentHasWhenSentAndAnUntrustedOneNever() async throws {
        let listener = try await HookListener.started()
        defer { Task { await listener.close() } }
        let store = try SQLiteStore()
        try await store.addSite(HookSamples.site)
        // The comment first: the hooks hear nothing of its insertion.
        let (thread, comment) = try await store.insert(NewComment(siteID: "blog", uri: "/posts/hello", title: "Hello",
                                                                  comment: HookSamples.comment(status: .approved)))
        var hook = Hook(name: "t", siteID: nil, preset: .webhook, url: listener.url, secret: HookWebhookFormatTests.secret, events: [.held],
                        trusted: true, allowPrivate: true, createdAt: 0)
        let trusted = try await store.addHook(hook)
        hook.trusted = false
        let untrusted = try await store.addHook(hook)
        func queue(_ hook: Hook, storedTrusted: Bool) async throws -> String {
            let data = HookEventData(type: .published, site: HookSamples.site, thread: thread, comment: comment, actor: .reader,
                                     moderator: "alice@example.org", previousStatus: nil, trusted: storedTrusted)
            let delivery = HookDelivery(hookID: hook.id, eventID: HookEventData.makeEventID(), type: .published, commentID: comment.id,
                                        siteID: "blog", payload: data.json(), createdAt: SystemClock().nowMillis())
            return try await store.queueHookDelivery(delivery).eventID
        }
        func received(_ eventID: String) throws -> [String: Any] { try Self.data(of: eventID, at: listener) }
        // Stored without them (as the stores write every payload), sent with them to the trusted hook.
        let toTrusted = try await queue(trusted, storedTrusted: false)
        // Stored with them while the hook was trusted, sent without them now that it is not.
        let toUntrusted = try await queue(untrusted, storedTrusted: true)
        #expect(try await HookSenderTimingTests.sender(store).deliverDue() == 2)
        let trustedComment = try #require(try received(toTrusted)["comment"] as? [String: Any])
        #expect(trustedComment["email"] as? String == "mallory@example.net" && trustedComment["network"] as? String == "203.0.113.0/24")
        let untrustedData = try received(toUntrusted)
        let untrustedComment = try #require(untrustedData["comment"] as? [String: Any])
        #expect(untrustedComment["email"] is NSNull && untrustedComment["network"] is NSNull && untrustedData["moderator"] is NSNull)
        // Once the comment is gone, not even the trusted hook gets them.
        _ = try await store.delete(commentID: comment.id)
        let afterDelete = try await queue(trusted, storedTrusted: true)
        #expect(try await HookSenderTimingTests.sender(store).deliverDue() >= 1)
        let goneComment = try #require(try received(afterDelete)["comment"] as? [String: Any])
        #expect(goneComment["email"] is NSNull && goneComment["network"] is NSNull)
    }

    /// The `data` of the webhook request `listener` received for `eventID`.
    static func data(of eventID: String, at listener: HookListener) throws -> [String: Any] {
        let request = try #require(listener.requests.first { $0.headers["webhook-id"] == eventID })
        let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
        return try #require(body["data"] as? [String: Any])
    }

    @Test func aDisabledHooksDeliveriesWaitUntilItIsEnabledAgain() async throws {
        let listener = try await HookListener.started()
        defer { Task { await listener.close() } }
        let (store, hook) = try await Self.store(hookTo: listener.url, enabled: false)
        try await Self.queue(store, hookID: hook.id, count: 2)
        let sender = HookSenderTimingTests.sender(store)
        #expect(try await sender.deliverDue() == 0)
        #expect(listener.requests.isEmpty)
        var enabled = hook
        enabled.enabled = true
        _ = try await store.updateHook(enabled)
        #expect(try await sender.deliverDue() == 2)
        #expect(listener.requests.count == 2)
    }

    @Test func deliveredAndFailedDeliveriesAreKeptThirtyDaysAndPrunedAtMostHourly() async throws {
        let (store, hook) = try await Self.store(hookTo: "http://127.0.0.1:9/", enabled: false)
        let now = SystemClock().nowMillis()
        func row(createdDaysAgo days: Int64, delivered: Bool = false, failed: Bool = false) async throws -> Int64 {
            let created = now - days * 86_400_000
            let delivery = HookDelivery(hookID: hook.id, eventID: HookEventData.makeEventID(), type: .held, commentID: nil, siteID: "blog",
                                        payload: HookSamples.data().json(), createdAt: created, attempts: 1,
                                        deliveredAt: delivered ? created : nil, failedAt: failed ? created : nil)
            return try await store.queueHookDelivery(delivery).id
        }
        let oldDelivered = try await row(createdDaysAgo: 31, delivered: true)
        let oldFailed = try await row(createdDaysAgo: 40, failed: true)
        let oldPending = try await row(createdDaysAgo: 31)
        let recent = try await row(createdDaysAgo: 29, delivered: true)
        let sender = HookSenderTimingTests.sender(store)
        func kept() async throws -> Set<Int64> { Set(try await store.hookDeliveries(hookID: hook.id, limit: 100).map(\.id)) }
        // Pruned less than an hour ago: not again.
        #expect(await sender.pruneIfDue(lastPruned: now - 60_000) == now - 60_000)
        #expect(try await kept() == [oldDelivered, oldFailed, oldPending, recent])
        let pruned = try #require(await sender.pruneIfDue(lastPruned: now - 3_600_000))
        #expect(pruned >= now)
        #expect(try await kept() == [oldPending, recent])
        // The background loop prunes as it starts.
        let again = try await row(createdDaysAgo: 50, delivered: true)
        let stop = StopFlag()
        let run = Task { await sender.run(stopping: { stop.isSet }) }
        let started = ContinuousClock.now
        while try await kept().contains(again) && ContinuousClock.now - started < .seconds(3) { try await Task.sleep(for: .milliseconds(20)) }
        stop.set()
        await run.value
        #expect(try await kept() == [oldPending, recent])
    }
}

/// A flag one task sets and another reads.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
