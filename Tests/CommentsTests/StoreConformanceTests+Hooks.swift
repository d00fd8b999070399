import Foundation
import Testing
@testable import Comments

/// The contract of `HookStore` on every store: hooks kept and listed, events written with the
/// change that causes them (one delivery per hook that hears it, one event id), the outbox
/// claimed once, attempts recorded, and privacy requests and removed sites taking deliveries along.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func hooksAreAddedListedUpdatedAndRemoved(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "other", name: "Other", origins: [], createdAt: 2))
            let blog = try await store.addHook(Hook(
                name: "team", siteID: "blog", preset: .webhook, url: "https://hooks.example.org/in", secret: "whsec_c2VjcmV0",
                events: [.spam, .held], trusted: true, createdAt: 10))
            let every = try await store.addHook(Hook(
                name: "chat", siteID: nil, preset: .slack, url: "https://hooks.slack.com/services/T/B/x", events: HookEventType.allCases, createdAt: 11))
            let other = try await store.addHook(Hook(
                name: "phone", siteID: "other", preset: .ntfy, url: "https://ntfy.sh", target: "topic", events: [.published],
                allowPrivate: true, enabled: false, createdAt: 12, updatedAt: 13))
            #expect(blog.id > 0 && every.id > blog.id && other.id > every.id)
            #expect(try await store.hook(id: blog.id) == blog)
            #expect(try await store.hook(id: other.id) == other)
            #expect(try await store.hook(id: other.id + 100) == nil)
            #expect(try await store.hooks(siteID: "blog") == [blog, every])
            #expect(try await store.hooks(siteID: "other") == [every, other])
            #expect(try await store.hooks(siteID: "nowhere") == [every])
            #expect(try await store.hooks(siteID: nil) == [blog, every, other])
            await #expect(throws: CommentsError.siteNotFound("nowhere")) {
                try await store.addHook(Hook(name: "x", siteID: "nowhere", preset: .discord, url: "https://d.example", events: [.held], createdAt: 1))
            }

            // Every setting but the id and the creation time is replaced; the caller stamps the change.
            var changed = blog
            changed.name = "renamed"
            changed.siteID = nil
            changed.events = [.published, .deleted]
            changed.secret = "whsec_bmV3"
            changed.trusted = false
            changed.enabled = false
            changed.updatedAt = 50
            changed.createdAt = 999
            var expected = changed
            expected.createdAt = 10
            #expect(try await store.updateHook(changed) == expected)
            #expect(try await store.hook(id: blog.id) == expected)
            await #expect(throws: CommentsError.hookNotFound(other.id + 100)) {
                var missing = changed
                missing.id = other.id + 100
                _ = try await store.updateHook(missing)
            }
            await #expect(throws: CommentsError.siteNotFound("nowhere")) {
                var elsewhere = changed
                elsewhere.siteID = "nowhere"
                _ = try await store.updateHook(elsewhere)
            }

            // Removing a hook removes its deliveries: none is handed out afterwards.
            _ = try await store.queueHookDelivery(delivery(hookID: blog.id, event: "msg_a", at: 100))
            #expect(try await store.hookDeliveries(hookID: blog.id, limit: 10).count == 1)
            #expect(try await store.removeHook(id: blog.id))
            #expect(try await !store.removeHook(id: blog.id))
            #expect(try await store.hook(id: blog.id) == nil)
            #expect(try await store.hookDeliveries(hookID: blog.id, limit: 10).isEmpty)
            #expect(try await store.dueHookDeliveries(now: 1000, limit: 10).isEmpty)
            await #expect(throws: CommentsError.hookNotFound(blog.id)) {
                _ = try await store.queueHookDelivery(delivery(hookID: blog.id, event: "msg_b", at: 100))
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aNewCommentReachesExactlyTheHooksThatHearIt(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "other", name: "Other", origins: [], createdAt: 2))
            let held = try await store.addHook(Hook(name: "held", siteID: "blog", preset: .webhook, url: "https://a.example", events: [.held], createdAt: 1))
            let trusted = try await store.addHook(Hook(
                name: "trusted", siteID: nil, preset: .webhook, url: "https://b.example", events: [.spam, .held], trusted: true, createdAt: 1))
            let otherSite = try await store.addHook(Hook(
                name: "other", siteID: "other", preset: .webhook, url: "https://c.example", events: HookEventType.allCases, createdAt: 1))
            let published = try await store.addHook(Hook(
                name: "published", siteID: "blog", preset: .webhook, url: "https://d.example", events: [.published], createdAt: 1))
            let disabled = try await store.addHook(Hook(
                name: "off", siteID: nil, preset: .webhook, url: "https://e.example", events: HookEventType.allCases, enabled: false, createdAt: 1))

            let comment = try await insert(store, "held for review", status: .pending, at: 5000)
            let toHeld = try await store.hookDeliveries(hookID: held.id, limit: 10)
            let toTrusted = try await store.hookDeliveries(hookID: trusted.id, limit: 10)
            #expect(toHeld.count == 1 && toTrusted.count == 1)
            let plain = try #require(toHeld.first), full = try #require(toTrusted.first)
            #expect(plain.eventID.hasPrefix("msg_") && plain.eventID.count > 20)
            #expect(full.eventID == plain.eventID, "one event, one id, whichever hook hears it")
            #expect(plain.type == .held && plain.commentID == comment.id && plain.siteID == "blog")
            #expect(plain.createdAt == 5000 && plain.nextAttemptAt == 5000 && plain.attempts == 0 && plain.state == .pending)
            for hook in [otherSite, published, disabled] {
                #expect(try await store.hookDeliveries(hookID: hook.id, limit: 10).isEmpty, "\(hook.name)")
            }

            // The payload: the comment as the moderation API shows it, without email or network even
            // for the trusted hook (its sender reads them from the live comment).
            let data = try HookEventData.parse(plain.payload)
            #expect(data.site == HookEventData.SiteRef(id: "blog", name: "Blog"))
            #expect(data.actor == "spam-filter" && data.moderator == nil && data.previousStatus == nil)
            #expect(data.comment.id == comment.id && data.comment.body == "held for review" && data.comment.status == .pending)
            #expect(data.comment.author == "Ada" && data.comment.thread.url == "https://blog.example.org/post/")
            #expect(data.comment.email == nil && data.comment.network == nil)
            #expect(!plain.payload.contains("ada@example.org") && !plain.payload.contains("203.0.113"))
            let trustedData = try HookEventData.parse(full.payload)
            #expect(trustedData.comment.email == nil && trustedData.comment.network == nil && trustedData.comment.body == "held for review")

            // A published comment is the reader's doing; it reaches only the hooks that hear publishing.
            let live = try await insert(store, "live", at: 6000)
            let toPublished = try await store.hookDeliveries(hookID: published.id, limit: 10)
            #expect(toPublished.map(\.type) == [.published] && toPublished.first?.commentID == live.id)
            #expect(try HookEventData.parse(toPublished[0].payload).actor == "reader")
            #expect(try await store.hookDeliveries(hookID: held.id, limit: 10).count == 1)

            // Another site's comment reaches that site's hooks only.
            let elsewhere = try await store.insert(NewComment(siteID: "other", uri: "/x/", title: nil, comment: draft("there", at: 7000))).1
            #expect(try await store.hookDeliveries(hookID: otherSite.id, limit: 10).map(\.commentID) == [elsewhere.id])
            #expect(try await store.hookDeliveries(hookID: published.id, limit: 10).count == 1)
            #expect(try await store.hookDeliveries(hookID: disabled.id, limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func moderationEditsAndDeletionsAreEvents(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            // Trusted: its payloads name the moderator.
            let hook = try await store.addHook(Hook(
                name: "all", siteID: nil, preset: .webhook, url: "https://a.example", events: HookEventType.allCases, trusted: true,
                createdAt: 1))
            /// The deliveries the last change wrote, oldest first, with their data.
            func newest(_ count: Int) async throws -> [(HookDelivery, HookEventData)] {
                try await store.hookDeliveries(hookID: hook.id, limit: count).reversed().map { ($0, try HookEventData.parse($0.payload)) }
            }
            var comment = try await insert(store, "first words", status: .pending, at: 1000)
            #expect(try await newest(1).map(\.0.type) == [.held])

            _ = try await store.moderate(ModerationDecision(
                commentID: comment.id, action: .approve, actor: .adminAPI, moderator: "mod@example.org", at: 2000), features: nil, mail: nil)
            let (approved, approvedData) = try #require(try await newest(1).first)
            #expect(approved.type == .approved && approved.createdAt == 2000)
            #expect(approvedData.actor == "admin-api" && approvedData.moderator == "mod@example.org")
            #expect(approvedData.previousStatus == .pending && approvedData.comment.status == .approved)

            // The author's edit; then one the spam filter holds: edited, and held.
            comment.status = .approved
            comment.body = "second words"
            comment.editedAt = 3000
            comment = try await store.update(comment)
            let (edited, editedData) = try #require(try await newest(1).first)
            #expect(edited.type == .edited && edited.createdAt == 3000)
            #expect(editedData.actor == "author" && editedData.previousStatus == .approved && editedData.comment.body == "second words")
            comment.status = .pending
            comment.editedAt = 3500
            comment = try await store.update(comment)
            let pair = try await newest(2)
            #expect(pair.map(\.0.type) == [.edited, .held])
            #expect(pair.map(\.1.actor) == ["author", "spam-filter"])
            #expect(pair[0].0.eventID != pair[1].0.eventID, "two events, two ids")
            #expect(pair.allSatisfy { $0.1.previousStatus == .approved })

            _ = try await store.moderatorEdit(commentID: comment.id, body: "fixed", html: "<p>fixed</p>", moderator: "mod@example.org", at: 4000)
            let (modEdit, modEditData) = try #require(try await newest(1).first)
            #expect(modEdit.type == .edited && modEdit.createdAt == 4000 && modEditData.comment.body == "fixed")
            #expect(modEditData.actor == "admin-api" && modEditData.moderator == "mod@example.org" && modEditData.previousStatus == .pending)

            // A moderator's delete: the event has neither the text nor the author.
            _ = try await store.moderate(ModerationDecision(
                commentID: comment.id, action: .delete, actor: .link, moderator: nil, at: 5000), features: nil, mail: nil)
            let (deleted, deletedData) = try #require(try await newest(1).first)
            #expect(deleted.type == .deleted && deleted.commentID == comment.id && deleted.createdAt == 5000)
            #expect(deletedData.actor == "link" && deletedData.previousStatus == .pending && deletedData.comment.status == .deleted)
            #expect(deletedData.comment.body == "" && deletedData.comment.author == nil && !deleted.payload.contains("fixed"))
            #expect(try await store.comment(id: comment.id) == nil)

            // The author's own delete.
            let mine = try await insert(store, "mine", at: 6000)
            _ = try await store.delete(commentID: mine.id)
            let (own, ownData) = try #require(try await newest(1).first)
            #expect(own.type == .deleted && own.commentID == mine.id && ownData.actor == "author" && ownData.previousStatus == .approved)
            #expect(!own.payload.contains("mine"))

            // A link used twice, or one a person overtook, changes nothing and records nothing.
            let linked = try await insert(store, "linked", status: .pending, at: 7000)
            let count = try await store.hookDeliveries(hookID: hook.id, limit: 100).count
            let link = LinkUse(nonce: "nonce-1", expiresAt: 99_999, issuedAt: 7100)
            _ = try await store.moderate(ModerationDecision(commentID: linked.id, action: .approve, actor: .link, at: 7200, link: link),
                                         features: nil, mail: nil)
            #expect(try await store.hookDeliveries(hookID: hook.id, limit: 100).count == count + 1)
            let again = try await store.moderate(ModerationDecision(commentID: linked.id, action: .spam, actor: .link, at: 7300, link: link),
                                                 features: nil, mail: nil)
            let overtaken = try await store.moderate(ModerationDecision(
                commentID: linked.id, action: .spam, actor: .link, at: 7400, link: LinkUse(nonce: "nonce-2", expiresAt: 99_999, issuedAt: 7100)),
                features: nil, mail: nil)
            if case .linkAlreadyUsed = again {} else { Issue.record("\(again)") }
            if case .alreadyDecided = overtaken {} else { Issue.record("\(overtaken)") }
            #expect(try await store.hookDeliveries(hookID: hook.id, limit: 100).count == count + 1)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func dueDeliveriesAreHandedOutOnceUntilTheClaimLapses(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(name: "h", siteID: nil, preset: .webhook, url: "https://a.example", events: [.held], createdAt: 1))
            var queued: [Int64] = []
            for index in 0..<24 {
                queued.append(try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_\(index)", at: 100 + Int64(index))).id)
            }
            let later = try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_later", at: 100, next: 5000))

            let first = try await store.dueHookDeliveries(now: 1000, limit: 2)
            #expect(first.map(\.id) == Array(queued.prefix(2)), "oldest first")
            // Callers at the same moment, on PostgreSQL on separate connections: none gets a row another got.
            let handed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for _ in 0..<4 { group.addTask { try await store.dueHookDeliveries(now: 1000, limit: 5).map(\.id) } }
                var all: [Int64] = []
                for try await ids in group { all += ids }
                return all
            }
            #expect(handed.count == 20 && Set(handed).count == 20 && Set(handed).isDisjoint(with: first.map(\.id)))
            let rest = try await store.dueHookDeliveries(now: 1000, limit: 10)
            #expect(rest.count == 2 && Set(rest.map(\.id) + handed + first.map(\.id)) == Set(queued))
            #expect(try await store.dueHookDeliveries(now: 1000 + OutboxClaim.leaseMillis - 1, limit: 50).map(\.id) == [later.id],
                    "claimed rows wait for their lease; the later one is due by then")
            // A sender that died: its claim lapses and the rows go out again.
            #expect(try await store.dueHookDeliveries(now: 1000 + OutboxClaim.leaseMillis, limit: 50).map(\.id) == queued)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func attemptsAreRecordedAndFailedDeliveriesRetried(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(name: "h", siteID: nil, preset: .webhook, url: "https://a.example", events: [.held], createdAt: 1))
            let ok = try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_ok", at: 100))
            let later = try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_later", at: 101))
            let lost = try await store.queueHookDelivery(delivery(hookID: hook.id, event: "msg_lost", at: 102))
            #expect(try await store.dueHookDeliveries(now: 1000, limit: 10).count == 3)

            // An answer longer than the limit is kept to its start, cut between characters.
            let long = "a" + String(repeating: "é", count: 3000)
            try await store.recordHookAttempt(deliveryID: ok.id, HookAttempt(status: 204, error: nil, response: long, at: 2000))
            try await store.recordHookAttempt(deliveryID: later.id, HookAttempt(
                status: 500, error: "the receiver answered 500", response: "boom", at: 2000, retryAt: 5000))
            try await store.recordHookAttempt(deliveryID: lost.id, HookAttempt(status: nil, error: "connection refused", response: nil, at: 2000))
            try await store.recordHookAttempt(deliveryID: 987_654, HookAttempt(status: 200, error: nil, response: nil, at: 2000))

            let stored = Dictionary(uniqueKeysWithValues: try await store.hookDeliveries(hookID: hook.id, limit: 10).map { ($0.id, $0) })
            let done = try #require(stored[ok.id]), waiting = try #require(stored[later.id]), failed = try #require(stored[lost.id])
            #expect(done.state == .delivered && done.deliveredAt == 2000 && done.attempts == 1 && done.lastStatus == 204 && done.lastError == nil)
            let kept = try #require(done.lastResponse)
            #expect(kept.utf8.count == HookDelivery.responseLimit - 1 && long.hasPrefix(kept) && kept.hasSuffix("é"))
            #expect(waiting.state == .pending && waiting.nextAttemptAt == 5000 && waiting.attempts == 1)
            #expect(waiting.lastStatus == 500 && waiting.lastError == "the receiver answered 500" && waiting.lastResponse == "boom")
            #expect(failed.state == .failed && failed.failedAt == 2000 && failed.lastStatus == nil && failed.lastError == "connection refused")
            // Recording released the claim: the retried one is due at its time, not before; the others never again.
            #expect(try await store.dueHookDeliveries(now: 4999, limit: 10).isEmpty)
            #expect(try await store.dueHookDeliveries(now: 5000, limit: 10).map(\.id) == [later.id])

            #expect(try await !store.retryHookDelivery(id: ok.id, at: 6000), "delivered: nothing to retry")
            #expect(try await !store.retryHookDelivery(id: later.id, at: 6000), "not failed")
            #expect(try await !store.retryHookDelivery(id: 987_654, at: 6000))
            #expect(try await store.retryHookDelivery(id: lost.id, at: 6000))
            #expect(try await !store.retryHookDelivery(id: lost.id, at: 6000))
            let retried = try #require(try await store.hookDeliveries(hookID: hook.id, limit: 10).first { $0.id == lost.id })
            #expect(retried.state == .pending && retried.nextAttemptAt == 6000 && retried.failedAt == nil && retried.attempts == 1)
            #expect(try await store.dueHookDeliveries(now: 6000, limit: 10).map(\.id) == [lost.id])

            // A test event is stored as already attempted, as given, and is never due.
            var sample = delivery(hookID: hook.id, event: "msg_test", at: 7000)
            sample.attempts = 1
            sample.deliveredAt = 7001
            sample.lastStatus = 200
            sample.lastResponse = "thanks"
            let test = try await store.queueHookDelivery(sample)
            sample.id = test.id
            #expect(test == sample)
            #expect(try await store.hookDeliveries(hookID: hook.id, limit: 1) == [sample])
            #expect(try await store.dueHookDeliveries(now: 100_000, limit: 10).allSatisfy { $0.id != test.id })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func forgettingAPersonAndRemovingASiteTakeTheirDeliveries(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let every = try await store.addHook(Hook(
                name: "every", siteID: nil, preset: .webhook, url: "https://a.example", events: HookEventType.allCases, createdAt: 1))
            let blogOnly = try await store.addHook(Hook(
                name: "blog", siteID: "blog", preset: .webhook, url: "https://b.example", events: HookEventType.allCases, createdAt: 1))
            try await store.addSite(Site(id: "other", name: "Other", origins: [], createdAt: 2))
            let ada = try await insert(store, "by Ada", at: 1000)
            var bobDraft = draft("by Bob", at: 1100)
            bobDraft.email = "bob@example.org"
            let bob = try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: nil, comment: bobDraft)).1
            let there = try await store.insert(NewComment(siteID: "other", uri: "/x/", title: nil, comment: bobDraft)).1
            #expect(try await store.hookDeliveries(hookID: every.id, limit: 10).count == 3)

            #expect(try await store.forget(email: "ADA@example.org", at: 2000) == 1)
            #expect(try await store.hookDeliveries(hookID: every.id, limit: 10).map(\.commentID) == [there.id, bob.id])
            #expect(try await store.hookDeliveries(hookID: blogOnly.id, limit: 10).map(\.commentID) == [bob.id])
            #expect(try await store.dueHookDeliveries(now: 10_000, limit: 10).allSatisfy { $0.commentID != ada.id })

            // A site's hooks go with it, and so do every-site hooks' deliveries about its comments.
            _ = try await store.removeSite(id: "blog", force: true)
            #expect(try await store.hook(id: blogOnly.id) == nil)
            #expect(try await store.hooks(siteID: nil) == [every])
            #expect(try await store.hookDeliveries(hookID: every.id, limit: 10).map(\.commentID) == [there.id])
        }
    }

    /// A pending delivery as a store test queues it by hand.
    func delivery(hookID: Int64, event: String, at time: Int64, next: Int64? = nil) -> HookDelivery {
        HookDelivery(hookID: hookID, eventID: event, type: .held, commentID: 1, siteID: "blog", payload: "{}", createdAt: time, nextAttemptAt: next)
    }
}
