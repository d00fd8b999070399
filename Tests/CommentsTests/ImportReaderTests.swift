import Foundation
import Testing
@testable import Comments

// Expected numbers were computed independently of the readers: with Python's xml.etree over the
// fixtures (counts, authors, parents, dates via calendar.timegm) and by reading the files.

/// `../shared/data/<folder>/<name>` next to the repository root (three levels above this file).
private func importFixture(_ folder: String, _ name: String) -> URL {
    URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/\(folder)/\(name)").standardized
}

/// Everything one read reported, split by kind.
private struct ImportCollected {
    var events: [ImportEvent] = []
    var threads: [ImportedThread] = []
    var posts: [ImportedPost] = []
    var skipped: [(reason: String, line: Int)] = []

    func post(_ key: String) -> ImportedPost? { posts.first { $0.key == key } }
    func thread(_ key: String) -> ImportedThread? { threads.first { $0.key == key } }
    func count(_ status: ImportedStatus) -> Int { posts.filter { $0.status == status }.count }
    var replies: Int { posts.filter { $0.parentKey != nil }.count }
    func skipped(_ reason: String) -> Int { skipped.filter { $0.reason == reason }.count }
}

private func collectImport(_ read: ((ImportEvent) throws -> Void) throws -> Void) throws -> ImportCollected {
    var result = ImportCollected()
    try read { event in
        result.events.append(event)
        switch event {
        case .thread(let thread): result.threads.append(thread)
        case .post(let post): result.posts.append(post)
        case .skipped(let reason, let line): result.skipped.append((reason, line))
        }
    }
    return result
}

private func readDisqus(_ url: URL, skipInvalid: Bool = false) throws -> ImportCollected {
    try collectImport { try DisqusReader(url: url).read(skipInvalid: skipInvalid, $0) }
}

private func readWXR(_ url: URL, skipInvalid: Bool = false) throws -> ImportCollected {
    try collectImport { try WXRReader(url: url).read(skipInvalid: skipInvalid, $0) }
}

/// The `ImportError` `body` throws, or nil when it throws nothing or something else.
private func importError(_ body: () throws -> Void) -> ImportError? {
    do {
        try body()
        return nil
    } catch let error as ImportError {
        return error
    } catch {
        return nil
    }
}

/// A file in a fresh temporary directory, removed by `cleanup`.
private struct ImportTempFile {
    let url: URL

    init(_ contents: String, name: String = "export.xml") throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("margin-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        url = directory.appendingPathComponent(name)
        try Data(contents.utf8).write(to: url)
    }

    /// Writes the lines joined with LF, so that line N of the file is `lines[N - 1]`.
    init(lines: [String]) throws {
        try self.init(lines.joined(separator: "\n") + "\n")
    }

    func cleanup() {
        try? FileManager.default.removeItem(at: url.deletingLastPathComponent())
    }
}

/// A remark42 fixture with its deliberate XML errors optionally repaired.
private func repairedRemark42(_ name: String, dropBacktick: Bool, quoteAttribute: Bool) throws -> ImportTempFile {
    var text = try String(contentsOf: importFixture("disqus", name), encoding: .utf8)
    if dropBacktick, text.hasPrefix("`") { text.removeFirst() }
    if quoteAttribute {
        text = text.replacingOccurrences(of: "<thread dsq:id=247937687/>", with: "<thread dsq:id=\"247937687\"/>")
    }
    return try ImportTempFile(text)
}

private let importDisqusHeader = #"<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">"#

@Suite("Import readers")
struct ImportReaderTests {

    // MARK: Disqus fixtures

    @Test("isso-disqus.xml: 2 threads, 3 posts, one reply, one orphan, in file order")
    func issoDisqus() throws {
        let read = try readDisqus(importFixture("disqus", "isso-disqus.xml"))
        #expect(read.events.count == 5)
        #expect(read.threads.map(\.key) == ["2", "3"])
        #expect(read.posts.map(\.key) == ["4", "5", "6"])
        if case .thread = read.events[1], case .post = read.events[2] {} else {
            Issue.record("threads should come before the posts that follow them in the file")
        }
        #expect(read.thread("2") == ImportedThread(
            key: "2", link: "http://example.org/", identifiers: ["some-id"], title: "Hello, World!",
            createdAt: 1_355_314_332_000, isClosed: false, isDeleted: false))
        // The bare `<thread dsq:id="3"><id/></thread>`.
        #expect(read.thread("3") == ImportedThread(key: "3"))
        #expect(read.post("4") == ImportedPost(
            key: "4", threadKey: "2", parentKey: nil, authorName: "peter", authorEmail: "foo@bar.com",
            ip: "127.0.0.1", html: "...", createdAt: 1_381_432_829_000, status: .approved))
        let reply = try #require(read.post("5"))
        #expect(reply.parentKey == "4")
        #expect(reply.html == "<p>Hello, World.</p>")
        #expect(reply.authorName == "user")
        #expect(reply.createdAt == 1_381_474_293_000)
        // Thread 1337 does not exist; the reader reports the post as it is.
        #expect(read.post("6")?.threadKey == "1337")
        #expect(read.post("6")?.authorName == "where am I?")
        #expect(read.count(.approved) == 3)
        #expect(read.replies == 1)
        #expect(read.skipped.isEmpty)
    }

    @Test("remark42 fixtures are not well-formed: ImportError at the stray backtick, nothing reported",
          arguments: ["remark42-disqus2.xml", "remark42-disqus-deleted-post.xml", "remark42-disqus-deleted-thread.xml"])
    func remark42Malformed(name: String) throws {
        for skipInvalid in [false, true] {
            var events = 0
            let error = try #require(importError {
                try DisqusReader(url: importFixture("disqus", name)).read(skipInvalid: skipInvalid) { _ in events += 1 }
            })
            #expect(error.line == 1)
            #expect(error.column == 1)
            #expect(error.message.contains("'<' not found"))
            #expect(events == 0)
        }
    }

    @Test("remark42 without the backtick: the unquoted attribute on line 147 is reported")
    func remark42UnquotedAttribute() throws {
        let file = try repairedRemark42("remark42-disqus2.xml", dropBacktick: true, quoteAttribute: false)
        defer { file.cleanup() }
        // With skipInvalid the invalid records before it are skipped; the XML error still throws.
        let malformed = try #require(importError { _ = try readDisqus(file.url, skipInvalid: true) })
        #expect(malformed.line == 147)
        #expect(malformed.column == 24)
        #expect(malformed.message == "malformed XML: attribute value must be quoted")
        // Without it, the post with no dsq:id (line 102) is the first problem.
        let invalid = try #require(importError { _ = try readDisqus(file.url) })
        #expect(invalid.line == 102)
        #expect(invalid.message == "post without dsq:id")
    }

    @Test("remark42-disqus2 repaired: threads, statuses, skipped invalid records, exact CDATA")
    func remark42Repaired() throws {
        let file = try repairedRemark42("remark42-disqus2.xml", dropBacktick: true, quoteAttribute: true)
        defer { file.cleanup() }
        let read = try readDisqus(file.url, skipInvalid: true)
        #expect(read.threads.count == 2)
        #expect(read.thread("247918464") == ImportedThread(
            key: "247918464", link: "http://radio-t.umputun.com/2011/03/229_8880.html", identifiers: [],
            title: "Радио-Т: Радио-Т 229", createdAt: 1_299_530_785_000, isClosed: false, isDeleted: false))
        let closed = try #require(read.thread("247937687"))
        #expect(closed.isClosed)
        #expect(!closed.isDeleted)
        #expect(closed.identifiers == ["http://www.radio-t.com/p/2011/03/05/podcast-229/"])
        #expect(closed.link == "https://radio-t.com/p/2011/03/05/podcast-229/")
        #expect(closed.createdAt == 1_299_532_637_000)

        #expect(read.posts.map(\.key) == ["299619020", "299744309", "299986072", "299986073"])
        #expect(read.count(.approved) == 3)
        #expect(read.count(.spam) == 1)
        #expect(read.count(.deleted) == 0)
        #expect(read.replies == 0)
        #expect(read.post("299986073")?.status == .spam)
        #expect(read.post("299986073")?.html == "some ugly spam")

        // The CDATA is surrounded by pretty-printing newlines in the file; only those go.
        #expect(read.post("299619020") == ImportedPost(
            key: "299619020", threadKey: "247937687", authorName: "Alexander Blah", authorEmail: nil,
            ip: "178.178.178.178",
            html: #"<p>The quick brown fox jumps over the lazy dog.</p><p><a href="https://https://radio-t.com" rel="nofollow noopener" title="radio-t">some link</a></p>"#,
            createdAt: 1_314_803_789_000, status: .approved))
        #expect(read.post("299744309")?.html.hasPrefix("<p>Microsoft показал проводник Windows 8") == true)
        // No <username>; the name is still there.
        #expect(read.post("299986072")?.authorName == "No Username")
        #expect(read.post("299986072")?.threadKey == "247918464")

        #expect(read.skipped.count == 2)
        #expect(read.skipped.map(\.line) == [102, 135])
        #expect(read.skipped[0].reason == "post without dsq:id")
        #expect(read.skipped[1].reason.contains("x299986073"))
        #expect(read.skipped[1].reason.contains(#"unparsable createdAt "2011-x09-30T22:48:43Z""#))
        #expect(read.skipped[1].reason.contains(#"isSpam is not a boolean: "123""#))
    }

    @Test("remark42 deleted-post and deleted-thread variants, repaired")
    func remark42DeletedVariants() throws {
        let post = try repairedRemark42("remark42-disqus-deleted-post.xml", dropBacktick: true, quoteAttribute: true)
        defer { post.cleanup() }
        let posts = try readDisqus(post.url, skipInvalid: true)
        #expect(posts.post("299619020")?.status == .deleted)
        #expect(posts.count(.deleted) == 1)
        #expect(posts.count(.approved) == 2)
        #expect(posts.count(.spam) == 1)
        #expect(posts.threads.allSatisfy { !$0.isDeleted })

        let thread = try repairedRemark42("remark42-disqus-deleted-thread.xml", dropBacktick: true, quoteAttribute: true)
        defer { thread.cleanup() }
        let threads = try readDisqus(thread.url, skipInvalid: true)
        #expect(threads.thread("247937687")?.isDeleted == true)
        #expect(threads.thread("247918464")?.isDeleted == false)
        #expect(threads.count(.deleted) == 0)
        // 4 posts point at the deleted thread; one of them is the skipped invalid record.
        #expect(threads.posts.filter { $0.threadKey == "247937687" }.count == 3)
        #expect(threads.skipped.count == 2)
    }

    // MARK: WordPress fixtures

    /// Per-file expectations: threads, posts by status, skipped types, replies, closed threads.
    struct WXRCounts: Sendable, CustomTestStringConvertible {
        var file: String
        var threads: Int
        var approved: Int
        var pending = 0
        var spam = 0
        var deleted = 0
        var pingbacks = 0
        var trackbacks = 0
        var replies = 0
        var closed = 0
        var testDescription: String { file }
    }

    @Test("every WordPress fixture: exact counts", arguments: [
        WXRCounts(file: "isso-wordpress.xml", threads: 3, approved: 8, replies: 3),
        WXRCounts(file: "wpimporter-a11y-unit-test-data.xml", threads: 65, approved: 24, pending: 1,
                  pingbacks: 4, replies: 9, closed: 42),
        WXRCounts(file: "wpimporter-small-export.xml", threads: 11, approved: 1),
        WXRCounts(file: "wpimporter-valid-wxr-1.0.xml", threads: 6, approved: 1),
        WXRCounts(file: "wpimporter-valid-wxr-1.1.xml", threads: 2, approved: 1),
        WXRCounts(file: "wpimporter-wxr-comprehensive.xml", threads: 2, approved: 1, closed: 1),
        WXRCounts(file: "wpimporter-slashes.xml", threads: 1, approved: 1),
        WXRCounts(file: "wpimporter-test-serialized-comment-meta.xml", threads: 1, approved: 1),
        WXRCounts(file: "wpimporter-wxr-with-sub-data.xml", threads: 1, approved: 0, pending: 1),
    ])
    func wordpressCounts(expected: WXRCounts) throws {
        let read = try readWXR(importFixture("wordpress", expected.file))
        #expect(read.threads.count == expected.threads)
        #expect(read.posts.count == expected.approved + expected.pending + expected.spam + expected.deleted)
        #expect(read.count(.approved) == expected.approved)
        #expect(read.count(.pending) == expected.pending)
        #expect(read.count(.spam) == expected.spam)
        #expect(read.count(.deleted) == expected.deleted)
        #expect(read.skipped("pingback") == expected.pingbacks)
        #expect(read.skipped("trackback") == expected.trackbacks)
        #expect(read.skipped.count == expected.pingbacks + expected.trackbacks)
        #expect(read.replies == expected.replies)
        #expect(read.threads.filter(\.isClosed).count == expected.closed)
        #expect(read.threads.filter(\.isDeleted).isEmpty)
        // Every comment belongs to a thread reported before it.
        var seen = Set<String>()
        for event in read.events {
            switch event {
            case .thread(let thread): seen.insert(thread.key)
            case .post(let post): #expect(seen.contains(post.threadKey))
            case .skipped: break
            }
        }
    }

    @Test("wpimporter-slashes.xml: backslashes survive exactly")
    func wordpressSlashes() throws {
        let read = try readWXR(importFixture("wordpress", "wpimporter-slashes.xml"))
        #expect(read.threads == [ImportedThread(
            key: "1", link: "http://localhost/?p=1", identifiers: ["hello-world"], title: "Hello world!",
            createdAt: 1_295_336_414_000, isClosed: false, isDeleted: false)])
        #expect(read.posts == [ImportedPost(
            key: "1", threadKey: "1", parentKey: nil, authorName: "Mr WordPress", authorEmail: nil,
            authorURL: "http://wordpress.org/", ip: nil, html: #"\o/ ¯\_(ツ)_/¯"#,
            createdAt: 1_295_383_998_000, status: .approved)])
        #expect(read.posts.first?.html.unicodeScalars.filter { $0 == "\\" }.count == 2)
    }

    @Test("isso-wordpress.xml: trimmed e-mails, GMT dates, parents, item without post_id, duplicate id")
    func issoWordPress() throws {
        let read = try readWXR(importFixture("wordpress", "isso-wordpress.xml"))
        #expect(read.threads.map(\.key) == ["18", "http://example.tld/?p=4", "http://example.tld/?p=6"])
        #expect(read.thread("18") == ImportedThread(
            key: "18", link: "http://example.tld/2014/test/", identifiers: ["test"], title: "Hello, World…",
            createdAt: 1_389_720_663_000, isClosed: false, isDeleted: false))
        #expect(read.thread("http://example.tld/?p=6")?.title == "No comments")

        let first = try #require(read.posts.first)
        #expect(first == ImportedPost(
            key: "2", threadKey: "18", parentKey: nil, authorName: "Ohai", authorEmail: "test@example.org",
            authorURL: "http://example.tld/", ip: "::ffff:82.119.20.0", html: "Erster!1",
            createdAt: 1_389_720_732_000, status: .approved))
        // Only comment_date_gmt, no comment_type.
        #expect(read.post("7")?.createdAt == 1_398_784_895_000)
        #expect(read.post("7")?.parentKey == "6")
        // comment_date says 12:13:14, comment_date_gmt 02:13:14: GMT wins.
        #expect(read.post("10")?.createdAt == 1_654_481_594_000)
        #expect(read.post("10")?.html == "When you have a comment with multiple lines:\nWordPress exports it like this.")
        #expect(read.post("10")?.authorEmail == "multiline@example.org")
        #expect(Dictionary(uniqueKeysWithValues: read.posts.compactMap { post in post.parentKey.map { (post.key, $0) } })
                == ["7": "6", "8": "7", "9": "7"])
        // comment_id 11 appears in two items; both are reported, each with its own thread.
        let elevens = read.posts.filter { $0.key == "11" }
        #expect(elevens.map(\.threadKey) == ["18", "http://example.tld/?p=4"])
        #expect(elevens.map(\.authorName) == ["Letzter :/", "Anonymous"])
        #expect(elevens.last?.createdAt == 1_398_784_917_000)
    }

    @Test("a11y unit test data: pingbacks skipped at their lines, reply chain, comment without fields")
    func wordpressA11y() throws {
        let read = try readWXR(importFixture("wordpress", "wpimporter-a11y-unit-test-data.xml"))
        #expect(read.skipped.map(\.reason) == ["pingback", "pingback", "pingback", "pingback"])
        #expect(read.skipped.map(\.line) == [7019, 7033, 7051, 7065])
        #expect(read.posts.count == 25)
        // Comment 167 has only id, author and content: pending, no date, no e-mail.
        #expect(read.post("167") == ImportedPost(
            key: "167", threadKey: "156", authorName: "Anon", html: "Anonymous comment.", createdAt: nil,
            status: .pending))
        #expect(read.post("168")?.createdAt == 1_188_866_943_000)
        #expect(read.post("168")?.authorURL == nil)
        // "Comment Depth 01" … "10": 904 ← 905 ← … ← 915.
        let chain = ["905": "904", "906": "905", "907": "906", "910": "907", "911": "910",
                     "912": "911", "913": "912", "914": "913", "915": "914"]
        #expect(Dictionary(uniqueKeysWithValues: read.posts.compactMap { post in post.parentKey.map { (post.key, $0) } })
                == chain)
        #expect(read.post("905")?.createdAt == 1_363_273_281_000)
        #expect(read.post("905")?.authorName == "Jane Bloggs")
        // Whitespace inside CDATA is kept to the byte.
        #expect(read.post("917")?.html == "Image comment.\n\n")
        #expect(read.post("899")?.html.hasPrefix("This user it trying to be anonymous.\n\n\n    They used a fake email") == true)
        #expect(read.post("899")?.html.hasSuffix("so there should be no link to it in the comment.\n") == true)
        #expect(read.post("881")?.html.hasPrefix("<h2>Headings</h2>\n<h1>Header one</h1>") == true)
        #expect(read.post("925")?.threadKey == "1149")
        #expect(read.post("925")?.createdAt == 1_276_295_224_000)
        #expect(read.thread("1148")?.createdAt == 1_325_610_697_000)
        #expect(read.thread("1148")?.identifiers.first == "template-comments")
        #expect(read.thread("1149")?.isClosed == true)
        // The fixture has two items with post_id 156 ("Page with comments" and "… disabled").
        #expect(read.threads.filter { $0.key == "156" }.map(\.title)
                == ["Page with comments", "Page with comments disabled"])
        #expect(read.posts.filter { $0.threadKey == "156" }.count == 3)
        // Attachments and menu items without comments are not threads.
        #expect(read.threads.count == 65)
    }

    @Test("other wpimporter fixtures: GMT fallback for drafts, CDATA fields, minimal comment")
    func wordpressSmallFixtures() throws {
        let small = try readWXR(importFixture("wordpress", "wpimporter-small-export.xml"))
        // Draft with post_date_gmt 0000-00-00 00:00:00: the local date is used.
        #expect(small.thread("9")?.createdAt == 1_295_336_789_000)
        #expect(small.posts.first?.html.contains("view the post&#039;s comments") == true)

        let meta = try readWXR(importFixture("wordpress", "wpimporter-test-serialized-comment-meta.xml"))
        #expect(meta.thread("10")?.createdAt == 1_256_055_200_000)
        #expect(meta.thread("10")?.identifiers == [])
        #expect(meta.posts.first?.authorEmail == "wapuu@wordpress.example")
        #expect(meta.posts.first?.ip == nil)
        #expect(meta.posts.first?.html.hasSuffix(#"Commenter avatars come from <a href="https://gravatar.com">Gravatar</a>."#) == true)

        let comprehensive = try readWXR(importFixture("wordpress", "wpimporter-wxr-comprehensive.xml"))
        #expect(comprehensive.post("5000") == ImportedPost(
            key: "5000", threadKey: "1000", authorName: "Commenter", authorEmail: "commenter@example.com",
            ip: "127.0.0.1", html: "Great post!", createdAt: 1_717_668_000_000, status: .approved))
        #expect(comprehensive.thread("2000")?.isClosed == true)

        let sub = try readWXR(importFixture("wordpress", "wpimporter-wxr-with-sub-data.xml"))
        #expect(sub.threads == [ImportedThread(key: "101", title: "Post with sub data")])
        #expect(sub.posts == [ImportedPost(
            key: "201", threadKey: "101", authorName: "Commenter", html: "This is a comment with meta.",
            status: .pending)])

        let v10 = try readWXR(importFixture("wordpress", "wpimporter-valid-wxr-1.0.xml"))
        #expect(v10.posts.first?.createdAt == ImportField.timestamp("2010-10-20 14:08:20"))
        let v11 = try readWXR(importFixture("wordpress", "wpimporter-valid-wxr-1.1.xml"))
        #expect(v11.posts.first?.authorName == "Mr WordPress")
    }

    // MARK: Synthetic WXR

    @Test("https namespace, every comment_approved value, pingback/trackback, post types")
    func wordpressStatusesAndTypes() throws {
        func comment(_ id: Int, approved: String, type: String = "", parent: Int = 0,
                     gmt: String = "2020-05-01 11:00:00", local: String = "2020-05-01 13:00:00") -> String {
            "<wp:comment><wp:comment_id>\(id)</wp:comment_id><wp:comment_author>A\(id)</wp:comment_author>"
                + "<wp:comment_author_IP>10.0.0.\(id)</wp:comment_author_IP>"
                + "<wp:comment_date>\(local)</wp:comment_date><wp:comment_date_gmt>\(gmt)</wp:comment_date_gmt>"
                + "<wp:comment_content><![CDATA[c\(id)]]></wp:comment_content>"
                + "<wp:comment_approved>\(approved)</wp:comment_approved><wp:comment_type>\(type)</wp:comment_type>"
                + "<wp:comment_parent>\(parent)</wp:comment_parent></wp:comment>"
        }
        let file = try ImportTempFile(lines: [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<rss version="2.0" xmlns:excerpt="https://wordpress.org/export/1.2/excerpt/" xmlns:wp="https://wordpress.org/export/1.2/">"#,
            "<channel><title>Site</title><link>https://example.org/</link>",
            "<item><title>A</title><link>https://example.org/a/</link><guid isPermaLink=\"false\">https://example.org/?p=7</guid>",
            "<excerpt:post_id>99</excerpt:post_id><wp:post_id>7</wp:post_id><wp:post_date>2020-05-01 12:00:00</wp:post_date>",
            "<wp:post_date_gmt>2020-05-01 10:00:00</wp:post_date_gmt><wp:comment_status>closed</wp:comment_status>",
            "<wp:post_name>a</wp:post_name><wp:status>trash</wp:status><wp:post_type>post</wp:post_type>",
            comment(1, approved: "1"),
            comment(2, approved: "0", parent: 1),
            comment(3, approved: "spam"),
            comment(4, approved: "trash"),
            comment(5, approved: "1", type: "trackback"),
            comment(6, approved: "1", type: "pingback"),
            comment(7, approved: "1", gmt: "0000-00-00 00:00:00", local: "2020-05-02 08:00:00"),
            comment(8, approved: "", gmt: "0000-00-00 00:00:00", local: "0000-00-00 00:00:00"),
            "</item>",
            "<item><title>img</title><wp:post_id>8</wp:post_id><wp:post_type>attachment</wp:post_type></item>",
            "<item><title>menu</title><wp:post_id>9</wp:post_id><wp:post_type>nav_menu_item</wp:post_type></item>",
            "<item><title>photo</title><wp:post_id>10</wp:post_id><wp:post_type>attachment</wp:post_type>",
            comment(11, approved: "1"),
            "</item>",
            "<item><title>About</title><wp:post_id>12</wp:post_id><wp:post_type>page</wp:post_type></item>",
            "</channel></rss>",
        ])
        defer { file.cleanup() }
        let read = try readWXR(file.url)
        #expect(read.threads.map(\.key) == ["7", "10", "12"])
        #expect(read.thread("7") == ImportedThread(
            key: "7", link: "https://example.org/a/", identifiers: ["a", "https://example.org/?p=7"], title: "A",
            createdAt: 1_588_327_200_000, isClosed: true, isDeleted: true))
        #expect(read.posts.map(\.key) == ["1", "2", "3", "4", "7", "8", "11"])
        #expect(read.posts.map(\.status) == [.approved, .pending, .spam, .deleted, .approved, .pending, .approved])
        #expect(read.skipped.map(\.reason) == ["trackback", "pingback"])
        #expect(read.skipped.map(\.line) == [12, 13])
        #expect(read.post("2")?.parentKey == "1")
        #expect(read.post("1")?.createdAt == ImportField.timestamp("2020-05-01 11:00:00"))
        #expect(read.post("1")?.ip == "10.0.0.1")
        #expect(read.post("7")?.createdAt == 1_588_406_400_000)
        #expect(read.post("8")?.createdAt == nil)
        #expect(read.post("11")?.threadKey == "10")
    }

    @Test("WordPress export namespaces are recognised by URI")
    func wordpressNamespaces() {
        for uri in ["http://wordpress.org/export/1.0/", "http://wordpress.org/export/1.1/",
                    "http://wordpress.org/export/1.2/", "https://wordpress.org/export/1.2/",
                    "https://wordpress.org/export/1.2"] {
            #expect(WXRReader.isExportNamespace(uri), "\(uri)")
        }
        for uri in ["http://wordpress.org/export/1.2/excerpt/", "http://purl.org/rss/1.0/modules/content/",
                    "http://example.org/export/1.2/", "", "http://wordpress.org/export/"] {
            #expect(!WXRReader.isExportNamespace(uri), "\(uri)")
        }
    }

    @Test("WXR: invalid comments throw with their line, or are skipped")
    func wordpressInvalidRecords() throws {
        let file = try ImportTempFile(lines: [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>"#,
            "<item><title>T</title><wp:post_id>1</wp:post_id>",
            "<wp:comment><wp:comment_author>No id</wp:comment_author></wp:comment>",
            "<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_date_gmt>2020-13-01 00:00:00</wp:comment_date_gmt></wp:comment>",
            "<wp:comment><wp:comment_id>3</wp:comment_id><wp:comment_content>ok</wp:comment_content></wp:comment>",
            "</item></channel></rss>",
        ])
        defer { file.cleanup() }
        let error = try #require(importError { _ = try readWXR(file.url) })
        #expect(error.line == 4)
        #expect(error.message == "comment without wp:comment_id")

        let read = try readWXR(file.url, skipInvalid: true)
        #expect(read.skipped.map(\.line) == [4, 5])
        #expect(read.skipped[1].reason == #"comment 2: unparsable comment_date_gmt "2020-13-01 00:00:00""#)
        #expect(read.posts.map(\.key) == ["3"])
        #expect(read.posts.first?.html == "ok")
    }

    @Test("WXR: a mismatched tag and a truncated file are reported where they are")
    func wordpressMalformed() throws {
        let mismatched = try ImportTempFile(lines: [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/"><channel>"#,
            "<item><title>T</title><wp:post_id>1</wp:post_id>",
            "<wp:comment><wp:comment_id>1</wp:comment_id>",
            "<wp:comment_author>x</wp:comment_autor>",
            "</wp:comment></item></channel></rss>",
        ])
        defer { mismatched.cleanup() }
        var events: [ImportEvent] = []
        let error = try #require(importError {
            try WXRReader(url: mismatched.url).read(skipInvalid: true) { events.append($0) }
        })
        #expect(error.line == 5)
        #expect(error.message == "malformed XML: mismatched tag (expected </wp:comment_author>)")
        #expect(error.description.hasPrefix("line 5, column "))
        // The thread was reported when its first comment began; the broken comment was not.
        #expect(events.count == 1)

        let text = try String(contentsOf: importFixture("wordpress", "isso-wordpress.xml"), encoding: .utf8)
        let cut = try ImportTempFile(String(text.prefix(while: { $0 != "\u{2026}" })) + "…</title>\n<link>http://exa")
        defer { cut.cleanup() }
        let truncated = try #require(importError { _ = try readWXR(cut.url) })
        #expect(truncated.line == 15)
        #expect(truncated.message.hasPrefix("malformed XML: unexpected end of file"))
    }

    // MARK: Robustness

    @Test("text and CDATA that cross the parser's 128 KiB chunks come through byte for byte")
    func largeMessagesAcrossChunks() throws {
        func message(_ index: Int) -> String {
            String(repeating: #"漢字テスト \o/ ¯\_(ツ)_/¯ 😀 línea "#, count: 1_500) + "\(index)\n  "
        }
        var xml = #"<?xml version="1.0" encoding="utf-8"?>"# + "\n" + importDisqusHeader + "\n"
        xml += #"<thread dsq:id="1"><link>http://example.org/</link></thread>"# + "\n"
        for index in 0..<40 {
            let body = index.isMultiple(of: 2)
                ? "\n    <![CDATA[<p>\(message(index))</p>]]>\n  "
                : "&lt;p&gt;\(message(index))&lt;/p&gt;"
            xml += #"<post dsq:id="\#(index)"><message>\#(body)</message><thread dsq:id="1"/></post>"# + "\n"
        }
        xml += "</disqus>\n"
        let file = try ImportTempFile(xml)
        defer { file.cleanup() }
        let read = try readDisqus(file.url)
        #expect(read.posts.count == 40)
        for (index, post) in read.posts.enumerated() {
            #expect(post.html == "<p>\(message(index))</p>", "post \(index)")
        }
    }

    @Test("whitespace: pretty-printing around CDATA goes, everything else stays")
    func whitespaceAroundCDATA() throws {
        let file = try ImportTempFile(lines: [
            #"<?xml version="1.0"?>"#,
            importDisqusHeader,
            #"<post dsq:id="1"><thread dsq:id="t"/><message>"#,
            "   <![CDATA[ padded \\ ]]>",
            "</message></post>",
            #"<post dsq:id="2"><thread dsq:id="t"/><message>a<![CDATA[b]]> c </message></post>"#,
            #"<post dsq:id="3"><thread dsq:id="t"/><message>  plain  text  </message></post>"#,
            #"<post dsq:id="4"><thread dsq:id="t"/><message><![CDATA[x]]>  <![CDATA[y]]></message></post>"#,
            "</disqus>",
        ])
        defer { file.cleanup() }
        let read = try readDisqus(file.url)
        #expect(read.posts.map(\.html) == [" padded \\ ", "ab c ", "  plain  text  ", "x  y"])
    }

    @Test("an entity-expansion bomb is refused, whether or not the DTD is in the first MiB")
    func entityBomb() throws {
        var dtd = "<!DOCTYPE disqus [\n<!ENTITY lol \"lol\">\n"
        dtd += "<!ENTITY lol1 \"" + String(repeating: "&lol;", count: 10) + "\">\n"
        for level in 2...9 {
            dtd += "<!ENTITY lol\(level) \"" + String(repeating: "&lol\(level - 1);", count: 10) + "\">\n"
        }
        dtd += "]>\n"
        let body = importDisqusHeader + #"<post dsq:id="1"><thread dsq:id="1"/><message>&lol9;</message></post></disqus>"#

        let early = try ImportTempFile(#"<?xml version="1.0"?>"# + "\n" + dtd + body)
        defer { early.cleanup() }
        let refused = try #require(importError { _ = try readDisqus(early.url) })
        #expect(refused.line == 2)
        #expect(refused.message.contains("DOCTYPE"))

        // Past the prolog check, libxml2's own limit stops it, and nothing was expanded into a post.
        let padding = "<!--" + String(repeating: "x", count: ImportXMLDriver.prologScanBytes) + "-->\n"
        let late = try ImportTempFile(#"<?xml version="1.0"?>"# + "\n" + padding + dtd + body)
        defer { late.cleanup() }
        var posts: [ImportedPost] = []
        let stopped = importError {
            try DisqusReader(url: late.url).read(skipInvalid: false) { if case .post(let post) = $0 { posts.append(post) } }
        }
        #expect(stopped != nil)
        #expect(posts.allSatisfy { $0.html.utf8.count < 1 << 20 })
    }

    @Test("the text kept for one element is bounded")
    func oversizedText() throws {
        let file = try ImportTempFile(lines: [
            #"<?xml version="1.0"?>"#,
            importDisqusHeader,
            #"<post dsq:id="1"><thread dsq:id="1"/><message>"#
                + String(repeating: "x", count: ImportXMLDriver.maxTextBytes + 1) + "</message></post></disqus>",
        ])
        defer { file.cleanup() }
        let error = try #require(importError { _ = try readDisqus(file.url) })
        #expect(error.message == "the text of <message> exceeds 8 MiB")
        #expect(error.line == 3)
    }

    @Test("external entities and DTDs are never fetched")
    func externalEntities() throws {
        let secret = try ImportTempFile("TOP-SECRET\n", name: "secret.txt")
        defer { secret.cleanup() }
        let declared = try ImportTempFile(lines: [
            #"<?xml version="1.0"?>"#,
            "<!DOCTYPE disqus [<!ENTITY e SYSTEM \"\(secret.url.absoluteString)\">]>",
            importDisqusHeader,
            #"<post dsq:id="1"><thread dsq:id="1"/><message>before &e; after</message></post></disqus>"#,
        ])
        defer { declared.cleanup() }
        let refused = try #require(importError { _ = try readDisqus(declared.url) })
        #expect(refused.line == 2)

        // An external DTD is not loaded, so its entities are undeclared: an error, not silent loss.
        let dtd = try ImportTempFile("<!ENTITY secret \"TOP-SECRET\">\n", name: "x.dtd")
        defer { dtd.cleanup() }
        let external = try ImportTempFile(lines: [
            #"<?xml version="1.0"?>"#,
            "<!DOCTYPE disqus SYSTEM \"\(dtd.url.absoluteString)\">",
            importDisqusHeader,
            #"<post dsq:id="1"><thread dsq:id="1"/><message>a &secret; b</message></post></disqus>"#,
        ])
        defer { external.cleanup() }
        var leaked = false
        let undeclared = importError {
            try DisqusReader(url: external.url).read(skipInvalid: false) { event in
                if case .post(let post) = event, post.html.contains("TOP-SECRET") { leaked = true }
            }
        }
        #expect(!leaked)
        #expect(undeclared?.line == 4)
        #expect(undeclared?.message.contains("undeclared entity") == true)
    }

    @Test("empty, missing, wrong-format and unreadable files")
    func badFiles() throws {
        let empty = try ImportTempFile("")
        defer { empty.cleanup() }
        #expect(importError { _ = try readDisqus(empty.url) }?.message.contains("no root element") == true)
        #expect(importError { _ = try readWXR(empty.url) }?.message.contains("no root element") == true)

        let missing = empty.url.deletingLastPathComponent().appendingPathComponent("missing.xml")
        #expect(importError { _ = try readDisqus(missing) } == ImportError(
            message: "cannot read \(missing.path)", line: 0, column: 0))
        #expect(importError { _ = try readWXR(empty.url.deletingLastPathComponent()) }?.line == 0)

        let wrongForDisqus = try #require(importError { _ = try readDisqus(importFixture("wordpress", "wpimporter-slashes.xml")) })
        #expect(wrongForDisqus.message == "not a Disqus export: the root element is <rss>")
        #expect(wrongForDisqus.line == 26) // where the multi-line <rss …> start tag ends
        let wrongForWXR = try #require(importError { _ = try readWXR(importFixture("disqus", "isso-disqus.xml")) })
        #expect(wrongForWXR.message == "not a WordPress export (WXR): the root element is <disqus>")

        let truncated = try ImportTempFile(lines: [
            #"<?xml version="1.0"?>"#,
            importDisqusHeader,
            #"<post dsq:id="1"><thread dsq:id="1"/><message><![CDATA[cut"#,
        ])
        defer { truncated.cleanup() }
        let cut = try #require(importError { _ = try readDisqus(truncated.url) })
        #expect(cut.line >= 3)
        #expect(cut.message.hasPrefix("malformed XML:"))
    }

    @Test("an error thrown by the handler stops the read and comes back unchanged")
    func handlerErrors() throws {
        struct Stop: Error, Equatable {}
        var seen = 0
        #expect(throws: Stop()) {
            try DisqusReader(url: importFixture("disqus", "isso-disqus.xml")).read(skipInvalid: false) { event in
                seen += 1
                if case .post = event { throw Stop() }
            }
        }
        #expect(seen == 3)

        var wordpressSeen = 0
        #expect(throws: Stop()) {
            try WXRReader(url: importFixture("wordpress", "isso-wordpress.xml")).read(skipInvalid: false) { _ in
                wordpressSeen += 1
                throw Stop()
            }
        }
        #expect(wordpressSeen == 1)
    }

    @Test("timestamps: ISO 8601 and WordPress forms, zones, impossible dates")
    func timestamps() {
        #expect(ImportField.timestamp("2013-01-24T19:41:41Z") == 1_359_056_501_000)
        #expect(ImportField.timestamp("2013-01-24T20:41:41+01:00") == 1_359_056_501_000)
        #expect(ImportField.timestamp("2013-01-24T18:41:41-0100") == 1_359_056_501_000)
        #expect(ImportField.timestamp("2013-01-24T19:41:41.25Z") == 1_359_056_501_250)
        #expect(ImportField.timestamp("2013-01-24 19:41:41") == 1_359_056_501_000)
        #expect(ImportField.timestamp("2012-02-29 00:00:00") == 1_330_473_600_000)
        #expect(ImportField.timestamp("1969-12-31T23:59:59Z") == -1_000)
        for bad in ["2011-x09-30T22:48:43Z", "2011-02-29 00:00:00", "2011-13-01 00:00:00", "2011-01-01",
                    "2011-01-01T24:00:00Z", "2011-01-01T00:00:00Zjunk", "", "0000-00-00 00:00:00"] {
            #expect(ImportField.timestamp(bad) == nil, "\(bad)")
        }
    }
}
