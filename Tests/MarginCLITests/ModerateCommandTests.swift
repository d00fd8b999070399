import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// `margin moderate`, `block`, `keys` and `spam` against a temporary database.
@Suite struct ModerateCommandTests {
    /// A database holding one site in moderation mode `all` and comments posted through a server.
    func seeded(_ scratch: Scratch) async throws -> [Int] {
        let db = ["--db", scratch.database]
        _ = try await CLI.run(["sites", "add", "blog", "--origin", "https://blog.example.org", "--moderation", "all"] + db)
        // Comments enter through the real server, as in production.
        let port = try freePort()
        var ids: [Int] = []
        try await ServeCommandTests.withServer(
            arguments: ["serve", "--port", String(port), "--rate-limit", "off"] + db, environment: [:], port: port
        ) {
            for text in ["first held comment", "second held comment", "third held comment"] {
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/comments")!)
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = try JSONSerialization.data(withJSONObject: [
                    "site": "blog", "uri": "/post/", "text": text, "author": "Reader", "email": "reader@example.org",
                ])
                let (data, _) = try await URLSession.shared.data(for: request)
                let id = try #require((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["id"] as? Int)
                ids.append(id)
            }
        }
        return ids
    }

    @Test func listShowApproveRejectSpamDeleteAndLog() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let ids = try await seeded(scratch)

        let table = try await CLI.run(["moderate", "list"] + db)
        #expect(table.status == 0)
        #expect(table.stdout.contains("first held comment") && table.stdout.contains("pending"))
        let json = try await CLI.run(["moderate", "list", "--json", "--site", "blog"] + db)
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0["status"] as? String == "pending" && $0["site"] as? String == "blog" })
        #expect(rows.first?["reasons"] is [String])

        let show = try await CLI.run(["moderate", "show", String(ids[0])] + db)
        #expect(show.stdout.contains("Status:  pending"))
        #expect(show.stdout.contains("reader@example.org"))
        #expect(show.stdout.contains("hold by spam-filter"))

        #expect(try await CLI.run(["moderate", "approve", String(ids[0]), "--reason", "fine"] + db).status == 0)
        #expect(try await CLI.run(["moderate", "reject", String(ids[1])] + db).status == 0)
        #expect(try await CLI.run(["moderate", "spam", String(ids[2])] + db).status == 0)
        let all = try await CLI.run(["moderate", "list", "--status", "all", "--json"] + db)
        let statuses = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]] ?? [])
            .reduce(into: [Int: String]()) { $0[$1["id"] as? Int ?? 0] = $1["status"] as? String }
        #expect(statuses == [ids[0]: "approved", ids[1]: "rejected", ids[2]: "spam"])

        let log = try await CLI.run(["moderate", "log", String(ids[0]), "--json"] + db)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(log.stdout.utf8)) as? [[String: Any]])
        #expect(entries.first?["action"] as? String == "approve")
        #expect(entries.first?["actor"] as? String == "cli")
        #expect(entries.first?["reason"] as? String == "fine")

        #expect(try await CLI.run(["moderate", "delete", String(ids[1])] + db).status == 0)
        #expect(!(try await CLI.run(["moderate", "list", "--status", "all"] + db)).stdout.contains("second held comment"))
    }

    @Test func unknownIDsChangeNothing() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let ids = try await seeded(scratch)
        let result = try await CLI.run(["moderate", "approve", String(ids[0]), "999999"] + db)
        #expect(result.status == 1)
        #expect(result.stderr.contains("No comment with id 999999"))
        let pending = try await CLI.run(["moderate", "list", "--json"] + db)
        #expect((try JSONSerialization.jsonObject(with: Data(pending.stdout.utf8)) as? [Any])?.count == 3)
        #expect(try await CLI.run(["moderate", "show", "424242"] + db).status == 1)
        #expect(try await CLI.run(["moderate", "link", "424242", "approve"] + db).status == 1)
    }

    /// Without `--public-url`, a link starts with the `public_url` setting as `margin serve`
    /// resolves it: the variable over the configuration file.
    @Test func linksFollowThePublicURLSetting() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let ids = try await seeded(scratch)
        let config = scratch.url.appendingPathComponent("margin.toml")
        try "public_url = \"https://comments.example.test/\"\n".write(to: config, atomically: true, encoding: .utf8)
        let fromFile = try await CLI.run(["moderate", "link", String(ids[0]), "approve", "--config", config.path] + db)
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout.hasPrefix("https://comments.example.test/moderate/\(ids[0])/approve?site=blog&exp="))
        let fromVariable = try await CLI.run(["moderate", "link", String(ids[0]), "approve", "--config", config.path] + db,
                                             environment: ["MARGIN_PUBLIC_URL": "https://other.example.test"])
        #expect(fromVariable.stdout.hasPrefix("https://other.example.test/moderate/\(ids[0])/approve?site=blog&exp="))
    }

    /// Without `--days`, a link lasts the `mail.link_days` setting's days, as the server's mailed
    /// links do: the configuration file's 2 here, not the default 7.
    @Test func linksLastTheLinkDaysSetting() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let ids = try await seeded(scratch)
        let config = scratch.url.appendingPathComponent("margin.toml")
        try "[mail]\nlink_days = 2\n".write(to: config, atomically: true, encoding: .utf8)
        func expiry(_ arguments: [String]) async throws -> Int64? {
            let made = try await CLI.run(["moderate", "link", String(ids[0]), "approve"] + arguments + db)
            let url = URLComponents(string: made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
            return url?.queryItems?.first { $0.name == "exp" }?.value.flatMap { Int64($0) }
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let day: Int64 = 86_400_000
        let fromFile = try #require(try await expiry(["--config", config.path]))
        #expect(abs(fromFile - (now + 2 * day)) < 60_000, "expires \(fromFile), now \(now)")
        let given = try #require(try await expiry(["--config", config.path, "--days", "5"]))
        #expect(abs(given - (now + 5 * day)) < 60_000)
        let byDefault = try #require(try await expiry([]))
        #expect(abs(byDefault - (now + 7 * day)) < 60_000)
    }

    @Test func linksAreSignedForThePublicURLAndWorkOnce() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let ids = try await seeded(scratch)
        let port = try freePort()
        let made = try await CLI.run(["moderate", "link", String(ids[0]), "approve", "--public-url", "http://127.0.0.1:\(port)/"] + db)
        #expect(made.status == 0)
        let url = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(url.hasPrefix("http://127.0.0.1:\(port)/moderate/\(ids[0])/approve?site=blog&exp="))
        try await ServeCommandTests.withServer(arguments: ["serve", "--port", String(port)] + db, environment: [:], port: port) {
            var request = URLRequest(url: URL(string: url)!)
            request.httpMethod = "POST"
            let (_, first) = try await URLSession.shared.data(for: request)
            #expect((first as? HTTPURLResponse)?.statusCode == 200)
            let (_, second) = try await URLSession.shared.data(for: request)
            #expect((second as? HTTPURLResponse)?.statusCode == 409)
        }
    }

    @Test func blocklistAndKeys() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        for (kind, value) in [("ip", "203.0.113.0/24"), ("email", "Spammer@Example.org"), ("domain", "casino.example"), ("word", "viagra"), ("author", "SEO Expert")] {
            let added = try await CLI.run(["block", "add", kind, value, "--reason", "test"] + db)
            #expect(added.status == 0, "\(kind): \(added.stderr)")
        }
        let list = try await CLI.run(["block", "list", "--json"] + db)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 5)
        #expect(entries.contains { $0["value"] as? String == "spammer@example.org" })
        for (kind, value) in [("ip", "not-an-ip"), ("email", "nope"), ("domain", "nodot"), ("colour", "red")] {
            #expect(try await CLI.run(["block", "add", kind, value] + db).status != 0, "\(kind) \(value)")
        }
        #expect(try await CLI.run(["block", "remove", "word", "viagra"] + db).status == 0)
        #expect(try await CLI.run(["block", "remove", "word", "viagra"] + db).status == 1)

        let check = try await CLI.run(["spam", "check", "--text", "Visit https://casino.example now", "--json"] + db)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])
        #expect(report["verdict"] as? String == "spam")
        #expect((report["reasons"] as? [[String: Any]])?.contains { $0["rule"] as? String == "blocklist" } == true)

        #expect(try await CLI.run(["keys", "list"] + db).stdout.contains("No keys"))
        #expect(try await CLI.run(["keys", "rotate"] + db).status == 0)
        #expect(try await CLI.run(["keys", "rotate"] + db).status == 0)
        let keys = try await CLI.run(["keys", "list"] + db)
        #expect(keys.stdout.contains("current"))
        #expect(keys.stdout.split(separator: "\n").count == 3)
    }

    @Test func spamCheckExplainsItsScore() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let plain = try await CLI.run(["spam", "check", "--text", "Thanks, this fixed my build."] + db)
        #expect(plain.status == 0)
        #expect(plain.stdout.hasPrefix("Score 0.0: publish"))
        let links = try await CLI.run(["spam", "check", "--text", "BUY NOW http://a.example http://b.example http://c.example http://d.example!!!!!!!!!!!!"] + db)
        #expect(links.stdout.contains("links: 4 links"))
        #expect(links.stdout.contains("repetition"))
        #expect(!links.stdout.contains("publish"))
    }

    @Test func spamTrainTeachesTheFilterThatSpamCheckUses() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let data = TestEnvironment.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/spam")
        let files = ["Youtube01-Psy.csv", "Youtube03-LMFAO.csv"].map { data.appendingPathComponent($0).path }
        let spam = "Check out my channel and subscribe, I upload new music videos every day!"
        /// `spam check --json` of `text`: its score and the learned filter's reason, if any.
        func check(_ text: String) async throws -> (score: Double, classifier: [String: Any]?) {
            let result = try await CLI.run(["spam", "check", "--text", text, "--json"] + db)
            try #require(result.status == 0, "\(result.stderr)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let reasons = try #require(report["reasons"] as? [[String: Any]])
            return (try #require(report["score"] as? Double), reasons.first { $0["rule"] as? String == "classifier" })
        }
        // Given a fresh database, whose filter has learned nothing
        let untrained = try await check(spam)
        #expect(untrained.classifier == nil)

        // When it is trained on two videos' labelled comments
        let trained = try await CLI.run(["spam", "train"] + files + db)
        #expect(trained.status == 0, "\(trained.stderr)")
        #expect(trained.stdout.contains("Trained on 411 spam and 377 ham comments."), "\(trained.stdout)")

        // Then spam check scores a typical spam comment higher, saying why in words
        let after = try await check(spam)
        let reason = try #require(after.classifier, "no learned-filter reason after training")
        #expect((reason["points"] as? Double ?? 0) > 0)
        #expect((reason["reason"] as? String)?.hasPrefix("learned filter:") == true)
        #expect(after.score > untrained.score)
        // and a bad file is refused by name, teaching nothing
        let bad = scratch.url.appendingPathComponent("bad.csv").path
        try "CONTENT,CLASS\nhello,2\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await CLI.run(["spam", "train", bad] + db)
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("bad.csv"))
    }

    @Test func spamEvalMeasuresOnHeldOutVideos() async throws {
        let data = TestEnvironment.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data/spam")
        let files = ["Youtube01-Psy.csv", "Youtube03-LMFAO.csv", "Youtube04-Eminem.csv"].map { data.appendingPathComponent($0).path }
        let result = try await CLI.run(["spam", "eval", "--train", files[0], files[1], "--test", files[2], "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let figures = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(figures["rows"] as? Int == 448)
        for key in ["spam_caught", "ham_marked_spam", "ham_held", "precision"] {
            let value = try #require(figures[key] as? Double, "\(key)")
            #expect((0...1).contains(value))
        }
        #expect(try await CLI.run(["spam", "eval", "--train", "/no/such.csv", "--test", files[2]]).status != 0)
    }
}
