import Foundation
import Synchronization
import GRDB
import TestSupport
import Testing
@testable import Comments

/// An import into a PostgreSQL database that already holds comments while other nodes keep
/// writing to it: it must add exactly what the same import adds to a SQLite file, keep what
/// arrived meanwhile, and take nothing away.
@Suite struct ImportMergeTests {
    static let data = ImporterTests.data

    func postgres() async throws -> PostgresStore {
        try await PostgresStore(location: PostgresLocation(url: PostgresTestCluster.freshDatabase()), connectTimeout: PostgresTestCluster.patience)
    }

    /// Everything a reader or moderator could tell apart, with ids replaced by what they point at
    /// (the two stores hand out different ids to what arrives in a different order).
    func contents(_ store: any CommentStore) async throws -> [String] {
        try await store.withSQLiteSnapshot { sqlite in
            try await sqlite.writer.read { db in
                let comment = "(SELECT x.created_at || ' ' || x.body FROM comments x WHERE x.id = %@)"
                func about(_ column: String) -> String { comment.replacingOccurrences(of: "%@", with: column) }
                return try String.fetchAll(db, sql: """
                    SELECT 'site ' || id || ' ' || name || ' ' || moderation || ' ' || origins FROM sites
                    UNION ALL
                    SELECT 'thread ' || site_id || ' ' || uri || ' ' || COALESCE(title, '-') || ' ' || locked FROM threads
                    UNION ALL
                    SELECT 'comment ' || t.site_id || t.uri || ' | ' || c.status || ' | ' || COALESCE(c.author, '-') || ' | '
                        || COALESCE(c.email, '-') || ' | ' || COALESCE(c.website, '-') || ' | ' || c.created_at || ' | ' || c.body
                        || ' | ' || c.html || ' | ' || COALESCE(c.ip, '-') || ' | ' || c.likes || '/' || c.dislikes || ' | '
                        || COALESCE(c.origin, '-') || ' | reply to ' || COALESCE(\(about("c.parent_id")), '-')
                    FROM comments c JOIN threads t ON t.id = c.thread_id
                    UNION ALL
                    SELECT 'vote ' || voter || ' ' || value || ' on ' || \(about("comment_id")) FROM votes
                    UNION ALL
                    SELECT 'log ' || action || ' ' || actor || ' ' || COALESCE(reason, '-') || ' ' || at || ' on ' || COALESCE(\(about("comment_id")), '-')
                    FROM moderation_log
                    UNION ALL
                    SELECT 'block ' || kind || ' ' || value || ' ' || COALESCE(site_id, 'all') || ' ' || COALESCE(reason, '-') FROM blocklist
                    ORDER BY 1
                    """)
            }
        }
    }

    /// The lines only one side has, for a failure message.
    func difference(_ got: [String], _ expected: [String]) -> String {
        let only = got.filter { !expected.contains($0) }.map { "+ " + $0 } + expected.filter { !got.contains($0) }.map { "- " + $0 }
        return only.joined(separator: "\n")
    }

    /// The thread of `file` with the most comments, found by importing it into a scratch file.
    func busiestThread(of file: String, source: ImportFormat, in directory: URL) async throws -> String {
        let store = try SQLiteStore(path: directory.appendingPathComponent("scratch.sqlite").path)
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        _ = try await Importer(store: store).run(
            Importer.Options(siteID: "blog", source: source, skipInvalid: true), file: Self.data.appendingPathComponent(file))
        return try await store.writer.read { db in
            try String.fetchOne(db, sql: """
                SELECT t.uri FROM threads t JOIN comments c ON c.thread_id = t.id GROUP BY t.id ORDER BY COUNT(*) DESC, t.uri LIMIT 1
                """)!
        }
    }

    @Test(arguments: [("disqus/isso-disqus.xml", ImportFormat.disqus), ("wordpress/wpimporter-a11y-unit-test-data.xml", .wordpress),
                      ("wordpress/isso-wordpress.xml", .wordpress)])
    func anImportWhileOtherNodesPostAddsWhatItAddsToSQLite(file: String, source: ImportFormat) async throws {
        let directory = try StoreCopyTests().folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let busiest = try await busiestThread(of: file, source: source, in: directory)
        let options = Importer.Options(siteID: "blog", source: source, skipInvalid: true)
        let url = Self.data.appendingPathComponent(file)

        // SQLite, in order: what was there, what another node posted, the import.
        let reference = try SQLiteStore(path: directory.appendingPathComponent("reference.sqlite").path)
        try await reference.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        let stored = try await insert(reference, "already here")
        try await insert(reference, "a reply already here", parent: stored.id, at: 1500)
        try await insert(reference, "posted meanwhile", uri: busiest, at: 2000)
        let expected = try await Importer(store: reference, clock: ImportTime()).run(options, file: url)

        // PostgreSQL: the comment from another node arrives while the import runs on its copy,
        // and takes the id the copy gives the import's first comment.
        let store = try await postgres()
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        let here = try await insert(store, "already here")
        try await insert(store, "a reply already here", parent: here.id, at: 1500)
        let meanwhile = Mutex<(comment: Comment, threadVersion: Int64)?>(nil)
        let summary = try await store.importStaged(keep: { _ in true }) { copy in
            let posted = try await insert(store, "posted meanwhile", uri: busiest, at: 2000)
            let version = try await store.thread(siteID: "blog", uri: busiest)?.version
            meanwhile.withLock { $0 = (posted, version ?? -1) }
            return try await Importer(store: copy, clock: ImportTime()).run(options, file: url)
        }
        #expect(summary.comments == expected.comments && summary.replies == expected.replies)
        #expect(summary.comments > 0)
        let merged = try await contents(store), expectedContents = try await contents(reference)
        #expect(merged.count == expectedContents.count)
        #expect(difference(merged, expectedContents).isEmpty, "\(difference(merged, expectedContents))")
        // The comment from the other node kept its id, its thread and its place.
        let (posted, versionBefore) = try #require(meanwhile.withLock { $0 })
        // Its thread gained the import's comments: every node's cached copy is stale.
        #expect(try #require(try await store.thread(siteID: "blog", uri: busiest)).version > versionBefore)
        let thread = try #require(try await store.visibleComments(siteID: "blog", uri: busiest)).1
        #expect(thread.contains { $0.id == posted.id && $0.body == "posted meanwhile" })
        #expect(thread.count > 1)

        // Again: everything is there already, nothing is added.
        let before = try await contents(store)
        let again = try await store.importStaged(keep: { _ in true }) { copy in
            try await Importer(store: copy, clock: ImportTime()).run(options, file: url)
        }
        #expect(again.comments == 0)
        #expect(try await contents(store) == before)

        // A node posting afterwards gets a fresh id past everything merged.
        let after = try await insert(store, "after the import", uri: busiest, at: 3000)
        let highest = try await store.withSQLiteSnapshot { copy in
            try await copy.writer.read { db in try Int64.fetchOne(db, sql: "SELECT MAX(id) FROM comments") ?? 0 }
        }
        #expect(after.id == highest)
    }

    /// A Disqus export of `posts` posts over three threads: each replies to the post three
    /// before it (a chain across the merge's statements of 500), and every 97th to a post that
    /// comes 699 later.
    func generatedExport(posts: Int, in directory: URL) throws -> URL {
        var xml = #"<?xml version="1.0"?><disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">"#
        for thread in 0..<3 {
            xml += #"<thread dsq:id="t\#(thread)"><link>https://blog.example.org/post-\#(thread)/</link><title>Post \#(thread)</title></thread>"#
        }
        for post in 1...posts {
            let parent = post % 97 == 0 && post + 699 <= posts ? post + 699 : post > 3 ? post - 3 : nil
            xml += #"<post dsq:id="p\#(post)"><message><![CDATA[<p>Post number \#(post)</p>]]></message>"#
                + "<createdAt>2020-01-01T00:00:\(String(format: "%02d", post % 60))Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>"
                + "<author><name>Reader \(post % 7)</name></author><thread dsq:id=\"t\(post % 3)\"/>"
                + (parent.map { "<parent dsq:id=\"p\($0)\"/>" } ?? "") + "</post>"
        }
        let url = directory.appendingPathComponent("generated.xml")
        try Data((xml + "</disqus>").utf8).write(to: url)
        return url
    }

    @Test func aLargeImportHangsEveryReplyFromItsParentAcrossStatements() async throws {
        let directory = try StoreCopyTests().folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try generatedExport(posts: 1_600, in: directory)
        let options = Importer.Options(siteID: "blog", source: .disqus)
        let reference = try SQLiteStore(path: directory.appendingPathComponent("reference.sqlite").path)
        try await reference.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        try await insert(reference, "already here")
        let expected = try await Importer(store: reference, clock: ImportTime()).run(options, file: url)

        let store = try await postgres()
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        try await insert(store, "already here")
        let summary = try await store.importStaged(keep: { _ in true }) { copy in
            try await Importer(store: copy, clock: ImportTime()).run(options, file: url)
        }
        #expect(summary.comments == 1_600 && summary.replies == expected.replies && expected.replies == 1_597)
        let merged = try await contents(store), expectedContents = try await contents(reference)
        #expect(merged.count == expectedContents.count)
        #expect(difference(merged, expectedContents).isEmpty, "\(difference(merged, expectedContents))")
        #expect(merged.filter { $0.hasPrefix("comment ") && !$0.hasSuffix("reply to -") }.count == 1_597)

        // The reference file holds replies with smaller ids than their parents (met first in
        // the file); a move to PostgreSQL and back keeps every one of them.
        let older = try await reference.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments c JOIN comments p ON p.id = c.parent_id WHERE p.id > c.id") ?? 0
        }
        #expect(older == 9)
        let there = try await PostgresTestCluster.freshDatabase()
        _ = try await StoreCopy(from: directory.appendingPathComponent("reference.sqlite").path, to: there).run()
        let back = directory.appendingPathComponent("back.sqlite").path
        _ = try await StoreCopy(from: there, to: back).run()
        #expect(try await contents(SQLiteStore(path: back)) == expectedContents)
    }

    @Test func anImportIntoAnEmptyDatabaseWhoseFirstCommentArrivesMeanwhileMerges() async throws {
        let store = try await postgres()
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        let file = Self.data.appendingPathComponent("disqus/isso-disqus.xml")
        let summary = try await store.importStaged(keep: { _ in true }) { copy in
            try await insert(store, "the first comment, posted meanwhile")
            return try await Importer(store: copy).run(Importer.Options(siteID: "blog", source: .disqus), file: file)
        }
        let lines = try await contents(store).filter { $0.hasPrefix("comment ") }
        #expect(summary.comments > 0)
        #expect(lines.count == summary.comments + 1)
        #expect(lines.contains { $0.contains("the first comment, posted meanwhile") })
    }

    @Test func aMarginExportMergesWithItsVotesLogAndBlocklist() async throws {
        let directory = try StoreCopyTests().folder()
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = directory.appendingPathComponent("source.sqlite").path
        try await StoreCopyTests().populatedSQLite(at: source)
        let export = directory.appendingPathComponent("export.jsonl")
        let bytes = Collected()
        try await Exporter(store: try SQLiteStore(path: source)).export(format: .margin, siteID: nil) { bytes.append($0) }
        try Data(bytes.bytes).write(to: export)

        let reference = try SQLiteStore(path: directory.appendingPathComponent("reference.sqlite").path)
        try await reference.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        try await insert(reference, "already here")
        let expected = try await MarginImporter(store: reference).run(url: export, dryRun: false)

        let store = try await postgres()
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        try await insert(store, "already here")
        let summary = try await store.importStaged(keep: { _ in true }) { copy in
            try await MarginImporter(store: copy).run(url: export, dryRun: false)
        }
        #expect(summary.comments == expected.comments)
        let merged = try await contents(store), expectedContents = try await contents(reference)
        #expect(merged.count == expectedContents.count)
        #expect(difference(merged, expectedContents).isEmpty, "\(difference(merged, expectedContents))")
        #expect(merged.filter { $0.hasPrefix("vote ") }.count == 2)
        #expect(merged.contains { $0.hasPrefix("log reject cli rude") })
        #expect(merged.contains("block domain spam.example all spam") && merged.contains("block domain spam.example blog blog only"))
        #expect(merged.contains { $0.hasPrefix("site default ") })

        // A dry run writes nothing.
        let before = try await contents(store)
        let dry = try await store.importStaged(keep: { !$0.dryRun }) { copy in
            try await Importer(store: copy).run(
                Importer.Options(siteID: "blog", source: .disqus, dryRun: true), file: Self.data.appendingPathComponent("disqus/isso-disqus.xml"))
        }
        #expect(dry.comments > 0)
        #expect(try await contents(store) == before)
    }

    @Test func aChangeMadeOnAnotherNodeMeanwhileWinsOverTheImports() async throws {
        let store = try await postgres()
        defer { store.close() }
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        let untitled = try await store.insert(NewComment(siteID: "blog", uri: "/untitled/", title: nil, comment: draft("no title yet"))).1
        let moderated = try await insert(store, "moderated meanwhile", status: .pending)
        let moved = try await insert(store, "moved by the import", uri: "/old/?p=1")

        _ = try await store.importStaged(keep: { _ in true }) { copy in
            // Another node rejects a comment while the import runs ...
            _ = try await store.moderate(ModerationDecision(commentID: moderated.id, action: .reject, actor: .cli, at: 5000),
                                         features: [], mail: nil)
            // ... and the import (as importers do) fills a title, approves the held comment and
            // moves a comment to a new thread.
            try await copy.writer.write { db in
                try db.execute(sql: "UPDATE threads SET title = 'Found in the export' WHERE id = ?", arguments: [untitled.threadID])
                try db.execute(sql: "UPDATE comments SET status = 'approved' WHERE id = ?", arguments: [moderated.id])
                try db.execute(sql: "INSERT INTO threads (site_id, uri, created_at) VALUES ('blog', '/new/', 1)")
                try db.execute(sql: "UPDATE comments SET thread_id = ? WHERE id = ?", arguments: [db.lastInsertedRowID, moved.id])
            }
            return 0
        }
        let lines = try await contents(store)
        #expect(lines.contains("thread blog /untitled/ Found in the export 0"))
        #expect(lines.contains { $0.hasPrefix("comment blog/post/ | rejected | Ada | ada@example.org | https://ada.example.org | 1000 | moderated meanwhile") })
        #expect(lines.contains { $0.hasPrefix("comment blog/new/ | approved | Ada | ada@example.org | https://ada.example.org | 1000 | moved by the import") })
        // Every node sees the moved comment in its new thread at once.
        #expect(try await store.visibleComments(siteID: "blog", uri: "/new/")?.1.map(\.body) == ["moved by the import"])
    }
}

/// The time both imports of a comparison run at: posts without a date of their own take it.
struct ImportTime: MarginClock {
    func nowMillis() -> Int64 { 1_700_000_000_000 }
}
