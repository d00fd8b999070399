import Comments
import Foundation
import MarginServer
import Moderation
import TestSupport
import Testing

/// Reply mail only to addresses that asked for it, and trust only for proof: the real server, a
/// real SQLite file and a real SMTP server (aiosmtpd) on 127.0.0.1.
extension ModerationFlowTests {
    static let ada = "ada@example.org"

    /// Ada's comment on `uri` asking for reply mail; returns its id.
    func postAsking(_ server: TestServer, uri: String = "/consent/", text: String = "Tell me about replies", authorKey: String? = nil) async throws -> Int64 {
        var fields: [String: Any] = ["site": "default", "uri": uri, "title": "Consent", "author": "Ada", "email": Self.ada, "notify": true,
                                     "text": text, "ts": try await formTimestamp(server)]
        if let authorKey { fields["author_key"] = authorKey }
        let posted = try await server.post(fields)
        guard posted.status == 201, let id = posted.json.int("id") else { throw TestFailure("expected 201, got \(posted.status): \(posted.text)") }
        return Int64(id)
    }

    /// Bob's published reply to `parent`.
    func reply(_ server: TestServer, to parent: Int64, uri: String = "/consent/", text: String = "Here is a reply") async throws {
        let posted = try await server.post(["site": "default", "uri": uri, "parent": parent, "author": "Bob", "text": text,
                                            "ts": try await formTimestamp(server)])
        guard posted.status == 201 else { throw TestFailure("expected 201, got \(posted.status): \(posted.text)") }
    }

    /// The outbox's mails of one kind, oldest first.
    func queued(_ server: TestServer, _ kind: OutgoingMail.Kind) async throws -> [OutgoingMail] {
        try await server.store.outbox(limit: 100).filter { $0.kind == kind }.reversed()
    }

    /// Waits for the confirmation mail to Ada and presses its button.
    func confirmFromMail(_ server: TestServer, _ sink: SMTPSink) async throws -> String {
        let mails = try await sink.waitForMessages(count: 1, timeout: .seconds(20))
        let mail = try #require(mails.first { $0.subject.contains("Confirm") }, "no confirmation mail")
        #expect(mail.recipients == [Self.ada])
        let confirm = try link("confirm", in: mail.body)
        #expect(try await server.client.send("POST", confirm).status == 200)
        return confirm
    }

    @Test func theConfirmationMailCarriesNoTextAStrangerWrote() async throws {
        try await withMailingServer { server, _ in
            // Given a stranger who starts a page with a title of their own and Ada's address
            let posted = try await server.post([
                "site": "default", "uri": "/phish/", "title": "Your account is locked: verify at https://evil.example/now",
                "text": "Nice post", "email": Self.ada, "notify": true, "ts": try await formTimestamp(server)])
            #expect(posted.status == 201, "\(posted.text)")
            // Then the one mail Ada gets unasked names the blog and its page, never that title
            let confirmation = try #require(try await queued(server, .confirmation).first)
            #expect(confirmation.recipients == [Self.ada])
            #expect(!confirmation.body.contains("evil.example") && !confirmation.subject.contains("evil.example"), "\(confirmation.body)")
            #expect(!confirmation.body.contains("Nice post"))
        }
    }

    @Test func anAddressGetsOneConfirmationMailAndNoReplyMailUntilItConfirms() async throws {
        try await withMailingServer { server, sink in
            // Given Ada asks for reply mail on three comments, and Bob answers each
            var parents: [Int64] = []
            for index in 1...3 {
                parents.append(try await postAsking(server, uri: "/consent-\(index)/", text: "Comment \(index)"))
                try await reply(server, to: parents.last!, uri: "/consent-\(index)/", text: "Bob's reply \(index)")
            }
            // Then she got exactly one mail, the confirmation, and no reply mail is queued
            #expect(try await queued(server, .confirmation).map(\.recipients) == [[Self.ada]])
            #expect(try await queued(server, .reply).isEmpty)
            let mails = try await sink.waitForMessages(count: 1, timeout: .seconds(20))
            #expect(mails.count == 1)
            let confirmation = try #require(mails.first)
            let confirm = try link("confirm", in: confirmation.body)
            // It also carries a way to refuse all mail from this blog
            #expect(confirmation.header("List-Unsubscribe")?.contains(try link("unsubscribe", in: confirmation.body)) == true)
            if case .requested = try await server.store.replyConsent(email: Self.ada, siteID: "default") {} else {
                Issue.record("the address does not await confirmation")
            }

            // When a mail scanner follows the link, nothing changes
            let page = try await server.client.get(confirm)
            #expect(page.status == 200)
            #expect(page.text.contains("<form method=\"post\""))
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            if case .requested = try await server.store.replyConsent(email: Self.ada, siteID: "default") {} else {
                Issue.record("a GET confirmed the address")
            }
            // When she presses the button
            #expect(try await server.client.send("POST", confirm).status == 200)
            #expect(try await server.store.replyConsent(email: Self.ada, siteID: "default") == .confirmed)
            // Then the next reply to any of her comments is mailed to her
            try await reply(server, to: parents[0], uri: "/consent-1/", text: "A reply after confirming")
            let after = try await sink.waitForMessages(count: 2, timeout: .seconds(20))
            let replyMail = try #require(after.first { $0.body.contains("A reply after confirming") })
            #expect(replyMail.recipients == [Self.ada])
            #expect(try await queued(server, .confirmation).count == 1)
        }
    }

    @Test func stoppingEverythingSuppressesTheAddressUntilItConfirmsAgain() async throws {
        try await withMailingServer { server, sink in
            // Given Ada confirmed and got a reply mail
            let parent = try await postAsking(server)
            let confirm = try await confirmFromMail(server, sink)
            try await reply(server, to: parent)
            let mails = try await sink.waitForMessages(count: 2, timeout: .seconds(20))
            let unsubscribe = try link("unsubscribe", in: try #require(mails.first { $0.subject.contains("New reply") }).body)
            // When she opens its unsubscribe link, she may choose this thread or everything
            let page = try await server.client.get(unsubscribe)
            #expect(page.status == 200)
            #expect(page.text.contains("value=\"thread\"") && page.text.contains("value=\"site\""))
            // When she stops everything from this blog
            let stopped = try await server.client.send("POST", unsubscribe, headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                                       body: Array("scope=site".utf8))
            #expect(stopped.status == 200)
            #expect(try await server.store.replyConsent(email: Self.ada, siteID: "default") == .suppressed)
            let outboxBefore = try await server.store.outbox(limit: 100).count
            // When anyone comments with her address and ticks notify, on another thread, and gets replies
            let later = try await postAsking(server, uri: "/consent-later/", text: "Typed by anyone")
            try await reply(server, to: later, uri: "/consent-later/", text: "A reply to the later one")
            try await reply(server, to: parent, text: "A reply to the first one")
            // Then no mail of any kind is queued for her and she stays suppressed
            #expect(try await server.store.outbox(limit: 100).count == outboxBefore)
            #expect(try await server.store.replyConsent(email: Self.ada, siteID: "default") == .suppressed)
            // And the unsubscribe page now offers only to resume
            #expect(try await server.client.get(unsubscribe).text.contains("value=\"resume\""))

            // When she confirms anew (the link we mailed her)
            #expect(try await server.client.send("POST", confirm).status == 200)
            // Then replies reach her again
            try await reply(server, to: later, uri: "/consent-later/", text: "Mailed after confirming anew")
            let again = try await sink.waitForMessages(count: 3, timeout: .seconds(20))
            #expect(again.contains { $0.body.contains("Mailed after confirming anew") && $0.recipients == [Self.ada] })
        }
    }

    @Test func readerMailIsCappedPerRecipientPerDay() async throws {
        // Given a server allowing two reader mails per address and day, set as an operator would
        let settings = try Settings(environment: ["MARGIN_MAIL_MAX_PER_RECIPIENT_PER_DAY": "2"])
        let cap = try ServerSettings.configuration(from: settings).maxMailsPerRecipientPerDay
        #expect(cap == 2)
        try await withMailingServer(configure: { $0.maxMailsPerRecipientPerDay = cap }) { server, sink in
            // And Ada confirmed (her first mail today)
            let parent = try await postAsking(server)
            _ = try await confirmFromMail(server, sink)
            // When Bob replies three times the same day
            for index in 1...3 { try await reply(server, to: parent, text: "Reply \(index)") }
            // Then only the first reply is mailed (confirmation + 1 = the cap)
            #expect(try await queued(server, .reply).map(\.body).map { $0.contains("Reply 1") } == [true])
            // When a day has passed
            server.clock.advance(seconds: 86_400)
            try await reply(server, to: parent, text: "Reply 4")
            // Then mail flows again
            #expect(try await queued(server, .reply).count == 2)
            let mails = try await sink.waitForMessages(count: 3, timeout: .seconds(20))
            #expect(mails.filter { $0.subject.contains("New reply") }.count == 2)
        }
    }

    @Test func trustNeedsTheAuthorKeyNotATypedEmail() async throws {
        try await TestServer.with { server in
            // Given a regular, Ada, with an approved comment sent with her author key
            let key = "ada-key-0123456789abcdefghijklmnopqrstuv"
            _ = try await postAsking(server, uri: "/trust/", text: "An early comment", authorKey: key)
            try await setMode(server, .auto)
            let withLink = "See https://example.net/notes for more"
            // When someone posts with her name and email but not her key, with a link
            let impostor = try await server.post(["site": "default", "uri": "/trust/", "author": "Ada", "email": Self.ada,
                                                  "text": withLink, "ts": try await formTimestamp(server)])
            // Then it is treated as a first-time author's: held, no known-author bonus
            #expect(impostor.status == 202, "\(impostor.text)")
            let heldID = try #require(impostor.json.int("id"))
            let held = try #require(try await server.store.comment(id: Int64(heldID)))
            #expect(held.status == .pending)
            #expect(!held.spamReasons.contains { $0.contains("known-author") }, "\(held.spamReasons)")
            // When Ada posts the same with her key
            let ada = try await server.post(["site": "default", "uri": "/trust/", "author": "Ada", "email": Self.ada,
                                             "text": withLink + " too", "author_key": key, "ts": try await formTimestamp(server)])
            // Then she is trusted
            #expect(ada.status == 201, "\(ada.text)")
            let adaID = try #require(ada.json.int("id"))
            let trusted = try #require(try await server.store.comment(id: Int64(adaID)))
            #expect(trusted.spamReasons.contains { $0.contains("known-author") }, "\(trusted.spamReasons)")
            // And a malformed key is refused in words
            let bad = try await server.post(["site": "default", "uri": "/trust/", "text": "x", "author_key": "short"])
            #expect(bad.status == 422)
            #expect(bad.errorCode == "invalid_author_key")
        }
    }
}
