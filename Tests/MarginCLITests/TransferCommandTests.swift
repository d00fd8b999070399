import Foundation
import TestSupport
import Testing

/// `margin import`, `export`, `threads remap`, `gdpr` and `backup` on real files.
@Suite struct TransferCommandTests {
    static let data = TestEnvironment.repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/data")

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// A database holding every WordPress fixture and the Isso Disqus fixture.
    func seeded(_ scratch: Scratch) async throws {
        let db = ["--db", scratch.database]
        for name in ["wpimporter-a11y-unit-test-data.xml", "isso-wordpress.xml", "wpimporter-slashes.xml"] {
            let result = try await CLI.run(["import", "wordpress", Self.data.appendingPathComponent("wordpress/\(name)").path] + db)
            #expect(result.status == 0, "\(name): \(result.stderr)")
        }
        #expect(try await CLI.run(["import", "disqus", Self.data.appendingPathComponent("disqus/isso-disqus.xml").path] + db).status == 0)
        #expect(try await CLI.run(["block", "add", "word", "casino"] + db).status == 0)
        #expect(try await CLI.run(["sites", "add", "faces", "--origin", "https://faces.example", "--avatars", "gravatar",
                                   "--moderator", "mod@faces.example", "--rate-limit", "5/min"] + db).status == 0)
    }

    @Test func marginExportRoundTripsByteForByte() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await seeded(scratch)
        let first = scratch.url.appendingPathComponent("first.jsonl").path
        let second = scratch.url.appendingPathComponent("second.jsonl").path
        let copy = scratch.url.appendingPathComponent("copy.sqlite").path
        #expect(try await CLI.run(["export", "-o", first, "--db", scratch.database]).status == 0)
        let imported = try await CLI.run(["import", "margin", first, "--json", "--db", copy])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(try json(imported.stdout)["comments"] as? Int == 35)
        #expect(try await CLI.run(["export", "-o", second, "--db", copy]).status == 0)
        let a = try Data(contentsOf: URL(fileURLWithPath: first)), b = try Data(contentsOf: URL(fileURLWithPath: second))
        #expect(a == b)
        #expect(String(decoding: a, as: UTF8.self).contains(#""id":"faces","#) && String(decoding: a, as: UTF8.self).contains(#""avatars":"gravatar""#))
        #expect(String(decoding: a, as: UTF8.self).hasPrefix(#"{"format":"margin","version":1}"#))
        // Importing again adds nothing.
        let again = try await CLI.run(["import", "margin", first, "--json", "--db", copy])
        #expect(try json(again.stdout)["comments"] as? Int == 0)
        // Not a Margin export: a clear error, nothing written.
        let bogus = scratch.url.appendingPathComponent("bogus.jsonl").path
        try "{\"hello\":1}\n".write(toFile: bogus, atomically: true, encoding: .utf8)
        let refused = try await CLI.run(["import", "margin", bogus, "--db", copy])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(":1: not a Margin export"))
    }

    @Test func csvAndDisqusExports() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await seeded(scratch)
        let csv = try await CLI.run(["export", "--format", "csv", "--db", scratch.database])
        #expect(csv.status == 0)
        let lines = csv.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(lines.first?.hasPrefix("id,site,uri,title,parent,status,author,email") == true)
        #expect(csv.stdout.contains(#""\o/ ¯\_(ツ)_/¯""#) || csv.stdout.contains(#"\o/ ¯\_(ツ)_/¯"#))

        // Our Disqus XML reads back through a Disqus importer with every comment.
        let xml = scratch.url.appendingPathComponent("out.xml").path
        #expect(try await CLI.run(["export", "--format", "disqus", "-o", xml, "--db", scratch.database]).status == 0)
        let again = scratch.url.appendingPathComponent("again.sqlite").path
        let result = try await CLI.run(["import", "disqus", xml, "--json", "--db", again])
        #expect(result.status == 0, "\(result.stderr)")
        // Held, rejected and spam comments stay out of a Disqus export (the format cannot mark them).
        let all = try await CLI.run(["moderate", "list", "--status", "all", "--limit", "1000", "--json", "--db", scratch.database])
        let visible = (try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]] ?? [])
            .filter { ["approved", "deleted"].contains($0["status"] as? String ?? "") }.count
        #expect(visible > 0 && visible < 35)
        #expect(try json(result.stdout)["comments"] as? Int == visible)
    }

    @Test func malformedImportsFailCleanlyWithALine() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let result = try await CLI.run(["import", "disqus", Self.data.appendingPathComponent("disqus/remark42-disqus2.xml").path, "--db", scratch.database])
        #expect(result.status == 1)
        #expect(result.stderr.contains("remark42-disqus2.xml:1:"))
        #expect(result.stderr.contains("Nothing was imported"))
        let dry = try await CLI.run(["import", "wordpress", Self.data.appendingPathComponent("wordpress/isso-wordpress.xml").path, "--dry-run", "--json", "--db", scratch.database])
        #expect(try json(dry.stdout)["dry_run"] as? Bool == true)
        #expect(try await CLI.run(["export", "--format", "csv", "--db", scratch.database]).stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 1)
    }

    @Test func threadsRemapMovesAndMerges() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await seeded(scratch)
        let rules = scratch.url.appendingPathComponent("rules.txt").path
        try "/about/page-with-comments/ /moved/\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let dry = try await CLI.run(["threads", "remap", "--map", rules, "--dry-run", "--json", "--db", scratch.database])
        #expect(try json(dry.stdout)["threads_moved"] as? Int == 1)
        let csvBefore = try await CLI.run(["export", "--format", "csv", "--db", scratch.database]).stdout
        #expect(!csvBefore.contains("/moved/"))
        let moved = try await CLI.run(["threads", "remap", "--map", rules, "--json", "--db", scratch.database])
        #expect(try json(moved.stdout)["threads_moved"] as? Int == 1)
        #expect(try await CLI.run(["export", "--format", "csv", "--db", scratch.database]).stdout.contains("/moved/"))
        try "~^/(.*)$ /moved/\n".write(toFile: rules, atomically: true, encoding: .utf8)
        let merged = try json(try await CLI.run(["threads", "remap", "--map", rules, "--json", "--db", scratch.database]).stdout)
        #expect((merged["threads_merged"] as? Int ?? 0) >= 1)
        try "not a rule line with three fields\n".write(toFile: rules, atomically: true, encoding: .utf8)
        #expect(try await CLI.run(["threads", "remap", "--map", rules, "--db", scratch.database]).status == 1)
    }

    @Test func privacyRequestsAndBackups() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        try await seeded(scratch)
        let exported = try await CLI.run(["gdpr", "export", "tellyworth+test2@gmail.com", "--db", scratch.database])
        let comments = try #require(try JSONSerialization.jsonObject(with: Data(exported.stdout.utf8)) as? [[String: Any]])
        #expect(!comments.isEmpty)
        #expect(comments.allSatisfy { ($0["email"] as? String)?.lowercased() == "tellyworth+test2@gmail.com" })
        let forgot = try await CLI.run(["gdpr", "forget", "TELLYWORTH+test2@gmail.com", "--db", scratch.database])
        #expect(forgot.stdout.contains("Forgot \(comments.count) comment(s)"))
        let after = try await CLI.run(["gdpr", "export", "tellyworth+test2@gmail.com", "--db", scratch.database])
        #expect((try JSONSerialization.jsonObject(with: Data(after.stdout.utf8)) as? [Any])?.isEmpty == true)
        #expect(try await CLI.run(["moderate", "log", "--json", "--db", scratch.database]).stdout.contains("gdpr-forget"))

        let backup = scratch.url.appendingPathComponent("backup.sqlite").path
        #expect(try await CLI.run(["backup", backup, "--db", scratch.database]).status == 0)
        let original = try await CLI.run(["export", "--db", scratch.database]).stdout
        let restored = try await CLI.run(["export", "--db", backup]).stdout
        #expect(original == restored)
        #expect(try await CLI.run(["backup", backup, "--db", scratch.database]).status == 1)
    }
}
