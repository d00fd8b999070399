import Comments
import Foundation
import MarginServer
import Moderation
import Testing
import TestSupport

/// The moderation API's comments, blocklist, log and statistics against the real server, on both
/// stores, as a signed-in admin.
@Suite struct ConsoleModerationAPITests {
    static let admin = "boss@example.org"

    /// The tests speak for clients of several networks through `X-Forwarded-For`, as a proxy would.
    static func behindProxy(_ configuration: inout ServerConfiguration) {
        configuration.trustedProxies = [IPNetwork("127.0.0.1/32")!]
    }

    /// An admin's console on a server whose default site holds every comment.
    func console(_ server: BackendServer) async throws -> ConsoleClient {
        var site = try #require(try await server.store.site(id: "default"))
        site.moderation = .all
        try await server.store.updateSite(site)
        _ = try await server.store.addAdminUser(email: Self.admin, at: server.clock.nowMillis())
        return try await ConsoleClient.signIn(server, email: Self.admin)
    }

    /// Posts through the widget's API; the new comment's id.
    @discardableResult
    func post(_ server: BackendServer, _ text: String, uri: String = "/post/", parent: Int64? = nil, author: String? = nil,
              email: String? = nil, client: String = "203.0.113.7") async throws -> Int64 {
        var fields: [String: Any] = ["site": "default", "uri": uri, "text": text]
        if let parent { fields["parent"] = parent }
        if let author { fields["author"] = author }
        if let email { fields["email"] = email }
        let answer = try await server.client.postJSON("/api/v1/comments", fields, headers: [("X-Forwarded-For", client)])
        return try #require((answer.json["id"] as? NSNumber)?.int64Value, "post gave \(answer.status): \(answer.text)")
    }

    func ids(_ answer: HTTPResult) -> [Int64] {
        (answer.json["comments"] as? [[String: Any]] ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
    }

    @Test(arguments: TestBackend.allCases)
    func theQueuePagesSearchesAndFilters(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            let console = try await console(server)
            var posted: [Int64] = []
            for index in 0..<5 {
                posted.append(try await post(server, "Comment number \(index) about gardening", author: "Ann", email: "ann@example.org"))
                server.clock.advance(seconds: 1)
            }
            let korean = try await post(server, "정원 가꾸기 이야기", author: "민지", email: "minji@example.org", client: "198.51.100.9")
            // Held comments, newest first, two at a time
            let first = try await console.get("/api/v1/admin/comments?status=pending&limit=2")
            #expect(ids(first) == [korean, posted[4]])
            let cursor = try #require(first.json["next_cursor"] as? String)
            let second = try await console.get("/api/v1/admin/comments?status=pending&limit=2&cursor=\(cursor)")
            #expect(ids(second) == [posted[3], posted[2]])
            #expect(ids(try await console.get("/api/v1/admin/comments?status=pending&order=oldest&limit=3")) == Array(posted.prefix(3)))
            // Search: every word, as a word's beginning, in the text or the author's name
            #expect(Set(ids(try await console.get("/api/v1/admin/comments?q=garden"))) == Set(posted))
            #expect(ids(try await console.get("/api/v1/admin/comments?q=number%203%20gard")) == [posted[3]])
            #expect(ids(try await console.get("/api/v1/admin/comments?q=%EC%A0%95%EC%9B%90")) == [korean])
            #expect(ids(try await console.get("/api/v1/admin/comments?q=%EB%AF%BC%EC%A7%80")) == [korean])
            #expect(ids(try await console.get("/api/v1/admin/comments?q=ardening")).isEmpty)
            // Exact filters: address, name, network
            #expect(ids(try await console.get("/api/v1/admin/comments?email=ANN%40example.org")).count == 5)
            #expect(ids(try await console.get("/api/v1/admin/comments?author=%EB%AF%BC%EC%A7%80")) == [korean])
            #expect(ids(try await console.get("/api/v1/admin/comments?network=198.51.100.0%2F24")) == [korean])
            // Bad values are named
            for (query, code) in [("status=lost", "invalid_status"), ("limit=0", "invalid_limit"), ("cursor=%%%", "invalid_cursor"),
                                  ("order=random", "invalid_order"), ("network=nowhere", "invalid_network"), ("thread=x", "invalid_thread")] {
                let refused = try await console.get("/api/v1/admin/comments?\(query)")
                #expect(refused.status == 422 && refused.errorCode == code, "\(query)")
            }
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aCommentComesWithItsThreadItsAuthorsHistoryAndItsLog(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            let console = try await console(server)
            let parent = try await post(server, "The parent", email: "first@example.org")
            #expect(try await console.send("POST", "/api/v1/admin/comments/\(parent)/approve", json: ["reason": "fine"]).status == 200)
            let comment = try await post(server, "A reply with https://spam.example/buy", parent: parent, author: "Bob", email: "bob@example.org")
            _ = try await console.send("POST", "/api/v1/admin/comments/\(comment)/approve")
            let reply = try await post(server, "A reply to the reply", parent: comment, email: "first@example.org")
            let earlier = try await post(server, "Bob's earlier one", uri: "/other/", email: "bob@example.org", client: "192.0.2.1")
            _ = try await console.send("POST", "/api/v1/admin/comments/\(earlier)/spam")
            let detail = try await console.get("/api/v1/admin/comments/\(comment)")
            #expect(detail.status == 200)
            let shown = try #require(detail.json["comment"] as? [String: Any])
            #expect(shown["links"] as? Int == 1 && shown["first_time"] as? Bool == true)
            #expect((shown["spam_reasons"] as? [String])?.contains { $0.contains("link") } == true)
            #expect(((detail.json["parent"] as? [String: Any])?["id"] as? NSNumber)?.int64Value == parent)
            #expect((detail.json["replies"] as? [[String: Any]])?.compactMap { ($0["id"] as? NSNumber)?.int64Value } == [reply])
            let history = try #require(detail.json["history"] as? [[String: Any]])
            // Bob's other comment by address, and the others from the same network, with their statuses
            #expect(history.contains { ($0["id"] as? NSNumber)?.int64Value == earlier && $0["status"] as? String == "spam" })
            #expect(history.contains { ($0["id"] as? NSNumber)?.int64Value == parent })
            let parentLog = try await console.get("/api/v1/admin/comments/\(parent)")
            let entry = try #require((parentLog.json["log"] as? [[String: Any]])?.first)
            #expect(entry["action"] as? String == "approve" && entry["moderator"] as? String == Self.admin && entry["reason"] as? String == "fine")
            #expect(try await console.get("/api/v1/admin/comments/999999").status == 404)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func anApprovalPublishesAndTheMailedLinkThenSaysWhoDecided(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            let console = try await console(server)
            let id = try await post(server, "Please publish me")
            // Given the link a moderator was mailed for the held comment
            _ = try await server.store.addSigningKeyIfNoneExist(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
            let signer = LinkSigner(keys: try await server.store.signingKeys())
            let link = try #require(signer.sign(site: "default", commentID: id, action: "reject",
                                                expiresAt: server.clock.nowMillis() + 86_400_000, nonce: LinkSigner.makeNonce(random: SystemRandom())))
            server.clock.advance(seconds: 60)
            // When the console approves it
            let approved = try await console.send("POST", "/api/v1/admin/comments/\(id)/approve")
            #expect(approved.json["previous_status"] as? String == "pending")
            // Then readers see it
            let thread = try await server.client.get("/api/v1/comments?site=default&uri=%2Fpost%2F")
            #expect(thread.text.contains("Please publish me"))
            // And the mailed link answers 409, naming who approved it
            let used = try await server.client.send("POST", link.pathAndQuery)
            #expect(used.status == 409)
            #expect(used.text.contains("approved") && used.text.contains(Self.admin))
            #expect(try await server.store.comment(id: id)?.status == .approved)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func bulkSpamTeachesTheFilterAndRestoreUndoesIt(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            let console = try await console(server)
            var ids: [Int64] = []
            for index in 0..<3 { ids.append(try await post(server, "Cheap pills number \(index) zyxwvut")) }
            let before = try await server.store.classifierCounts(features: ["zyxwvut"])
            let bulk = try await console.send("POST", "/api/v1/admin/comments/bulk", json: ["ids": ids + [999_999], "action": "spam", "reason": "pills"])
            let results = try #require(bulk.json["results"] as? [[String: Any]])
            #expect(results.prefix(3).allSatisfy { $0["status"] as? String == "spam" && $0["previous_status"] as? String == "pending" })
            #expect((results.last?["error"] as? [String: Any])?["code"] as? String == "comment_not_found")
            let trained = try await server.store.classifierCounts(features: ["zyxwvut"])
            #expect(trained.spamDocuments == before.spamDocuments + 3)
            // Undo: each goes back to where it was, and the training with it
            for id in ids {
                let restored = try await console.send("POST", "/api/v1/admin/comments/\(id)/restore")
                #expect((restored.json["comment"] as? [String: Any])?["status"] as? String == "pending")
            }
            #expect(try await server.store.classifierCounts(features: ["zyxwvut"]).spamDocuments == before.spamDocuments)
            // Bad bulk requests are named
            #expect(try await console.send("POST", "/api/v1/admin/comments/bulk", json: ["ids": [], "action": "spam"]).errorCode == "invalid_ids")
            #expect(try await console.send("POST", "/api/v1/admin/comments/bulk", json: ["ids": [1], "action": "burn"]).errorCode == "invalid_action")
            #expect(try await console.send("POST", "/api/v1/admin/comments/\(ids[0])/burn").status == 404)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aModeratorEditIsRenderedLoggedAndSearchable(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            let console = try await console(server)
            let id = try await post(server, "Original wording here")
            let edited = try await console.send("PATCH", "/api/v1/admin/comments/\(id)", json: ["body": "Edited *politely* <script>x</script>"])
            let comment = try #require(edited.json["comment"] as? [String: Any])
            #expect((comment["html"] as? String)?.contains("<em>politely</em>") == true)
            #expect((comment["html"] as? String)?.contains("<script") == false)
            #expect(ids(try await console.get("/api/v1/admin/comments?q=politely")) == [id])
            #expect(ids(try await console.get("/api/v1/admin/comments?q=original")).isEmpty)
            let log = try await server.store.moderationLog(commentID: id, limit: 1)
            #expect(log.first?.action == "edit" && log.first?.moderator == Self.admin)
            #expect(try await console.send("PATCH", "/api/v1/admin/comments/\(id)", json: ["body": "   "]).errorCode == "invalid_body")
        }
    }

    @Test(arguments: TestBackend.allCases)
    func aBlockFromTheConsoleStopsTheAuthorsNextPost(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            let console = try await console(server)
            var site = try #require(try await server.store.site(id: "default"))
            site.moderation = .none
            try await server.store.updateSite(site)
            let added = try await console.send("POST", "/api/v1/admin/blocklist", json: ["kind": "email", "value": " Pest@Example.org ", "reason": "abuse"])
            #expect(added.status == 201 && added.json["value"] as? String == "pest@example.org")
            let next = try await post(server, "Back again", email: "pest@example.org")
            #expect(try await server.store.comment(id: next)?.status == .spam)
            let list = try await console.get("/api/v1/admin/blocklist")
            #expect((list.json["entries"] as? [[String: Any]])?.first?["reason"] as? String == "abuse")
            #expect(try await console.send("POST", "/api/v1/admin/blocklist", json: ["kind": "ip", "value": "10.0.0.0/40"]).errorCode == "invalid_value")
            #expect(try await console.send("DELETE", "/api/v1/admin/blocklist?kind=email&value=pest%40example.org").status == 204)
            #expect(try await console.send("DELETE", "/api/v1/admin/blocklist?kind=email&value=pest%40example.org").status == 404)
            let after = try await post(server, "Reformed now", email: "pest@example.org")
            #expect(try await server.store.comment(id: after)?.status == .approved)
        }
    }

    @Test(arguments: TestBackend.allCases)
    func statisticsAndTheLogCoverTheRange(backend: TestBackend) async throws {
        try await TestServer.with(backend: backend, configure: Self.behindProxy) { server in
            _ = try await console(server)
            let old = try await post(server, "Two days ago", uri: "/quiet/")
            server.clock.advance(seconds: 2 * 86_400)
            // (The first session is over after two idle days.)
            let console = try await ConsoleClient.signIn(server, email: Self.admin)
            for index in 0..<3 { try await post(server, "Today \(index)", uri: "/busy/") }
            _ = try await console.send("POST", "/api/v1/admin/comments/\(old)/spam")
            let stats = try await console.get("/api/v1/admin/stats?days=30")
            #expect(stats.status == 200, "\(stats.text)")
            let daily = try #require(stats.json["daily"] as? [[String: Any]])
            #expect(daily.count == 30)
            #expect(daily.last?["pending"] as? Int == 3)
            #expect(daily[27]["spam"] as? Int == 1)
            #expect(stats.json["pending"] as? Int == 3 && stats.json["spam_caught"] as? Int == 1)
            let busiest = try #require(stats.json["busiest_threads"] as? [[String: Any]])
            #expect((busiest.first?["thread"] as? [String: Any])?["uri"] as? String == "/busy/" && busiest.first?["comments"] as? Int == 3)
            #expect(try await console.get("/api/v1/admin/stats?days=0").errorCode == "invalid_days")
            // The log, newest first, a page at a time
            let page = try await console.get("/api/v1/admin/log?limit=2")
            let entries = try #require(page.json["entries"] as? [[String: Any]])
            #expect(entries.first?["action"] as? String == "spam" && entries.first?["moderator"] as? String == Self.admin)
            let before = try #require(page.json["next_before"] as? Int)
            let older = try await console.get("/api/v1/admin/log?limit=2&before=\(before)")
            #expect((older.json["entries"] as? [[String: Any]])?.allSatisfy { ($0["id"] as? Int ?? .max) < before } == true)
        }
    }
}
