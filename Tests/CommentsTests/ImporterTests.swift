import Foundation
import GRDB
import Synchronization
import Testing
@testable import Comments

/// Imports into a real SQLite file: counts, tree shape, merging, idempotency, atomicity.
@Suite struct ImporterTests {
    static let data = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data")

    /// A fresh database with the default site, and a function that removes it.
    func freshStore() throws -> (SQLiteStore, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("import-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("m.sqlite").path)
        return (store, directory)
    }

    func importFile(_ store: SQLiteStore, _ url: URL, source: ImportFormat, rules: RemapRules = RemapRules(),
                    dryRun: Bool = false, skipInvalid: Bool = false) async throws -> ImportSummary {
        _ = try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 1))
        return try await Importer(store: store).run(
            Importer.Options(siteID: "default", source: source, rules: rules, dryRun: dryRun, skipInvalid: skipInvalid), file: url)
    }

    /// Writes a Disqus export: a blog that moved, so every comment hangs off a `?p=N` thread and
    /// a `/blog/slug.html` thread; one reply comes before its parent; one deleted post has a
    /// reply, another has none; one is spam.
    func movedBlogExport(in directory: URL) throws -> URL {
        func thread(_ id: Int, _ link: String, _ identifier: String) -> String {
            """
            <thread dsq:id="\(id)"><id>\(identifier)</id><forum>f</forum><link>\(link)</link><title>Post \(id)</title>
            <createdAt>2014-01-01T00:00:00Z</createdAt><isClosed>false</isClosed><isDeleted>false</isDeleted></thread>
            """
        }
        func post(_ id: Int, thread: Int, parent: Int? = nil, message: String, at time: String, deleted: Bool = false, spam: Bool = false, author: String = "독자") -> String {
            """
            <post dsq:id="\(id)"><id/><message><![CDATA[\(message)]]></message><createdAt>\(time)</createdAt>
            <isDeleted>\(deleted)</isDeleted><isSpam>\(spam)</isSpam>
            <author><email>r\(id)@example.org</email><name>\(author)</name><isAnonymous>true</isAnonymous></author>
            <ipAddress>203.0.113.\(id % 250)</ipAddress><thread dsq:id="\(thread)"/>\(parent.map { "<parent dsq:id=\"\($0)\"/>" } ?? "")</post>
            """
        }
        var xml = #"<?xml version="1.0" encoding="utf-8"?><disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">"#
        xml += thread(1, "http://www.example.org/?p=198", "198 http://www.example.org/?p=198")
        xml += thread(2, "http://www.example.org/blog/tensorflow.html", "/blog/tensorflow.html")
        xml += thread(3, "https://disqus.com/home/discussion/x", "")
        // Old copies first, on the ?p= thread; the reply (11) comes before its parent (10).
        xml += post(11, thread: 1, parent: 10, message: "<p>답글입니다 <b>bold</b></p>", at: "2014-01-02T10:00:00Z")
        xml += post(10, thread: 1, message: "<p>첫 댓글 <script>alert(1)</script></p>", at: "2014-01-02T09:00:00Z")
        // New copies of the same comments, on the real path.
        xml += post(21, thread: 2, parent: 20, message: "<p>답글입니다 <b>bold</b></p>", at: "2014-01-02T10:00:00Z")
        xml += post(20, thread: 2, message: "<p>첫 댓글 <script>alert(1)</script></p>", at: "2014-01-02T09:00:00Z")
        xml += post(30, thread: 2, message: "<p>gone but replied to</p>", at: "2014-01-03T09:00:00Z", deleted: true)
        xml += post(31, thread: 2, parent: 30, message: "<p>reply to a deleted post</p>", at: "2014-01-03T10:00:00Z")
        xml += post(32, thread: 2, message: "<p>gone, nobody replied</p>", at: "2014-01-03T11:00:00Z", deleted: true)
        xml += post(33, thread: 2, message: "<p>buy now</p>", at: "2014-01-03T12:00:00Z", spam: true)
        xml += post(34, thread: 2, parent: 999, message: "<p>parent never exported</p>", at: "2014-01-04T12:00:00Z")
        xml += post(40, thread: 3, message: "<p>on a disqus.com link</p>", at: "2014-01-05T12:00:00Z")
        xml += "</disqus>"
        let url = directory.appendingPathComponent("moved.xml")
        try xml.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test func aMovedBlogMergesDuplicatesAndKeepsTheTree() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = try await importFile(store, try movedBlogExport(in: directory), source: .disqus)
        #expect(summary.duplicatesDropped == 2)
        #expect(summary.threads == 1)
        #expect(summary.comments == 6)
        #expect(summary.replies == 2)
        #expect(summary.tombstones == 1)
        #expect(summary.spam == 1)
        #expect(summary.skipped["deleted without replies"] == 1)
        #expect(summary.skipped["parent missing (kept as top-level)"] == 1)
        #expect(summary.skipped["thread without a usable link"] == 1)

        let (thread, comments) = try #require(try await store.visibleComments(siteID: "default", uri: "/blog/tensorflow.html"))
        #expect(thread.title == "Post 2")
        let first = try #require(comments.first { $0.body.hasPrefix("첫 댓글") })
        #expect(first.html == "<p>첫 댓글</p>")
        #expect(first.origin == "disqus:10")
        #expect(first.createdAt == 1_388_653_200_000)
        #expect(first.ip == "203.0.113.0")
        let reply = try #require(comments.first { $0.body.hasPrefix("답글") })
        #expect(reply.parentID == first.id)
        #expect(reply.html == "<p>답글입니다 <strong>bold</strong></p>")
        let tombstone = try #require(comments.first { $0.status == .deleted })
        #expect(tombstone.author == nil && tombstone.body.isEmpty)
        #expect(comments.contains { $0.parentID == tombstone.id && $0.body.contains("reply to a deleted post") })
        #expect(try await store.thread(siteID: "default", uri: "/?p=198") == nil)
    }

    @Test func runningTheSameImportAgainAddsNothing() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try movedBlogExport(in: directory)
        let first = try await importFile(store, url, source: .disqus)
        let count = try await store.commentCount(siteID: "default")
        let second = try await importFile(store, url, source: .disqus)
        #expect(try await store.commentCount(siteID: "default") == count)
        #expect(second.comments == 0)
        #expect(second.skipped["already imported"] == first.comments)
    }

    @Test func dryRunWritesNothing() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let summary = try await importFile(store, try movedBlogExport(in: directory), source: .disqus, dryRun: true)
        #expect(summary.dryRun && summary.comments == 6)
        #expect(try await store.commentCount(siteID: "default") == 0)
    }

    @Test func mapRulesMoveThreads() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = try RemapRules(parsing: "# the blog moved\n~^/blog/([^/.]+)\\.html$ /posts/$1/\n/?p=198 /posts/tensorflow/\n")
        let summary = try await importFile(store, try movedBlogExport(in: directory), source: .disqus, rules: rules)
        #expect(summary.threads == 1)
        #expect(try await store.visibleComments(siteID: "default", uri: "/posts/tensorflow/")?.1.count == 5)
    }

    @Test func remapRulesParseAndApply() throws {
        let rules = try RemapRules(parsing: "/old/ /new/\n/2015/* /archive/2015/*\n~^/p/([0-9]+)$ /posts/$1/\n")
        #expect(try rules.apply("/old/") == "/new/")
        #expect(try rules.apply("/old") == "/old")
        #expect(try rules.apply("/2015/03/x/") == "/archive/2015/03/x/")
        #expect(try rules.apply("/p/42") == "/posts/42/")
        #expect(try rules.apply("/other/") == "/other/")
        #expect(throws: CommentsError.self) { try RemapRules(parsing: "only-one-field") }
        #expect(throws: CommentsError.self) { try RemapRules(parsing: "~([ /x") }
        #expect(throws: CommentsError.self) { try RemapRules(parsing: "/a* /b") }
    }

    @Test func aMalformedFileLeavesTheDatabaseAsItWas() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await importFile(store, try movedBlogExport(in: directory), source: .disqus)
        let before = try await store.commentCount(siteID: "default")
        for name in ["remark42-disqus2.xml", "remark42-disqus-deleted-post.xml", "remark42-disqus-deleted-thread.xml"] {
            await #expect(throws: ImportError.self) {
                try await importFile(store, Self.data.appendingPathComponent("disqus/\(name)"), source: .disqus)
            }
        }
        // A file that breaks half-way, after posts were already read, rolls back too.
        var broken = try String(contentsOf: try movedBlogExport(in: directory), encoding: .utf8)
        broken = broken.replacingOccurrences(of: "<post dsq:id=\"40\">", with: "<post dsq:id=\"40\"><oops>")
        broken = broken.replacingOccurrences(of: "<isSpam>", with: "<isSpam>").replacingOccurrences(of: "10.0.0", with: "")
        let brokenURL = directory.appendingPathComponent("broken.xml")
        try broken.replacingOccurrences(of: "dsq:id=\"20\"", with: "dsq:id=\"120\"").write(to: brokenURL, atomically: true, encoding: .utf8)
        await #expect(throws: ImportError.self) { try await importFile(store, brokenURL, source: .disqus) }
        #expect(try await store.commentCount(siteID: "default") == before)
    }

    /// A large import drops the comment indexes and triggers and rebuilds them; whatever
    /// happens, the schema afterwards is exactly what the migrations made.
    @Test func bulkLoadingPutsBackEveryIndexAndTrigger() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let schema = { try await store.writer.read { try SchemaTests.objects($0) } }
        let before = try await schema()
        #expect(before.keys.contains("trigger comments_bump_thread_on_insert"))
        // Into an empty table: indexes rebuilt at the end.
        _ = try await importFile(store, try movedBlogExport(in: directory), source: .disqus)
        #expect(try await schema() == before)
        // A failure half-way rolls the dropped objects back with everything else.
        await #expect(throws: ImportError.self) {
            try await importFile(store, Self.data.appendingPathComponent("disqus/remark42-disqus2.xml"), source: .disqus)
        }
        #expect(try await schema() == before)
        // Into a table holding more than the import: indexes kept up to date row by row.
        let summary = try await Importer(store: store).run(Importer.Options(siteID: "default", source: .disqus), expectedPosts: 0) { _, handle in
            try handle(.thread(ImportedThread(key: "t", link: "https://example.org/later/")))
            try handle(.post(ImportedPost(key: "900", threadKey: "t", html: "<p>later</p>", createdAt: 1_500_000_000_000)))
        }
        #expect(summary.comments == 1)
        #expect(try await schema() == before)
        let usesIndex = try await store.writer.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN SELECT id FROM comments WHERE thread_id = 1 ORDER BY created_at")
                .map { $0["detail"] as String }.joined()
        }
        #expect(usesIndex.contains("comments_by_thread"))
    }

    /// Alone on its file, a bulk import writes through a rollback journal (nothing goes to the
    /// WAL); with another connection open, as a running server has, it keeps the WAL at once
    /// rather than waiting for the file. Either way the file is in WAL mode afterwards.
    @Test func aBulkImportAloneOnTheFileBypassesTheWAL() async throws {
        func walBytes(_ directory: URL) -> Int {
            (try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent("m.sqlite-wal").path)[.size] as? Int) ?? 0
        }
        func journalMode(_ directory: URL) throws -> String? {
            try DatabaseQueue(path: directory.appendingPathComponent("m.sqlite").path).read { db in
                try String.fetchOne(db, sql: "PRAGMA journal_mode")
            }
        }

        let (alone, aloneDirectory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: aloneDirectory) }
        _ = try await alone.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 1))
        _ = try await alone.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        #expect(walBytes(aloneDirectory) == 0)
        let summary = try await importFile(alone, try movedBlogExport(in: aloneDirectory), source: .disqus)
        #expect(summary.comments == 6)
        #expect(walBytes(aloneDirectory) == 0, "the import's pages went through the WAL")
        #expect(try journalMode(aloneDirectory) == "wal")
        #expect(try await alone.visibleComments(siteID: "default", uri: "/blog/tensorflow.html")?.1.count == 5)

        let (shared, sharedDirectory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: sharedDirectory) }
        _ = try await shared.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 1))
        let server = try DatabasePool(path: sharedDirectory.appendingPathComponent("m.sqlite").path)
        #expect(try await server.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM comments") } == 0)
        let sharedSummary = try await importFile(shared, try movedBlogExport(in: sharedDirectory), source: .disqus)
        #expect(sharedSummary.comments == 6)
        #expect(walBytes(sharedDirectory) > 0)
        #expect(try await server.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM comments") } == 6)
        #expect(try journalMode(sharedDirectory) == "wal")

        // It did not wait to find out (the store's busy timeout is 10 s), shown without a clock:
        // with the other connection still open, leaving the WAL fails without ever consulting
        // the connection's busy handler …
        let consulted = Mutex(0)
        var counting = Configuration()
        counting.busyMode = .callback { _ in
            consulted.withLock { $0 += 1 }
            return false
        }
        let file = sharedDirectory.appendingPathComponent("m.sqlite").path
        #expect(try DatabaseQueue(path: file, configuration: counting).inDatabase { BulkJournal.leaveWAL($0) } == false)
        #expect(consulted.withLock { $0 } == 0, "leaving the WAL waited for the other connection")
        // … and the store's own busy timeout is back afterwards.
        let restored = try DatabaseQueue(path: file, configuration: SQLiteStore.configuration()).inDatabase { db in
            #expect(BulkJournal.leaveWAL(db) == false)
            return try Int.fetchOne(db, sql: "PRAGMA busy_timeout")
        }
        #expect(restored == 10_000)
        #expect(try journalMode(sharedDirectory) == "wal")
    }

    /// Cached threads are keyed by their version: an import must bump every thread it adds to,
    /// though it writes with the per-row triggers off.
    @Test func anImportMarksTheThreadsItChangedAsChanged() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await importFile(store, try movedBlogExport(in: directory), source: .disqus)
        let version = { try await store.writer.read { db in
            try Int64.fetchOne(db, sql: "SELECT version FROM threads WHERE uri = '/blog/tensorflow.html'")
        } }
        let before = try #require(try await version())
        let visibleBefore = try #require(try await store.visibleComments(siteID: "default", uri: "/blog/tensorflow.html")).1.count
        for _ in 0..<2 {
            // The second round adds nothing and may still bump: never less than before.
            _ = try await Importer(store: store).run(Importer.Options(siteID: "default", source: .disqus)) { _, handle in
                try handle(.thread(ImportedThread(key: "2", link: "http://www.example.org/blog/tensorflow.html")))
                try handle(.post(ImportedPost(key: "77", threadKey: "2", parentKey: "10", html: "<p>a late reply</p>",
                                              createdAt: 1_400_000_000_000)))
            }
        }
        #expect(try #require(try await version()) > before)
        let (_, comments) = try #require(try await store.visibleComments(siteID: "default", uri: "/blog/tensorflow.html"))
        #expect(comments.count == visibleBefore + 1)
        let reply = try #require(comments.first { $0.origin == "disqus:77" })
        #expect(reply.parentID == comments.first { $0.origin == "disqus:10" }?.id)
    }

    @Test func wordpressFixtures() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let a11y = try await importFile(store, Self.data.appendingPathComponent("wordpress/wpimporter-a11y-unit-test-data.xml"), source: .wordpress)
        #expect(a11y.comments == 25)
        #expect(a11y.pending == 1)
        #expect(a11y.replies == 9)
        #expect(a11y.skipped["pingback"] == 4)
        let slashes = try await importFile(store, Self.data.appendingPathComponent("wordpress/wpimporter-slashes.xml"), source: .wordpress)
        #expect(slashes.comments == 1)
        let stored = try #require(try await store.moderationQueue(siteID: "default", status: nil, limit: 100).first { $0.1.origin?.hasPrefix("wordpress:") == true && $0.1.body.contains("(ツ)") })
        #expect(stored.1.body == "\\o/ ¯\\_(ツ)_/¯")
        let isso = try await importFile(store, Self.data.appendingPathComponent("wordpress/isso-wordpress.xml"), source: .wordpress)
        #expect(isso.comments == 7)
        #expect(isso.replies == 3)
        #expect(isso.skipped["id repeated in the file"] == 1)
    }

    @Test func importedHTMLCannotRunScript() async throws {
        let (store, directory) = try freshStore()
        defer { try? FileManager.default.removeItem(at: directory) }
        let corpus = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.data.appendingPathComponent("xss/dev.json"))) as? [[String: Any]] ?? []
        var xml = #"<?xml version="1.0"?><disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">"#
        xml += #"<thread dsq:id="1"><id/><link>https://blog.example/xss/</link><title>x</title></thread>"#
        // XML 1.0 cannot carry most control characters at all, so no export holds them.
        let representable = corpus.filter { entry in
            (entry["payload"] as? String ?? "").unicodeScalars.allSatisfy { $0.value >= 0x20 || $0 == "\n" || $0 == "\t" || $0 == "\r" }
        }
        for (index, entry) in representable.enumerated() {
            let payload = (entry["payload"] as? String ?? "").replacingOccurrences(of: "]]>", with: "]]]]><![CDATA[>")
            xml += "<post dsq:id=\"\(index + 1)\"><message><![CDATA[\(payload)]]></message><createdAt>2014-01-01T00:00:\(String(format: "%02d", index % 60))Z</createdAt>"
            xml += "<isDeleted>false</isDeleted><isSpam>false</isSpam><author><name>a\(index)</name></author><thread dsq:id=\"1\"/></post>"
        }
        xml += "</disqus>"
        let url = directory.appendingPathComponent("xss.xml")
        try xml.write(to: url, atomically: true, encoding: .utf8)
        let summary = try await importFile(store, url, source: .disqus, skipInvalid: true)
        #expect(representable.count > 1100)
        #expect(summary.comments + summary.duplicatesDropped == representable.count)
        let html = try await store.writer.read { db in try String.fetchAll(db, sql: "SELECT html FROM comments") }
        let forbidden = ["<script", "<iframe", "<svg", "<math", "<object", "<embed", "<style", "<base", "<meta", "<form", "javascript:", " on", "style="]
        for fragment in html {
            let lower = fragment.lowercased()
            // Attributes only ever appear inside our own tags; text is escaped, so none of these can be markup.
            for needle in forbidden where needle != " on" && needle != "javascript:" && needle != "style=" {
                #expect(!lower.contains(needle), "\(fragment)")
            }
            for tag in lower.split(separator: "<").dropFirst() {
                let name = tag.prefix { $0.isLetter || $0 == "/" }
                #expect(["p", "/p", "br", "em", "/em", "strong", "/strong", "code", "/code", "pre", "/pre", "blockquote", "/blockquote",
                         "ul", "/ul", "ol", "/ol", "li", "/li", "a", "/a"].contains(String(name)), "\(fragment)")
                if name == "a" {
                    let attributes = tag.prefix { $0 != ">" }
                    #expect(!attributes.contains("javascript:") && !attributes.contains(" on") && !attributes.contains("style="), "\(fragment)")
                }
            }
        }
    }
}
