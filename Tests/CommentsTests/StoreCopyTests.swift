import Foundation
import GRDB
import TestSupport
import Testing
@testable import Comments

/// `margin migrate`'s engine on real stores: a SQLite file full of real imports and every kind
/// of row goes to PostgreSQL and back, and exports the same bytes at the end.
@Suite struct StoreCopyTests {
    static let data = ImporterTests.data

    /// A temporary folder, removed by the returned function.
    func folder() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("migrate-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    /// A SQLite file holding every kind of row: two real third-party exports, a second site,
    /// replies, every status, text that is hard to carry (NUL-free control characters, emoji,
    /// quotes, markup), votes, a moderation, the blocklist, classifier counts, mail in the
    /// outbox, a signing key, a secret and an admin token.
    func populatedSQLite(at path: String) async throws {
        let store = try SQLiteStore(path: path)
        _ = try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 1))
        for (file, source) in [("disqus/isso-disqus.xml", ImportFormat.disqus),
                               ("wordpress/wpimporter-a11y-unit-test-data.xml", .wordpress), ("wordpress/wpimporter-small-export.xml", .wordpress)] {
            _ = try await Importer(store: store).run(
                Importer.Options(siteID: "default", source: source, skipInvalid: true), file: Self.data.appendingPathComponent(file))
        }
        try await store.addSite(Site(id: "blog", name: "Blog \u{2014} «ünïcode»", origins: ["https://blog.example.org", "http://*.example.org"],
                                     moderation: .all, requireAuthor: true, createdAt: 2, moderators: ["m@example.org"], avatars: .gravatar))
        let first = try await insert(store, "first \"quoted\" <b>markup</b> \u{1F600}\ttab", uri: "/a/")
        let reply = try await insert(store, "a reply\r\nwith CRLF and \u{0007} bell", uri: "/a/", parent: first.id, at: 2000)
        try await insert(store, "held", uri: "/a/", status: .pending, at: 3000)
        try await insert(store, "spam", uri: "/b/", status: .spam, at: 4000)
        // A hook hears what follows: its deliveries, one failed with an answer, travel too.
        let hook = try await store.addHook(Hook(
            name: "team «chat»", siteID: "blog", preset: .webhook, url: "https://hooks.example.org/in", secret: "whsec_c2VjcmV0",
            events: HookEventType.allCases, trusted: true, allowPrivate: true, createdAt: 4500))
        _ = try await store.addHook(Hook(name: "phone", siteID: nil, preset: .ntfy, url: "https://ntfy.sh", target: "topic",
                                         events: [.held], enabled: false, createdAt: 4501))
        let mail: MailBuilder = { context in
            [OutgoingMail(kind: .moderation, commentID: context.comment.id, recipients: ["m@example.org"], subject: "New comment",
                          body: "Approve: https://blog.example.org/x", headers: [["X-Margin", "1"]], messageID: "<m1@margin>", createdAt: 5000)]
        }
        _ = try await store.insert(NewComment(siteID: "blog", uri: "/b/", title: "B", comment: draft("with mail", at: 5000)), mail: mail)
        _ = try await store.vote(commentID: first.id, voter: "voter-1", value: 1, at: 6000)
        _ = try await store.vote(commentID: first.id, voter: "voter-2", value: -1, at: 6001)
        _ = try await store.moderate(ModerationDecision(commentID: reply.id, action: .reject, actor: .cli, moderator: "mod@example.org",
                                                        reason: "rude", at: 7000, link: LinkUse(nonce: "nonce-1", expiresAt: 9_999_999, issuedAt: 6500)),
                                     features: ["w:rude", "w:words"], mail: nil)
        try await store.addBlock(BlockEntry(kind: .domain, value: "spam.example", reason: "spam", createdAt: 8000))
        try await store.addBlock(BlockEntry(kind: .domain, value: "spam.example", reason: "blog only", createdAt: 8001, siteID: "blog"))
        try await store.train(features: ["w:cheap", "w:pills"], asSpam: true)
        try await store.addSigningKey(SigningKey(id: "k1", secret: Array(0...31), createdAt: 9000))
        _ = try await store.secret(named: "form", make: { Array(repeating: 0xAB, count: 32) }, at: 9001)
        _ = try await store.createAdminToken(name: "ops", random: SystemRandom(), at: 9002)
        let deliveries = try await store.hookDeliveries(hookID: hook.id, limit: 10)
        #expect(deliveries.count == 2)
        try await store.recordHookAttempt(deliveryID: deliveries[0].id, HookAttempt(
            status: 500, error: "the receiver answered 500", response: "down \u{1F600}", at: 9100))
    }

    func export(_ path: String) async throws -> [UInt8] {
        let collected = Collected()
        try await Exporter(store: try SQLiteStore(path: path)).export(format: .margin, siteID: nil) { collected.append($0) }
        return collected.bytes
    }

    func rows(_ path: String, _ table: String) async throws -> [[DatabaseValue]] {
        try await SQLiteStore(path: path).writer.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY 1, 2").map { Array($0.databaseValues) }
        }
    }

    @Test func sqliteToPostgresAndBackKeepsEveryRowAndTheExportBytes() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.sqlite").path
        let returned = directory.appendingPathComponent("returned.sqlite").path
        try await populatedSQLite(at: original)
        let url = try await PostgresTestCluster.freshDatabase()

        let there = try await StoreCopy(from: original, to: url).run()
        #expect(there.tables.map(\.table) == StoreCopy.tables)
        #expect(there.tables.allSatisfy { $0.source == $0.target })
        #expect(there.tables.first { $0.table == "comments" }!.target > 10)
        #expect(there.tables.first { $0.table == "outbox" }!.target == 1)

        let back = try await StoreCopy(from: url, to: returned).run()
        #expect(back.tables == there.tables)
        #expect(!FileManager.default.fileExists(atPath: returned + ".migrating"))

        let before = try await export(original)
        #expect(before.count > 1000)
        #expect(try await export(returned) == before)
        // What the export does not carry came back too, value for value.
        for table in ["signing_keys", "secrets", "admin_tokens", "outbox", "spam_tokens", "spam_totals", "used_links", "threads", "hooks",
                      "hook_deliveries"] {
            #expect(try await rows(returned, table) == rows(original, table), "\(table)")
        }
    }

    @Test func theMovedPostgresStoreWorksOnWithNewIdsAfterTheOldOnes() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let original = directory.appendingPathComponent("original.sqlite").path
        try await populatedSQLite(at: original)
        let url = try await PostgresTestCluster.freshDatabase()
        _ = try await StoreCopy(from: original, to: url).run()

        let highest = try await SQLiteStore(path: original).writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM comments") ?? 0
        }
        let store = try await PostgresStore(location: PostgresLocation(url: url), connectTimeout: PostgresTestCluster.patience)
        defer { store.close() }
        let (_, added) = try await store.insert(NewComment(siteID: "blog", uri: "/a/", title: nil, comment: draft("after the move")))
        #expect(added.id == highest + 1)
        // The moved comments are there, in their threads, with their tree.
        let visible = try #require(try await store.visibleComments(siteID: "blog", uri: "/a/")).1
        let first = try #require(visible.first { $0.body.hasPrefix("first \"quoted\"") })
        #expect(visible.contains { $0.id == added.id })
        #expect(first.likes == 1 && first.dislikes == 1)
        #expect(try await store.signingKeys().map(\.id).contains("k1"))
        #expect(try await store.isLinkUsed(nonce: "nonce-1"))
        // Hooks came along, and new ones are numbered after them.
        let hooks = try await store.hooks(siteID: nil)
        #expect(hooks.map(\.name) == ["team «chat»", "phone"])
        let newHook = try await store.addHook(Hook(name: "new", siteID: nil, preset: .slack, url: "https://hooks.slack.com/x", events: [.held], createdAt: 1))
        #expect(newHook.id == hooks.map(\.id).max()! + 1)
        #expect(try await store.hookDeliveries(hookID: hooks[0].id, limit: 10).count == 3, "two moved, one for the comment added since")
    }

    @Test func aTargetThatHoldsCommentsIsLeftAlone() async throws {
        let directory = try folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("source.sqlite").path
        let busy = directory.appendingPathComponent("busy.sqlite").path
        try await populatedSQLite(at: source)
        try await populatedSQLite(at: busy)
        let before = try await export(busy)

        await #expect(throws: CommentsError.self) { try await StoreCopy(from: source, to: busy).run() }
        #expect(try await export(busy) == before)

        // The same on PostgreSQL: one comment there, and the move is refused whole.
        let url = try await PostgresTestCluster.freshDatabase()
        let store = try await PostgresStore(location: PostgresLocation(url: url), connectTimeout: PostgresTestCluster.patience)
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        try await insert(store, "already here")
        do {
            _ = try await StoreCopy(from: source, to: url).run()
            Issue.record("the move into a database with comments went ahead")
        } catch let error as CommentsError {
            #expect("\(error)".contains("already holds"))
        }
        #expect(try await store.sites().map(\.id) == ["blog", "default"])

        await #expect(throws: CommentsError.self) { try await StoreCopy(from: source, to: source).run() }
        await #expect(throws: CommentsError.self) {
            try await StoreCopy(from: directory.appendingPathComponent("missing.sqlite").path, to: url).run()
        }
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("missing.sqlite").path))
    }
}

/// Bytes gathered from a `@Sendable` writer.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [UInt8] = []
    func append(_ bytes: [UInt8]) { lock.withLock { stored += bytes } }
    var bytes: [UInt8] { lock.withLock { stored } }
}
