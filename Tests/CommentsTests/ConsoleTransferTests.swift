import Foundation
import TestSupport
import Testing
@testable import Comments

/// What the console added to the database travels where it should: the log's moderator and
/// status before through Margin exports (older exports without them still import), admins and
/// sessions never through exports, and the search index through imports and moves.
@Suite struct ConsoleTransferTests {
    func export(_ store: SQLiteStore) async throws -> String {
        let bytes = Collected()
        try await Exporter(store: store).export(format: .margin, siteID: nil) { bytes.append($0) }
        return String(decoding: bytes.bytes, as: UTF8.self)
    }

    func found(_ store: any CommentStore, _ text: String) async throws -> [String] {
        try await store.comments(matching: CommentQuery(text: text)).map(\.1.body)
    }

    @Test func theLogsModeratorAndStatusBeforeTravelButAdminsAndSessionsDoNot() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try SQLiteStore(path: scratch.url.appendingPathComponent("source.sqlite").path)
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        let held = try await insert(store, "searchable wording", status: .pending)
        _ = try await store.moderate(
            ModerationDecision(commentID: held.id, action: .approve, actor: .adminAPI, moderator: "alice@example.org", at: 5000),
            features: nil, mail: nil)
        #expect(try await store.addAdminUser(email: "root@example.org", at: 1))
        let (_, cookie) = try await store.createConsoleSession(
            email: "root@example.org", userAgent: nil, random: SystemRandom(), at: 1)

        let text = try await export(store)
        #expect(text.contains(#""actor":"admin-api","moderator":"alice@example.org","reason":null,"from_status":"pending","at":5000"#))
        #expect(!text.contains("root@example.org") && !text.contains(String(cookie.prefix(12))))

        // Into a new file: the same log, the same export, and the text is searchable there.
        let file = scratch.url.appendingPathComponent("export.jsonl")
        try Data(text.utf8).write(to: file)
        let copy = try SQLiteStore(path: scratch.url.appendingPathComponent("copy.sqlite").path)
        _ = try await MarginImporter(store: copy).run(url: file, dryRun: false)
        #expect(try await copy.moderationLog(commentID: held.id, limit: 5) == store.moderationLog(commentID: held.id, limit: 5))
        #expect(try await export(copy) == text)
        #expect(try await found(copy, "search word") == ["searchable wording"])
        #expect(try await copy.adminUsers().isEmpty)

        // An export written before the console has no such fields: it imports, without them.
        let old = text.split(separator: "\n").map { line in
            line.replacingOccurrences(of: #","moderator":("[^"]*"|null)"#, with: "", options: .regularExpression)
                .replacingOccurrences(of: #","from_status":("[^"]*"|null)"#, with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
        #expect(!old.contains("from_status"))
        let oldFile = scratch.url.appendingPathComponent("old.jsonl")
        try Data(old.utf8).write(to: oldFile)
        let fromOld = try SQLiteStore(path: scratch.url.appendingPathComponent("old.sqlite").path)
        _ = try await MarginImporter(store: fromOld).run(url: oldFile, dryRun: false)
        let entry = try #require(try await fromOld.moderationLog(commentID: held.id, limit: 5).first { $0.action == "approve" })
        #expect(entry.moderator == nil && entry.fromStatus == nil && entry.actor == .adminAPI)

        // A log line naming a status that does not exist is refused by line.
        let bad = scratch.url.appendingPathComponent("bad.jsonl")
        try Data(text.replacingOccurrences(of: #""from_status":"pending""#, with: #""from_status":"bogus""#).utf8).write(to: bad)
        await #expect(throws: ImportError.self) {
            try await MarginImporter(store: try SQLiteStore(path: scratch.url.appendingPathComponent("bad.sqlite").path)).run(url: bad, dryRun: false)
        }
    }

    @Test func aMarginImportReplacesOnlyAnUntouchedDefaultSite() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let source = try SQLiteStore(path: scratch.url.appendingPathComponent("source.sqlite").path)
        var site = try #require(try await source.site(id: "default"))
        site.moderation = .all
        site.origins = ["https://blog.example.org"]
        try await source.updateSite(site)
        let file = scratch.url.appendingPathComponent("export.jsonl")
        try Data(try await export(source).utf8).write(to: file)

        // A new database's default gives way to the file's…
        let fresh = try SQLiteStore(path: scratch.url.appendingPathComponent("fresh.sqlite").path)
        _ = try await MarginImporter(store: fresh).run(url: file, dryRun: false)
        #expect(try await fresh.site(id: "default") == site)
        // … one its owner changed does not.
        let changed = try SQLiteStore(path: scratch.url.appendingPathComponent("changed.sqlite").path)
        var own = try #require(try await changed.site(id: "default"))
        own.name = "Mine"
        try await changed.updateSite(own)
        _ = try await MarginImporter(store: changed).run(url: file, dryRun: false)
        #expect(try await changed.site(id: "default") == own)
    }

    @Test func searchWorksAfterABulkImportAndAMove() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let path = scratch.url.appendingPathComponent("bulk.sqlite").path
        let store = try SQLiteStore(path: path)
        let export = scratch.url.appendingPathComponent("export.xml")
        try Data("""
            <?xml version="1.0" encoding="utf-8"?>
            <disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
              <thread dsq:id="1"><link>http://localhost/post/</link><title>Post</title></thread>
              <post dsq:id="10"><message><![CDATA[<p>Marvellous penguins everywhere</p>]]></message>
                <createdAt>2020-01-01T00:00:00Z</createdAt><author><name>Pat Quill</name></author><thread dsq:id="1"/></post>
            </disqus>
            """.utf8).write(to: export)
        let summary = try await Importer(store: store).run(Importer.Options(siteID: "default", source: .disqus), file: export)
        #expect(summary.comments == 1)
        #expect(try await found(store, "penguin") == ["Marvellous penguins everywhere"])
        #expect(try await found(store, "quill").count == 1)

        let moved = scratch.url.appendingPathComponent("moved.sqlite").path
        _ = try await StoreCopy(from: path, to: moved).run()
        let target = try SQLiteStore(path: moved)
        #expect(try await found(target, "marvel pen") == ["Marvellous penguins everywhere"])
        // The index follows later changes too (its triggers came back with the move).
        let comment = try #require(try await target.comments(matching: CommentQuery(text: "penguins")).first?.1)
        _ = try await target.moderatorEdit(commentID: comment.id, body: "Only walruses", html: "<p>Only walruses</p>", moderator: "m", at: 1)
        #expect(try await found(target, "penguins").isEmpty)
        #expect(try await found(target, "walrus") == ["Only walruses"])
    }

    /// A new PostgreSQL database holds only its untouched default site: an import moves in whole,
    /// the file's own default replacing it, and the text is searchable there.
    @Test func anImportIntoANewPostgresDatabaseMovesInWhole() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let source = try SQLiteStore(path: scratch.url.appendingPathComponent("source.sqlite").path)
        var site = try #require(try await source.site(id: "default"))
        site.moderation = .auto
        try await source.updateSite(site)
        let comment = try await source.insert(NewComment(siteID: "default", uri: "/p/", title: "P", comment: draft("Imported aardvarks"))).1
        _ = try await source.moderate(ModerationDecision(commentID: comment.id, action: .spam, actor: .adminAPI, moderator: "m@example.org", at: 2000),
                                      features: nil, mail: nil)
        let file = scratch.url.appendingPathComponent("export.jsonl")
        let text = try await export(source)
        try Data(text.utf8).write(to: file)

        let store = try await PostgresStore(location: PostgresLocation(url: try await PostgresTestCluster.freshDatabase()),
                                            connectTimeout: PostgresTestCluster.patience)
        defer { store.close() }
        #expect(try await store.site(id: "default")?.isUntouchedDefault == true)
        let summary = try await Transfer(store: store).importFile(ImportRequest(format: .margin, file: file))
        #expect(summary.comments == 1)
        #expect(try await store.site(id: "default") == site)
        #expect(try await found(store, "aardvark") == ["Imported aardvarks"])
        #expect(try await store.moderationLog(commentID: comment.id, limit: 1).first?.moderator == "m@example.org")
        let back = Collected()
        try await Transfer(store: store).export(format: .margin, siteID: nil) { back.append($0) }
        #expect(String(decoding: back.bytes, as: UTF8.self) == text)
    }

    @Test func blocklistEntriesTravelWithTheirSite() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let store = try SQLiteStore(path: scratch.url.appendingPathComponent("source.sqlite").path)
        try await store.addSite(Site(id: "blog", name: "Blog", origins: [], createdAt: 1))
        try await store.addBlock(BlockEntry(kind: .word, value: "casino", reason: "everywhere", createdAt: 2))
        try await store.addBlock(BlockEntry(kind: .word, value: "poker", createdAt: 3, siteID: "blog"))
        let text = try await export(store)
        #expect(text.contains(#"{"type":"block","kind":"word","value":"casino","site":null,"reason":"everywhere","created_at":2}"#))
        #expect(text.contains(#"{"type":"block","kind":"word","value":"poker","site":"blog","reason":null,"created_at":3}"#))
        // A site's export carries its own entries, not those of every site.
        let one = Collected()
        try await Exporter(store: store).export(format: .margin, siteID: "blog") { one.append($0) }
        let siteText = String(decoding: one.bytes, as: UTF8.self)
        #expect(siteText.contains(#""value":"poker""#) && !siteText.contains(#""value":"casino""#))

        let file = scratch.url.appendingPathComponent("export.jsonl")
        try Data(text.utf8).write(to: file)
        let copy = try SQLiteStore(path: scratch.url.appendingPathComponent("copy.sqlite").path)
        _ = try await MarginImporter(store: copy).run(url: file, dryRun: false)
        #expect(try await copy.blocklist() == store.blocklist())
        #expect(try await export(copy) == text)
        _ = try await MarginImporter(store: copy).run(url: file, dryRun: false)
        #expect(try await copy.blocklist().count == 2, "importing again adds nothing")

        // An export written before entries had a site: its entries are for every site.
        let old = text.replacingOccurrences(of: #","site":("[^"]*"|null),"reason""#, with: #","reason""#, options: .regularExpression)
        #expect(!old.contains(#""type":"block","kind":"word","value":"poker","site""#))
        let oldFile = scratch.url.appendingPathComponent("old.jsonl")
        try Data(old.utf8).write(to: oldFile)
        let fromOld = try SQLiteStore(path: scratch.url.appendingPathComponent("old.sqlite").path)
        _ = try await MarginImporter(store: fromOld).run(url: oldFile, dryRun: false)
        #expect(try await fromOld.blocklist().map { "\($0.value) \($0.siteID ?? "all")" } == ["casino all", "poker all"])

        // An entry of a site neither in the file nor in the database is refused by line.
        let stray = scratch.url.appendingPathComponent("stray.jsonl")
        try Data(text.replacingOccurrences(of: #""site":"blog","reason":null"#, with: #""site":"ghost","reason":null"#).utf8).write(to: stray)
        await #expect(throws: ImportError.self) {
            try await MarginImporter(store: try SQLiteStore(path: scratch.url.appendingPathComponent("stray.sqlite").path)).run(url: stray, dryRun: false)
        }
    }
}
