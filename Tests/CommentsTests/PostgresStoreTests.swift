import Foundation
import TestSupport
import Testing
@testable import Comments

/// The PostgreSQL store's own concerns: database URLs, migrations, and errors when the server is
/// missing. The store contract itself is `StoreConformanceTests`.
@Suite struct PostgresStoreTests {
    @Test func databaseURLsAreReadStrictly() throws {
        let full = try PostgresLocation(url: "postgres://margin:s3cret@db.example.org:6543/comments?sslmode=require")
        #expect(full.host == "db.example.org" && full.port == 6543 && full.user == "margin" && full.password == "s3cret")
        #expect(full.database == "comments" && full.sslMode == .require)
        #expect(full.description == "postgres://margin:***@db.example.org:6543/comments", "no password in messages")
        let short = try PostgresLocation(url: "postgresql://margin@localhost/margin")
        #expect(short.port == 5432 && short.password == nil && short.sslMode == .prefer)
        #expect(PostgresLocation.isURL("POSTGRES://x@y/z") && !PostgresLocation.isURL("/var/lib/margin.sqlite"))
        for bad in ["postgres://localhost/margin", "postgres://margin@/margin", "postgres://margin@localhost",
                    "postgres://margin@localhost/", "postgres://margin@localhost:99999/m", "postgres://margin@localhost/m?sslmode=maybe",
                    "postgres://margin@localhost/m?application=x", "mysql://margin@localhost/m"] {
            #expect(throws: CommentsError.self, "\(bad)") { try PostgresLocation(url: bad) }
        }
    }

    @Test func migrationsRunOnceEvenWhenNodesStartTogether() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        let location = try PostgresLocation(url: url)
        // Three nodes start at once on an empty database: one migrates, the others wait and find it done.
        let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
            for _ in 0..<3 { group.addTask { try await PostgresStore(location: location, connectTimeout: PostgresTestCluster.patience) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        defer { stores.forEach { $0.close() } }
        try await stores[0].addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        // The default site a new database starts with, added once.
        #expect(try await stores[2].sites().map(\.id) == ["blog", "default"])
        // A fourth start finds everything applied and changes nothing.
        let again = try await PostgresStore(location: location, connectTimeout: PostgresTestCluster.patience)
        defer { again.close() }
        #expect(try await again.sites().map(\.id) == ["blog", "default"])
    }

    @Test func sitesAddListUpdateRemove() async throws {
        let store = try await PostgresStore(location: PostgresLocation(url: try await PostgresTestCluster.freshDatabase()), connectTimeout: PostgresTestCluster.patience)
        defer { store.close() }
        // A new database starts with the default site.
        #expect(try await store.sites().map(\.id) == ["default"])
        #expect(try await !store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 8)))
        await #expect(throws: CommentsError.siteExists("default")) {
            try await store.addSite(Site(id: "default", name: "Again", origins: []))
        }
        var site = Site(id: "a-site", name: "A", origins: ["http://localhost:*"], moderation: .auto, requireEmail: true,
                        createdAt: 5, rateLimit: RateLimit(parsing: "3/min"), moderators: ["mod@example.org"], avatars: .gravatar)
        try await store.addSite(site)
        #expect(try await store.site(id: "a-site") == site)
        site.name = "Renamed"
        site.origins = ["https://a.example", "https://b.example"]
        site.rateLimit = nil
        try await store.updateSite(site)
        #expect(try await store.site(id: "a-site") == site)
        #expect(try await store.sites().map(\.id) == ["a-site", "default"])
        await #expect(throws: CommentsError.siteNotFound("nope")) { try await store.updateSite(Site(id: "nope", name: "N", origins: [])) }
        #expect(try await store.removeSite(id: "a-site", force: false) == 0)
        #expect(try await store.site(id: "a-site") == nil)
        await #expect(throws: CommentsError.siteNotFound("a-site")) { try await store.removeSite(id: "a-site", force: true) }
    }

    /// Run by `TimingTests` below, in the quiet pass.
    func anUnreachableServerIsAClearErrorWithinTheTimeout() async throws {
        // A port nobody listens on.
        let start = ContinuousClock.now
        await #expect(throws: CommentsError.self) {
            _ = try await PostgresStore(location: PostgresLocation(url: "postgres://margin@127.0.0.1:1/margin?sslmode=disable"),
                                        connectTimeout: .seconds(2))
        }
        #expect(ContinuousClock.now - start < .seconds(30))
    }

    @Test func schemaFileMatchesWhatTheMigrationsProduce() async throws {
        let migrated = try await PostgresTestCluster.freshDatabase()
        let store = try await PostgresStore(location: PostgresLocation(url: migrated), connectTimeout: PostgresTestCluster.patience)
        store.close()
        let fromFile = try await PostgresTestCluster.freshDatabase()
        let schemaPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("schema-postgres.sql").path
        _ = try await PostgresTestCluster.tool("psql", fromFile, ["-q", "-v", "ON_ERROR_STOP=1", "-f", schemaPath, "-d"])
        func dump(_ url: String) async throws -> String {
            // Comments and pg_dump's \\restrict keys (random per dump) aside.
            try await PostgresTestCluster.tool("pg_dump", url, ["--schema-only", "--no-owner", "--exclude-table=schema_migrations"])
                .split(separator: "\n").filter { !$0.hasPrefix("--") && !$0.hasPrefix("\\restrict") && !$0.hasPrefix("\\unrestrict") }
                .joined(separator: "\n")
        }
        let (a, b) = (try await dump(migrated), try await dump(fromFile))
        #expect(a.contains("CREATE TABLE public.comments"))
        #expect(a == b, "schema-postgres.sql differs from the migrations; regenerate it")
    }

    @Test func commentsAndThreadsFollowTheSQLiteRules() async throws {
        let store = try await PostgresStore(location: PostgresLocation(url: try await PostgresTestCluster.freshDatabase()), connectTimeout: PostgresTestCluster.patience)
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        func post(_ text: String, uri: String = "/post/", status: CommentStatus = .approved, parent: Int64? = nil, at: Int64) async throws -> Comment {
            try await store.insert(NewComment(siteID: "blog", uri: uri, title: "Post", comment: draft(text, status: status, parent: parent, at: at)), mail: nil).1
        }
        let first = try await post("first", at: 10)
        let held = try await post("held", status: .pending, at: 11)
        let reply = try await post("reply", parent: first.id, at: 12)
        _ = try await post("elsewhere", uri: "/other/", at: 13)
        #expect(try await store.comment(id: reply.id) == reply, "every column round-trips")
        await #expect(throws: CommentsError.self) { try await post("to a held one", parent: held.id, at: 14) }
        await #expect(throws: CommentsError.self) { try await post("across threads", uri: "/other/", parent: first.id, at: 15) }
        await #expect(throws: CommentsError.siteNotFound("nope")) {
            try await store.insert(NewComment(siteID: "nope", uri: "/x/", title: nil, comment: draft("x")), mail: nil)
        }
        let (thread, visible) = try #require(try await store.visibleComments(siteID: "blog", uri: "/post/"))
        #expect(visible.map(\.body) == ["first", "reply"])
        #expect(thread.title == "Post" && thread.version == 3, "each comment bumps its thread's version")
        #expect(try await store.approvedCounts(siteID: "blog", uris: ["/post/", "/other/", "/none/"]) == ["/post/": 2, "/other/": 1, "/none/": 0])
        #expect(try await store.commentCount(siteID: "blog") == 4)
        #expect(try await store.visibleComments(siteID: "blog", uri: "/none/") == nil)
    }

    @Test func editsDeletionsVotesAndQueues() async throws {
        let store = try await PostgresStore(location: PostgresLocation(url: try await PostgresTestCluster.freshDatabase()), connectTimeout: PostgresTestCluster.patience)
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        func post(_ text: String, status: CommentStatus = .approved, parent: Int64? = nil, at: Int64) async throws -> Comment {
            try await store.insert(NewComment(siteID: "blog", uri: "/post/", title: "Post", comment: draft(text, status: status, parent: parent, at: at)), mail: nil).1
        }
        let root = try await post("root", at: 10)
        let child = try await post("child", parent: root.id, at: 11)
        let held = try await post("held", status: .pending, at: 12)

        var edited = child
        edited.body = "child, edited"; edited.html = "<p>child, edited</p>"; edited.editedAt = 20
        #expect(try await store.update(edited, mail: nil) == edited)
        var ghost = child
        ghost.id = 999
        await #expect(throws: CommentsError.commentNotFound(999)) { try await store.update(ghost, mail: nil) }

        #expect(try await store.vote(commentID: root.id, voter: "v1", value: 1, at: 30) == VoteTotals(likes: 1, dislikes: 0))
        #expect(try await store.vote(commentID: root.id, voter: "v1", value: 1, at: 31) == VoteTotals(likes: 1, dislikes: 0), "the same vote again counts once")
        #expect(try await store.vote(commentID: root.id, voter: "v1", value: -1, at: 32) == VoteTotals(likes: 0, dislikes: 1), "a changed vote moves")
        await #expect(throws: CommentsError.commentNotFound(held.id)) { try await store.vote(commentID: held.id, voter: "v1", value: 1, at: 33) }

        #expect(try await store.latestApproved(siteID: "blog", limit: 10).map(\.1.body) == ["child, edited", "root"])
        #expect(try await store.moderationQueue(siteID: "blog", status: .pending, limit: 10).map(\.1.id) == [held.id])
        #expect(try await store.moderationQueue(siteID: nil, status: nil, limit: 2).map(\.1.id) == [held.id, child.id])

        // The root has a reply: a tombstone. Deleting the reply then takes the tombstone too.
        #expect(try await store.delete(commentID: root.id) == .tombstoned)
        #expect(try await store.comment(id: root.id)?.status == .deleted)
        #expect(try await store.comment(id: root.id)?.body == "")
        #expect(try await store.delete(commentID: child.id) == .removed)
        #expect(try await store.comment(id: root.id) == nil, "a tombstone with no replies left goes")
        await #expect(throws: CommentsError.commentNotFound(child.id)) { try await store.delete(commentID: child.id) }
    }
}

extension PostgresStoreTests {
    /// The checks of time, which `scripts/test` runs in its quiet pass: beside the parallel
    /// suites their clocks measure the other tests (40 s instead of 2 on a loaded machine).
    @Suite struct TimingTests {
        @Test func anUnreachableServerIsAClearErrorWithinTheTimeout() async throws {
            try await PostgresStoreTests().anUnreachableServerIsAClearErrorWithinTheTimeout()
        }
    }
}
