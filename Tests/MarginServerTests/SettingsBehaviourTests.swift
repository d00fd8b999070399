import Foundation
import TestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The settings of `margin serve` that no other test sets and observes: each one given as a flag,
/// a `MARGIN_*` variable or a key of the `--config` file to the real built binary, on a real SQLite
/// file, and its effect seen from outside (HTTP answers, mail in a real SMTP server, the log).
/// `SettingsCoverageTests` holds every setting of the catalogue to having a test like these.
@Suite struct SettingsBehaviourTests {
    // MARK: Running the binary

    /// One `margin serve` started for a test, with its own folder (database, configuration file,
    /// log) and port.
    struct Margin {
        /// The folder holding the database, the configuration file and the log.
        let directory: Scratch
        /// The running process.
        let server: ServeProcess

        /// A client for the server's port.
        var client: HTTPClient { server.client }
        /// The port it listens on.
        var port: Int { server.port }
        /// The SQLite file it serves.
        var database: String { directory.path("margin.sqlite") }

        /// Posts a comment as JSON, without a form timestamp (1.5 spam points, held by nothing
        /// unless a test lowers the hold score).
        func post(_ text: String, uri: String = "/post/") async throws -> HTTPResult {
            try await client.postJSON("/api/v1/comments", ["site": "default", "uri": uri, "text": text])
        }

        /// `margin moderate show ID --json` on the server's database: the stored status, score
        /// and reasons.
        func stored(_ id: Int) async throws -> [String: Any] {
            let shown = try await CLI.run(["moderate", "show", String(id), "--json", "--db", database])
            guard shown.status == 0, let object = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any] else {
                throw TestFailure("moderate show \(id) failed (\(shown.status)): \(shown.stdout)")
            }
            return object
        }

        /// Waits (bounded) until the log contains `text`; whether it did.
        func waitForLog(_ text: String, timeout: Duration = .seconds(30)) async throws -> Bool {
            try await server.waitForLog(text, timeout: timeout)
        }
    }

    /// Runs `body` against `margin serve` with `arguments` (a free `--port` and a fresh `--db` are
    /// added), `configuration` written to a file passed as `--config`, and `environment` added to
    /// the test's own; `prepare` gets the database path before the server starts. The server is
    /// stopped with SIGTERM and its folder removed afterwards.
    static func withMargin<T>(
        _ arguments: [String] = [],
        configuration: String? = nil,
        environment: [String: String] = [:],
        prepare: (String) async throws -> Void = { _ in },
        _ body: (Margin) async throws -> T
    ) async throws -> T {
        let directory = try Scratch()
        defer { directory.remove() }
        let database = directory.path("margin.sqlite")
        try await prepare(database)
        var extra: [String] = []
        if let configuration {
            let file = directory.path("margin.toml")
            try configuration.write(toFile: file, atomically: true, encoding: .utf8)
            extra = ["--config", file]
        }
        let port = try freePort()
        let server = try await ServeProcess(
            arguments: ["serve", "--port", String(port), "--db", database] + extra + arguments, port: port,
            environment: environment)
        defer { server.stop() }
        let result = try await body(Margin(directory: directory, server: server))
        try await server.terminate()
        return result
    }

    /// Unix milliseconds now, on the clock the server reads too.
    static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// The `/moderate/…/ACTION?…` link in a mail body, with whatever precedes the path.
    static func moderationLink(_ action: String, in body: String) throws -> String {
        let range = try #require(body.range(of: #"\S+/moderate/\d+/\#(action)\?\S+"#, options: .regularExpression),
                                 "no \(action) link in:\n\(body)")
        return String(body[range])
    }

    /// The value of query parameter `name` in `link`.
    static func query(_ name: String, of link: String) -> String? {
        URLComponents(string: link)?.queryItems?.first { $0.name == name }?.value
    }

    /// The arguments that send mail to `sink` in plain text, to one moderator, about every comment.
    static func mailArguments(_ sink: SMTPSink, security: String = "none") -> [String] {
        ["--smtp-host", "127.0.0.1", "--smtp-port", String(sink.port), "--smtp-security", security,
         "--moderator", "moderator@example.org", "--notify-all"]
    }

    // MARK: Comments and spam

    /// `--edit-window`: with 0 an author's edit or delete right after posting is refused 403
    /// `edit_window_closed`; with an hour (`edit_window` in the file) both work; `editable_until`
    /// and the widget's config carry the window.
    @Test func theEditWindowDecidesWhetherAuthorsMayStillEditOrDelete() async throws {
        for (arguments, file, seconds) in [(["--edit-window", "0"], nil, 0), ([], "edit_window = 3600\n", 3600)] {
            try await Self.withMargin(arguments, configuration: file) { margin in
                // Given a comment just posted
                let config = try await margin.client.get("/api/v1/config?site=default")
                #expect(config.json.int("edit_window_seconds") == seconds)
                let posted = try await margin.post("words to take back")
                #expect(posted.status == 201, "\(posted.text)")
                let id = try #require(posted.json.int("id"))
                let token = try #require(posted.json["edit_token"] as? String)
                let created = try #require((posted.json["created"] as? NSNumber)?.int64Value)
                let until = try #require((posted.json["editable_until"] as? NSNumber)?.int64Value)
                #expect(until - created == Int64(seconds) * 1000)
                // The server's clock has moved past the creation millisecond (a window of 0 is over).
                for _ in 0..<100 where Self.nowMillis() <= created + 1 { try await Task.sleep(for: .milliseconds(10)) }

                // When the author edits, then deletes
                let auth = [("Authorization", "Bearer \(token)")]
                let edit = try await margin.client.postJSON("/api/v1/comments/\(id)", ["text": "second thoughts"], method: "PATCH", headers: auth)
                let delete = try await margin.client.send("DELETE", "/api/v1/comments/\(id)", headers: auth)

                // Then only the open window allows it
                let thread = try await margin.client.get("/api/v1/comments?site=default&uri=/post/").json
                if seconds == 0 {
                    #expect(edit.status == 403, "\(edit.text)")
                    #expect(edit.errorCode == "edit_window_closed")
                    #expect(delete.status == 403, "\(delete.text)")
                    #expect(delete.errorCode == "edit_window_closed")
                    #expect(thread.comments.first?["html"] as? String == "<p>words to take back</p>")
                } else {
                    #expect(edit.status == 200, "\(edit.text)")
                    #expect(edit.json["text"] as? String == "second thoughts")
                    #expect((edit.json["editable_until"] as? NSNumber)?.int64Value == until)
                    #expect(delete.status == 200, "\(delete.text)")
                    #expect(thread.comments.isEmpty)
                }
            }
        }
    }

    /// A Disqus export of `threads` (page path and creation time), each holding one comment as old.
    static func disqusExport(_ threads: [(uri: String, created: Date)]) -> String {
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">

            """
        for (index, thread) in threads.enumerated() {
            let date = ISO8601DateFormatter().string(from: thread.created)
            xml += """
                  <thread dsq:id="t\(index)">
                    <link>http://localhost\(thread.uri)</link>
                    <title>An old post</title>
                    <createdAt>\(date)</createdAt>
                  </thread>
                  <post dsq:id="p\(index)">
                    <message><![CDATA[<p>An imported comment from long ago on \(thread.uri).</p>]]></message>
                    <createdAt>\(date)</createdAt>
                    <isDeleted>false</isDeleted>
                    <isSpam>false</isSpam>
                    <author><name>Old reader</name></author>
                    <thread dsq:id="t\(index)"/>
                  </post>

                """
        }
        return xml + "</disqus>\n"
    }

    /// `spam.old_thread_days`: comments on a thread 30 days old and one 400 days old (each and an
    /// hour), imported with the real CLI, at a hold score of 3 (a comment without a form timestamp
    /// scores 1.5, an old thread 2 more). With 30 (the file) both are held and say how old their
    /// thread is; with 31 (the variable) only the 400-day one; with 0 (the flag: the rule off)
    /// neither, though the default (180) would hold the 400-day one. A new thread never counts.
    @Test func commentsOnThreadsOlderThanTheSettingAreDoubtful() async throws {
        let aged = Date(timeIntervalSinceNow: -(30 * 86_400 + 3_600))
        let ancient = Date(timeIntervalSinceNow: -(400 * 86_400 + 3_600))
        /// Imports the threads `/aged/` and `/ancient/` into a fresh database.
        func importOldThreads(_ database: String) async throws {
            let file = database + ".disqus.xml"
            try Self.disqusExport([("/aged/", aged), ("/ancient/", ancient)]).write(toFile: file, atomically: true, encoding: .utf8)
            let imported = try await CLI.run(["import", "disqus", file, "--db", database])
            try #require(imported.status == 0, "import failed: \(imported.stdout)")
        }
        let hold = ["--spam-hold", "3", "--rate-limit", "off"]
        let cases: [(arguments: [String], file: String?, environment: [String: String], heldDays: [Int])] = [
            ([], "rate_limit = \"off\"\n[spam]\nold_thread_days = 30\nhold = 3\n", [:], [30, 400]),
            (hold, nil, ["MARGIN_OLD_THREAD_DAYS": "31"], [400]),
            (hold + ["--old-thread-days", "0"], nil, [:], []),
        ]
        for (arguments, file, environment, heldDays) in cases {
            try await Self.withMargin(arguments, configuration: file, environment: environment, prepare: importOldThreads) { margin in
                // Given the two old threads and a new one, when the same kind of comment goes to each
                let fresh = try await margin.post("A first thought on a new post.", uri: "/fresh/")
                #expect(fresh.status == 201, "\(fresh.text)")
                for (uri, days) in [("/aged/", 30), ("/ancient/", 400)] {
                    let posted = try await margin.post("A late thought on this \(days)-day-old post.", uri: uri)
                    let stored = try await margin.stored(try #require(posted.json.int("id"), "\(posted.text)"))
                    let reasons = stored["reasons"] as? [String] ?? []
                    let score = (stored["score"] as? NSNumber)?.doubleValue ?? -1

                    // Then only threads of at least old_thread_days days (the rule on) make it doubtful
                    let context = "\(arguments) \(file ?? "") \(environment), \(uri): \(stored)"
                    if heldDays.contains(days) {
                        #expect(posted.status == 202, "\(context)")
                        #expect(stored["status"] as? String == "pending", "\(context)")
                        #expect(reasons.contains { $0.contains("the thread is \(days) days old") }, "\(context)")
                        #expect(score == 3.5, "\(context)")
                    } else {
                        #expect(posted.status == 201, "\(context)")
                        #expect(stored["status"] as? String == "approved", "\(context)")
                        #expect(!reasons.contains { $0.contains("days old") }, "\(context)")
                        #expect(score == 1.5, "\(context)")
                    }
                }
            }
        }
    }

    /// `spam.hold` and `spam.threshold` (as `MARGIN_*` variables): at 1 and 2, a comment without
    /// a form timestamp (1.5 points) is held, and one that adds a link (2.5) is spam; at the
    /// defaults both are published.
    @Test func theSpamScoresDecideHeldAndSpam() async throws {
        for environment in [["MARGIN_SPAM_HOLD": "1", "MARGIN_SPAM_THRESHOLD": "2"], [:]] {
            try await Self.withMargin(environment: environment) { margin in
                // When a plain comment and one with a link are posted without the widget's timestamp
                let plain = try await margin.post("A plain comment without a form timestamp.")
                let linked = try await margin.post("A comment with a link: https://example.org/page")
                let plainStored = try await margin.stored(try #require(plain.json.int("id")))
                let linkedStored = try await margin.stored(try #require(linked.json.int("id")))

                // Then the scores put them in their place
                if environment.isEmpty {
                    #expect(plain.status == 201 && linked.status == 201, "\(plain.text) \(linked.text)")
                    #expect(plainStored["status"] as? String == "approved")
                    #expect(linkedStored["status"] as? String == "approved")
                } else {
                    #expect(plain.status == 202 && linked.status == 202, "\(plain.text) \(linked.text)")
                    #expect(plainStored["status"] as? String == "pending", "\(plainStored)")
                    #expect(linkedStored["status"] as? String == "spam", "\(linkedStored)")
                }
            }
        }
    }

    /// `new_threads_per_hour` (`--new-threads-per-hour 2`): one client starts two new threads, the
    /// third first comment on a new page is refused 429 `too_many_new_threads` (and the page gets
    /// no thread), while a comment on an existing thread is taken. With `0` a client starts twelve
    /// (the default, 10, would refuse the eleventh).
    @Test func aClientStartsOnlySoManyThreadsAnHour() async throws {
        // A posting limit that holds no one back here (without one, sites get no thread limit either).
        try await Self.withMargin(["--new-threads-per-hour", "2", "--rate-limit", "100/min"]) { margin in
            // When one client comments first on three pages
            let first = try await margin.post("The first word on page a.", uri: "/a/")
            let second = try await margin.post("The first word on page b.", uri: "/b/")
            let third = try await margin.post("The first word on page c.", uri: "/c/")

            // Then the third page is refused, and the existing threads still take comments
            #expect(first.status == 201 && second.status == 201, "\(first.text) \(second.text)")
            #expect(third.status == 429, "\(third.text)")
            #expect(third.errorCode == "too_many_new_threads")
            let page = try await margin.client.get("/api/v1/comments?site=default&uri=/c/")
            #expect(page.json.comments.isEmpty && page.json.int("total") == 0, "\(page.text)")
            #expect(try await margin.post("A second word on page a.", uri: "/a/").status == 201)
        }
        try await Self.withMargin(["--new-threads-per-hour", "0", "--rate-limit", "100/min"]) { margin in
            var statuses: [Int] = []
            for index in 0..<12 { statuses.append(try await margin.post("The first word on page \(index).", uri: "/page-\(index)/").status) }
            #expect(statuses == Array(repeating: 201, count: 12))
        }
    }

    /// `vote_rate_limit` (as `MARGIN_VOTE_RATE_LIMIT`, 3/min): a client's fourth vote in a minute
    /// is refused 429 `rate_limited` with a `Retry-After` (the default, 30/min, would take it).
    @Test func votesHaveTheirOwnRateLimit() async throws {
        try await Self.withMargin(["--rate-limit", "off"], environment: ["MARGIN_VOTE_RATE_LIMIT": "3/min"]) { margin in
            // Given two comments
            var ids: [Int] = []
            for text in ["A comment to like.", "Another comment to like."] {
                ids.append(try #require(try await margin.post(text).json.int("id")))
            }

            // When one client votes four times
            var statuses: [Int] = []
            var last: HTTPResult?
            for index in 0..<4 {
                last = try await margin.client.postJSON("/api/v1/comments/\(ids[index % 2])/vote", ["value": index < 2 ? 1 : -1])
                statuses.append(last?.status ?? 0)
            }

            // Then the fourth waits
            #expect(statuses == [200, 200, 200, 429], "\(last?.text ?? "")")
            #expect(last?.errorCode == "rate_limited")
            #expect(Int(last?.header("Retry-After") ?? "") ?? 0 >= 1)
        }
    }

    // MARK: Mail

    /// `public_url` and `mail.from` (and the whole mail setup) from the file: the moderation
    /// links in the mail start with the public URL (its trailing slash dropped) and still work on
    /// the server; the mail comes from the configured address; the feed names itself by it too.
    @Test func mailLinksAndTheFeedUseThePublicURLAndMailFrom() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        let file = """
            public_url = "https://comments.example.test/"
            rate_limit = "off"

            [smtp]
            host = "127.0.0.1"
            port = \(sink.port)
            security = "none"

            [mail]
            from = "notices@example.test"
            moderators = ["moderator@example.org"]
            notify_all = true
            """
        try await Self.withMargin(configuration: file) { margin in
            // When a comment is posted
            #expect(try await margin.post("Tell the moderator about me.").status == 201)

            // Then the moderator's mail links to the public URL, from the configured address
            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(30)).first)
            #expect(mail.recipients == ["moderator@example.org"])
            #expect(mail.mailFrom == "notices@example.test")
            #expect(mail.header("From")?.contains("notices@example.test") == true, "\(mail.headers)")
            for action in ["approve", "reject", "spam", "delete"] {
                let link = try Self.moderationLink(action, in: mail.body)
                #expect(link.hasPrefix("https://comments.example.test/moderate/"), "\(link)")
            }
            #expect(!mail.body.contains("127.0.0.1:\(margin.port)"), "\(mail.body)")
            // The path behind the public URL is this server's, and the link is valid on it.
            let approve = try Self.moderationLink("approve", in: mail.body)
            let path = String(approve.dropFirst("https://comments.example.test".count))
            #expect(try await margin.client.get(path).status == 200)

            let feed = try await margin.client.get("/api/v1/feed.atom?site=default")
            #expect(feed.status == 200)
            #expect(feed.text.contains("https://comments.example.test/api/v1/feed.atom?site=default"), "\(feed.text)")
            #expect(!feed.text.contains("127.0.0.1:\(margin.port)"), "\(feed.text)")
        }
    }

    /// `mail.link_days` (as `MARGIN_LINK_DAYS`): the signed links in a moderator's mail expire that
    /// many days after the mail was made (`exp`), the mail says so, and the link works now.
    @Test func moderationLinksExpireAfterTheLinkDays() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        try await Self.withMargin(Self.mailArguments(sink), environment: ["MARGIN_LINK_DAYS": "2"]) { margin in
            // When a comment is posted between `before` and `after`
            let before = Self.nowMillis()
            #expect(try await margin.post("A comment whose links expire soon.").status == 201)
            let after = Self.nowMillis()

            // Then its moderation links expire two days on
            let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(30)).first)
            #expect(mail.body.contains("expire in 2 day(s)"), "\(mail.body)")
            for action in ["approve", "reject", "spam", "delete"] {
                let link = try Self.moderationLink(action, in: mail.body)
                let expires = try #require(Self.query("exp", of: link).flatMap { Int64($0) }, "\(link)")
                let twoDays: Int64 = 2 * 86_400_000
                #expect(expires >= before + twoDays - 1000 && expires <= after + twoDays + 1000,
                        "exp \(expires) is not two days after \(before)…\(after)")
            }
            let link = try Self.moderationLink("approve", in: mail.body)
            let origin = "http://127.0.0.1:\(margin.port)"
            #expect(link.hasPrefix(origin + "/moderate/"), "\(link)")
            #expect(try await margin.client.get(String(link.dropFirst(origin.count))).status == 200)
        }
    }

    /// `mail.max_per_recipient_per_day` from the file (1): a reader who asks for replies on two
    /// sites with one address gets the first site's confirmation mail and not the second's (the
    /// default, 10, would send both); the moderators' mail about both comments still goes out.
    @Test func readerMailIsCappedPerAddressAndDay() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        let file = """
            rate_limit = "off"

            [smtp]
            host = "127.0.0.1"
            port = \(sink.port)
            security = "none"

            [mail]
            moderators = ["moderator@example.org"]
            notify_all = true
            max_per_recipient_per_day = 1
            """
        /// Two sites that take comments from this machine.
        func addSites(_ database: String) async throws {
            for site in ["first", "second"] {
                let added = try await CLI.run(["sites", "add", site, "--origin", "http://127.0.0.1:*", "--moderation", "none", "--db", database])
                try #require(added.status == 0, "sites add \(site): \(added.stdout)")
            }
        }
        try await Self.withMargin(configuration: file, prepare: addSites) { margin in
            // When one reader comments on both sites and asks to hear of replies
            for site in ["first", "second"] {
                let posted = try await margin.client.postJSON("/api/v1/comments", [
                    "site": site, "uri": "/post/", "text": "Tell me about replies on \(site).", "email": "reader@example.org", "notify": true,
                ])
                #expect(posted.status == 201, "\(posted.text)")
            }

            // Then, once the outbox is empty, the moderator has both mails and the reader one
            _ = try await sink.waitForMessages(count: 3, timeout: .seconds(30))
            let emptied = try await eventually(timeout: .seconds(30), every: .milliseconds(50)) {
                let samples = try ObservabilityTests.parse(try await margin.client.get("/metrics").text)
                return ObservabilityTests.value(samples, "margin_mail_outbox_pending") == 0
            }
            #expect(emptied, "mail still waiting in the outbox")
            let mails = try sink.messages()
            #expect(mails.filter { $0.recipients == ["moderator@example.org"] }.count == 2)
            let toReader = mails.filter { $0.recipients == ["reader@example.org"] }
            #expect(toReader.count == 1, "\(toReader.map(\.subject))")
            #expect(toReader.first?.subject.contains("Confirm reply notifications") == true, "\(toReader.map(\.subject))")
        }
    }

    /// `smtp.insecure`: with an SMTP server on implicit TLS with a self-signed certificate, mail is
    /// delivered (over TLS) only with `--smtp-insecure`; without it the certificate is refused and
    /// the mail stays undelivered.
    @Test func onlySMTPInsecureAcceptsASelfSignedCertificate() async throws {
        for insecure in [false, true] {
            let sink = try await SMTPSink.started(.init(tls: .implicit))
            defer { sink.close() }
            let arguments = Self.mailArguments(sink, security: "tls") + (insecure ? ["--smtp-insecure"] : [])
            try await Self.withMargin(arguments) { margin in
                // When a comment causes a moderator's mail
                #expect(try await margin.post("Mail me over TLS (\(insecure)).").status == 201)

                // Then it arrives only when any certificate is accepted
                if insecure {
                    let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(30)).first)
                    #expect(mail.usedTLS)
                    #expect(mail.recipients == ["moderator@example.org"])
                } else {
                    #expect(try await margin.waitForLog("not delivered"), "no failed delivery was logged:\n\(margin.server.log)")
                    #expect(try sink.messages().isEmpty)
                    #expect(margin.server.log.lowercased().contains("certificate"), "\(margin.server.log)")
                }
            }
        }
    }

    /// `smtp.password` (only as `MARGIN_SMTP_PASSWORD`): an SMTP server that demands a login gets
    /// the variable's password; with the right one the mail arrives as that user, with a wrong one
    /// it does not.
    @Test func theSMTPPasswordComesFromTheEnvironment() async throws {
        for (password, delivered) in [("right-horse-battery", true), ("wrong-horse-battery", false)] {
            let sink = try await SMTPSink.started(.init(requiredLogin: (username: "margin-mailer", password: "right-horse-battery")))
            defer { sink.close() }
            let arguments = Self.mailArguments(sink) + ["--smtp-user", "margin-mailer"]
            try await Self.withMargin(arguments, environment: ["MARGIN_SMTP_PASSWORD": password]) { margin in
                // When a comment causes a moderator's mail
                #expect(try await margin.post("A comment that logs in (\(password)).").status == 201)

                // Then only the right password gets it through
                if delivered {
                    let mail = try #require(try await sink.waitForMessages(count: 1, timeout: .seconds(30)).first)
                    #expect(mail.authenticatedUser == "margin-mailer")
                } else {
                    #expect(try await margin.waitForLog("not delivered"), "no failed delivery was logged:\n\(margin.server.log)")
                    #expect(try sink.messages().isEmpty)
                    #expect(margin.server.log.contains("535"), "the refusal of the login is not in the log:\n\(margin.server.log)")
                }
            }
        }
    }

    // MARK: Logging and listening

    /// `log.level` from the file: at `notice` the server logs that it serves and stops but not
    /// one line per request; at the default (`info`) it does log requests.
    @Test func theLogLevelFromTheFileSilencesRequestLines() async throws {
        for level in ["notice", nil] {
            let file = level.map { "[log]\nlevel = \"\($0)\"\n" }
            let log = try await Self.withMargin(configuration: file) { margin in
                // When requests are answered
                for _ in 0..<3 { #expect(try await margin.client.get("/api/v1/comments?site=default&uri=/logged/").status == 200) }
                try await margin.server.terminate()
                return margin.server.log
            }
            // Then their lines are there only at info
            let requestLines = log.split(separator: "\n").filter { $0.contains(" msg=request ") }
            #expect(log.contains("Margin is serving"), "\(log)")
            #expect(log.contains("Margin stopped"), "\(log)")
            if level == nil {
                #expect(requestLines.count >= 3, "\(log)")
            } else {
                #expect(requestLines.isEmpty, "\(log)")
                #expect(!log.contains("level=info"), "\(log)")
            }
        }
    }

    /// `host` (as `MARGIN_HOST`): a server told to listen on 127.0.0.2 answers there and not on
    /// 127.0.0.1, and its default public URL (the feed's own link) names that address.
    @Test func theServerListensOnTheConfiguredHost() async throws {
        let directory = try Scratch()
        defer { directory.remove() }
        let port = try freePort()
        // Given `margin serve` on 127.0.0.2, which answers /healthz there (or the start fails)
        let server = try await ServeProcess(
            arguments: ["serve", "--port", String(port), "--db", directory.database], port: port, host: "127.0.0.2",
            environment: ["MARGIN_HOST": "127.0.0.2"])
        defer { server.stop() }

        // Then it answers on that address only
        #expect(await HTTP.send("GET", host: "127.0.0.1", port: port, path: "/healthz") == nil)
        var feed = URLRequest(url: URL(string: "http://127.0.0.2:\(port)/api/v1/feed.atom?site=default")!)
        feed.timeoutInterval = 5
        let (data, _) = try await URLSession.shared.data(for: feed)
        #expect(String(decoding: data, as: UTF8.self).contains("http://127.0.0.2:\(port)/api/v1/feed.atom?site=default"))
        server.signal(SIGTERM)
        #expect(try await server.waitForExit(timeout: .seconds(10)) != nil)
    }

    // MARK: Request limits

    /// `limits.max_body` (`--max-body 2048`): a 3000-byte comment is refused 413 `body_too_large`,
    /// a 1500-byte one is taken.
    @Test func bodiesOverMaxBodyAre413() async throws {
        try await Self.withMargin(["--max-body", "2048"]) { margin in
            let big = try await margin.post(String(repeating: "b", count: 3000))
            #expect(big.status == 413, "\(big.text)")
            #expect(big.errorCode == "body_too_large")
            let small = try await margin.post(String(repeating: "s", count: 1500))
            #expect(small.status == 201, "\(small.text)")
        }
    }

    /// `limits.max_headers` from the file (20): a request with 25 header fields is refused 431
    /// `headers_too_large`, one with 15 is answered.
    @Test func requestsWithMoreThanMaxHeadersFieldsAre431() async throws {
        try await Self.withMargin(configuration: "[limits]\nmax_headers = 20\n") { margin in
            // HTTPClient adds Host and Connection.
            let many = try await margin.client.get("/healthz", headers: (0..<25).map { ("X-Field-\($0)", "v") })
            #expect(many.status == 431, "\(many.text)")
            #expect(many.errorCode == "headers_too_large")
            let fewer = try await margin.client.get("/healthz", headers: (0..<15).map { ("X-Field-\($0)", "v") })
            #expect(fewer.status == 200, "\(fewer.text)")
        }
    }

    /// `limits.max_header_bytes` (as `MARGIN_MAX_HEADER_BYTES`, 2048): a request whose head has a
    /// 3000-byte field is refused 431 `headers_too_large`, one with a 1000-byte field is answered.
    @Test func headsOverMaxHeaderBytesAre431() async throws {
        try await Self.withMargin(environment: ["MARGIN_MAX_HEADER_BYTES": "2048"]) { margin in
            let large = try await margin.client.get("/healthz", headers: [("X-Large", String(repeating: "h", count: 3000))])
            #expect(large.status == 431, "\(large.text)")
            #expect(large.errorCode == "headers_too_large")
            let smaller = try await margin.client.get("/healthz", headers: [("X-Large", String(repeating: "h", count: 1000))])
            #expect(smaller.status == 200, "\(smaller.text)")
        }
    }

    /// The settings whose tests measure how soon slow or idle clients are cut off. Their name
    /// holds `AbuseLimitsTests`, so that `scripts/test` runs them with those, after everything else
    /// and on a quiet machine (`--skip AbuseLimitsTests`, then `--filter AbuseLimitsTests`).
    @Suite struct SlowClientAbuseLimitsTests {
        /// `limits.request_timeout` (`--request-timeout 2`): a connection that sends nothing is closed
        /// after about two seconds (well within eight), while at that moment one to a server with
        /// the default (10 s) is still open and served.
        @Test func idleConnectionsAreClosedAfterTheRequestTimeout() async throws {
            try await SettingsBehaviourTests.withMargin(["--request-timeout", "2"]) { short in
                try await SettingsBehaviourTests.withMargin { usual in
                    // Given an idle connection to each
                    let toShort = try RawSocket(port: short.port)
                    let toUsual = try RawSocket(port: usual.port)
                    let opened = ContinuousClock.now

                    // When the short timeout has had time to pass
                    let shortClosed = await toShort.closedWithin(.seconds(20))
                    let waited = ContinuousClock.now - opened

                    // Then only that connection was closed, and not at once
                    #expect(shortClosed, "the idle connection was never closed")
                    #expect(waited >= .milliseconds(1500) && waited < .seconds(8), "closed after \(waited)")
                    #expect(!(await toUsual.closedWithin(.milliseconds(100))), "the default timeout closed an idle connection after \(waited)")
                    toUsual.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                    #expect(String(decoding: await toUsual.read(timeout: .seconds(10)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
                }
            }
        }

        /// Uploads `body` to `/api/v1/preview` in 100-byte pieces 500 ms apart (200 bytes a second);
        /// whether it was answered 200 rather than cut off.
        static func slowUpload(port: Int, body: String) async throws -> Bool {
            let socket = try RawSocket(port: port)
            let bytes = Array(body.utf8)
            var sent = socket.send("POST /api/v1/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                   + "Content-Length: \(bytes.count)\r\nConnection: close\r\n\r\n")
            for start in stride(from: 0, to: bytes.count, by: 100) where sent {
                if start > 0 {
                    // Stop early once the server has hung up.
                    if await socket.closedWithin(.milliseconds(500)) { return false }
                }
                sent = socket.send(String(decoding: bytes[start..<min(start + 100, bytes.count)], as: UTF8.self))
            }
            guard sent else { return false }
            let answer = String(decoding: await socket.read(timeout: .seconds(10), untilClosed: true).bytes, as: UTF8.self)
            return answer.hasPrefix("HTTP/1.1 200")
        }

        /// `limits.min_body_rate`: the same slow upload (200 bytes a second for 7.5 seconds, with a
        /// 3-second request timeout) finishes when each 25 bytes earn a second more, and is cut off
        /// when nothing earns more (`0`). (At the default, 500, it would be cut off after about 5 s.)
        @Test func aSlowUploadFinishesOnlyWhenItsRateEarnsTime() async throws {
            let body = "{\"text\":\"" + String(repeating: "u", count: 1490) + "\"}"
            let base = ["--request-timeout", "3"]
            try await SettingsBehaviourTests.withMargin(base + ["--min-body-rate", "25"]) { earning in
                try await SettingsBehaviourTests.withMargin(base + ["--min-body-rate", "0"]) { strict in
                    // When the same upload trickles to both at once
                    let (earningPort, strictPort) = (earning.port, strict.port)
                    async let earned = Self.slowUpload(port: earningPort, body: body)
                    async let cut = Self.slowUpload(port: strictPort, body: body)
                    let (finished, notCut) = try await (earned, cut)

                    // Then only the rate that earns time lets it finish
                    #expect(finished, "the upload at 200 B/s was cut off with --min-body-rate 25")
                    #expect(!notCut, "the upload was answered with --min-body-rate 0")
                    // Both servers carry on.
                    #expect(try await earning.client.get("/healthz").status == 200)
                    #expect(try await strict.client.get("/healthz").status == 200)
                }
            }
        }

        /// `limits.max_connections_per_ip` (`--max-connections-per-ip 2`): two connections are
        /// served, a third from the same address is closed unanswered, and once one closes another
        /// is let in.
        @Test func connectionsBeyondTheLimitPerAddressAreClosed() async throws {
            // A long request timeout, so the held connections are not closed as idle meanwhile.
            try await SettingsBehaviourTests.withMargin(["--max-connections-per-ip", "2", "--request-timeout", "120"]) { margin in
                let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                // Given two connections held open, each served
                let held = try (0..<2).map { _ in try RawSocket(port: margin.port) }
                for socket in held {
                    socket.send(request)
                    #expect(String(decoding: await socket.read(timeout: .seconds(10)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
                }

                // When a third connects, then one of the two closes
                let third = try RawSocket(port: margin.port)
                third.send(request)
                let refused = await third.read(timeout: .seconds(10), untilClosed: true)
                held[0].close()
                var served = false
                for _ in 0..<100 where !served {
                    let socket = try RawSocket(port: margin.port)
                    socket.send(request)
                    served = String(decoding: await socket.read(timeout: .seconds(2)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200")
                    if !served { try await Task.sleep(for: .milliseconds(100)) }
                }

                // Then the third was closed unanswered, and the freed place was taken
                #expect(refused.closed, "the third connection was not closed")
                #expect(refused.bytes.isEmpty, "the third connection was answered: \(String(decoding: refused.bytes, as: UTF8.self))")
                #expect(served, "no connection was let in after one closed")
                held[1].send(request)
                #expect(String(decoding: await held[1].read(timeout: .seconds(10)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            }
        }
    }
}
