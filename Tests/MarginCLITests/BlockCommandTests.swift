import Foundation
import Testing
import TestSupport

/// `margin block` with `--site`: an entry on one site or on every site, listed with its site,
/// removed by its site, and screening each site with its own entries and the global ones.
@Suite struct BlockCommandTests {
    @Test func entriesOfOneSiteAndOfEverySite() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        #expect(try await CLI.run(["sites", "add", "news", "--origin", "https://news.example"] + db).status == 0)
        let global = try await CLI.run(["block", "add", "word", "casino"] + db)
        #expect(global.status == 0 && global.stdout.contains("on every site"), "\(global.stderr)")
        let scoped = try await CLI.run(["block", "add", "word", "Poker", "--site", "news", "--reason", "news only"] + db)
        #expect(scoped.status == 0 && scoped.stdout.contains("on site 'news'"), "\(scoped.stderr)")
        let ghost = try await CLI.run(["block", "add", "word", "dice", "--site", "ghost"] + db)
        #expect(ghost.status != 0 && ghost.stderr.contains("No site with id 'ghost'"))
        #expect(try await CLI.run(["block", "list", "--site", "ghost"] + db).status != 0)
        #expect(try await CLI.run(["block", "remove", "word", "casino", "--site", "ghost"] + db).status != 0)

        let table = try await CLI.run(["block", "list"] + db).stdout
        #expect(table.contains("SITE"))
        let rows = table.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(rows.contains { $0.starts(with: ["word", "casino", "all"]) })
        #expect(rows.contains { $0.starts(with: ["word", "poker", "news"]) })
        let json = try await CLI.run(["block", "list", "--site", "default", "--json"] + db)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(entries.map { $0["value"] as? String } == ["casino"])
        #expect(entries.first?["site"] is NSNull)
        let news = try await CLI.run(["block", "list", "--site", "news", "--json"] + db)
        let newsEntries = try #require(try JSONSerialization.jsonObject(with: Data(news.stdout.utf8)) as? [[String: Any]])
        #expect(newsEntries.map { "\($0["value"] as? String ?? "") \($0["site"] as? String ?? "all")" } == ["casino all", "poker news"])

        // Screening: the news site's word counts on news only.
        func verdict(_ site: String) async throws -> String? {
            let check = try await CLI.run(["spam", "check", "--site", site, "--text", "Let us play poker tonight", "--json"] + db)
            return (try JSONSerialization.jsonObject(with: Data(check.stdout.utf8)) as? [String: Any])?["verdict"] as? String
        }
        #expect(try await verdict("news") == "spam")
        #expect(try await verdict("default") != "spam")

        // Removing: without --site the entry for every site, with it that site's.
        #expect(try await CLI.run(["block", "remove", "word", "poker"] + db).status == 1)
        #expect(try await CLI.run(["block", "remove", "word", "poker", "--site", "news"] + db).status == 0)
        #expect(try await CLI.run(["block", "remove", "word", "casino", "--site", "news"] + db).status == 1)
        #expect(try await CLI.run(["block", "remove", "word", "casino"] + db).status == 0)
        #expect(try await CLI.run(["block", "list"] + db).stdout.contains("The blocklist is empty."))
    }
}
