import Foundation
import Testing
@testable import Comments

/// The hook outbox's housekeeping on every store: a disabled hook's deliveries wait, old
/// finished deliveries are pruned, receivers' answers are kept without control characters, and
/// hooks or sites removed while comments arrive never cost a comment.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func aDisabledHooksDeliveriesWaitUntilItIsEnabledAgain(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            var paused = try await store.addHook(Hook(
                name: "paused", siteID: nil, preset: .webhook, url: "https://a.example", events: [.held], createdAt: 1))
            let running = try await store.addHook(Hook(
                name: "running", siteID: nil, preset: .webhook, url: "https://b.example", events: [.held], createdAt: 1))
            let waiting = try await store.queueHookDelivery(delivery(hookID: paused.id, event: "msg_p", at: 100))
            let retrying = try await store.queueHookDelivery(delivery(hookID: paused.id, event: "msg_r", at: 100))
            let other = try await store.queueHookDelivery(delivery(hookID: running.id, event: "msg_o", at: 100))
            // One attempt failed and is due again later; then the hook is disabled.
            #expect(try await store.dueHookDeliveries(now: 150, limit: 10).map(\.id).sorted() == [waiting.id, retrying.id, other.id])
            try await store.recordHookAttempt(deliveryID: retrying.id, HookAttempt(
                status: 500, error: "the receiver answered 500", response: nil, at: 200, retryAt: 2000))
            try await store.recordHookAttempt(deliveryID: waiting.id, HookAttempt(
                status: nil, error: "timed out", response: nil, at: 200, retryAt: 300))
            try await store.recordHookAttempt(deliveryID: other.id, HookAttempt(
                status: nil, error: "timed out", response: nil, at: 200, retryAt: 300))
            paused.enabled = false
            paused.updatedAt = 250
            _ = try await store.updateHook(paused)
            #expect(try await store.dueHookDeliveries(now: 10_000, limit: 10).map(\.id) == [other.id], "neither queued nor retried")

            paused.enabled = true
            _ = try await store.updateHook(paused)
            #expect(try await store.dueHookDeliveries(now: 10_000, limit: 10).map(\.id) == [waiting.id, retrying.id])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func finishedDeliveriesArePrunedAfterTheirTime(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(name: "h", siteID: nil, preset: .webhook, url: "https://a.example", events: [.held], createdAt: 1))
            var old = delivery(hookID: hook.id, event: "msg_delivered", at: 100)
            old.deliveredAt = 150
            _ = try await store.queueHookDelivery(old)
            old = delivery(hookID: hook.id, event: "msg_failed", at: 200)
            old.failedAt = 250
            _ = try await store.queueHookDelivery(old)
            let oldPending = try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_pending", at: 300))
            var recent = delivery(hookID: hook.id, event: "msg_recent", at: 1000)
            recent.deliveredAt = 1001
            let recentDelivered = try await store.queueHookDelivery(recent)

            #expect(try await store.pruneHookDeliveries(before: 100) == 0, "created at the limit: kept")
            #expect(try await store.pruneHookDeliveries(before: 1000) == 2)
            #expect(try await store.hookDeliveries(hookID: hook.id, limit: 10).map(\.id) == [recentDelivered.id, oldPending.id],
                    "a pending delivery stays however old; so does a recent one")
            #expect(try await store.pruneHookDeliveries(before: 1000) == 0)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func answersAreKeptWithoutControlCharacters(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(name: "h", siteID: nil, preset: .webhook, url: "https://a.example", events: [.held], createdAt: 1))
            let hostile = "ok\u{1B}[31mred\u{1B}]0;title\u{07}\r\n\tend\u{9B}2J\u{7F}\u{0}é"
            let clean = "ok[31mred]0;title\n\tend2Jé"
            let queued = try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_q", at: 100))
            try await store.recordHookAttempt(deliveryID: queued.id, HookAttempt(status: 400, error: "the receiver answered 400",
                                                                                 response: hostile, at: 200, retryAt: 300))
            var tested = delivery(hookID: hook.id, event: "msg_t", at: 100)
            tested.lastResponse = hostile
            tested.deliveredAt = 101
            let test = try await store.queueHookDelivery(tested)
            #expect(test.lastResponse == clean)
            let stored = try await store.hookDeliveries(hookID: hook.id, limit: 10)
            #expect(stored.map(\.lastResponse) == [clean, clean])
            // Stripping comes before cutting: an answer that opens with more than the limit of controls keeps its text.
            let flood = String(repeating: "\u{9B}", count: HookDelivery.responseLimit) + "text"
            #expect(HookDelivery.keptResponse(flood) == "text")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func hooksAndSitesRemovedWhileCommentsArriveCostNoComment(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "other", name: "Other", origins: [], createdAt: 2))
            var everySite: [Int64] = []
            for index in 0..<16 {
                everySite.append(try await store.addHook(Hook(
                    name: "every \(index)", siteID: nil, preset: .webhook, url: "https://a.example", events: HookEventType.allCases,
                    createdAt: 1)).id)
            }
            for index in 0..<8 {
                _ = try await store.addHook(Hook(
                    name: "other \(index)", siteID: "other", preset: .webhook, url: "https://b.example", events: HookEventType.allCases,
                    createdAt: 1))
            }
            let removing = everySite
            // Comments arrive while hooks, and a site with its own hooks, are removed; on
            // PostgreSQL each task on its own connection. A comment is stored, or refused
            // because its site is gone; no insert fails on a hook that vanished under it.
            let outcomes = try await withThrowingTaskGroup(of: (posted: Int, refused: Int).self) { group in
                for writer in 0..<3 {
                    group.addTask {
                        for index in 0..<20 { _ = try await insert(store, "comment \(writer)-\(index)", at: 1000 + Int64(index)) }
                        return (20, 0)
                    }
                }
                group.addTask {
                    var outcome = (posted: 0, refused: 0)
                    for index in 0..<30 {
                        do {
                            _ = try await store.insert(NewComment(siteID: "other", uri: "/x/", title: nil, comment: draft("there \(index)")))
                            outcome.posted += 1
                        } catch CommentsError.siteNotFound("other") {
                            outcome.refused += 1
                        }
                    }
                    return outcome
                }
                group.addTask {
                    for id in removing {
                        let removed = try await store.removeHook(id: id)
                        #expect(removed)
                    }
                    return (0, 0)
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(30))
                    _ = try await store.removeSite(id: "other", force: true)
                    return (0, 0)
                }
                var all: [(posted: Int, refused: Int)] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            let answered: Int = outcomes.reduce(0) { $0 + $1.posted + $1.refused }
            #expect(answered == 90)
            #expect(try await store.hooks(siteID: nil).isEmpty)
            #expect(try await store.site(id: "other") == nil)
            #expect(try await store.commentCount(siteID: "blog") == 60)
        }
    }
}
