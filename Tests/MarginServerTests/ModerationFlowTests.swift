import Comments
import Foundation
import MarginServer
import Moderation
import ModerationTestSupport
import TestSupport
import Testing

/// Spam scoring, held comments, signed links and mail, end to end: the real server, a real
/// SQLite file and a real SMTP server (aiosmtpd) on 127.0.0.1.
@Suite struct ModerationFlowTests {
    static let moderator = "moderator@example.org"

    /// Runs `body` with a server that mails `moderator` through a fresh SMTP sink.
    func withMailingServer(
        configure: @escaping (inout ServerConfiguration) -> Void = { _ in },
        _ body: (TestServer, SMTPSink) async throws -> Void
    ) async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        try await TestServer.with(mailTransport: SMTPTransport(configuration: sink.configuration()), configure: { configuration in
            configuration.moderators = [Self.moderator]
            configuration.mailFrom = "margin@example.org"
            configure(&configuration)
        }) { server in
            try await body(server, sink)
        }
    }

    /// A form timestamp from `/config`, aged five seconds as if a person typed.
    func formTimestamp(_ server: TestServer, site: String = "default") async throws -> String {
        let config = try await server.client.get("/api/v1/config?site=\(site)")
        let ts = try #require(config.json["ts"] as? String)
        server.clock.advance(seconds: 5)
        return ts
    }

    func setMode(_ server: TestServer, _ mode: ModerationMode, site: String = "default") async throws {
        var site = try #require(try await server.store.site(id: site))
        site.moderation = mode
        try await server.store.updateSite(site)
    }

    /// The `/moderate/…`, `/unsubscribe/…` or `/confirm/…` path and query for `action` in a mail body.
    func link(_ action: String, in body: String) throws -> String {
        let pattern = ["unsubscribe", "confirm"].contains(action) ? #"/\#(action)/\d+\?\S+"# : #"/moderate/\d+/\#(action)\?\S+"#
        let range = try #require(body.range(of: pattern, options: .regularExpression), "no \(action) link in:\n\(body)")
        return String(body[range])
    }

    @Test func heldCommentsAreMailedAndModeratedByLink() async throws {
        try await withMailingServer { server, sink in
            try await setMode(server, .all)
            let ts = try await formTimestamp(server)
            let posted = try await server.post(["site": "default", "uri": "/held/", "title": "Held <post>", "author": "Eve <b>",
                                                "email": "eve@example.org", "text": "Please *review* me <script>x</script>", "ts": ts])
            #expect(posted.status == 202)
            #expect(posted.json["status"] as? String == "pending")
            let id = try #require(posted.json.int("id"))
            #expect(try await server.thread("/held/").comments.isEmpty)

            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(20)).first)
            #expect(mail.recipients == [Self.moderator])
            #expect(mail.subject.contains("held"))
            #expect(mail.body.contains("Please *review* me <script>x</script>"))
            #expect(mail.body.contains("Eve <b>"))
            let approve = try link("approve", in: mail.body)
            for action in ["reject", "spam", "delete"] { _ = try link(action, in: mail.body) }

            // GET shows a page and changes nothing, however often a scanner follows it.
            for _ in 0..<2 {
                let page = try await server.client.get(approve)
                #expect(page.status == 200)
                #expect(page.text.contains("<form method=\"post\""))
                #expect(page.text.contains("Eve &lt;b&gt;"))
                #expect(!page.text.contains("<script>x"))
                #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            }
            #expect(try await server.store.comment(id: Int64(id))?.status == .pending)

            let done = try await server.client.send("POST", approve)
            #expect(done.status == 200)
            #expect(try await server.store.comment(id: Int64(id))?.status == .approved)
            #expect(try await server.thread("/held/").comments.count == 1)
            let log = try await server.store.moderationLog(commentID: Int64(id), limit: 10)
            #expect(log.map(\.action) == ["approve", "hold"])
            #expect(log.first?.actor == .link)

            let replay = try await server.client.send("POST", approve)
            #expect(replay.status == 409)
            #expect(replay.text.contains("approved"))
            #expect(try await server.client.get(approve).status == 409)
            // Approving taught the learned filter one ham document.
            #expect(try await server.store.classifierCounts(features: []).hamDocuments == 1)
        }
    }

    /// A mailed link used after someone decided in the console says who decided, and changes
    /// nothing; restore is the console's alone, never a mailed link.
    @Test func aLinkAfterAConsoleDecisionSaysWhoDecided() async throws {
        try await withMailingServer { server, sink in
            try await setMode(server, .all)
            let ts = try await formTimestamp(server)
            let posted = try await server.post(["site": "default", "uri": "/decided/", "author": "Eve", "text": "Decide me", "ts": ts])
            let id = Int64(try #require(posted.json.int("id")))
            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(20)).first)
            #expect(mail.body.range(of: #"/moderate/\d+/restore"#, options: .regularExpression) == nil)
            let spam = try link("spam", in: mail.body)
            server.clock.advance(seconds: 60)
            let decided = try await server.store.moderate(
                ModerationDecision(commentID: id, action: .approve, actor: .adminAPI, moderator: "alice@example.org", at: server.clock.nowMillis()),
                features: nil, mail: nil)
            #expect(decided == .applied(try await server.store.comment(id: id)))

            let late = try await server.client.send("POST", spam)
            #expect(late.status == 409)
            #expect(late.text.contains("Already approved by alice@example.org"), "\(late.text)")
            #expect(try await server.store.comment(id: id)?.status == .approved)
            #expect(try await server.store.moderationLog(commentID: id, limit: 1).first?.action == "approve")

            let restore = spam.replacingOccurrences(of: "/spam?", with: "/restore?")
            #expect(try await server.client.send("POST", restore).status == 404)
            #expect(try await server.client.get(restore).status == 404)
        }
    }

    @Test func tamperedExpiredAndRotatedLinks() async throws {
        try await withMailingServer { server, sink in
            try await setMode(server, .all)
            let posted = try await server.post(["site": "default", "uri": "/links/", "text": "a held comment", "ts": try await formTimestamp(server)])
            let id = try #require(posted.json.int("id"))
            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(20)).first)
            let reject = try link("reject", in: mail.body)
            let delete = try link("delete", in: mail.body)
            let spam = try link("spam", in: mail.body)

            func replacing(_ name: String, in path: String, with value: String) -> String {
                path.replacingOccurrences(of: #"\#(name)=[^&]*"#, with: "\(name)=\(value)", options: .regularExpression)
            }
            let tampered = [
                replacing("sig", in: reject, with: "AAAA"), replacing("exp", in: reject, with: "99999999999999"),
                replacing("nonce", in: reject, with: "abcdefghijklmnopqrstuvwx"), replacing("kid", in: reject, with: "nokey"),
                replacing("site", in: reject, with: "other"), reject.replacingOccurrences(of: "/\(id)/", with: "/\(id + 1)/"),
                reject.replacingOccurrences(of: "/reject?", with: "/approve?"), String(reject.prefix { $0 != "?" }),
            ]
            for path in tampered {
                #expect(try await server.client.get(path).status == 403, "\(path)")
                #expect(try await server.client.send("POST", path).status == 403, "\(path)")
            }
            #expect(try await server.client.get(reject.replacingOccurrences(of: "/reject?", with: "/promote?")).status == 404)

            // A rotated key signs new links; links signed before keep working until they expire.
            try await server.store.addSigningKey(LinkSigner.makeKey(random: SystemRandom(), at: server.clock.nowMillis()))
            #expect(try await server.client.get(spam).status == 200)

            server.clock.advance(seconds: 8 * 86_400)
            #expect(try await server.client.get(delete).status == 410)
            #expect(try await server.client.send("POST", delete).status == 410)
            #expect(try await server.store.comment(id: Int64(id))?.status == .pending)
        }
    }

    @Test func spamIsAnswered202NeverShownNeverMailed() async throws {
        try await withMailingServer { server, _ in
            let posted = try await server.post(["site": "default", "uri": "/spam/", "text": "great post", "hp": "http://casino.example", "ts": try await formTimestamp(server)])
            #expect(posted.status == 202)
            #expect(posted.json["status"] as? String == "pending")
            let id = try #require(posted.json.int("id"))
            let stored = try #require(try await server.store.comment(id: Int64(id)))
            #expect(stored.status == .spam)
            #expect(stored.spamScore >= 9)
            #expect(stored.spamReasons.contains { $0.contains("honeypot") })
            #expect(try await server.thread("/spam/").comments.isEmpty)
            #expect(try await server.store.outbox(limit: 10).isEmpty)
            #expect(try await server.store.moderationLog(commentID: stored.id, limit: 5).first?.actor == .spamFilter)
        }
    }

    @Test(arguments: [ModerationMode.none, .auto])
    func ordinaryNonLatinCommentsFromNewAuthorsArePublished(mode: ModerationMode) async throws {
        try await TestServer.with { server in
            try await setMode(server, mode)
            let texts = [
                "좋은 글 감사합니다. 덕분에 텐서플로우 설치 문제를 해결했어요!",
                "这篇文章写得很好，解决了我的问题，谢谢分享。",
                "Спасибо за статью, очень помогло разобраться с настройкой.",
                "ありがとうございます。とても参考になりました。",
            ]
            for (index, text) in texts.enumerated() {
                let posted = try await server.post(["site": "default", "uri": "/intl/", "text": text, "author": "독자\(index)",
                                                    "ts": try await formTimestamp(server)])
                #expect(posted.status == 201, "\(mode): \(text) → \(posted.text)")
            }
        }
    }

    @Test func editsAreScoredAgain() async throws {
        try await TestServer.with { server in
            let posted = try await server.post(["site": "default", "uri": "/edit/", "text": "Nice article!", "ts": try await formTimestamp(server)])
            #expect(posted.status == 201)
            let id = try #require(posted.json.int("id"))
            let token = try #require(posted.json["edit_token"] as? String)
            let links = (1...5).map { "https://cheap-pills-\($0).example/buy" }.joined(separator: " ")
            let edited = try await server.client.postJSON("/api/v1/comments/\(id)", ["text": "Nice article! \(links)"], method: "PATCH",
                                                           headers: [("Authorization", "Bearer \(token)")])
            #expect(edited.status == 200)
            #expect(edited.json["status"] as? String == "pending")
            #expect(try await server.thread("/edit/").comments.isEmpty)
            let stored = try #require(try await server.store.comment(id: Int64(id)))
            #expect(stored.spamReasons.contains { $0.contains("5 links") })
        }
    }

    @Test func rateLimitsAnswer429WithRetryAfter() async throws {
        try await TestServer.with(configure: { $0.rateLimit = .standard }) { server in
            for index in 1...3 {
                #expect(try await server.post(["site": "default", "uri": "/rate/", "text": "comment number \(index)"]).status == 201)
            }
            let limited = try await server.post(["site": "default", "uri": "/rate/", "text": "one too many"])
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            let retry = try #require(limited.header("Retry-After").flatMap(Int.init))
            #expect(retry >= 1 && retry <= 60)
            server.clock.advance(seconds: Int64(retry))
            #expect(try await server.post(["site": "default", "uri": "/rate/", "text": "after waiting"]).status == 201)

            // A site can lift the limit (imports, load tests).
            var site = try #require(try await server.store.site(id: "default"))
            site.rateLimit = .off
            try await server.store.updateSite(site)
            for index in 1...10 {
                #expect(try await server.post(["site": "default", "uri": "/rate/", "text": "unlimited \(index)"]).status == 201)
            }
        }
    }

    @Test func blocklistedAddressesAre403() async throws {
        try await TestServer.with { server in
            try await server.store.addBlock(BlockEntry(kind: .ip, value: "127.0.0.0/8", createdAt: 1))
            let refused = try await server.post(["site": "default", "uri": "/blocked/", "text": "hello"])
            #expect(refused.status == 403)
            #expect(refused.errorCode == "blocked")
            #expect(try await server.store.commentCount(siteID: "default") == 0)
            #expect(try await server.store.removeBlock(kind: .ip, value: "127.0.0.0/8", siteID: nil))
            let again = try await server.post(["site": "default", "uri": "/blocked/", "text": "hello"])
            #expect(again.status == 201, "\(again.text)")
        }
    }

    @Test func repliesAreMailedToSubscribersWhoCanUnsubscribe() async throws {
        try await withMailingServer { server, sink in
            let parent = try await server.post(["site": "default", "uri": "/notify/", "title": "Notify", "author": "Ada",
                                                "email": "ada@example.org", "notify": true, "text": "Tell me about replies", "ts": try await formTimestamp(server)])
            #expect(parent.status == 201)
            let parentID = try #require(parent.json.int("id"))
            // Mail about replies waits for the address to confirm (see ReplyConsentFlowTests).
            _ = try await confirmFromMail(server, sink)
            let reply = try await server.post(["site": "default", "uri": "/notify/", "parent": parentID, "author": "Bob",
                                               "text": "Here is a reply", "ts": try await formTimestamp(server)])
            #expect(reply.status == 201)
            let mail = try #require(try await sink.waitForMessages(count: 2, timeout: .seconds(20)).first { $0.subject.contains("New reply") })
            #expect(mail.recipients == ["ada@example.org"])
            #expect(mail.body.contains("Bob replied"))
            #expect(mail.body.contains("Here is a reply"))
            let unsubscribe = try link("unsubscribe", in: mail.body)
            #expect(mail.header("List-Unsubscribe")?.contains(unsubscribe) == true)
            #expect(mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")

            #expect(try await server.client.get(unsubscribe).status == 200)
            #expect(try await server.store.comment(id: Int64(parentID))?.notify == true)
            let oneClick = try await server.client.send("POST", unsubscribe, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                       body: Array("List-Unsubscribe=One-Click".utf8))
            #expect(oneClick.status == 200)
            #expect(try await server.store.comment(id: Int64(parentID))?.notify == false)

            _ = try await server.post(["site": "default", "uri": "/notify/", "parent": parentID, "text": "Another reply", "ts": try await formTimestamp(server)])
            #expect(try await server.store.outbox(limit: 10).map(\.kind) == [.reply, .confirmation])
        }
    }

    @Test func mailWaitsWhileTheSMTPServerIsDown() async throws {
        try await withMailingServer { server, sink in
            sink.stop()
            try await setMode(server, .all)
            _ = try await server.post(["site": "default", "uri": "/down/", "text": "held while mail is down", "ts": try await formTimestamp(server)])
            var failedOnce = false
            for _ in 0..<200 where !failedOnce {
                failedOnce = try await server.store.outbox(limit: 1).first.map { $0.attempts >= 1 && $0.lastError != nil } ?? false
                if !failedOnce { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(failedOnce)
            #expect(try await server.store.outbox(limit: 1).first?.sentAt == nil)
            try await sink.start()
            server.clock.advance(seconds: 3600)
            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(20)).first)
            #expect(mail.body.contains("held while mail is down"))
            // The sink has the mail a moment before the sender records the delivery.
            var recorded = false
            for _ in 0..<200 where !recorded {
                recorded = try await server.store.outbox(limit: 1).first?.sentAt != nil
                if !recorded { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(recorded)
        }
    }
}
