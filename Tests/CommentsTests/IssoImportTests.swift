import Foundation
import TestSupport
import GRDB
import SafeHTML
import Testing
@testable import Comments

/// Isso databases: a real one that Isso itself built through its HTTP API (`scripts/isso-fixture`,
/// which installs Isso from PyPI), and small hand-made ones for the edges.
@Suite struct IssoImportTests {
    /// `<repo>/Tests/CommentsTests/IssoImportTests.swift` → `<repo>`.
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// What `scripts/isso-fixture` reports: Isso's own numbers for the database it built.
    struct Manifest: Decodable {
        struct Thread: Decodable {
            var id: Int
            var title: String
        }
        struct Modes: Decodable {
            var accepted: Int
            var pending: Int
            var deleted: Int
        }
        var issoVersion: String
        var threads: Int
        var threadURIs: [String: Thread]
        var comments: Int
        var modes: Modes
        var replies: Int
        var removed: Int
        var likes: Int
        var dislikes: Int
        /// Labels of the comments the script made (`first`, `unicode`, `tombstone`, …) → Isso ids.
        var ids: [String: Int]
        /// Reply id → the parent id Isso stored.
        var parents: [String: Int]
        /// Reply id → the parent id the request named (Isso flattens replies to replies).
        var requestedParents: [String: Int]
        var unicodeText: String
        var escapedAuthor: String

        enum CodingKeys: String, CodingKey {
            case issoVersion = "isso_version"
            case threads
            case threadURIs = "thread_uris"
            case comments, modes, replies, removed, likes, dislikes, ids, parents
            case requestedParents = "requested_parents"
            case unicodeText = "unicode_text"
            case escapedAuthor = "escaped_author"
        }
    }

    struct FixtureError: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs `scripts/isso-fixture` into `database` and decodes its manifest. Fails (never skips)
    /// when the script cannot run: it needs PyPI to install Isso the first time.
    static func buildFixture(_ database: URL, in directory: URL) async throws -> Manifest {
        let script = repo.appendingPathComponent("scripts/isso-fixture")
        let stdoutURL = directory.appendingPathComponent("manifest.json")
        let stderrURL = directory.appendingPathComponent("isso-fixture.log")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path, database.path]
        process.currentDirectoryURL = repo
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        try? stdout.close()
        try? stderr.close()
        // The first run on a machine installs Isso (a minute or so); later runs take seconds.
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(1200)
        while process.isRunning, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
        }
        if process.isRunning {
            process.terminate()
            for _ in 0..<200 where process.isRunning {
                try await Task.sleep(for: .milliseconds(100))
            }
            throw FixtureError(description: "scripts/isso-fixture did not finish in 20 minutes")
        }
        process.waitUntilExit()
        let log = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw FixtureError(description: """
                scripts/isso-fixture failed (exit \(process.terminationStatus)); it installs Isso from PyPI \
                into tmp/isso-venv and runs it on 127.0.0.1, so it needs PyPI (and apt for a C compiler \
                and Python headers) the first time:
                \(log)
                """)
        }
        let output = try Data(contentsOf: stdoutURL)
        do {
            return try JSONDecoder().decode(Manifest.self, from: output)
        } catch {
            throw FixtureError(description: "scripts/isso-fixture printed no manifest (\(error)):\n\(String(decoding: output, as: UTF8.self))\n\(log)")
        }
    }

    /// Every event a reader emits.
    static func events(_ path: String, skipInvalid: Bool = false) throws -> [ImportEvent] {
        var events: [ImportEvent] = []
        try IssoReader(path: path).read(skipInvalid: skipInvalid) { events.append($0) }
        return events
    }

    static func temporaryDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("isso-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    static func importIsso(_ store: SQLiteStore, _ path: String, skipInvalid: Bool = false) async throws -> ImportSummary {
        _ = try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 1))
        return try await Importer(store: store).run(
            Importer.Options(siteID: "default", source: .isso, skipInvalid: skipInvalid)
        ) { skipInvalid, handle in
            try IssoReader(path: path).read(skipInvalid: skipInvalid, handle)
        }
    }

    // MARK: - A database Isso built itself

    @Test func aDatabaseBuiltByIssoReadsAndImportsAsIssoCountsIt() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = directory.appendingPathComponent("isso.db")
        let manifest = try await Self.buildFixture(database, in: directory)
        #expect(manifest.issoVersion.hasPrefix("0.1"))
        let key = manifest.ids.mapValues { String($0) }
        let labels: Set = ["first", "unicode", "reply", "reply2", "gone", "second", "tombstone", "orphan", "orphan2",
                           "pending", "pending-reply"]
        try #require(Set(key.keys) == labels, "the manifest names the comments the script made")

        // The reader, against Isso's numbers.
        let events = try Self.events(database.path)
        let threads = events.compactMap { if case .thread(let thread) = $0 { thread } else { nil } }
        let posts = events.compactMap { if case .post(let post) = $0 { post } else { nil } }
        #expect(events.count == threads.count + posts.count)
        #expect(threads.count == manifest.threads)
        // Every thread comes before the first comment, and comments come in id order.
        #expect(events.prefix(threads.count).allSatisfy { if case .thread = $0 { true } else { false } })
        #expect(posts.map { Int($0.key) ?? 0 } == posts.map { Int($0.key) ?? 0 }.sorted())
        #expect(Set(threads.compactMap(\.link)) == Set(manifest.threadURIs.keys))
        for thread in threads {
            let expected = try #require(manifest.threadURIs[thread.link ?? ""])
            #expect(thread.key == String(expected.id))
            #expect(thread.title == expected.title)
            #expect((thread.createdAt ?? 0) > 1_500_000_000_000)
        }
        #expect(posts.count == manifest.comments)
        #expect(posts.filter { $0.status == .approved }.count == manifest.modes.accepted)
        #expect(posts.filter { $0.status == .pending }.count == manifest.modes.pending)
        #expect(posts.filter { $0.status == .deleted }.count == manifest.modes.deleted)
        #expect(posts.filter { $0.parentKey != nil }.count == manifest.replies)
        #expect(posts.reduce(0) { $0 + $1.likes } == manifest.likes)
        #expect(posts.reduce(0) { $0 + $1.dislikes } == manifest.dislikes)
        for post in posts {
            #expect(post.parentKey == manifest.parents[post.key].map(String.init), "parent of \(post.key)")
            #expect((post.createdAt ?? 0) > 1_500_000_000_000)
        }
        // Isso stores a reply to a reply against the top-level comment.
        #expect(manifest.requestedParents[key["reply2"]!] == manifest.ids["reply"])
        #expect(posts.first { $0.key == key["reply2"] }?.parentKey == key["first"])

        let unicode = try #require(posts.first { $0.key == key["unicode"] })
        #expect(unicode.html == Markdown.render(manifest.unicodeText))
        #expect(unicode.html.contains("<strong>굵게</strong> 안녕하세요, 세계! 🎉"))
        #expect(unicode.authorName == "김민수")
        #expect(unicode.status == .approved && unicode.likes == 1)
        let escaped = try #require(posts.first { $0.key == key["reply"] })
        #expect(manifest.escapedAuthor == "Tom &amp; Jerry")
        #expect(escaped.authorName == "Tom & Jerry")
        let first = try #require(posts.first { $0.key == key["first"] })
        #expect(first.authorURL == "http://alice.example.org" && first.likes == 2)
        #expect(first.ip == "198.51.100.0")
        let tombstone = try #require(posts.first { $0.key == key["tombstone"] })
        #expect(tombstone.status == .deleted && tombstone.html.isEmpty && tombstone.authorName == nil)
        #expect(posts.contains { $0.parentKey == tombstone.key })
        #expect(!posts.contains { $0.key == key["gone"] })
        #expect(posts.first { $0.key == key["pending"] }?.status == .pending)
        #expect(posts.first { $0.key == key["pending-reply"] }?.parentKey == key["second"])

        // The import, against the same numbers.
        let store = try SQLiteStore(path: directory.appendingPathComponent("margin.sqlite").path)
        let summary = try await Self.importIsso(store, database.path)
        #expect(summary.threads == manifest.threads)
        #expect(summary.comments == manifest.comments)
        #expect(summary.replies == manifest.replies)
        #expect(summary.tombstones == manifest.modes.deleted)
        #expect(summary.pending == manifest.modes.pending)
        #expect(summary.spam == 0 && summary.duplicatesDropped == 0 && summary.skipped.isEmpty)
        #expect(try await store.commentCount(siteID: "default") == manifest.comments)
        #expect(try await store.moderationQueue(siteID: "default", status: .pending, limit: 100).count == manifest.modes.pending)

        var stored: [Comment] = []
        for (uri, expected) in manifest.threadURIs {
            let path = try #require(ThreadURI.normalize(uri))
            let thread = try #require(try await store.thread(siteID: "default", uri: path), "thread \(uri)")
            #expect(thread.title == expected.title)
            stored += try await store.moderationQueue(siteID: "default", status: nil, limit: 100)
                .filter { $0.0.id == thread.id }.map { $0.1 }
        }
        #expect(stored.count == manifest.comments)
        let byOrigin = Dictionary(uniqueKeysWithValues: stored.map { ($0.origin ?? "", $0) })
        for (reply, parent) in manifest.parents {
            let child = try #require(byOrigin["isso:\(reply)"])
            #expect(child.parentID == byOrigin["isso:\(parent)"]?.id, "parent of isso:\(reply)")
        }
        let storedUnicode = try #require(byOrigin["isso:\(key["unicode"]!)"])
        #expect(storedUnicode.html.contains("안녕하세요, 세계! 🎉"))
        #expect(storedUnicode.body.contains("굵게 안녕하세요"))
        #expect(byOrigin["isso:\(key["reply"]!)"]?.author == "Tom & Jerry")
        let storedTombstone = try #require(byOrigin["isso:\(key["tombstone"]!)"])
        #expect(storedTombstone.status == .deleted && storedTombstone.body.isEmpty && storedTombstone.author == nil)
        #expect(stored.filter { $0.status == .deleted }.count == manifest.modes.deleted)
        #expect(stored.reduce(0) { $0 + $1.likes } == manifest.likes)

        // Isso's first thread as a reader sees it here: the approved comments, no pending one.
        let firstPath = try #require(ThreadURI.normalize("/blog/hello-world/"))
        let visible = try #require(try await store.visibleComments(siteID: "default", uri: firstPath)).1
        #expect(!visible.contains { $0.status == .pending })

        // Running it again adds nothing.
        let again = try await Self.importIsso(store, database.path)
        #expect(again.comments == 0 && again.threads == 0)
        #expect(again.skipped["already imported"] == manifest.comments)
        #expect(try await store.commentCount(siteID: "default") == manifest.comments)
    }

    // MARK: - Hand-made databases

    /// Isso's own DDL (0.13–0.14, schema version 5).
    static let issoSchema = """
        CREATE TABLE threads (id INTEGER PRIMARY KEY, uri VARCHAR(256) UNIQUE, title VARCHAR(256));
        CREATE TABLE comments (
            tid REFERENCES threads(id), id INTEGER PRIMARY KEY, parent INTEGER, created FLOAT NOT NULL,
            modified FLOAT, mode INTEGER, remote_addr VARCHAR, text VARCHAR NOT NULL, author VARCHAR,
            email VARCHAR, website VARCHAR, likes INTEGER DEFAULT 0, dislikes INTEGER DEFAULT 0,
            voters BLOB NOT NULL, notification INTEGER DEFAULT 0);
        CREATE TABLE preferences (key VARCHAR PRIMARY KEY, value VARCHAR);
        PRAGMA user_version = 5;
        """

    /// A small Isso database: a pending reply, a deleted comment kept for its reply, a parent of
    /// 0, an integer `created`, escaped author fields, and `extra` rows appended.
    static func handMade(at path: String, extra: String = "") throws {
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in
            try db.execute(sql: issoSchema)
            try db.execute(sql: """
                INSERT INTO threads (id, uri, title) VALUES (1, '/a/', 'Page A'), (2, '/b/c/', NULL);
                INSERT INTO comments (tid, id, parent, created, mode, remote_addr, text, author, email, website, likes, dislikes, voters)
                VALUES
                  (1, 1, NULL, 1700000000.1234, 1, '192.0.2.0', 'Hello *there*', 'A &amp; B &lt;3', 'a@example.org',
                   'http://x.example/?a=1&amp;b=2', 3, 1, x''),
                  (1, 2, 1, 1700000060.5, 2, '192.0.2.0', 'pending reply', 'Pat', NULL, NULL, 0, 0, x''),
                  (2, 3, NULL, 1700000100, 4, '192.0.2.0', '', NULL, 'gone@example.org', NULL, 0, 0, x''),
                  (2, 4, 3, 1700000200.0, 1, '2001:db8::', 'reply to a deleted comment', 'Sam', NULL, NULL, 0, 0, x''),
                  (2, 5, 0, 1700000300, 1, NULL, 'parent zero is top-level', NULL, NULL, NULL, NULL, NULL, x'');
                """)
            if !extra.isEmpty { try db.execute(sql: extra) }
        }
        try queue.close()
    }

    @Test func modesParentsAndFieldsOfAHandMadeDatabase() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("isso.db").path
        try Self.handMade(at: path)
        let events = try Self.events(path)
        #expect(events == [
            .thread(ImportedThread(key: "1", link: "/a/", title: "Page A", createdAt: 1_700_000_000_123)),
            .thread(ImportedThread(key: "2", link: "/b/c/", title: nil, createdAt: 1_700_000_100_000)),
            .post(ImportedPost(key: "1", threadKey: "1", parentKey: nil, authorName: "A & B <3", authorEmail: "a@example.org",
                               authorURL: "http://x.example/?a=1&b=2", ip: "192.0.2.0",
                               html: Markdown.render("Hello *there*"), createdAt: 1_700_000_000_123, status: .approved,
                               likes: 3, dislikes: 1)),
            .post(ImportedPost(key: "2", threadKey: "1", parentKey: "1", authorName: "Pat", ip: "192.0.2.0",
                               html: Markdown.render("pending reply"), createdAt: 1_700_000_060_500, status: .pending)),
            .post(ImportedPost(key: "3", threadKey: "2", authorEmail: "gone@example.org", ip: "192.0.2.0", html: "",
                               createdAt: 1_700_000_100_000, status: .deleted)),
            .post(ImportedPost(key: "4", threadKey: "2", parentKey: "3", authorName: "Sam", ip: "2001:db8::",
                               html: Markdown.render("reply to a deleted comment"), createdAt: 1_700_000_200_000)),
            .post(ImportedPost(key: "5", threadKey: "2", html: Markdown.render("parent zero is top-level"),
                               createdAt: 1_700_000_300_000)),
        ])
        #expect(Markdown.render("Hello *there*") == "<p>Hello <em>there</em></p>")
    }

    @Test func aHandMadeDatabaseImportsWithItsTombstoneAndPendingReply() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("isso.db").path
        try Self.handMade(at: path)
        let store = try SQLiteStore(path: directory.appendingPathComponent("margin.sqlite").path)
        let summary = try await Self.importIsso(store, path)
        #expect(summary.threads == 2)
        #expect(summary.comments == 5)
        #expect(summary.replies == 2)
        #expect(summary.tombstones == 1)
        #expect(summary.pending == 1)
        let (thread, comments) = try #require(try await store.visibleComments(siteID: "default", uri: "/b/c/"))
        #expect(thread.createdAt == 1_700_000_100_000)
        let tombstone = try #require(comments.first { $0.origin == "isso:3" })
        #expect(tombstone.status == .deleted && tombstone.email == nil && tombstone.body.isEmpty)
        #expect(comments.first { $0.origin == "isso:4" }?.parentID == tombstone.id)
        #expect(comments.first { $0.origin == "isso:5" }?.parentID == nil)
        let first = try #require(try await store.visibleComments(siteID: "default", uri: "/a/")).1
        #expect(first.map(\.origin) == ["isso:1"])
        #expect(first.first?.author == "A & B <3" && first.first?.html == "<p>Hello <em>there</em></p>")
    }

    @Test func anInvalidCommentThrowsOrIsSkipped() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("isso.db").path
        try Self.handMade(at: path, extra: """
            INSERT INTO comments (tid, id, parent, created, mode, text, voters) VALUES (1, 6, NULL, 1700000400, 3, 'odd mode', x'');
            INSERT INTO comments (tid, id, parent, created, mode, text, voters) VALUES (NULL, 7, NULL, 'yesterday', 1, 'no thread', x'');
            """)
        let error = try #require(throws: ImportError.self) { try Self.events(path) }
        #expect(error.line == 0 && error.column == 0)
        #expect(error.message == "comment 6: unknown mode 3")
        let events = try Self.events(path, skipInvalid: true)
        #expect(events.count == 2 + 5 + 2)
        #expect(events.suffix(2) == [
            .skipped(reason: "comment 6: unknown mode 3", line: 0),
            .skipped(reason: "comment 7: no thread id (tid); created is not a time: \"yesterday\"", line: 0),
        ])
    }

    @Test func aFileThatIsNotAnIssoDatabaseIsAnImportError() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        // Some other SQLite database.
        let other = directory.appendingPathComponent("other.db").path
        let queue = try DatabaseQueue(path: other)
        try await queue.write { db in
            try db.execute(sql: "CREATE TABLE threads (id INTEGER PRIMARY KEY, uri TEXT); CREATE TABLE notes (body TEXT)")
        }
        try queue.close()
        let wrongSchema = try #require(throws: ImportError.self) { try Self.events(other) }
        #expect(wrongSchema.line == 0 && wrongSchema.column == 0)
        #expect(wrongSchema.message == "not an Isso database: \(other): table \"threads\" has no column \"title\"; no table \"comments\"")

        // Margin's own database has threads and comments tables, of another shape.
        let margin = directory.appendingPathComponent("margin.sqlite").path
        _ = try SQLiteStore(path: margin)
        let marginError = try #require(throws: ImportError.self) { try Self.events(margin) }
        #expect(marginError.message.hasPrefix("not an Isso database: \(margin): table \"comments\" has no column \"tid\""))

        // Not SQLite at all, empty, missing, a folder.
        let text = directory.appendingPathComponent("export.xml")
        var notDatabase = Data("<disqus></disqus>\n".utf8)
        notDatabase.append(Data(repeating: 0x41, count: 4096))
        try notDatabase.write(to: text)
        let notSQLite = try #require(throws: ImportError.self) { try Self.events(text.path) }
        #expect(notSQLite.message == "not an Isso database: \(text.path) is not an SQLite database")
        let empty = directory.appendingPathComponent("empty.db")
        try Data().write(to: empty)
        let emptyError = try #require(throws: ImportError.self) { try Self.events(empty.path) }
        #expect(emptyError.message.hasPrefix("not an Isso database: \(empty.path): no table \"threads\""))
        #expect(throws: ImportError(message: "cannot read \(directory.path)/missing.db", line: 0, column: 0)) {
            try Self.events(directory.appendingPathComponent("missing.db").path)
        }
        #expect(throws: ImportError(message: "cannot read \(directory.path)", line: 0, column: 0)) {
            try Self.events(directory.path)
        }

        // Through the importer, the store is left as it was.
        let store = try SQLiteStore(path: directory.appendingPathComponent("target.sqlite").path)
        await #expect(throws: ImportError.self) { try await Self.importIsso(store, other) }
        #expect(try await store.commentCount(siteID: "default") == 0)
    }

    @Test func errorsOfTheHandlerPassThroughUnchanged() throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("isso.db").path
        try Self.handMade(at: path)
        struct Stop: Error, Equatable {}
        var seen = 0
        #expect(throws: Stop()) {
            try IssoReader(path: path).read(skipInvalid: false) { event in
                seen += 1
                if case .post = event { throw Stop() }
            }
        }
        #expect(seen == 3)
        // A database error raised by the handler (the store being written) is not renamed.
        #expect(throws: DatabaseError.self) {
            try IssoReader(path: path).read(skipInvalid: false) { _ in throw DatabaseError(resultCode: .SQLITE_BUSY) }
        }
    }

    @Test func issoEscapingIsUndoneOnce() {
        #expect(IssoReader.unescape("Tom &amp; Jerry") == "Tom & Jerry")
        #expect(IssoReader.unescape("&lt;b&gt; &quot;q&quot; it&#x27;s it&#39;s") == "<b> \"q\" it's it's")
        #expect(IssoReader.unescape("&amp;lt;") == "&lt;")
        #expect(IssoReader.unescape("a & b &copy; &") == "a & b &copy; &")
        #expect(IssoReader.unescape("김 &amp; 🎉") == "김 & 🎉")
    }

    /// Leaving Margin: Isso's own Disqus importer (`isso import -t disqus`) reads our Disqus
    /// export and finds every comment a reader could see. (Isso skips every thread whose `<id>`
    /// has text unless given `--empty-id`, Disqus's own exports included, so the flag is needed.)
    @Test func issosImporterReadsOurDisqusExport() async throws {
        let directory = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try await Self.buildFixture(directory.appendingPathComponent("fixture.db"), in: directory)
        let store = try SQLiteStore(path: directory.appendingPathComponent("margin.sqlite").path)
        _ = try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: 1))
        let data = Self.repo.deletingLastPathComponent().appendingPathComponent("shared/data")
        for name in ["wpimporter-a11y-unit-test-data.xml", "isso-wordpress.xml"] {
            let url = data.appendingPathComponent("wordpress/\(name)")
            _ = try await Importer(store: store).run(Importer.Options(siteID: "default", source: .wordpress)) { skipInvalid, handle in
                try WXRReader(url: url).read(skipInvalid: skipInvalid, handle)
            }
        }
        let export = directory.appendingPathComponent("export.xml")
        _ = FileManager.default.createFile(atPath: export.path, contents: nil)
        let handle = try FileHandle(forWritingTo: export)
        try await Exporter(store: store).export(format: .disqus, siteID: nil) { try handle.write(contentsOf: Data($0)) }
        try handle.close()

        let issoDatabase = directory.appendingPathComponent("isso.db")
        let ini = directory.appendingPathComponent("isso.ini")
        try "[general]\ndbpath = \(issoDatabase.path)\nhost = http://127.0.0.1:1/\n".write(to: ini, atomically: true, encoding: .utf8)
        let process = ChildProcess()
        process.executableURL = Self.repo.appendingPathComponent("tmp/isso-venv/bin/isso")
        process.arguments = ["-c", ini.path, "import", "-t", "disqus", "--empty-id", export.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        for _ in 0..<1200 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)

        let ours = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments WHERE status IN ('approved', 'deleted')") ?? 0
        }
        let theirs = try await DatabaseQueue(path: issoDatabase.path).read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM comments") ?? 0 }
        #expect(ours == 31)
        #expect(theirs == ours)
    }
}

/// An uploaded Isso database is opened defensively: schema that runs code or computes values
/// when read is refused by name before anything is read.
@Suite struct IssoDefensiveOpenTests {
    /// Isso's schema with `website` replaced by a 900 MB generated value.
    static let hostileSchema = IssoImportTests.issoSchema.replacingOccurrences(
        of: "website VARCHAR,", with: "website BLOB GENERATED ALWAYS AS (zeroblob(900000000)) VIRTUAL,")

    /// The process's peak resident memory, in bytes.
    static func peakMemory() -> Int {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    /// Run by `TimingTests` below, in the quiet pass.
    func aGeneratedColumnIsRefusedQuicklyWithFlatMemory() async throws {
        // Given an Isso database whose comments' website is a 900 MB generated blob
        let directory = try IssoImportTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("comments.db").path
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: Self.hostileSchema)
            try db.execute(sql: "INSERT INTO threads (id, uri) VALUES (1, '/a/')")
            for id in 1...3 {
                try db.execute(sql: "INSERT INTO comments (tid, id, created, mode, text, voters) VALUES (1, ?, 1700000000, 1, 'hi', x'')", arguments: [id])
            }
        }
        try queue.close()
        let store = try SQLiteStore(path: directory.appendingPathComponent("margin.sqlite").path)
        // When it is imported
        let before = Self.peakMemory()
        let clock = ContinuousClock(), started = clock.now
        let error = await #expect(throws: ImportError.self) { _ = try await IssoImportTests.importIsso(store, path) }
        // Then it is refused by name, at once, without the blob ever being made
        #expect(error?.message.contains(#"generated column "comments"."website""#) == true, "\(String(describing: error))")
        #expect(clock.now - started < .seconds(10), "took \(clock.now - started)")
        #expect(Self.peakMemory() - before < 100 << 20, "peak memory grew \((Self.peakMemory() - before) >> 20) MiB")
        #expect(try await store.commentCount(siteID: "default") == 0)
    }

    @Test func viewsTriggersAndVirtualTablesAreRefusedByName() throws {
        let directory = try IssoImportTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases = [
            ("CREATE VIEW latest AS SELECT * FROM comments", #"view "latest""#),
            ("CREATE TRIGGER stamp AFTER INSERT ON comments BEGIN UPDATE comments SET likes = 1; END", #"trigger "stamp""#),
            ("CREATE VIRTUAL TABLE search USING fts5(body)", #"virtual table "search""#),
            // A virtual table whose schema text was rewritten by hand to slip past a pattern.
            ("""
             CREATE VIRTUAL TABLE hidden USING fts5(body);
             PRAGMA writable_schema = ON;
             UPDATE sqlite_schema SET sql = 'create /**/virtual table hidden using fts5(body)' WHERE name = 'hidden';
             PRAGMA writable_schema = OFF;
             """, #"table "hidden" with a hand-written definition"#),
        ]
        for (index, (sql, name)) in cases.enumerated() {
            // Given an Isso database that also holds a view, a trigger or a virtual table
            let path = directory.appendingPathComponent("comments-\(index).db").path
            try IssoImportTests.handMade(at: path, extra: sql)
            // When it is read, then it is refused, naming the object
            #expect {
                _ = try IssoImportTests.events(path)
            } throws: { error in
                (error as? ImportError)?.message.contains(name) == true
            }
        }
    }
}

extension IssoDefensiveOpenTests {
    /// The checks of time and peak memory, which `scripts/test` runs in its quiet pass: beside the
    /// parallel suites their clocks and the process's peak memory measure the other tests.
    @Suite struct TimingTests {
        @Test func aGeneratedColumnIsRefusedQuicklyWithFlatMemory() async throws {
            try await IssoDefensiveOpenTests().aGeneratedColumnIsRefusedQuicklyWithFlatMemory()
        }
    }
}
