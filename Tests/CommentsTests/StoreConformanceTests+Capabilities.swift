import Foundation
import Testing
@testable import Comments

/// The contract of what `CommentStore` refines (admin tokens, statistics, maintenance) and of
/// its capabilities, on every store.
extension StoreConformanceTests {
    /// Tokens are shown once, verified in constant time, stamped when used, and revoked for good.
    @Test(arguments: StoreKind.allCases)
    func adminTokensAreMadeVerifiedAndRevoked(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let (made, presented) = try await store.createAdminToken(name: "ops", random: SystemRandom(), at: 100)
            #expect(made.name == "ops" && made.createdAt == 100 && made.lastUsedAt == nil && made.revokedAt == nil)
            #expect(presented.hasPrefix("mgn_\(made.id)_"))
            #expect(try await store.adminTokens() == [made])
            // A wrong secret of a real id, and a malformed token, prove nothing and stamp nothing
            #expect(try await store.verifyAdminToken("mgn_\(made.id)_wrong", at: 150) == nil)
            #expect(try await store.verifyAdminToken("nonsense", at: 150) == nil)
            #expect(try await store.adminTokens().first?.lastUsedAt == nil)
            // The token itself is verified and its use stamped
            let verified = try await store.verifyAdminToken(presented, at: 200)
            #expect(verified?.id == made.id && verified?.lastUsedAt == 200)
            #expect(try await store.adminTokens().first?.lastUsedAt == 200)
            // Revoked once, it no longer verifies
            #expect(try await store.revokeAdminToken(id: made.id, at: 300))
            #expect(try await !store.revokeAdminToken(id: made.id, at: 301), "already revoked")
            #expect(try await !store.revokeAdminToken(id: "ghost", at: 301))
            #expect(try await store.verifyAdminToken(presented, at: 400) == nil)
            #expect(try await store.adminTokens().first?.revokedAt == 300)
        }
    }

    /// Comments by status, mail waiting and given up on, and the database's size.
    @Test(arguments: StoreKind.allCases)
    func statisticsCountCommentsAndMail(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let letter: MailBuilder = { context in
                [OutgoingMail(kind: .moderation, commentID: context.comment.id, recipients: ["mod@example.org"], subject: "s",
                              body: "b", headers: [], messageID: "<\(context.comment.id)@margin>", createdAt: 1000, nextAttemptAt: 1000)]
            }
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: nil, comment: draft("one")), mail: letter)
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: nil, comment: draft("two")), mail: letter)
            try await insert(store, "held", status: .pending)
            try await insert(store, "junk", status: .spam)
            let mail = try await store.dueMail(now: 2000, limit: 1)
            try await store.markFailed(mailID: try #require(mail.first).id, error: "refused", at: 2000, retryAt: nil)

            let statistics = try await store.statistics()
            #expect(statistics.comments == [.approved: 2, .pending: 1, .spam: 1])
            #expect(statistics.outboxPending == 1 && statistics.outboxFailed == 1)
            if kind == .sqliteMemory {
                #expect(statistics.databaseBytes == 0, "no file")
            } else {
                #expect(statistics.databaseBytes > 0)
            }
        }
    }

    /// A remap moves a thread, or merges it into the one at its new path and drops the copies
    /// of comments the two held alike; a dry run reports the same and changes nothing.
    @Test(arguments: StoreKind.allCases)
    func remapMovesAndMergesThreads(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await insert(store, "same", uri: "/new/", at: 1000)
            try await insert(store, "same", uri: "/old/", at: 1000)
            try await insert(store, "only old", uri: "/old/", at: 1001)
            try await insert(store, "moving", uri: "/moved/", at: 1002)
            let rules = try RemapRules(parsing: "/old/ /new/\n/moved/ /elsewhere/")

            let dry = try await store.remapThreads(rules: rules, siteID: "blog", dryRun: true)
            #expect(dry == RemapSummary(threadsMoved: 1, threadsMerged: 1, duplicatesDropped: 1, dryRun: true))
            #expect(try await store.visibleComments(siteID: "blog", uri: "/old/")?.1.count == 2, "a dry run changes nothing")
            #expect(try await store.thread(siteID: "blog", uri: "/elsewhere/") == nil)

            let done = try await store.remapThreads(rules: rules, siteID: nil, dryRun: false)
            #expect(done == RemapSummary(threadsMoved: 1, threadsMerged: 1, duplicatesDropped: 1, dryRun: false))
            #expect(try await store.thread(siteID: "blog", uri: "/old/") == nil)
            #expect(try await store.visibleComments(siteID: "blog", uri: "/new/")?.1.map(\.body) == ["same", "only old"])
            #expect(try await store.visibleComments(siteID: "blog", uri: "/elsewhere/")?.1.map(\.body) == ["moving"])
        }
    }

    /// A person's comments are found by address in any letter case; an export of them is
    /// logged; forgetting them keeps a tombstone where replies hang and deletes the rest.
    @Test(arguments: StoreKind.allCases)
    func privacyRequestsFindLogAndForget(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            func byBob(_ text: String, parent: Int64? = nil, at time: Int64) async throws -> Comment {
                var comment = draft(text, parent: parent, at: time)
                comment.author = "Bob"
                comment.email = "Bob@Example.org"
                return try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: nil, comment: comment)).1
            }
            let root = try await byBob("root", at: 1000)
            let reply = try await insert(store, "a reply", parent: root.id, at: 1001)
            let lone = try await byBob("lone", at: 1002)

            #expect(try await store.comments(byEmail: "bob@example.org").map(\.1.id) == [root.id, lone.id])
            try await store.logPrivacyExport(email: "BOB@example.org", at: 2000)
            let exported = try await store.moderationLog(commentID: nil, limit: 10).filter { $0.action == "gdpr-export" }
            #expect(Set(exported.map(\.commentID)) == [root.id, lone.id])

            #expect(try await store.forget(email: "bob@example.org", at: 3000) == 2)
            #expect(try await store.comments(byEmail: "bob@example.org").isEmpty)
            let tombstone = try #require(try await store.comment(id: root.id))
            #expect(tombstone.status == .deleted && tombstone.body == "" && tombstone.author == nil && tombstone.email == nil)
            #expect(try await store.comment(id: lone.id) == nil)
            #expect(try await store.comment(id: reply.id)?.body == "a reply", "other people's replies stay")
            let forgotten = try await store.moderationLog(commentID: nil, limit: 10).filter { $0.action == "gdpr-forget" }
            #expect(Set(forgotten.map(\.commentID)) == [root.id, lone.id])
        }
    }

    /// A backup is a new SQLite file holding what the store holds; it never overwrites a file.
    @Test(arguments: StoreKind.allCases)
    func backupWritesANewSQLiteFile(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await insert(store, "kept")
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backup-\(UUID())")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = folder.appendingPathComponent("copy.sqlite").path

            try await store.backup(to: path)
            let copy = try SQLiteStore(path: path)
            #expect(try await copy.sites().map(\.id) == ["blog"])
            #expect(try await copy.visibleComments(siteID: "blog", uri: "/post/")?.1.map(\.body) == ["kept"])
            try copy.close()
            await #expect(throws: CommentsError.self) { try await store.backup(to: path) }
        }
    }

    /// What only some stores can do is a capability each store answers for itself, and the
    /// health check and `close()` work on every store.
    @Test(arguments: StoreKind.allCases)
    func capabilitiesHealthAndClose(kind: StoreKind) async throws {
        let (store, cleanup) = try await kind.make()
        defer { cleanup() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        let health = try await store.health()
        switch kind {
        case .sqliteFile:
            #expect(try #require(store.changeTracking).changeStamp() != nil)
            #expect(store.sharedRateLimits == nil)
            #expect(store.checkpointing != nil)
            #expect(try #require(health).migrations > 0)
            #expect(try #require(health).databaseBytes > 0)
        case .sqliteMemory:
            #expect(store.changeTracking?.changeStamp() == nil, "in memory nothing may be cached")
            #expect(store.sharedRateLimits == nil)
            #expect(try await store.checkpointing?.checkpoint() == 0)
            #expect(health == DatabaseHealth(databaseBytes: 0, migrations: 0))
        case .postgres:
            #expect(store.changeTracking == nil)
            #expect(store.checkpointing == nil)
            #expect(health == nil)
            let limits = try #require(store.sharedRateLimits)
            let limit = try #require(RateLimit(parsing: "2/min"))
            #expect(try await limits.take(key: "client", limit: limit, now: 1000) == nil)
            #expect(try await limits.take(key: "client", limit: limit, now: 1000) == nil)
            #expect(try await limits.take(key: "client", limit: limit, now: 1000) != nil, "the third within the minute waits")
        }
        try store.close()
    }
}
