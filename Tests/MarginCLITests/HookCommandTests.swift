import Foundation
import Testing
import TestSupport

/// `margin hooks`: adding (the secret printed once, private destinations refused by address),
/// listing masked, changing, testing against a real receiver, the deliveries and their retry,
/// removing; and `margin serve`'s `hooks.timeout` and `hooks.first_retry` as a slow receiver
/// meets them.
@Suite struct HookCommandTests {
    /// The JSON a command printed.
    func json(_ result: Program.Result) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(result.stdout.utf8))
    }

    @Test func addListUpdateAndRemove() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        #expect(try await CLI.run(["sites", "add", "news", "--origin", "https://news.example"] + db).status == 0)

        // A private destination is refused by its address unless allowed.
        let refused = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "http://localhost:9/hook"] + db)
        #expect(refused.status == 1 && refused.stderr.contains("localhost") && refused.stderr.contains("--allow-private"), "\(refused.stderr)")
        let metadata = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "http://169.254.169.254/"] + db)
        #expect(metadata.status == 1 && metadata.stderr.contains("169.254.169.254"), "\(metadata.stderr)")
        #expect(try await CLI.run(["hooks", "list"] + db).stdout.contains("No hooks."))

        let added = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "http://127.0.0.1:9/hook", "--site", "news",
                                       "--events", "held,spam", "--allow-private"] + db)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(added.stdout.contains("Added hook 1 \"webhook 127.0.0.1\"") && added.stdout.contains("site 'news'"), "\(added.stdout)")
        let secretLine = try #require(added.stdout.split(separator: "\n").first { $0.hasPrefix("Signing secret (shown once): ") })
        let secret = String(secretLine.dropFirst("Signing secret (shown once): ".count))
        #expect(secret.hasPrefix("whsec_") && secret.count > 30)

        // Mistakes, each named.
        let noTarget = try await CLI.run(["hooks", "add", "--preset", "telegram", "--token", "123:abc"] + db)
        #expect(noTarget.status == 1 && noTarget.stderr.contains("target"), "\(noTarget.stderr)")
        let badEvent = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "https://example.org/", "--events", "held,nope"] + db)
        #expect(badEvent.status != 0 && badEvent.stderr.contains("nope"), "\(badEvent.stderr)")
        let ghost = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "https://example.org/", "--site", "ghost"] + db)
        #expect(ghost.status == 1 && ghost.stderr.contains("No site with id 'ghost'"), "\(ghost.stderr)")

        // A token read from a file, never printed; a chat webhook's URL masked.
        let tokenFile = scratch.path("token")
        try "123456:secret-bot-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        let telegram = try await CLI.run(["hooks", "add", "--preset", "telegram", "--url", "http://127.0.0.1:9", "--target=-1001234",
                                          "--token-file", tokenFile, "--allow-private", "--name", "Team chat"] + db)
        #expect(telegram.status == 0 && !telegram.stdout.contains("secret-bot-token") && !telegram.stdout.contains("Signing secret"),
                "\(telegram.stdout)\(telegram.stderr)")
        #expect(try await CLI.run(["hooks", "add", "--preset", "discord", "--url", "https://discord.com/api/webhooks/1/very-secret"] + db)
            .status == 0)

        let table = try await CLI.run(["hooks", "list"] + db)
        #expect(table.status == 0 && !table.stdout.contains(secret) && !table.stdout.contains("secret-bot-token"))
        #expect(!table.stdout.contains("very-secret") && table.stdout.contains("https://discord.com/…"), "\(table.stdout)")
        #expect(table.stdout.contains("whsec_…" + secret.suffix(4)) && table.stdout.contains("…oken"), "\(table.stdout)")
        let listed = try #require(try json(try await CLI.run(["hooks", "list", "--json", "--site", "news"] + db)) as? [[String: Any]])
        #expect(listed.map { $0["name"] as? String } == ["webhook 127.0.0.1", "Team chat", "discord discord.com"])
        #expect(listed.first?["events"] as? [String] == ["comment.held", "comment.spam"] && listed.first?["site"] as? String == "news")
        #expect(listed[1]["site"] is NSNull && listed[1]["target"] as? String == "-1001234")

        // Changed: only what is given; a rotated secret printed once; taking away
        // --allow-private checks the destination again.
        let updated = try await CLI.run(["hooks", "update", "1", "--all-sites", "--disable", "--trusted", "--events", "all"] + db)
        #expect(updated.status == 0 && updated.stdout.contains("every site") && updated.stdout.contains("disabled,trusted"), "\(updated.stdout)")
        let rotated = try await CLI.run(["hooks", "update", "1", "--rotate-secret"] + db)
        #expect(rotated.status == 0 && rotated.stdout.contains("Signing secret (shown once): whsec_") && !rotated.stdout.contains(secret))
        let withdrawn = try await CLI.run(["hooks", "update", "1", "--no-allow-private"] + db)
        #expect(withdrawn.status == 1 && withdrawn.stderr.contains("127.0.0.1"), "\(withdrawn.stderr)")
        let after = try #require(try json(try await CLI.run(["hooks", "list", "--json"] + db)) as? [[String: Any]])
        #expect(after.first?["site"] is NSNull && after.first?["enabled"] as? Bool == false && after.first?["allow_private"] as? Bool == true)
        #expect(try await CLI.run(["hooks", "update", "1", "--enable", "--disable"] + db).status != 0)
        #expect(try await CLI.run(["hooks", "update", "2", "--rotate-secret"] + db).status == 1)

        #expect(try await CLI.run(["hooks", "remove", "1"] + db).stdout.contains("Removed hook 1."))
        let again = try await CLI.run(["hooks", "remove", "1"] + db)
        #expect(again.status == 1 && again.stderr.contains("No hook with id 1."))
        #expect(try await CLI.run(["hooks", "update", "1", "--enable"] + db).status == 1)
    }

    /// An ntfy topic (its password on ntfy.sh) and a webhook URL's query are masked in the
    /// table, the JSON list and the description of a change; only `add --json` shows the topic.
    @Test func ntfyTopicsAndURLQueriesAreMasked() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let topic = "margin-comments-0123456789abcdef"
        let added = try await CLI.run(["hooks", "add", "--preset", "ntfy", "--url", "http://127.0.0.1:9", "--target", topic,
                                       "--allow-private", "--json"] + db)
        #expect(added.status == 0, "\(added.stderr)")
        #expect((try json(added) as? [String: Any])?["target"] as? String == topic, "\(added.stdout)")
        let webhook = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "http://127.0.0.1:9/in?token=query-secret",
                                         "--allow-private"] + db)
        #expect(webhook.status == 0 && webhook.stdout.contains("http://127.0.0.1:9/in?…") && !webhook.stdout.contains("query-secret"),
                "\(webhook.stdout)")

        let table = try await CLI.run(["hooks", "list"] + db)
        #expect(table.status == 0 && table.stdout.contains("…cdef") && table.stdout.contains("http://127.0.0.1:9/in?…"), "\(table.stdout)")
        #expect(!table.stdout.contains(topic) && !table.stdout.contains("query-secret"), "\(table.stdout)")
        let listed = try await CLI.run(["hooks", "list", "--json"] + db)
        #expect(listed.status == 0 && !listed.stdout.contains(topic) && !listed.stdout.contains("query-secret"), "\(listed.stdout)")
        #expect((try json(listed) as? [[String: Any]])?.first?["target"] as? String == "…cdef")
        let changed = try await CLI.run(["hooks", "update", "1", "--disable"] + db)
        #expect(changed.status == 0 && changed.stdout.contains("(…cdef)") && !changed.stdout.contains(topic), "\(changed.stdout)")
    }

    /// The settings a hook command uses are checked as `margin serve` checks them: an unusable
    /// value stops the command with its origin named, instead of a quiet default.
    @Test func unusableHookSettingsAreRefused() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        #expect(try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", "http://127.0.0.1:9/", "--allow-private"] + db).status == 0)

        let timeout = try await CLI.run(["hooks", "test", "1"] + db, environment: ["MARGIN_HOOKS_TIMEOUT": "0"])
        #expect(timeout.status == 1 && timeout.stderr.contains("MARGIN_HOOKS_TIMEOUT: must be from 1 to 120"), "\(timeout.stderr)")
        let retry = try await CLI.run(["hooks", "list"] + db, environment: ["MARGIN_HOOKS_FIRST_RETRY": "3601"])
        #expect(retry.status == 1 && retry.stderr.contains("MARGIN_HOOKS_FIRST_RETRY: must be from 1 to 3600"), "\(retry.stderr)")
        let config = scratch.path("margin.toml")
        try "[hooks]\ntimeout = 500\n".write(toFile: config, atomically: true, encoding: .utf8)
        let fromFile = try await CLI.run(["hooks", "test", "1", "--config", config] + db)
        #expect(fromFile.status == 1 && fromFile.stderr.contains("line 2") && fromFile.stderr.contains("hooks.timeout"), "\(fromFile.stderr)")
        // margin serve refuses the same values.
        let serve = try await CLI.run(["serve", "--port", "0", "--hooks-first-retry", "3601"] + db, timeout: .seconds(20))
        #expect(serve.status != 0 && serve.stderr.contains("must be from 1 to 3600"), "\(serve.stderr)")
        #expect(try await CLI.run(["hooks", "list"] + db, environment: ["MARGIN_HOOKS_FIRST_RETRY": "3600"]).status == 0)
    }

    /// `test` prints the receiver's status and answer (exit 1 when not delivered); `deliveries`
    /// lists both attempts, and `--retry` queues the failed one again, once.
    @Test func testAndDeliveries() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let receiver = try await HookReceiver.started()
        defer { receiver.close() }
        let db = ["--db", scratch.database]
        let added = try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", receiver.url + "/in", "--allow-private"] + db)
        #expect(added.status == 0, "\(added.stderr)")

        try receiver.answer(status: 200, body: "thanks, got it")
        let delivered = try await CLI.run(["hooks", "test", "1"] + db)
        #expect(delivered.status == 0 && delivered.stdout.contains("Delivered: HTTP 200 in ") && delivered.stdout.contains("Answer: thanks, got it"),
                "\(delivered.stdout)\(delivered.stderr)")
        let request = try #require(try receiver.requests().first)
        #expect(request.path == "/in" && request.headers["webhook-signature"]?.hasPrefix("v1,") == true)

        try receiver.answer(status: 500, body: "database on fire")
        let failed = try await CLI.run(["hooks", "test", "1"] + db)
        #expect(failed.status == 1 && failed.stdout.contains("Not delivered") && failed.stdout.contains("HTTP 500")
                && failed.stdout.contains("Answer: database on fire"), "\(failed.stdout)\(failed.stderr)")

        let table = try await CLI.run(["hooks", "deliveries", "1"] + db)
        let rows = table.stdout.split(separator: "\n")
        #expect(rows.count == 3 && rows[0].contains("STATE") && rows[1].contains("failed") && rows[1].contains("500") && rows[2].contains("delivered"),
                "\(table.stdout)")
        let listed = try #require(try json(try await CLI.run(["hooks", "deliveries", "1", "--json", "--limit", "1"] + db)) as? [[String: Any]])
        #expect(listed.count == 1 && listed[0]["state"] as? String == "failed" && listed[0]["last_response"] as? String == "database on fire")
        let failedID = try #require((listed[0]["id"] as? NSNumber)?.int64Value)
        let retried = try await CLI.run(["hooks", "deliveries", "1", "--retry", String(failedID)] + db)
        #expect(retried.status == 0 && retried.stdout.contains("queued again"), "\(retried.stderr)")
        let twice = try await CLI.run(["hooks", "deliveries", "1", "--retry", String(failedID)] + db)
        #expect(twice.status == 1 && twice.stderr.contains("has not failed"))
        #expect(try await CLI.run(["hooks", "deliveries", "1", "--retry", "999"] + db).status == 1)
        #expect(try await CLI.run(["hooks", "deliveries", "7"] + db).stderr.contains("No hook with id 7."))
        #expect(try await CLI.run(["hooks", "test", "7"] + db).status == 1)
    }

    /// With `--hooks-timeout 1` an answer after 3 seconds is a failed attempt, tried again
    /// `--hooks-first-retry 1` second later: the same event arrives again and again, never
    /// delivered. (With the defaults, 10 and 30 seconds, it would be delivered at once.)
    @Test func attemptsTimeOutAndRetryAsConfigured() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let receiver = try await HookReceiver.started()
        defer { receiver.close() }
        try receiver.answer(status: 200, body: "late", delay: 3)
        let db = ["--db", scratch.database]
        #expect(try await CLI.run(["hooks", "add", "--preset", "webhook", "--url", receiver.url, "--allow-private", "--events", "published"] + db)
            .status == 0)
        let server = try await ServeProcess.start(database: scratch.database, arguments: ["--rate-limit", "off", "--hooks-timeout", "1"],
                                                  environment: ["MARGIN_HOOKS_FIRST_RETRY": "1"])
        defer { server.stop() }
        let posted = await HTTP.send("POST", port: server.port, path: "/api/v1/comments",
                                     json: #"{"site": "default", "uri": "/post/", "text": "Tell the slow hook."}"#)
        #expect(posted?.status == 201)
        let retried = try await eventually(timeout: .seconds(30)) { try receiver.requests().count >= 2 }
        let requests = try receiver.requests()
        #expect(retried, "the receiver saw \(requests.count) request(s)")
        #expect(Set(requests.compactMap { $0.headers["webhook-id"] }).count == 1, "a retry carries the same event id")
        let deliveries = try #require(try json(try await CLI.run(["hooks", "deliveries", "1", "--json"] + db)) as? [[String: Any]])
        let delivery = try #require(deliveries.first)
        #expect(delivery["state"] as? String == "pending" && delivery["delivered_at"] is NSNull)
        #expect(((delivery["attempts"] as? NSNumber)?.intValue ?? 0) >= 1 && delivery["last_error"] is String, "\(delivery)")
    }
}
