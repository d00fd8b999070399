import Foundation
import Testing
@testable import Comments

/// What a store reports of its hook deliveries for `/metrics` and `/healthz`: those waiting
/// (a retry, or a disabled hook's, included) and those given up on, on every store.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func statisticsCountHookDeliveriesWaitingAndGivenUpOn(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(name: "team", siteID: "blog", preset: .webhook, url: "https://a.example", events: [.held],
                                                    createdAt: 1))
            let quiet = try await store.addHook(Hook(name: "off", siteID: nil, preset: .webhook, url: "https://b.example", events: [.held],
                                                     enabled: false, createdAt: 1))
            let empty = try await store.statistics()
            #expect(empty.hooksPending == 0 && empty.hooksFailed == 0)
            #expect(try await store.hookBacklog() == (pending: 0, failed: 0))

            // Given four deliveries: one delivered, one failed for good, one waiting for a retry,
            // and one of a disabled hook (waiting until it is enabled).
            for event in ["msg_delivered", "msg_failed", "msg_retry"] {
                _ = try await store.queueHookDelivery(
                    HookDelivery(hookID: hook.id, eventID: event, type: .held, commentID: 1, siteID: "blog", payload: "{}", createdAt: 100,
                                 nextAttemptAt: 100))
            }
            _ = try await store.queueHookDelivery(
                HookDelivery(hookID: quiet.id, eventID: "msg_quiet", type: .held, commentID: 1, siteID: "blog", payload: "{}", createdAt: 100,
                             nextAttemptAt: 100))
            let due = try await store.dueHookDeliveries(now: 200, limit: 10)
            let byEvent = Dictionary(uniqueKeysWithValues: due.map { ($0.eventID, $0.id) })
            #expect(Set(byEvent.keys) == ["msg_delivered", "msg_failed", "msg_retry"])
            try await store.recordHookAttempt(deliveryID: try #require(byEvent["msg_delivered"]),
                                              HookAttempt(status: 200, error: nil, response: "ok", at: 200))
            try await store.recordHookAttempt(deliveryID: try #require(byEvent["msg_failed"]),
                                              HookAttempt(status: 500, error: "HTTP 500", response: "down", at: 200))
            try await store.recordHookAttempt(deliveryID: try #require(byEvent["msg_retry"]),
                                              HookAttempt(status: 503, error: "HTTP 503", response: "busy", at: 200, retryAt: 30_200))

            // Then two wait and one was given up on, in both readings.
            let statistics = try await store.statistics()
            #expect(statistics.hooksPending == 2 && statistics.hooksFailed == 1, "\(statistics)")
            #expect(try await store.hookBacklog() == (pending: 2, failed: 1))

            // A failed one put back in the queue waits again.
            #expect(try await store.retryHookDelivery(id: try #require(byEvent["msg_failed"]), at: 300))
            #expect(try await store.hookBacklog() == (pending: 3, failed: 0))
            // A removed hook's deliveries are counted no more.
            #expect(try await store.removeHook(id: quiet.id))
            let after = try await store.statistics()
            #expect(after.hooksPending == 2 && after.hooksFailed == 0)
        }
    }
}
