import Comments
import Foundation
import TestSupport
import Synchronization
import Testing
@testable import MarginServer

/// Reading and writing threads through the real HTTP server on a real SQLite file.
@Suite struct ThreadAPITests {
    @Test func postThenReadTheThread() async throws {
        try await TestServer.with { server in
            let response = try await server.post([
                "site": "default", "uri": "/2016/06/18/tensorflow-kr/", "title": "TensorFlow KR", "author": "Ada",
                "email": "ada@example.org", "website": "https://ada.example.org", "text": "Hello *world*", "notify": true,
            ])
            #expect(response.status == 201)
            let body = response.json
            #expect(body["status"] as? String == "approved")
            #expect(body["text"] as? String == "Hello *world*")
            #expect(body["html"] as? String == "<p>Hello <em>world</em></p>")
            let token = try #require(body["edit_token"] as? String)
            #expect(token.count >= 40)
            #expect(body.int("editable_until") == body.int("created")! + 900_000)
            #expect(body.int("created") == Int(server.clock.nowMillis()))
            #expect(!response.text.contains("ada@example.org"))

            let thread = try await server.thread("/2016/06/18/tensorflow-kr/")
            #expect(thread["title"] as? String == "TensorFlow KR")
            #expect(thread.int("total") == 1)
            let first = try #require(thread.comments.first)
            #expect(first["author"] as? String == "Ada")
            #expect(first["website"] as? String == "https://ada.example.org")
            #expect(first["html"] as? String == "<p>Hello <em>world</em></p>")
            #expect(first["email"] == nil && first["ip"] == nil && first["edit_token"] == nil)

            // The token is stored only as a hash; the address only as its /24.
            let stored = try #require(try await server.store.comment(id: Int64(first.int("id")!)))
            #expect(stored.editKeyHash != token && stored.editKeyHash == CommentService.hash(token: token))
            #expect(stored.ip == "127.0.0.0")
            #expect(stored.email == "ada@example.org" && stored.notify)
        }
    }

    @Test func treesOfAnyDepthOldestFirstOnEachLevel() async throws {
        try await TestServer.with { server in
            let first = try await server.publish("first")
            server.clock.advance(seconds: 1)
            let second = try await server.publish("second")
            var parent = first.id
            var chain: [Int64] = []
            for level in 1...40 {
                server.clock.advance(seconds: 1)
                parent = try await server.publish("level \(level)", parent: parent).id
                chain.append(parent)
            }
            server.clock.advance(seconds: 1)
            let lateSibling = try await server.publish("late reply to first", parent: first.id)
            let thread = try await server.thread()
            #expect(thread.comments.compactMap { $0.int("id") } == [Int(first.id), Int(second.id)])
            #expect(thread.comments[0].replies.compactMap { $0.int("id") } == [Int(chain[0]), Int(lateSibling.id)])
            var node = thread.comments[0].replies[0]
            var depth = 1
            while let next = node.replies.first {
                node = next
                depth += 1
            }
            #expect(depth == 40)
            #expect(node.int("id") == Int(chain.last!))
            #expect(thread.int("total") == 43)
        }
    }

    @Test func threadsAreGzippedForClientsThatAcceptIt() async throws {
        try await TestServer.with { server in
            for index in 0..<12 {
                _ = try await server.publish("Comment number \(index), long enough that the whole thread is more than a kilobyte of JSON.")
            }
            let path = "/api/v1/comments?site=default&uri=/post/"
            let plain = try await server.client.get(path)
            #expect(plain.header("Content-Encoding") == nil)
            #expect(Self.varies(plain, on: "accept-encoding"), "a shared cache must keep the two apart")
            #expect(Self.varies(plain, on: "origin"), "nor hand an answer without CORS headers to a page of another origin")
            let zipped = try await server.client.get(path, headers: [("Accept-Encoding", "br;q=1.0, gzip;q=0.8")])
            #expect(zipped.status == 200)
            #expect(zipped.header("Content-Encoding") == "gzip")
            #expect(Self.varies(zipped, on: "accept-encoding"))
            #expect(zipped.body.count * 2 < plain.body.count, "\(zipped.body.count) of \(plain.body.count) bytes")
            #expect(try Self.gunzip(zipped.body) == plain.body, "the system's gzip reads it back byte for byte")

            // Each representation has its own ETag and revalidates on its own.
            let zippedTag = try #require(zipped.header("ETag"))
            #expect(zippedTag != plain.header("ETag"))
            let revalidated = try await server.client.get(path, headers: [("Accept-Encoding", "gzip"), ("If-None-Match", zippedTag)])
            #expect(revalidated.status == 304)
            #expect(revalidated.header("ETag") == zippedTag)
            #expect(try await server.client.get(path, headers: [("If-None-Match", zippedTag)]).status == 200)

            // Refused, or only other codings offered: the plain body.
            for refusal in ["gzip;q=0", "gzip; q=0.000", "identity", "br, deflate", "*;q=0", "gzip;q=0, *", ""] {
                let answer = try await server.client.get(path, headers: [("Accept-Encoding", refusal)])
                #expect(answer.header("Content-Encoding") == nil, "\(refusal)")
                #expect(answer.body == plain.body, "\(refusal)")
            }
            for acceptance in ["GZIP", "x-gzip", "*", "deflate, gzip;q=0.5", "identity;q=0.5, *;q=0.1"] {
                let answer = try await server.client.get(path, headers: [("Accept-Encoding", acceptance)])
                #expect(answer.header("Content-Encoding") == "gzip", "\(acceptance)")
            }

            // A new comment shows in the compressed answer at once.
            _ = try await server.publish("The newest comment")
            let after = try await server.client.get(path, headers: [("Accept-Encoding", "gzip")])
            #expect(after.header("ETag") != zippedTag)
            #expect(String(decoding: try Self.gunzip(after.body), as: UTF8.self).contains("The newest comment"))

            // A small answer is not worth compressing; CORS adds to Vary instead of replacing it.
            let empty = try await server.client.get("/api/v1/comments?site=default&uri=/nothing-here/", headers: [("Accept-Encoding", "gzip")])
            #expect(empty.status == 200)
            #expect(empty.header("Content-Encoding") == nil)
            let cors = try await server.client.get(path, headers: [("Accept-Encoding", "gzip"), ("Origin", "http://localhost:4000")])
            #expect(cors.header("Access-Control-Allow-Origin") == "http://localhost:4000")
            #expect(Self.varies(cors, on: "origin") && Self.varies(cors, on: "accept-encoding"))
        }
    }

    /// Whether the response's `Vary` fields name `field`.
    static func varies(_ response: HTTPResult, on field: String) -> Bool {
        response.headers["Vary"].flatMap { $0.split(separator: ",") }.contains { $0.trimmingCharacters(in: .whitespaces).lowercased() == field }
    }

    /// `bytes` decompressed by the system's `gzip`.
    static func gunzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        // Written from another thread: a full output pipe would otherwise block gzip and us.
        let writer = Thread {
            input.fileHandleForWriting.write(Data(bytes))
            try? input.fileHandleForWriting.close()
        }
        writer.start()
        let result = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("gzip -dc exited \(process.terminationStatus)") }
        return Array(result)
    }

    @Test func etagAnswers304UntilTheThreadChanges() async throws {
        try await TestServer.with { server in
            _ = try await server.publish("one")
            let path = "/api/v1/comments?site=default&uri=/post/"
            let first = try await server.client.get(path)
            let etag = try #require(first.header("ETag"))
            let unchanged = try await server.client.get(path, headers: [("If-None-Match", etag)])
            #expect(unchanged.status == 304)
            #expect(unchanged.body.isEmpty)
            #expect(unchanged.header("ETag") == etag)
            #expect(try await server.client.get(path, headers: [("If-None-Match", "\"other\", W/\(etag)")]).status == 304)

            _ = try await server.publish("two")
            let changed = try await server.client.get(path, headers: [("If-None-Match", etag)])
            #expect(changed.status == 200)
            #expect(changed.header("ETag") != etag)

            // A write by another process (the CLI opens its own connection) is seen at once.
            let cliStore = try SQLiteStore(path: server.databasePath)
            let id = try #require(changed.json.comments.first?.int("id"))
            _ = try await cliStore.delete(commentID: Int64(id))
            let afterCLI = try await server.client.get(path, headers: [("If-None-Match", try #require(changed.header("ETag")))])
            #expect(afterCLI.status == 200)
            #expect(afterCLI.json.comments.count == 1)

            // Comments posted to other threads keep this one cached; whatever else changes it
            // still shows at once: a comment here, a vote, another process's deletion.
            let cached = try await server.client.get(path)
            for index in 0..<3 { _ = try await server.publish("elsewhere \(index)", uri: "/other/") }
            #expect(try await server.client.get(path, headers: [("If-None-Match", try #require(cached.header("ETag")))]).status == 304)
            _ = try await server.publish("three")
            let afterPost = try await server.client.get(path)
            #expect(afterPost.json.comments.count == 2)
            let voted = try #require(afterPost.json.comments.first?.int("id"))
            #expect(try await server.client.postJSON("/api/v1/comments/\(voted)/vote", ["value": 1]).status == 200)
            _ = try await server.publish("elsewhere again", uri: "/other/")
            #expect(try await server.client.get(path).json.comments.first?.int("likes") == 1)
            _ = try await cliStore.delete(commentID: Int64(voted))
            _ = try await server.publish("and elsewhere", uri: "/other/")
            #expect(try await server.client.get(path).json.comments.count == 1)
        }
    }

    /// Clients that ask for a thread nobody has read yet, all at once, share one load and get
    /// the same answer; a write then shows at once.
    @Test func manyClientsAtOnceOnAColdThread() async throws {
        // Given a cold thread and the server's thread cache in hand (a cache reports itself when made) …
        let caches = Mutex<[ThreadCache]>([])
        try await ThreadCache.$made.withValue({ cache in caches.withLock { $0.append(cache) } }) {
            try await TestServer.with { server in
                let made = caches.withLock { $0 }
                try #require(made.count == 1, "the server made \(made.count) thread caches")
                let cache = made[0]
                for index in 0..<30 { _ = try await server.publish("comment \(index)", uri: "/cold/") }
                #expect(cache.misses == 0, "posting loads nothing into a cold cache")
                let path = "/api/v1/comments?site=default&uri=/cold/"
                // … when 24 clients ask for it at once …
                let answers = try await withThrowingTaskGroup(of: HTTPResult.self) { group in
                    for _ in 0..<24 { group.addTask { try await server.client.get(path) } }
                    var all: [HTTPResult] = []
                    for try await answer in group { all.append(answer) }
                    return all
                }
                // … then it was loaded once, and every client got that one answer.
                #expect(cache.misses == 1, "\(cache.misses) loads of one cold thread")
                #expect(answers.allSatisfy { $0.status == 200 })
                #expect(Set(answers.map { $0.header("ETag") ?? "" }).count == 1)
                #expect(Set(answers.map(\.body)).count == 1)
                #expect(answers.first?.json.comments.count == 30)
                _ = try await server.publish("one more", uri: "/cold/")
                #expect(try await server.client.get(path).json.comments.count == 31)
                // A missing site is an error for every waiting client alike.
                let missing = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<8 { group.addTask { try await server.client.get("/api/v1/comments?site=nope&uri=/cold/").status } }
                    var all: [Int] = []
                    for try await status in group { all.append(status) }
                    return all
                }
                #expect(missing == Array(repeating: 404, count: 8))
            }
        }
    }

    @Test func unknownThreadIsAnEmptyListAndUnknownSiteIs404() async throws {
        try await TestServer.with { server in
            let empty = try await server.client.get("/api/v1/comments?site=default&uri=/never-commented/")
            #expect(empty.status == 200)
            #expect(empty.json.comments.isEmpty)
            #expect(empty.json.int("total") == 0)
            #expect(empty.header("ETag") != nil)
            let unknown = try await server.client.get("/api/v1/comments?site=nope&uri=/x/")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "site_not_found")
            let missingURI = try await server.client.get("/api/v1/comments?site=default")
            #expect(missingURI.status == 422)
            #expect(missingURI.errorCode == "invalid_uri")
        }
    }

    @Test func deletedCommentsWithRepliesStayAsTombstones() async throws {
        try await TestServer.with { server in
            let root = try await server.publish("root", author: "Root Author")
            let reply = try await server.publish("reply", parent: root.id)
            let lonely = try await server.publish("lonely")

            let deleteRoot = try await server.client.send("DELETE", "/api/v1/comments/\(root.id)", headers: [("Authorization", "Bearer \(root.token)")])
            #expect(deleteRoot.status == 200)
            #expect(deleteRoot.json["tombstone"] as? Bool == true)
            let deleteLonely = try await server.client.send("DELETE", "/api/v1/comments/\(lonely.id)", headers: [("Authorization", "Bearer \(lonely.token)")])
            #expect(deleteLonely.json["tombstone"] as? Bool == false)

            let thread = try await server.thread()
            #expect(thread.comments.count == 1)
            let tombstone = thread.comments[0]
            #expect(tombstone["deleted"] as? Bool == true)
            #expect(tombstone["author"] == nil && tombstone["html"] == nil)
            #expect(tombstone.replies.first?.int("id") == Int(reply.id))
            #expect(!thread.description.contains("Root Author"))

            // Once its last reply goes, the tombstone goes too.
            _ = try await server.client.send("DELETE", "/api/v1/comments/\(reply.id)", headers: [("Authorization", "Bearer \(reply.token)")])
            #expect(try await server.thread().comments.isEmpty)
        }
    }

    @Test func pagingTheTopLevel() async throws {
        try await TestServer.with { server in
            var roots: [Int64] = []
            for index in 1...5 {
                server.clock.advance(seconds: 1)
                let root = try await server.publish("root \(index)")
                roots.append(root.id)
                _ = try await server.publish("reply \(index)", parent: root.id)
            }
            let page1 = try await server.thread(query: "&limit=2")
            #expect(page1.comments.compactMap { $0.int("id") } == roots[0..<2].map { Int($0) })
            #expect(page1.comments.allSatisfy { $0.replies.count == 1 })
            #expect(page1.int("top_level") == 5)
            let cursor = try #require(page1.int("next_after"))
            let page2 = try await server.thread(query: "&limit=2&after=\(cursor)")
            #expect(page2.comments.compactMap { $0.int("id") } == roots[2..<4].map { Int($0) })
            let page3 = try await server.thread(query: "&limit=2&after=\(page2.int("next_after")!)")
            #expect(page3.comments.compactMap { $0.int("id") } == [Int(roots[4])])
            #expect(page3["next_after"] is NSNull)
            for bad in ["&limit=0", "&limit=abc", "&limit=100000", "&after=-1", "&after=999999"] {
                let response = try await server.client.get("/api/v1/comments?site=default&uri=/post/\(bad)")
                #expect(response.status == 422, "\(bad) gave \(response.status)")
            }
        }
    }

    @Test func theSameThreadWhateverTheAddressSpelling() async throws {
        try await TestServer.with { server in
            let response = try await server.post(["site": "default", "uri": "https://blog.example.org/caf%c3%a9/?utm=x#comments", "text": "x"])
            #expect(response.json["uri"] as? String == "/caf%C3%A9/")
            #expect(try await server.thread("/café/").comments.count == 1)
            #expect(try await server.thread("/caf%C3%A9/").comments.count == 1)
            #expect(try await server.thread("/caf%C3%A9").comments.isEmpty)
        }
    }

    @Test func textInEveryScriptRoundTrips() async throws {
        let texts = [
            "안녕하세요, 반갑습니다! 좋은 글 감사합니다.", "你好，世界。这篇文章很好。", "こんにちは、世界", "Привет, мир!",
            "مرحبا بالعالم", "שלום עולם", "e\u{301} a\u{308} n\u{303}", "👩🏽‍💻 🇰🇷 👨‍👩‍👧‍👦", "Ελληνικά", "हिन्दी",
        ]
        try await TestServer.with { server in
            for (index, text) in texts.enumerated() {
                let posted = try await server.post(["site": "default", "uri": "/unicode/", "text": text, "author": text])
                #expect(posted.status == 201)
                #expect(posted.json["text"] as? String == text, "text #\(index)")
                server.clock.advance(seconds: 1)
            }
            let thread = try await server.thread("/unicode/")
            for (comment, text) in zip(thread.comments, texts) {
                #expect(comment["html"] as? String == "<p>\(text)</p>")
                #expect((comment["author"] as? String)?.unicodeScalars.elementsEqual(text.unicodeScalars) == true)
            }
        }
    }

    @Test func userStringsAreEscapedWhereverEmitted() async throws {
        try await TestServer.with { server in
            let evil = "<script>alert(1)</script><img src=x onerror=alert(2)>"
            let posted = try await server.post(["site": "default", "uri": "/x/", "text": evil, "author": evil, "title": evil])
            #expect(posted.status == 201)
            let raw = try await server.client.get("/api/v1/comments?site=default&uri=/x/")
            #expect(!raw.text.contains("<script"))
            #expect(!raw.text.contains("<img"))
            #expect(raw.json.comments.first?["author"] as? String == evil)
            let feed = try await server.client.get("/api/v1/feed.atom?site=default")
            #expect(!feed.text.contains("<script"))
            #expect(!feed.text.contains("<img"))
            #expect(feed.header("Content-Type")?.hasPrefix("application/atom+xml") == true)
        }
    }
}
