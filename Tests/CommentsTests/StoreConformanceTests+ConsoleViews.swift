import Foundation
import Testing
@testable import Comments

/// The moderators' views of `ConsoleStore` (search, context, history, log, statistics) on every store.
extension StoreConformanceTests {
    /// A comment by anyone, anywhere.
    @discardableResult
    static func post(
        _ store: any CommentStore, _ text: String, site: String = "blog", uri: String = "/post/", status: CommentStatus = .approved,
        author: String? = "Ada", email: String? = "ada@example.org", network: String? = "203.0.113.0", parent: Int64? = nil, at: Int64 = 1000
    ) async throws -> Comment {
        var comment = draft(text, status: status, parent: parent, at: at)
        comment.author = author
        comment.email = email
        comment.ip = network
        return try await store.insert(NewComment(siteID: site, uri: uri, title: "Post \(uri)", comment: comment)).1
    }

    /// Every page of `query`, `size` at a time, through the keyset cursor.
    static func pages(_ store: any CommentStore, _ query: CommentQuery, size: Int) async throws -> [Int64] {
        var query = query
        query.limit = size
        var ids: [Int64] = []
        for _ in 0..<100 {
            let page = try await store.comments(matching: query)
            ids += page.map(\.1.id)
            guard page.count == size, let last = page.last?.1 else { break }
            query.after = CommentCursor(createdAt: last.createdAt, id: last.id)
        }
        return ids
    }

    @Test(arguments: StoreKind.allCases)
    func commentsAreFilteredOrderedAndPaged(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "news", name: "News", origins: [], createdAt: 1))
            var all: [Comment] = []
            // Five at the same moment: the id breaks the tie, and pages never repeat or skip one.
            for index in 0..<5 { all.append(try await Self.post(store, "same time \(index)", at: 5000)) }
            all.append(try await Self.post(store, "early", status: .pending, author: "Bea", email: "BEA@example.org", network: "198.51.100.0", at: 1000))
            all.append(try await Self.post(store, "late", status: .spam, author: "bea", email: nil, network: "2001:db8:1::", at: 9000))
            all.append(try await Self.post(store, "elsewhere", uri: "/other/", at: 7000))
            let news = try await Self.post(store, "news item", site: "news", at: 8000)

            let newest = all.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }.map(\.id)
            #expect(try await Self.pages(store, CommentQuery(siteIDs: ["blog"]), size: 2) == newest)
            #expect(try await Self.pages(store, CommentQuery(siteIDs: ["blog"], newestFirst: false), size: 3) == newest.reversed())
            #expect(try await store.comments(matching: CommentQuery(siteIDs: ["blog"], limit: 3)).map(\.1.id) == Array(newest.prefix(3)))
            #expect(try await Self.pages(store, CommentQuery(), size: 4).count == all.count + 1, "nil: every site")

            func ids(_ query: CommentQuery) async throws -> Set<Int64> { Set(try await store.comments(matching: query).map(\.1.id)) }
            #expect(try await ids(CommentQuery(siteIDs: ["news"])) == [news.id])
            #expect(try await ids(CommentQuery(siteIDs: [])).isEmpty, "no sites: nothing")
            #expect(try await ids(CommentQuery(siteIDs: ["blog", "news"], status: .spam)) == [all[6].id])
            #expect(try await ids(CommentQuery(status: .pending)) == [all[5].id])
            #expect(try await ids(CommentQuery(email: "bea@EXAMPLE.org")) == [all[5].id])
            #expect(try await ids(CommentQuery(author: "BEA")) == [all[5].id, all[6].id])
            #expect(try await ids(CommentQuery(network: "2001:db8:1::")) == [all[6].id])
            #expect(try await ids(CommentQuery(threadID: all[7].threadID)) == [all[7].id])
            #expect(try await ids(CommentQuery(siteIDs: ["news"], threadID: all[7].threadID)).isEmpty)
            let (thread, first) = try #require(try await store.comments(matching: CommentQuery(threadID: all[7].threadID)).first)
            #expect(thread.id == first.threadID && thread.uri == "/other/" && thread.siteID == "blog")
        }
    }

    @Test(arguments: StoreKind.allCases)
    func textSearchMatchesWordPrefixesOfTextAndAuthor(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let tensor = try await Self.post(store, "TensorFlow models are great", author: "Ann")
            let fox = try await Self.post(store, "The quick brown fox jumps", author: "Ben")
            let quickly = try await Self.post(store, "That was quickly done", author: "Cy")
            let zoe = try await Self.post(store, "hello there", author: "Zoë Müller")
            let korean = try await Self.post(store, "안녕하세요 세계 여러분", author: "민수")
            let other = try await Self.post(store, "quick in another site?", site: "blog", uri: "/two/", author: "Dee")
            func search(_ text: String, sites: [String]? = nil) async throws -> Set<Int64> {
                Set(try await store.comments(matching: CommentQuery(siteIDs: sites, text: text)).map(\.1.id))
            }
            #expect(try await search("tens") == [tensor.id])
            #expect(try await search("TENSORFLOW") == [tensor.id])
            #expect(try await search("quick") == [fox.id, quickly.id, other.id])
            #expect(try await search("quick fox") == [fox.id], "every word is required")
            #expect(try await search("fox, quick!") == [fox.id], "punctuation only separates words")
            #expect(try await search("brown tensorflow").isEmpty)
            #expect(try await search("ick").isEmpty, "a word prefix, not any substring")
            #expect(try await search("müll") == [zoe.id], "the author's name")
            #expect(try await search("zoë") == [zoe.id])
            #expect(try await search("안녕") == [korean.id])
            #expect(try await search("세계") == [korean.id])
            #expect(try await search("민수") == [korean.id])
            #expect(try await search("nothing-like-this").isEmpty)
            #expect(try await search("\"quick\" * (^") == [fox.id, quickly.id, other.id], "query syntax is only words")
            #expect(try await search("quick", sites: []).isEmpty)
            // Status and search together.
            _ = try await store.moderate(ModerationDecision(commentID: fox.id, action: .spam, actor: .cli, at: 2000), features: nil, mail: nil)
            #expect(Set(try await store.comments(matching: CommentQuery(status: .spam, text: "quick")).map(\.1.id)) == [fox.id])
        }
    }

    /// Addresses, hosts, paths and numbers split into words on both stores, as SQLite's
    /// unicode61 tokenizer splits them (PostgreSQL's own parser keeps each whole).
    @Test(arguments: StoreKind.allCases)
    func searchFindsTheWordsOfLinksAndAddresses(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let spam = try await Self.post(store, "Cheap pills at https://spam.example/buy/now?ref=42 or mail sales.team@pharma.example, pi is 3.14")
            _ = try await Self.post(store, "An ordinary comment about examples")
            func search(_ text: String) async throws -> [Int64] {
                try await store.comments(matching: CommentQuery(text: text)).map(\.1.id)
            }
            for words in ["spam", "example", "buy", "now", "ref", "42", "spam example buy", "sales", "team", "pharma", "sales team pharma", "14", "3"] {
                #expect(try await search(words).contains(spam.id), "\(words)")
            }
            #expect(try await search("https spam buy") == [spam.id])
            #expect(try await search("pharmacy").isEmpty)
        }
    }

    /// `author` and `email` match whatever the case, beyond ASCII too, on both stores.
    @Test(arguments: StoreKind.allCases)
    func authorAndEmailFiltersFoldEveryLettersCase(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let emile = try await Self.post(store, "bonjour", author: "Émile Ørsted", email: "ÉMILE@Exemple.ORG", at: 1000)
            let zhanna = try await Self.post(store, "привет", author: "ЖАННА", email: "ЖАННА@Example.org", at: 2000)
            let plain = try await Self.post(store, "hi", author: "Emile", email: "emile@exemple.org", at: 3000)
            func ids(_ query: CommentQuery) async throws -> [Int64] { try await store.comments(matching: query).map(\.1.id) }
            #expect(try await ids(CommentQuery(author: "émile ørsted")) == [emile.id])
            #expect(try await ids(CommentQuery(author: "ÉMILE ØRSTED")) == [emile.id])
            #expect(try await ids(CommentQuery(author: "жанна")) == [zhanna.id])
            #expect(try await ids(CommentQuery(author: "ЖаННа")) == [zhanna.id])
            #expect(try await ids(CommentQuery(author: "EMILE")) == [plain.id], "é is not e")
            #expect(try await ids(CommentQuery(email: "émile@exemple.org")) == [emile.id])
            #expect(try await ids(CommentQuery(email: "EMILE@EXEMPLE.ORG")) == [plain.id])
            #expect(try await ids(CommentQuery(email: "жанна@EXAMPLE.ORG")) == [zhanna.id])
            let history = try await store.authorHistory(email: "émile@EXEMPLE.org", network: nil, siteIDs: nil, excluding: 0, limit: 10)
            #expect(history.map(\.1.id) == [emile.id])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func repliesHistoryAndCounts(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "news", name: "News", origins: [], createdAt: 1))
            let root = try await Self.post(store, "root", at: 1000)
            let second = try await Self.post(store, "second reply", parent: root.id, at: 3000)
            let first = try await Self.post(store, "first reply", email: "ADA@example.org", parent: root.id, at: 2000)
            let held = try await Self.post(store, "held", status: .pending, email: "other@example.org", network: "198.51.100.0", at: 4000)
            let sameNetwork = try await Self.post(store, "same network", email: nil, network: "198.51.100.0", at: 5000)
            let elsewhere = try await Self.post(store, "on news", site: "news", at: 6000)
            #expect(try await store.replies(to: root.id, limit: 10).map(\.id) == [first.id, second.id])
            #expect(try await store.replies(to: root.id, limit: 1).map(\.id) == [first.id])
            #expect(try await store.replies(to: second.id, limit: 10).isEmpty)

            let byEmail = try await store.authorHistory(email: "ada@EXAMPLE.org", network: nil, siteIDs: nil, excluding: root.id, limit: 50)
            #expect(byEmail.map(\.1.id) == [elsewhere.id, second.id, first.id])
            #expect(try await store.authorHistory(email: "ada@example.org", network: nil, siteIDs: ["blog"], excluding: root.id, limit: 50)
                .map(\.1.id) == [second.id, first.id])
            #expect(try await store.authorHistory(email: "ada@example.org", network: nil, siteIDs: [], excluding: 0, limit: 50).isEmpty)
            #expect(try await store.authorHistory(email: nil, network: "198.51.100.0", siteIDs: nil, excluding: held.id, limit: 50)
                .map(\.1.id) == [sameNetwork.id])
            #expect(try await store.authorHistory(email: "other@example.org", network: "203.0.113.0", siteIDs: ["news"], excluding: 0, limit: 50)
                .map(\.1.id) == [elsewhere.id])
            #expect(try await store.authorHistory(email: nil, network: nil, siteIDs: nil, excluding: 0, limit: 50).isEmpty)

            #expect(try await store.statusCounts(siteIDs: nil) == [.approved: 5, .pending: 1])
            #expect(try await store.statusCounts(siteIDs: ["news"]) == [.approved: 1])
            #expect(try await store.statusCounts(siteIDs: []) == [:])
        }
    }

    @Test(arguments: StoreKind.allCases)
    func theLogPagesAndDailyCountsAndBusiestThreads(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            try await store.addSite(Site(id: "news", name: "News", origins: [], createdAt: 1))
            let day: Int64 = 86_400_000
            let start: Int64 = 1_795_996_800_000 // 2026-11-30T00:00:00Z
            var blog: [Comment] = []
            for index in 0..<4 { blog.append(try await Self.post(store, "blog \(index)", status: .pending, at: start + Int64(index) * 1000)) }
            try await Self.post(store, "blog busy", uri: "/busy/", at: start + day + 5)
            try await Self.post(store, "blog busy again", uri: "/busy/", status: .spam, at: start + day + 6)
            let news = try await Self.post(store, "news", site: "news", status: .pending, at: start + 2 * day)

            // Held comments were logged by the filter; then decisions on both sites.
            for comment in blog + [news] {
                _ = try await store.moderate(ModerationDecision(commentID: comment.id, action: .approve, actor: .cli, at: start + 3 * day),
                                             features: nil, mail: nil)
            }
            let everything = try await store.moderationLog(siteIDs: nil, beforeID: nil, limit: 100)
            #expect(everything.map(\.id) == everything.map(\.id).sorted(by: >), "newest first")
            #expect(everything.count == 11, "five holds, the filter's spam, five approvals")
            var paged: [ModerationLogEntry] = []
            var before: Int64?
            for _ in 0..<20 {
                let page = try await store.moderationLog(siteIDs: ["blog"], beforeID: before, limit: 3)
                paged += page
                guard page.count == 3 else { break }
                before = page.last?.id
            }
            #expect(paged == everything.filter { $0.siteID == "blog" })
            #expect(try await store.moderationLog(siteIDs: ["news"], beforeID: nil, limit: 10).map(\.action) == ["approve", "hold"])
            #expect(try await store.moderationLog(siteIDs: [], beforeID: nil, limit: 10).isEmpty)

            let daily = try await store.dailyCounts(siteIDs: nil, since: start)
            #expect(Set(daily.map { "\($0.day) \($0.status.rawValue) \($0.count)" })
                    == ["2026-11-30 approved 4", "2026-12-01 approved 1", "2026-12-01 spam 1", "2026-12-02 approved 1"])
            #expect(try await store.dailyCounts(siteIDs: ["news"], since: start).map(\.day) == ["2026-12-02"])
            #expect(try await store.dailyCounts(siteIDs: nil, since: start + day).count == 3)
            #expect(try await store.dailyCounts(siteIDs: [], since: 0).isEmpty)

            let busiest = try await store.busiestThreads(siteIDs: nil, since: start, limit: 10)
            #expect(busiest.map { "\($0.0.uri) \($0.1)" } == ["/post/ 4", "/busy/ 2", "/post/ 1"])
            #expect(busiest.map(\.0.siteID) == ["blog", "blog", "news"])
            #expect(try await store.busiestThreads(siteIDs: ["blog"], since: start + day, limit: 10).map { "\($0.0.uri) \($0.1)" } == ["/busy/ 2"])
            #expect(try await store.busiestThreads(siteIDs: nil, since: start, limit: 1).count == 1)
            #expect(try await store.busiestThreads(siteIDs: [], since: 0, limit: 10).isEmpty)
        }
    }

    @Test(arguments: StoreKind.allCases)
    func aModeratorsEditIsLoggedAndSearchable(kind: StoreKind) async throws {
        try await withStore(kind) { store async throws in
            let comment = try await Self.post(store, "original wording here")
            let edited = try await store.moderatorEdit(
                commentID: comment.id, body: "replacement text", html: "<p>replacement text</p>", moderator: "alice@example.org", at: 9000)
            #expect(edited.body == "replacement text" && edited.html == "<p>replacement text</p>" && edited.editedAt == 9000)
            #expect(try await store.comment(id: comment.id) == edited)
            let entry = try #require(try await store.moderationLog(commentID: comment.id, limit: 1).first)
            #expect(entry.action == "edit" && entry.moderator == "alice@example.org" && entry.actor == .adminAPI && entry.fromStatus == .approved)
            #expect(try await store.comments(matching: CommentQuery(text: "replacement")).map(\.1.id) == [comment.id])
            #expect(try await store.comments(matching: CommentQuery(text: "original")).isEmpty)
            await #expect(throws: CommentsError.commentNotFound(424_242)) {
                try await store.moderatorEdit(commentID: 424_242, body: "x", html: "x", moderator: "a", at: 1)
            }
        }
    }
}
