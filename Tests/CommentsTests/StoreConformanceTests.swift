import Foundation
import Synchronization
import TestSupport
import Testing
@testable import Comments

/// The stores every conformance test runs against. A new `CommentStore` implementation adds a
/// case here and must pass the same suite unchanged.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqliteFile
    case sqliteMemory
    /// A fresh database on the test cluster (`PostgresTestCluster`).
    case postgres

    var testDescription: String { rawValue }

    /// A fresh, empty, migrated store and a function that disposes of it; `seeded` keeps the
    /// default site a new database (file or PostgreSQL) starts with.
    func make(seeded: Bool = false) async throws -> (store: any CommentStore, cleanup: @Sendable () -> Void) {
        let (store, cleanup) = try await makeNew()
        if !seeded, try await store.site(id: "default") != nil { try await store.removeSite(id: "default", force: false) }
        return (store, cleanup)
    }

    private func makeNew() async throws -> (store: any CommentStore, cleanup: @Sendable () -> Void) {
        switch self {
        case .postgres:
            let store = try await PostgresStore(
                location: PostgresLocation(url: try await PostgresTestCluster.freshDatabase()), connectTimeout: PostgresTestCluster.patience)
            return (store, { store.close() })
        case .sqliteMemory:
            return (try SQLiteStore(), {})
        case .sqliteFile:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID())")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let store = try SQLiteStore(path: directory.appendingPathComponent("margin.sqlite").path)
            return (store, { try? FileManager.default.removeItem(at: directory) })
        }
    }
}

/// Runs `body` with a fresh store of `kind` holding one site, "blog".
func withStore(_ kind: StoreKind, _ body: (any CommentStore) async throws -> Void) async throws {
    let (store, cleanup) = try await kind.make()
    defer { cleanup() }
    try await store.addSite(Site(id: "blog", name: "Blog", origins: ["https://blog.example.org"], createdAt: 1))
    try await body(store)
}

/// A comment with sensible defaults for store tests.
func draft(_ text: String, status: CommentStatus = .approved, parent: Int64? = nil, at time: Int64 = 1000) -> Comment {
    Comment(threadID: 0, parentID: parent, status: status, author: "Ada", email: "ada@example.org",
            website: "https://ada.example.org", body: text, html: "<p>\(text)</p>", createdAt: time,
            ip: "203.0.113.0", userAgent: "UA", spamScore: 0.25, spamReasons: ["a reason"], notify: true,
            editKeyHash: "hash")
}

@discardableResult
func insert(_ store: any CommentStore, _ text: String, uri: String = "/post/", status: CommentStatus = .approved,
            parent: Int64? = nil, at time: Int64 = 1000, authorKeyHash: String? = nil) async throws -> Comment {
    try await store.insert(NewComment(siteID: "blog", uri: uri, title: "Post", comment: draft(text, status: status, parent: parent, at: time),
                                      authorKeyHash: authorKeyHash)).1
}

/// The contract of `CommentStore`.
@Suite struct StoreConformanceTests {
    @Test(arguments: StoreKind.allCases)
    func sitesAddListUpdateRemove(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            await #expect(throws: CommentsError.siteExists("blog")) {
                try await store.addSite(Site(id: "blog", name: "Again", origins: []))
            }
            try await store.addSite(Site(id: "a-site", name: "A", origins: ["http://localhost:*"], moderation: .auto, requireEmail: true, createdAt: 5,
                                         voteRateLimit: RateLimit(parsing: "2/min")))
            #expect(try await store.sites().map(\.id) == ["a-site", "blog"])
            var site = try #require(try await store.site(id: "a-site"))
            #expect(site == Site(id: "a-site", name: "A", origins: ["http://localhost:*"], moderation: .auto, requireEmail: true, createdAt: 5,
                                 voteRateLimit: RateLimit(parsing: "2/min")))
            site.voteRateLimit = nil
            site.moderation = .all
            site.origins = ["https://a.example", "https://b.example"]
            try await store.updateSite(site)
            #expect(try await store.site(id: "a-site") == site)
            await #expect(throws: CommentsError.siteNotFound("nope")) {
                try await store.updateSite(Site(id: "nope", name: "", origins: []))
            }
            #expect(try await store.removeSite(id: "a-site", force: false) == 0)
            #expect(try await store.site(id: "a-site") == nil)
            await #expect(throws: CommentsError.siteNotFound("a-site")) { try await store.removeSite(id: "a-site", force: false) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func removingASiteWithCommentsNeedsForce(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await insert(store, "one")
            try await insert(store, "two")
            await #expect(throws: CommentsError.siteHasComments("blog", count: 2)) {
                try await store.removeSite(id: "blog", force: false)
            }
            #expect(try await store.commentCount(siteID: "blog") == 2)
            #expect(try await store.removeSite(id: "blog", force: true) == 2)
            #expect(try await store.sites().isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func defaultSiteOnlyOnAnEmptyDatabase(kind: StoreKind) async throws {
        let (store, cleanup) = try await kind.make()
        defer { cleanup() }
        #expect(try await store.addSiteIfNoneExist(Site(id: "default", name: "D", origins: [])))
        #expect(try await !store.addSiteIfNoneExist(Site(id: "other", name: "O", origins: [])))
        #expect(try await store.sites().map(\.id) == ["default"])
    }

    @Test(arguments: [StoreKind.sqliteFile, .postgres])
    func aNewDatabaseStartsWithTheDefaultSite(kind: StoreKind) async throws {
        let (store, cleanup) = try await kind.make(seeded: true)
        defer { cleanup() }
        let site = try #require(try await store.site(id: "default"))
        #expect(site.isUntouchedDefault)
        #expect(try await store.sites().map(\.id) == ["default"])
        #expect(try await !store.addSiteIfNoneExist(Site(id: "other", name: "O", origins: [])))
    }

    @Test(arguments: StoreKind.allCases)
    func insertCreatesTheThreadOnceAndKeepsEveryField(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            await #expect(throws: CommentsError.siteNotFound("ghost")) {
                try await store.insert(NewComment(siteID: "ghost", uri: "/x/", title: nil, comment: draft("x")))
            }
            let first = try await insert(store, "첫 번째 👋🏽")
            let second = try await insert(store, "second", at: 2000)
            #expect(first.threadID == second.threadID)
            let thread = try #require(try await store.thread(siteID: "blog", uri: "/post/"))
            #expect(thread.title == "Post")
            #expect(thread.id == first.threadID)
            #expect(try await store.thread(id: thread.id) == thread)
            let stored = try #require(try await store.comment(id: first.id))
            var expected = draft("첫 번째 👋🏽")
            expected.id = first.id
            expected.threadID = thread.id
            #expect(stored == expected)
            #expect(try await store.comment(id: 999_999) == nil)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func parentMustBeApprovedAndInTheSameThread(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let root = try await insert(store, "root")
            let held = try await insert(store, "held", status: .pending)
            let elsewhere = try await insert(store, "elsewhere", uri: "/other/")
            try await insert(store, "reply", parent: root.id)
            for parent in [held.id, elsewhere.id, 424_242] {
                await #expect(throws: CommentsError.self) { try await insert(store, "bad reply", parent: parent) }
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func visibleCommentsKeepHiddenAncestorsOfApprovedReplies(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            #expect(try await store.visibleComments(siteID: "blog", uri: "/post/") == nil)
            let root = try await insert(store, "root", at: 1)
            let reply = try await insert(store, "reply", parent: root.id, at: 2)
            try await insert(store, "pending", status: .pending, at: 3)
            try await insert(store, "spam", status: .spam, at: 4)
            let (_, comments) = try #require(try await store.visibleComments(siteID: "blog", uri: "/post/"))
            #expect(comments.map(\.body) == ["root", "reply"])
            #expect(try await store.delete(commentID: root.id) == .tombstoned)
            let (_, after) = try #require(try await store.visibleComments(siteID: "blog", uri: "/post/"))
            #expect(after.map(\.status) == [.deleted, .approved])
            #expect(after[0].author == nil && after[0].email == nil && after[0].website == nil && after[0].body.isEmpty)
            #expect(after[1].id == reply.id)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func deletingTheLastReplyRemovesEmptyTombstones(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let root = try await insert(store, "root")
            let middle = try await insert(store, "middle", parent: root.id)
            let leaf = try await insert(store, "leaf", parent: middle.id)
            #expect(try await store.delete(commentID: root.id) == .tombstoned)
            #expect(try await store.delete(commentID: middle.id) == .tombstoned)
            #expect(try await store.delete(commentID: leaf.id) == .removed)
            #expect(try await store.comment(id: middle.id) == nil)
            #expect(try await store.comment(id: root.id) == nil)
            await #expect(throws: CommentsError.commentNotFound(leaf.id)) { try await store.delete(commentID: leaf.id) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func updateReplacesEditableFields(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            var comment = try await insert(store, "before")
            comment.body = "after"
            comment.html = "<p>after</p>"
            comment.editedAt = 5000
            comment.status = .pending
            comment.spamScore = 3
            comment.spamReasons = ["links"]
            let stored = try await store.update(comment)
            #expect(stored == comment)
            comment.id = 777
            await #expect(throws: CommentsError.commentNotFound(777)) { try await store.update(comment) }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func votesCountOncePerVoterAndMayChange(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let comment = try await insert(store, "vote on me")
            #expect(try await store.vote(commentID: comment.id, voter: "v1", value: 1, at: 1) == VoteTotals(likes: 1, dislikes: 0))
            #expect(try await store.vote(commentID: comment.id, voter: "v1", value: 1, at: 2) == VoteTotals(likes: 1, dislikes: 0))
            #expect(try await store.vote(commentID: comment.id, voter: "v2", value: 1, at: 3) == VoteTotals(likes: 2, dislikes: 0))
            #expect(try await store.vote(commentID: comment.id, voter: "v1", value: -1, at: 4) == VoteTotals(likes: 1, dislikes: 1))
            let held = try await insert(store, "held", status: .pending)
            await #expect(throws: CommentsError.commentNotFound(held.id)) {
                try await store.vote(commentID: held.id, voter: "v1", value: 1, at: 5)
            }
        }
    }

    @Test(arguments: StoreKind.allCases)
    func countsAndLatest(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await insert(store, "a1", uri: "/a/", at: 1)
            try await insert(store, "a2", uri: "/a/", at: 3)
            try await insert(store, "a3", uri: "/a/", status: .pending, at: 4)
            try await insert(store, "b1", uri: "/b/", at: 2)
            #expect(try await store.approvedCounts(siteID: "blog", uris: ["/a/", "/b/", "/none/"]) == ["/a/": 2, "/b/": 1, "/none/": 0])
            let latest = try await store.latestApproved(siteID: "blog", limit: 2)
            #expect(latest.map(\.1.body) == ["a2", "b1"])
            #expect(latest.map(\.0.uri) == ["/a/", "/b/"])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func threadVersionMovesOnEveryChange(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let comment = try await insert(store, "v")
            var seen = [try #require(try await store.thread(siteID: "blog", uri: "/post/")).version]
            func record() async throws {
                let version = try #require(try await store.thread(siteID: "blog", uri: "/post/")).version
                #expect(version > seen.last!)
                seen.append(version)
            }
            try await insert(store, "w")
            try await record()
            _ = try await store.vote(commentID: comment.id, voter: "x", value: 1, at: 1)
            try await record()
            var edited = comment
            edited.body = "v2"
            _ = try await store.update(edited)
            try await record()
            _ = try await store.delete(commentID: comment.id)
            try await record()
        }
    }

    @Test(arguments: StoreKind.allCases)
    func secretsAreMadeOnceAndKept(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let first = try await store.secret(named: "k", make: { [1, 2, 3] }, at: 1)
            let second = try await store.secret(named: "k", make: { [9, 9, 9] }, at: 2)
            #expect(first == [1, 2, 3])
            #expect(second == [1, 2, 3])
            try await store.ping()
        }
    }

    /// What the spam rules learn about a comment: the approved history of its author key (a typed
    /// email or name counts for nothing), the same text within the window, the blocklist and the
    /// classifier counts, in one read that agrees with the separate blocklist and classifier questions.
    @Test(arguments: StoreKind.allCases)
    func screeningFactsAnswerWhatTheSpamRulesAsk(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Given two approved comments of Ada's sent with her key and a held one
            let first = try await insert(store, "same words", at: 1000, authorKeyHash: "ada-key")
            try await insert(store, "same words", at: 5000, authorKeyHash: "ada-key")
            try await insert(store, "other words", status: .pending, at: 6000, authorKeyHash: "ada-key")
            try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: nil, createdAt: 1))
            try await store.train(features: ["w:casino"], asSpam: true)
            // When someone asks with her key
            let byKey = try await store.screeningFacts(
                siteID: "blog", query: ScreeningQuery(body: "same words",
                since: 2000, excluding: nil, features: ["w:casino", "w:same"], authorKeyHash: "ada-key"))
            // Then her approved history counts
            #expect(byKey.stored == StoredFacts(approvedBefore: 2, duplicates: 1))
            #expect(byKey.blocklist.map(\.value) == ["casino"])
            #expect(byKey.classifier.spamDocuments == 1)
            #expect(byKey.classifier.tokens["w:casino"]?.spam == 1)
            #expect(byKey.blocklist == (try await store.blocklist()))
            #expect(byKey.classifier == (try await store.classifierCounts(features: ["w:casino", "w:same"])))
            // When someone types her email (any case), or her name on her network, without the key
            let byEmail = try await store.screeningFacts(
                siteID: "blog", query: ScreeningQuery(body: "same words",
                since: 2000, excluding: nil, features: []))
            let byName = try await store.screeningFacts(
                siteID: "blog", query: ScreeningQuery(body: "new words",
                since: 0, excluding: nil, features: []))
            let otherKey = try await store.screeningFacts(
                siteID: "blog", query: ScreeningQuery(body: "same words",
                since: 0, excluding: nil, features: [], authorKeyHash: "mallory-key"))
            // Then nothing vouches for them
            #expect(byEmail.stored == StoredFacts(approvedBefore: 0, duplicates: 1))
            #expect(byName.stored == StoredFacts(approvedBefore: 0, duplicates: 0))
            #expect(otherKey.stored == StoredFacts(approvedBefore: 0, duplicates: 2))
            // When one of her comments is edited (no key sent with an edit)
            let edit = try await store.screeningFacts(
                siteID: "blog", query: ScreeningQuery(body: "same words",
                since: 0, excluding: first.id, features: []))
            // Then its own stored key counts her other approved comment
            #expect(edit.stored == StoredFacts(approvedBefore: 1, duplicates: 1))
        }
    }

    /// Reply-mail consent per site and address (any case): a confirmation mail's `requested` is
    /// recorded by the outbox itself, only a reader's answer confirms or suppresses, a
    /// confirmation never lifts a suppression, and reader mail past the daily cap is dropped.
    @Test(arguments: StoreKind.allCases)
    func replyConsentAndTheDailyCap(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await store.addSite(Site(id: "other", name: "Other", origins: [], createdAt: 1))
            // Given a builder that asks every notifying comment's address to confirm, capped at 2 a day
            let seen = Mutex<[ReplyConsent]>([])
            let confirming: MailBuilder = { context in
                seen.withLock { $0.append(context.consent(for: "ada@example.org")) }
                return [OutgoingMail(kind: .confirmation, commentID: context.comment.id, recipients: ["Ada@Example.org"], subject: "confirm",
                                     body: "b", messageID: "<m\(context.comment.id)@x>", createdAt: context.comment.createdAt, dailyCap: 2)]
            }
            #expect(try await store.replyConsent(email: "ada@example.org", siteID: "blog") == .unasked)
            // When a comment is stored with it
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft("one", at: 1000)), mail: confirming)
            // Then the address awaits confirmation on this site only, and the builder saw it unasked
            #expect(try await store.replyConsent(email: "ADA@example.org", siteID: "blog") == .requested(at: 1000))
            #expect(try await store.replyConsent(email: "ada@example.org", siteID: "other") == .unasked)
            #expect(seen.withLock { $0 } == [.unasked])
            // When two more are stored the same day
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft("two", at: 2000)), mail: confirming)
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft("three", at: 3000)), mail: confirming)
            // Then the builder saw the stored request, and the third mail was dropped by the cap
            #expect(seen.withLock { $0 } == [.unasked, .requested(at: 1000), .requested(at: 2000)])
            #expect(try await store.outbox(limit: 10).count == 2)
            // When a day has passed
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft("four", at: 1000 + 86_400_000)), mail: confirming)
            #expect(try await store.outbox(limit: 10).count == 3)
            // When the reader confirms, then suppresses
            #expect(try await store.setReplyConsent(.confirmed, email: "ada@example.org", siteID: "blog", at: 9) == .requested(at: 1000 + 86_400_000))
            #expect(try await store.replyConsent(email: "ada@example.org", siteID: "blog") == .confirmed)
            try await store.setReplyConsent(.suppressed, email: "ada@example.org", siteID: "blog", at: 10)
            // Then a later confirmation mail does not undo the suppression
            _ = try await store.insert(NewComment(siteID: "blog", uri: "/p/", title: nil, comment: draft("five", at: 2 * 86_400_000)), mail: confirming)
            #expect(try await store.replyConsent(email: "ada@example.org", siteID: "blog") == .suppressed)
            #expect(seen.withLock { $0.last } == .suppressed)
            // When the reader confirms anew, then forgets
            try await store.setReplyConsent(.confirmed, email: "ada@example.org", siteID: "blog", at: 11)
            #expect(try await store.replyConsent(email: "ada@example.org", siteID: "blog") == .confirmed)
            try await store.setReplyConsent(.unasked, email: "ada@example.org", siteID: "blog", at: 12)
            #expect(try await store.replyConsent(email: "ada@example.org", siteID: "blog") == .unasked)
        }
    }

    /// A new comment screened inside its own insert: the plan sees the thread (none for a new
    /// one) and exactly the facts `screeningFacts` gives, and what it decides is what is stored.
    @Test(arguments: StoreKind.allCases)
    func screenedInsertJudgesWithTheFactsOfItsOwnTransaction(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            try await insert(store, "same words", at: 1000)
            try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: nil, createdAt: 1))
            let query = ScreeningQuery(body: "same words",
                                       since: 0, excluding: nil, features: ["w:same"])
            let seen = Mutex<[(CommentThread?, ScreeningFacts?)]>([])
            let plan = ScreeningPlan(query: query) { thread, found in
                seen.withLock { $0.append((thread, found)) }
                return Judgement(status: found?.stored.duplicates == 1 ? .pending : .approved, score: 2.5, reasons: ["seen before"])
            }
            var comment = draft("same words", status: .approved, at: 2000)
            comment.email = "ada@example.org"
            let expected = try await store.screeningFacts(
                siteID: "blog", query: ScreeningQuery(body: "same words",
                since: 0, excluding: nil, features: ["w:same"]))

            let (thread, stored) = try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: "Post", comment: comment), screening: plan, mail: nil)
            #expect(stored.status == .pending && stored.spamScore == 2.5 && stored.spamReasons == ["seen before"])
            #expect(try await store.comment(id: stored.id)?.status == .pending)
            #expect(seen.withLock { $0.first?.0?.id } == thread.id)
            #expect(seen.withLock { $0.first?.1 } == expected)

            let (newThread, _) = try await store.insert(
                NewComment(siteID: "blog", uri: "/fresh/", title: nil, comment: draft("first here", status: .approved, at: 3000)), screening: plan, mail: nil)
            #expect(seen.withLock { $0.count == 2 && $0[1].0 == nil }, "a thread created by this insert did not exist when judged")
            #expect(try await store.thread(siteID: "blog", uri: "/fresh/")?.id == newThread.id)
        }
    }

    /// New comments sent all at once (as a busy site's readers do) may share transactions: each
    /// still gets its own answer, a failing one fails alone, and every answered one is stored.
    @Test(arguments: StoreKind.allCases)
    func manyNewCommentsAtOnceEachGetTheirOwnOutcome(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let parent = try await insert(store, "the parent", uri: "/busy/")
            let plan = ScreeningPlan(query: ScreeningQuery(body: "x", since: 0, excluding: nil, features: [])) { _, _ in
                Judgement(status: .approved)
            }
            let outcomes = await withTaskGroup(of: (Int, Result<Comment, any Error>).self) { group in
                for index in 0..<60 {
                    group.addTask {
                        // Every fifth one replies to a comment that does not exist.
                        let comment = draft("comment \(index)", parent: index % 5 == 0 ? 999_999 : parent.id, at: 2000 + Int64(index))
                        do {
                            let (_, stored) = try await store.insert(
                                NewComment(siteID: "blog", uri: "/busy/", title: nil, comment: comment), screening: plan, mail: nil)
                            return (index, .success(stored))
                        } catch {
                            return (index, .failure(error))
                        }
                    }
                }
                var all: [Int: Result<Comment, any Error>] = [:]
                for await (index, outcome) in group { all[index] = outcome }
                return all
            }
            #expect(outcomes.count == 60)
            for (index, outcome) in outcomes {
                switch outcome {
                case .success(let stored):
                    #expect(index % 5 != 0)
                    #expect(stored.body == "comment \(index)")
                    #expect(try await store.comment(id: stored.id)?.body == "comment \(index)")
                case .failure(let error):
                    #expect(index % 5 == 0)
                    #expect("\(error)".contains("parent"))
                }
            }
            let (_, comments) = try #require(try await store.visibleComments(siteID: "blog", uri: "/busy/"))
            #expect(comments.count == 1 + 48)
            #expect(Set(comments.map(\.id)).count == comments.count)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func dueMailIsClaimedUntilMarkedOrTheLeaseRunsOut(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let letter: MailBuilder = { context in
                [OutgoingMail(kind: .moderation, commentID: context.comment.id, recipients: ["mod@example.org"], subject: "s",
                              body: "b", headers: [], messageID: "<\(context.comment.id)@margin>", createdAt: 1000, nextAttemptAt: 1000)]
            }
            for text in ["one", "two", "three"] {
                _ = try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: nil, comment: draft(text)), mail: letter)
            }
            let first = try await store.dueMail(now: 2000, limit: 2)
            #expect(first.count == 2)
            // A second sender at the same moment gets only what the first did not take.
            let second = try await store.dueMail(now: 2000, limit: 10)
            #expect(second.count == 1 && Set((first + second).map(\.id)).count == 3)
            #expect(try await store.dueMail(now: 2001, limit: 10).isEmpty, "all are claimed")
            try await store.markSent(mailID: first[0].id, at: 2002)
            try await store.markFailed(mailID: first[1].id, error: "busy", at: 2002, retryAt: 3000)
            #expect(try await store.dueMail(now: 3000, limit: 10).map(\.id) == [first[1].id], "a failed one comes back at its retry time")
            // The third's sender died: its claim runs out, and another sender takes it.
            let expired = 2000 + OutboxClaim.leaseMillis
            #expect(try await store.dueMail(now: expired, limit: 10).map(\.id) == [second[0].id])
            #expect(try await store.outbox(limit: 10).count == 3, "nothing is lost")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aLockedThreadRefusesCommentsAndReplies(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            // Given a real WordPress export with a page closed for comments, imported into the store
            let export = ImporterTests.data.appendingPathComponent("wordpress/wpimporter-a11y-unit-test-data.xml")
            _ = try await store.importStaged(keep: { _ in true }) { sqlite in
                try await Importer(store: sqlite).run(Importer.Options(siteID: "blog", source: .wordpress), file: export)
            }
            let closed = "/2012/01/04/template-password-protected/"
            let (thread, comments) = try #require(try await store.visibleComments(siteID: "blog", uri: closed))
            #expect(thread.locked)
            let parent = try #require(comments.first { $0.status == .approved })

            // When a comment and a reply arrive there
            await #expect(throws: CommentsError.threadLocked) { try await insert(store, "Late", uri: closed) }
            await #expect(throws: CommentsError.threadLocked) { try await insert(store, "Late reply", uri: closed, parent: parent.id) }

            // Then nothing was stored, and an open page of the same export still takes comments
            #expect(try await store.visibleComments(siteID: "blog", uri: closed)?.1.count == comments.count)
            let open = try await insert(store, "On time", uri: "/2012/01/03/template-comments/")
            #expect(open.status == .approved)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func nodesStartingTogetherAddOneSigningKey(kind: StoreKind) async throws {
        try await withStore(kind) { store in
            let added = try await withThrowingTaskGroup(of: Bool.self) { group in
                for index in 0..<4 {
                    group.addTask {
                        try await store.addSigningKeyIfNoneExist(SigningKey(id: "k\(index)", secret: Array(repeating: UInt8(index), count: 32), createdAt: 1))
                    }
                }
                return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
            }
            #expect(added == 1)
            #expect(try await store.signingKeys().count == 1)
            #expect(try await !store.addSigningKeyIfNoneExist(SigningKey(id: "late", secret: [1], createdAt: 2)))
        }
    }
}
