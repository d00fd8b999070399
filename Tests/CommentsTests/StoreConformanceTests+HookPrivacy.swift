import Foundation
import Testing
@testable import Comments

/// What the hook outbox keeps about people, on every store: never the commenter's email or
/// network (a sender reads them from the live comment for a trusted hook), the moderator only
/// for trusted hooks, and nothing of a deleted comment's text or author in any earlier delivery.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func storedPayloadsHoldNoContactAndTheModeratorOnlyForTrustedHooks(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let plain = try await store.addHook(Hook(
                name: "plain", siteID: nil, preset: .webhook, url: "https://a.example", events: HookEventType.allCases, createdAt: 1))
            let trusted = try await store.addHook(Hook(
                name: "trusted", siteID: nil, preset: .webhook, url: "https://b.example", events: HookEventType.allCases, trusted: true,
                createdAt: 1))
            let comment = try await insert(store, "held words", status: .pending, at: 1000)
            _ = try await store.moderate(ModerationDecision(
                commentID: comment.id, action: .approve, actor: .adminAPI, moderator: "mod@example.org", at: 2000), features: nil, mail: nil)

            let plainRows = try await store.hookDeliveries(hookID: plain.id, limit: 10)
            let trustedRows = try await store.hookDeliveries(hookID: trusted.id, limit: 10)
            #expect(plainRows.map(\.type) == [.approved, .held] && trustedRows.map(\.type) == [.approved, .held])
            for row in plainRows + trustedRows {
                let data = try HookEventData.parse(row.payload)
                #expect(data.comment.email == nil && data.comment.network == nil, "\(row.type)")
                #expect(!row.payload.contains("ada@example.org") && !row.payload.contains("203.0.113"), "\(row.payload)")
            }
            #expect(try HookEventData.parse(plainRows[0].payload).moderator == nil)
            #expect(!plainRows[0].payload.contains("mod@example.org"))
            #expect(try HookEventData.parse(trustedRows[0].payload).moderator == "mod@example.org")
            #expect(try HookEventData.parse(trustedRows[0].payload).actor == "admin-api")

            // A trusted hook's send fills the contact from the comment as it is at that moment.
            let stored = try HookEventData.parse(trustedRows[0].payload)
            let live = try await store.comment(id: comment.id)
            let filled = stored.withContact(of: live)
            #expect(filled.comment.email == "ada@example.org" && filled.comment.network == IPAnonymizer.storedNetwork("203.0.113.0"))
            #expect(filled.withContact(email: nil, network: nil) == stored)
            #expect(stored.withContact(of: nil) == stored, "a comment gone meanwhile: nothing to fill")
            _ = try await store.delete(commentID: comment.id)
            #expect(stored.withContact(of: try await store.comment(id: comment.id)) == stored)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deletingACommentRedactsItsEarlierDeliveries(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(
                name: "all", siteID: nil, preset: .webhook, url: "https://a.example", events: HookEventType.allCases, trusted: true,
                createdAt: 1))
            /// Every delivery about `commentID`, oldest first, with its data.
            func about(_ commentID: Int64) async throws -> [(HookDelivery, HookEventData)] {
                try await store.hookDeliveries(hookID: hook.id, limit: 100).reversed().filter { $0.commentID == commentID }
                    .map { ($0, try HookEventData.parse($0.payload)) }
            }
            func expectRedacted(_ rows: [(HookDelivery, HookEventData)], _ secret: String) {
                for (row, data) in rows {
                    #expect(data.comment.status == .deleted && data.comment.body == "" && data.comment.html == "", "\(row.type)")
                    #expect(data.comment.author == nil && data.comment.website == nil && data.comment.email == nil, "\(row.type)")
                    #expect(!row.payload.contains(secret) && !row.payload.contains("Ada") && !row.payload.contains("ada.example.org"))
                }
            }

            // The author's delete: the held, approved and edited events lose the text; each keeps who did what.
            var mine = try await insert(store, "first secret", status: .pending, at: 1000)
            _ = try await store.moderate(ModerationDecision(
                commentID: mine.id, action: .approve, actor: .link, moderator: "mod@example.org", at: 2000), features: nil, mail: nil)
            mine.status = .approved
            mine.body = "second secret"
            mine.editedAt = 3000
            _ = try await store.update(mine)
            let other = try await insert(store, "untouched words", at: 3500)
            #expect(try await about(mine.id).map(\.1.comment.body) == ["first secret", "first secret", "second secret"])
            _ = try await store.delete(commentID: mine.id)
            let afterOwn = try await about(mine.id)
            #expect(afterOwn.map(\.0.type) == [.held, .approved, .edited, .deleted])
            #expect(afterOwn.map(\.1.actor) == ["spam-filter", "link", "author", "author"])
            #expect(afterOwn[1].1.moderator == "mod@example.org" && afterOwn[1].1.previousStatus == .pending)
            expectRedacted(afterOwn, "secret")
            #expect(try await about(other.id).map(\.1.comment.body) == ["untouched words"], "another comment keeps its text")

            // A moderator's delete of a comment with a reply: it stays as a tombstone, its deliveries redacted, the reply's not.
            let parent = try await insert(store, "parent secret", at: 4000)
            let reply = try await insert(store, "reply words", parent: parent.id, at: 4100)
            _ = try await store.moderate(ModerationDecision(commentID: parent.id, action: .delete, actor: .adminAPI, at: 5000),
                                         features: nil, mail: nil)
            #expect(try await store.comment(id: parent.id)?.status == .deleted)
            let afterModerator = try await about(parent.id)
            #expect(afterModerator.map(\.0.type) == [.published, .deleted])
            expectRedacted(afterModerator, "parent secret")
            #expect(try await about(reply.id).map(\.1.comment.body) == ["reply words"])
            // The redacted rows are still due: a receiver learns the comment is gone, not what it said.
            // (An author's delete is stamped with the wall clock, not the decision times above.)
            let due = try await store.dueHookDeliveries(now: Int64(Date().timeIntervalSince1970 * 1000) + 60_000, limit: 100)
            #expect(due.filter { $0.commentID == parent.id || $0.commentID == mine.id }.count == 6)
            #expect(due.allSatisfy { !$0.payload.contains("secret") })
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aDecisionThatChangesNothingIsNoEvent(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let hook = try await store.addHook(Hook(
                name: "all", siteID: nil, preset: .webhook, url: "https://a.example", events: HookEventType.allCases, createdAt: 1))
            let comment = try await insert(store, "words", status: .pending, at: 1000)
            func decide(_ action: ModerationAction, at time: Int64) async throws {
                _ = try await store.moderate(ModerationDecision(commentID: comment.id, action: action, actor: .cli, at: time),
                                             features: nil, mail: nil)
            }
            for time in [2000, 2100, 2200] as [Int64] { try await decide(.approve, at: time) }
            try await decide(.spam, at: 3000)
            try await decide(.spam, at: 3100)
            try await decide(.restore, at: 3200)
            try await decide(.approve, at: 3300)
            try await decide(.delete, at: 4000)
            let types = try await store.hookDeliveries(hookID: hook.id, limit: 100).reversed().map(\.type)
            #expect(types == [.held, .approved, .spam, .approved, .deleted], "\(types)")
            let logged = try await store.moderationLog(commentID: comment.id, limit: 100).filter { $0.actor == .cli }
            #expect(logged.count == 8, "each decision is still logged")
        }
    }
}
