import Foundation
import Testing
@testable import Comments

/// The contract of `ConsoleStore` (admins, sessions, sign-in nonces) and of moderation decisions
/// as the console makes them (restore, the moderator in the log, links after a person decided),
/// on every store.
extension StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func adminUsersAreAddedListedAndRemoved(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            #expect(try await store.adminUsers().isEmpty)
            #expect(try await store.addAdminUser(email: "  Ann@Example.ORG ", at: 10))
            #expect(try await !store.addAdminUser(email: "ann@example.org", at: 11), "already an admin, whatever the case")
            #expect(try await store.addAdminUser(email: "bob@example.org", at: 12))
            #expect(try await store.adminUsers() == [AdminUser(email: "ann@example.org", createdAt: 10), AdminUser(email: "bob@example.org", createdAt: 12)])
            #expect(try await store.removeAdminUser(email: "ANN@example.org", at: 20))
            #expect(try await !store.removeAdminUser(email: "ann@example.org", at: 21))
            #expect(try await store.adminUsers().map(\.email) == ["bob@example.org"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func consoleSessionsAreVerifiedStampedAndExpire(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let minute: Int64 = 60_000
            let policy = SessionPolicy(idleMillis: 10 * minute, absoluteMillis: 60 * minute)
            let start: Int64 = 1_000_000
            let (session, cookie) = try await store.createConsoleSession(
                email: " Ann@Example.org", userAgent: "Firefox", random: SystemRandom(), at: start)
            #expect(cookie.hasPrefix("mgs_\(session.id)_") && cookie.count > 40)
            #expect(session == ConsoleSession(id: session.id, email: "ann@example.org", createdAt: start, lastSeenAt: start, userAgent: "Firefox"))
            // Within the minute nothing is written; after it, the use is stamped.
            #expect(try await store.verifyConsoleSession(cookie, at: start + 1000, policy: policy)?.lastSeenAt == start)
            #expect(try await store.consoleSessions(email: nil, at: start + 1000, policy: policy).map(\.lastSeenAt) == [start])
            #expect(try await store.verifyConsoleSession(cookie, at: start + 5 * minute, policy: policy)?.lastSeenAt == start + 5 * minute)
            #expect(try await store.consoleSessions(email: "ANN@example.org", at: start + 5 * minute, policy: policy).map(\.lastSeenAt)
                    == [start + 5 * minute])
            #expect(try await store.consoleSessions(email: "bob@example.org", at: start + 5 * minute, policy: policy).isEmpty)
            // A wrong secret of a real id, and anything malformed, prove nothing.
            for wrong in ["mgs_\(session.id)_wrong", "mgs_\(session.id)_", "mgn_\(session.id)_x", "nonsense", "", "mgs__"] {
                #expect(try await store.verifyConsoleSession(wrong, at: start + 6 * minute, policy: policy) == nil, "\(wrong)")
            }
            // Idle for longer than the policy allows: over.
            let idleEnd = start + 5 * minute + policy.idleMillis
            #expect(try await store.verifyConsoleSession(cookie, at: idleEnd + 1, policy: policy) == nil)
            #expect(try await store.consoleSessions(email: nil, at: idleEnd + 1, policy: policy).isEmpty)

            // However busy, a session ends at its absolute lifetime.
            let (busy, busyCookie) = try await store.createConsoleSession(
                email: "ann@example.org", userAgent: nil, random: SystemRandom(), at: start)
            var time = start
            while time + 9 * minute <= start + policy.absoluteMillis {
                time += 9 * minute
                #expect(try await store.verifyConsoleSession(busyCookie, at: time, policy: policy)?.id == busy.id)
            }
            #expect(try await store.verifyConsoleSession(busyCookie, at: start + policy.absoluteMillis + 1, policy: policy) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func consoleSessionsAreRevokedOneByOneForEveryDeviceAndWithTheAdmin(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let policy = SessionPolicy.standard
            func session(_ email: String) async throws -> (ConsoleSession, String) {
                try await store.createConsoleSession(email: email, userAgent: nil, random: SystemRandom(), at: 1000)
            }
            let (one, oneCookie) = try await session("ann@example.org")
            #expect(try await store.revokeConsoleSession(id: one.id, at: 2000))
            #expect(try await !store.revokeConsoleSession(id: one.id, at: 2001), "already revoked")
            #expect(try await !store.revokeConsoleSession(id: "ghost", at: 2001))
            #expect(try await store.verifyConsoleSession(oneCookie, at: 2002, policy: policy) == nil)

            let bobs = [try await session("bob@example.org"), try await session("Bob@Example.org")]
            let (_, annCookie) = try await session("ann@example.org")
            #expect(try await store.consoleSessions(email: "bob@example.org", at: 3000, policy: policy).count == 2)
            #expect(try await store.revokeConsoleSessions(email: "BOB@example.org", at: 3000) == 2)
            #expect(try await store.revokeConsoleSessions(email: "bob@example.org", at: 3001) == 0)
            for (_, cookie) in bobs { #expect(try await store.verifyConsoleSession(cookie, at: 3002, policy: policy) == nil) }
            // Sessions already expired are ended too, but not counted.
            let short = SessionPolicy(idleMillis: 1000, absoluteMillis: 10_000)
            let (_, staleCookie) = try await session("cy@example.org")
            let (_, liveCookie) = try await store.createConsoleSession(email: "cy@example.org", userAgent: nil, random: SystemRandom(), at: 4500)
            #expect(try await store.revokeConsoleSessions(email: "cy@example.org", at: 5000, policy: short) == 1)
            #expect(try await store.verifyConsoleSession(liveCookie, at: 5001, policy: short) == nil)
            #expect(try await store.verifyConsoleSession(staleCookie, at: 5001, policy: policy) == nil)
            #expect(try await store.verifyConsoleSession(annCookie, at: 3002, policy: policy) != nil)

            // An admin removed is signed out everywhere at once.
            #expect(try await store.addAdminUser(email: "ann@example.org", at: 100))
            #expect(try await store.removeAdminUser(email: "ann@example.org", at: 4000))
            #expect(try await store.verifyConsoleSession(annCookie, at: 4001, policy: policy) == nil)
            #expect(try await store.consoleSessions(email: nil, at: 4001, policy: policy).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aSignInLinkNonceIsSpentOnce(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            #expect(try await store.spendLinkNonce("sign-in-nonce", expiresAt: 9000, at: 1000))
            #expect(try await !store.spendLinkNonce("sign-in-nonce", expiresAt: 9000, at: 1001))
            #expect(try await store.isLinkUsed(nonce: "sign-in-nonce"))
            #expect(try await store.spendLinkNonce("another", expiresAt: 9000, at: 1002))
        }
    }

    /// Restore goes back to the status before the latest decision, retraining the classifier to
    /// match; the moderator and the status before are in the log.
    @Test(arguments: StoreKind.allCases)
    func restoreUndoesApproveSpamAndReject(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            func decide(_ id: Int64, _ action: ModerationAction, at: Int64) async throws -> Comment? {
                let outcome = try await store.moderate(
                    ModerationDecision(commentID: id, action: action, actor: .adminAPI, moderator: "alice@example.org", reason: "r", at: at),
                    features: ["w:word"], mail: nil)
                guard case .applied(let comment) = outcome else { Issue.record("\(outcome)"); return nil }
                return comment
            }
            func counts() async throws -> (spam: Int, ham: Int) {
                let counts = try await store.classifierCounts(features: ["w:word"])
                return (counts.tokens["w:word"]?.spam ?? 0, counts.tokens["w:word"]?.ham ?? 0)
            }
            let held = try await insert(store, "held", status: .pending)
            #expect(try await decide(held.id, .approve, at: 2000)?.status == .approved)
            #expect(try await counts() == (0, 1))
            #expect(try await decide(held.id, .restore, at: 2100)?.status == .pending)
            #expect(try await counts() == (0, 0), "restored to pending: untrained")
            let log = try await store.moderationLog(commentID: held.id, limit: 10)
            #expect(log.map(\.action).prefix(2) == ["restore", "approve"])
            #expect(log[0].moderator == "alice@example.org" && log[0].fromStatus == .approved && log[0].actor == .adminAPI)
            #expect(log[1].moderator == "alice@example.org" && log[1].fromStatus == .pending && log[1].reason == "r")
            // A second restore goes back to the same place: the latest decision that was not a restore.
            #expect(try await decide(held.id, .restore, at: 2200)?.status == .pending)

            let published = try await insert(store, "published")
            #expect(try await decide(published.id, .spam, at: 3000)?.status == .spam)
            #expect(try await counts() == (1, 0))
            #expect(try await decide(published.id, .restore, at: 3100)?.status == .approved)
            #expect(try await counts() == (0, 1), "restored to approved: ham")

            let rejected = try await insert(store, "rejected later", status: .pending)
            #expect(try await decide(rejected.id, .reject, at: 4000)?.status == .rejected)
            #expect(try await decide(rejected.id, .restore, at: 4100)?.status == .pending)
            // Restoring to spam trains it as spam again.
            #expect(try await decide(rejected.id, .spam, at: 4200)?.status == .spam)
            #expect(try await decide(rejected.id, .approve, at: 4300)?.status == .approved)
            #expect(try await decide(rejected.id, .restore, at: 4400)?.status == .spam)
            #expect(try await store.moderationLog(commentID: rejected.id, limit: 1).first?.fromStatus == .approved)

            // No person decided (the spam filter held or caught it, or nothing happened at all):
            // there is nothing to restore, and nothing changes or is logged.
            for status in [CommentStatus.pending, .spam, .approved] {
                let undecided = try await insert(store, "undecided \(status)", status: status)
                let logged = try await store.moderationLog(commentID: undecided.id, limit: 10)
                await #expect(throws: CommentsError.nothingToRestore(undecided.id)) {
                    try await store.moderate(
                        ModerationDecision(commentID: undecided.id, action: .restore, actor: .adminAPI, moderator: "alice@example.org", at: 5000),
                        features: ["w:word"], mail: nil)
                }
                #expect(try await store.comment(id: undecided.id)?.status == status)
                #expect(try await store.moderationLog(commentID: undecided.id, limit: 10) == logged)
            }
            #expect(CommentsError.nothingToRestore(7).publicDescription == "Comment 7 has no decision to undo.")
            // A tombstone has nothing left to bring back.
            let parent = try await insert(store, "parent")
            try await insert(store, "reply", parent: parent.id)
            #expect(try await decide(parent.id, .delete, at: 6000)?.status == .deleted)
            await #expect(throws: CommentsError.self) {
                try await store.moderate(ModerationDecision(commentID: parent.id, action: .restore, actor: .cli, at: 6100), features: nil, mail: nil)
            }
        }
    }

    /// A mailed link used after a person decided (since it was mailed) changes nothing and says
    /// who decided; the spam filter's hold does not count, and a spent link stays spent.
    @Test(arguments: StoreKind.allCases)
    func aLinkAfterAPersonsDecisionIsAlreadyDecided(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let comment = try await insert(store, "held", status: .pending)
            _ = try await store.moderate(
                ModerationDecision(commentID: comment.id, action: .approve, actor: .adminAPI, moderator: "alice@example.org", at: 5000),
                features: nil, mail: nil)
            let mailedBefore = LinkUse(nonce: "n-1", expiresAt: 100_000, issuedAt: 4000)
            let outcome = try await store.moderate(
                ModerationDecision(commentID: comment.id, action: .spam, actor: .link, at: 6000, link: mailedBefore), features: nil, mail: nil)
            guard case .alreadyDecided(let entry, let now) = outcome else { Issue.record("\(outcome)"); return }
            #expect(entry.action == "approve" && entry.moderator == "alice@example.org" && entry.actor == .adminAPI && entry.at == 5000)
            #expect(now?.status == .approved)
            #expect(try await store.comment(id: comment.id)?.status == .approved)
            #expect(try await !store.isLinkUsed(nonce: "n-1"), "the link was not spent")

            // A link mailed after that decision acts; used again, it is spent.
            let mailedAfter = LinkUse(nonce: "n-2", expiresAt: 100_000, issuedAt: 5500)
            let applied = try await store.moderate(
                ModerationDecision(commentID: comment.id, action: .reject, actor: .link, at: 7000, link: mailedAfter), features: nil, mail: nil)
            #expect(applied == .applied(try await store.comment(id: comment.id)))
            #expect(try await store.comment(id: comment.id)?.status == .rejected)
            let again = try await store.moderate(
                ModerationDecision(commentID: comment.id, action: .approve, actor: .link, at: 7100, link: mailedAfter), features: nil, mail: nil)
            guard case .linkAlreadyUsed = again else { Issue.record("\(again)"); return }

            // The spam filter holding a comment is no person's decision.
            let heldByFilter = try await insert(store, "held by the filter", status: .pending)
            #expect(try await store.moderationLog(commentID: heldByFilter.id, limit: 5).first?.actor == .spamFilter)
            let link = LinkUse(nonce: "n-3", expiresAt: 100_000, issuedAt: 0)
            let first = try await store.moderate(
                ModerationDecision(commentID: heldByFilter.id, action: .approve, actor: .link, at: 8000, link: link), features: nil, mail: nil)
            guard case .applied(let approved) = first else { Issue.record("\(first)"); return }
            #expect(approved?.status == .approved)
            #expect(try await store.moderationLog(commentID: heldByFilter.id, limit: 1).first?.moderator == nil)
        }
    }
}
