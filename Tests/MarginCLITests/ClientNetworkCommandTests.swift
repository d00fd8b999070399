import Foundation
import TestSupport
import Testing

/// The built `margin`: what a moderator is shown of an address is the anonymised network with its
/// prefix, and `margin block add ip` with exactly that text blocks the network; the vote and
/// new-thread limits as `margin serve` flags.
@Suite struct ClientNetworkCommandTests {
    static func post(_ port: Int, uri: String, text: String, from address: String) async -> HTTP.Answer? {
        await HTTP.send("POST", port: port, path: "/api/v1/comments",
                        json: #"{"site":"default","uri":"\#(uri)","text":\#(HTTP.quoted(text))}"#, headers: ["X-Forwarded-For": address])
    }

    @Test func theNetworkAModeratorIsShownBlocksThatNetwork() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        // Given a server behind a trusted proxy, and comments from an IPv4 and an IPv6 client
        let server = try await ServeProcess.start(database: scratch.database, arguments: ["--trusted-proxy", "127.0.0.1", "--rate-limit", "off"])
        defer { server.signal(SIGKILL) }
        let v4 = await Self.post(server.port, uri: "/blocked/", text: "From a v4 reader.", from: "203.0.113.77")
        let v6 = await Self.post(server.port, uri: "/blocked/", text: "From a v6 reader.", from: "2001:db8:1:2::1")
        #expect(v4?.status == 201 && v6?.status == 201, "\(v4?.body ?? "") \(v6?.body ?? "")")
        let v4ID = try #require(v4?.json?["id"] as? Int)

        // When a moderator reads the network off `margin moderate show` and the list
        let show = try await CLI.run(["moderate", "show", String(v4ID)] + db)
        let line = try #require(show.stdout.split(separator: "\n").first { $0.hasPrefix("Network:") }, "\(show.stdout)")
        let shown = String(line.dropFirst("Network:".count)).trimmingCharacters(in: .whitespaces)
        #expect(shown == "203.0.113.0/24")
        let list = try await CLI.run(["moderate", "list", "--status", "all"] + db)
        #expect(list.stdout.contains("NETWORK"))
        let listed = try #require(list.stdout.split(separator: "\n").first { $0.contains("v6 reader") }, "\(list.stdout)")
        let v6Network = try #require(listed.split(separator: " ").map(String.init).first { $0.hasSuffix("/48") }, "\(listed)")
        #expect(v6Network == "2001:db8:1::/48")
        let json = try await CLI.run(["moderate", "list", "--status", "all", "--json"] + db)
        #expect(json.stdout.contains(#""ip" : "203.0.113.0/24""#), "\(json.stdout)")

        // And blocks exactly that text
        #expect(try await CLI.run(["block", "add", "ip", shown] + db).status == 0)
        #expect(try await CLI.run(["block", "add", "ip", v6Network] + db).status == 0)

        // Then the next post from anywhere in those networks is refused, and others are not
        let again = await Self.post(server.port, uri: "/blocked/", text: "Back again.", from: "203.0.113.200")
        #expect(again?.status == 403, "\(again?.body ?? "no answer")")
        #expect(again?.json.flatMap { ($0["error"] as? [String: Any])?["code"] as? String } == "blocked")
        let v6Again = await Self.post(server.port, uri: "/blocked/", text: "Back again over IPv6.", from: "2001:db8:1:ffff::9")
        #expect(v6Again?.status == 403, "\(v6Again?.body ?? "no answer")")
        #expect(await Self.post(server.port, uri: "/blocked/", text: "Someone else.", from: "203.0.114.1")?.status == 201)
        // (A prefix that does not fit the address is refused, not stored to match nothing.)
        #expect(try await CLI.run(["block", "add", "ip", "203.0.113.0/40"] + db).status != 0)
    }

    @Test func aSiteMaySetItsOwnVoteLimit() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        // Given a server allowing 50 votes a minute, and a site that allows 2
        #expect(try await CLI.run(["sites", "add", "strict", "--origin", "https://strict.example", "--rate-limit", "off",
                                   "--vote-rate-limit", "2/min"] + db).status == 0)
        #expect(try await CLI.run(["sites", "add", "relaxed", "--origin", "https://relaxed.example", "--rate-limit", "off"] + db).status == 0)
        let listed = try await CLI.run(["sites", "list", "--json"] + db)
        let sites = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        #expect(sites.first { $0["id"] as? String == "strict" }?["vote_rate_limit"] as? String == "2/min")
        #expect(sites.first { $0["id"] as? String == "relaxed" }?["vote_rate_limit"] as? String == "default")
        let server = try await ServeProcess.start(database: scratch.database, arguments: ["--rate-limit", "off", "--vote-rate-limit", "50/min"])
        defer { server.signal(SIGKILL) }
        /// Posts one comment to `site` and returns its id.
        func comment(_ site: String) async throws -> Int {
            let posted = await HTTP.send("POST", port: server.port, path: "/api/v1/comments",
                                         json: #"{"site":"\#(site)","uri":"/votes/","text":"Vote on me."}"#)
            return try #require(posted?.json?["id"] as? Int, "\(posted?.body ?? "no answer")")
        }
        let strict = try await comment("strict"), open = try await comment("relaxed")
        /// One like on comment `id`: its status.
        func like(_ id: Int) async -> Int? {
            await HTTP.send("POST", port: server.port, path: "/api/v1/comments/\(id)/vote", json: #"{"value":1}"#)?.status
        }

        // When one client votes three times on each site's comment
        let onStrict = [await like(strict), await like(strict), await like(strict)]
        let onDefault = [await like(open), await like(open), await like(open)]

        // Then the strict site refuses the third, and the other site follows the server's limit
        #expect(onStrict == [200, 200, 429])
        #expect(onDefault == [200, 200, 200])
        // and `sites update --vote-rate-limit default` hands the site back to the server's limit
        #expect(try await CLI.run(["sites", "update", "strict", "--vote-rate-limit", "default"] + db).status == 0)
        let after = try await CLI.run(["sites", "list", "--json"] + db)
        #expect(after.stdout.contains(#""vote_rate_limit" : "default""#) || after.stdout.contains(#""vote_rate_limit":"default""#))
        #expect(try await CLI.run(["sites", "update", "strict", "--vote-rate-limit", "lots"] + db).status != 0)
    }

    @Test func voteAndNewThreadLimitsAreServeSettings() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // Given `--vote-rate-limit 2/min` and `--new-threads-per-hour 1`, with a posting limit
        let server = try await ServeProcess.start(database: scratch.database, arguments: [
            "--trusted-proxy", "127.0.0.1", "--rate-limit", "50/min", "--vote-rate-limit", "2/min", "--new-threads-per-hour", "1",
        ])
        defer { server.signal(SIGKILL) }
        // When one network starts a thread and then another
        let first = await Self.post(server.port, uri: "/one/", text: "The first page.", from: "198.51.100.7")
        let second = await Self.post(server.port, uri: "/two/", text: "A second page.", from: "198.51.100.7")
        // Then the second is refused, while a reply on the first is taken
        #expect(first?.status == 201)
        #expect(second?.status == 429)
        #expect(second?.body.contains("too_many_new_threads") == true, "\(second?.body ?? "")")
        #expect(second?.headers["retry-after"] != nil)
        #expect(await Self.post(server.port, uri: "/one/", text: "More on the first page.", from: "198.51.100.7")?.status == 201)
        // When that network votes three times
        let id = try #require(first?.json?["id"] as? Int)
        var statuses: [Int] = []
        for value in [1, -1, 1] {
            statuses.append(await HTTP.send("POST", port: server.port, path: "/api/v1/comments/\(id)/vote", json: #"{"value":\#(value)}"#,
                                            headers: ["X-Forwarded-For": "198.51.100.7"])?.status ?? 0)
        }
        // Then the third is over its vote limit
        #expect(statuses == [200, 200, 429])
    }

    /// Given two nodes on one PostgreSQL database, the vote and new-thread limits of a network
    /// count on both (the store's shared buckets), and its IPv6 addresses count as one.
    @Test func voteAndNewThreadLimitsHoldAcrossNodes() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        let arguments = ["--trusted-proxy", "127.0.0.1", "--rate-limit", "50/min", "--vote-rate-limit", "2/min", "--new-threads-per-hour", "1"]
        async let first = ServeProcess.start(database: url, arguments: arguments)
        async let second = ServeProcess.start(database: url, arguments: arguments)
        let (a, b) = try await (first, second)
        defer { a.signal(SIGTERM); b.signal(SIGTERM) }
        // When one /64 starts a thread on A, then another on B
        let started = await Self.post(a.port, uri: "/nodes/", text: "A thread started on A.", from: "2001:db8:7:7::1")
        #expect(started?.status == 201, "\(started?.body ?? "no answer")")
        let again = await Self.post(b.port, uri: "/nodes-too/", text: "Another started on B.", from: "2001:db8:7:7::2")
        // Then B refuses it
        #expect(again?.status == 429, "\(again?.body ?? "no answer")")
        #expect(again?.body.contains("too_many_new_threads") == true)
        // When it votes on A, on B, and on A again
        let id = try #require(started?.json?["id"] as? Int)
        var statuses: [Int] = []
        for (node, address) in [(a, "2001:db8:7:7::1"), (b, "2001:db8:7:7::3"), (a, "2001:db8:7:7::4")] {
            statuses.append(await HTTP.send("POST", port: node.port, path: "/api/v1/comments/\(id)/vote", json: #"{"value":1}"#,
                                            headers: ["X-Forwarded-For": address])?.status ?? 0)
        }
        // Then the third is over the network's limit, and the two it cast are one vote
        #expect(statuses == [200, 200, 429])
        let thread = await HTTP.send("GET", port: b.port, path: "/api/v1/comments?site=default&uri=/nodes/")
        #expect(thread?.body.contains(#""likes":1"#) == true, "\(thread?.body ?? "no answer")")
    }
}
