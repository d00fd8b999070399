import Foundation
import Synchronization
import TestSupport
import Testing

/// Several `margin serve` processes on one PostgreSQL database (issue 8): what one node writes,
/// every node serves.
@Suite struct SeveralNodesTests {
    /// Given two nodes, an admin token made by the CLI imports, exports and is revoked on both.
    @Test func anAdminTokenMadeByTheCLIWorksOnEveryNode() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        async let first = ServeProcess.start(database: url)
        async let second = ServeProcess.start(database: url)
        let (a, b) = try await (first, second)
        defer { a.signal(SIGTERM); b.signal(SIGTERM) }
        let created = try await CLI.run(["admin", "token", "create", "backup-job", "--db", url])
        try #require(created.status == 0, "\(created.stderr)")
        let bearer = ["Authorization": "Bearer " + created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)]

        // An import through A's admin API (PostgreSQL holds no comment yet) ...
        let xml = try String(contentsOf: MoveBetweenStoresTests.data.appendingPathComponent("disqus/isso-disqus.xml"), encoding: .utf8)
        let imported = try #require(await HTTP.send("POST", port: a.port, path: "/api/v1/admin/import?format=disqus",
                                                    body: Data(xml.utf8), headers: bearer, timeout: 60))
        #expect(imported.status == 200, "\(imported.body)")
        #expect((imported.json?["comments"] as? Int ?? 0) > 0)
        // ... is exported by B, the same bytes as `margin export`.
        let exported = try #require(await HTTP.send("GET", port: b.port, path: "/api/v1/admin/export", headers: bearer, timeout: 60))
        #expect(exported.status == 200)
        let cli = try await CLI.run(["export", "--db", url])
        #expect(exported.body == cli.stdout)
        #expect(exported.body.contains("\"type\":\"comment\""))
        // The same file again through B: everything is there already.
        let again = try #require(await HTTP.send("POST", port: b.port, path: "/api/v1/admin/import?format=disqus",
                                                 body: Data(xml.utf8), headers: bearer, timeout: 60))
        #expect(again.status == 200, "\(again.body)")
        #expect(again.json?["comments"] as? Int == 0)
        #expect(((again.json?["skipped"] as? [String: Any])?["already imported"] as? Int ?? 0) > 0)

        // A thread A has served (and cached) gains comments imported through B, and A serves them next.
        let more = try String(contentsOf: MoveBetweenStoresTests.data.appendingPathComponent("wordpress/isso-wordpress.xml"), encoding: .utf8)
        let thread = "/api/v1/comments?site=default&uri=/2014/test/"
        let empty = try #require(await HTTP.send("GET", port: a.port, path: thread))
        #expect(empty.status == 200 && empty.json?["total"] as? Int == 0)
        let added = try #require(await HTTP.send("POST", port: b.port, path: "/api/v1/admin/import?format=wordpress",
                                                 body: Data(more.utf8), headers: bearer, timeout: 60))
        #expect(added.status == 200, "\(added.body)")
        let served = try #require(await HTTP.send("GET", port: a.port, path: thread))
        #expect(served.json?["total"] as? Int == added.json?["comments"] as? Int, "\(served.body)")
        #expect((served.json?["total"] as? Int ?? 0) > 0)

        // Both nodes report what the shared database holds.
        for node in [a, b] {
            let scraped = try #require(await HTTP.send("GET", port: node.port, path: "/metrics"))
            let approved = scraped.body.split(separator: "\n").first { $0.hasPrefix("margin_comments{status=\"approved\"}") }
            let count = approved.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
            #expect(count > 0, "\(approved ?? "no approved gauge")")
            #expect(scraped.body.contains("margin_database_size_bytes "))
        }

        // Revoked on the CLI, refused by both nodes.
        let listed = try await CLI.run(["admin", "token", "list", "--json", "--db", url])
        let id = try #require(((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))) as? [[String: Any]])?.first?["id"] as? String)
        #expect(try await CLI.run(["admin", "token", "revoke", id, "--db", url]).status == 0)
        #expect(await HTTP.send("GET", port: a.port, path: "/api/v1/admin/export", headers: bearer)?.status == 401)
        #expect(await HTTP.send("GET", port: b.port, path: "/api/v1/admin/export", headers: bearer)?.status == 401)
    }

    /// Given two nodes started at once, a comment posted on one is served by the other at once.
    @Test func aCommentPostedOnOneNodeIsReadOnAnother() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        // Both start at once on the empty database: one default site, one schema.
        async let first = ServeProcess.start(database: url)
        async let second = ServeProcess.start(database: url)
        let (a, b) = try await (first, second)
        defer { a.signal(SIGTERM); b.signal(SIGTERM) }
        let posted = try #require(await HTTP.send(
            "POST", port: a.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/shared/","text":"written on A"}"#))
        #expect(posted.status == 201, "\(posted.body)")
        let read = try #require(await HTTP.send("GET", port: b.port, path: "/api/v1/comments?site=default&uri=/shared/"))
        #expect(read.status == 200)
        #expect(read.body.contains("written on A"), "B serves what A wrote at once")
        let sites = try await Tool.run("psql", [url, "-At", "-c", "SELECT COUNT(*) FROM sites"])
        #expect(sites.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "the default site was made once")
        let keys = try await Tool.run("psql", [url, "-At", "-c", "SELECT COUNT(*) FROM signing_keys"])
        #expect(keys.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "and one signing key")
        // B's answer changes when A writes again (no stale cache).
        _ = await HTTP.send("POST", port: a.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/shared/","text":"second on A"}"#)
        #expect(await HTTP.send("GET", port: b.port, path: "/api/v1/comments?site=default&uri=/shared/")?.body.contains("second on A") == true)
    }

    /// Given two nodes, a client's posting limit counts its posts on both.
    @Test func theRateLimitHoldsAcrossNodes() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        async let first = ServeProcess.start(database: url, arguments: ["--rate-limit", "3/min"])
        async let second = ServeProcess.start(database: url, arguments: ["--rate-limit", "3/min"])
        let (a, b) = try await (first, second)
        defer { a.signal(SIGTERM); b.signal(SIGTERM) }
        var statuses: [Int] = []
        // Spread over both nodes, a client still gets three a minute, not three per node.
        for (index, node) in [a, b, a, b, a, b].enumerated() {
            let answer = await HTTP.send("POST", port: node.port, path: "/api/v1/comments",
                                         json: #"{"site":"default","uri":"/limited/","text":"try \#(index)"}"#)
            statuses.append(answer?.status ?? 0)
        }
        #expect(statuses == [201, 201, 201, 429, 429, 429])
    }

    /// Given two nodes, a moderation link used on one is refused as spent by the other.
    @Test func aModerationLinkUsedOnOneNodeIsSpentOnEvery() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        async let first = ServeProcess.start(database: url)
        async let second = ServeProcess.start(database: url)
        let (a, b) = try await (first, second)
        defer { a.signal(SIGTERM); b.signal(SIGTERM) }
        let posted = await HTTP.send("POST", port: a.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/mod/","text":"moderate me"}"#)
        #expect(posted?.status == 201)
        // The CLI signs with a key from the database, which both nodes read.
        let link = try await CLI.run(["moderate", "link", "1", "reject", "--db", url, "--public-url", "http://127.0.0.1:\(a.port)"])
        try #require(link.status == 0, "\(link.stderr)")
        let address = try #require(URL(string: link.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        let target = address.path + "?" + (address.query ?? "")
        let used = await HTTP.send("POST", port: a.port, path: target)
        #expect(used?.status == 200, "\(used?.body ?? "")")
        let replayed = await HTTP.send("POST", port: b.port, path: target)
        #expect(replayed?.status == 409, "the nonce was spent on A: \(replayed?.body ?? "")")
        #expect(await HTTP.send("GET", port: b.port, path: "/api/v1/comments?site=default&uri=/mod/")?.body.contains("moderate me") == false,
                "B no longer shows what A's link rejected")
    }

    /// Given two nodes sending from one outbox, when five comments notify, then five mails
    /// arrive: each sent once, by one node.
    @Test func eachMailIsSentOnceWithTwoSendersRunning() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        // A real SMTP server (aiosmtpd) that keeps every message it accepts.
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        let mail = ["--smtp-host", "127.0.0.1", "--smtp-port", String(sink.port), "--smtp-security", "none",
                    "--moderator", "mod@example.org", "--notify-all", "--rate-limit", "off"]
        async let first = ServeProcess.start(database: url, arguments: mail)
        async let second = ServeProcess.start(database: url, arguments: mail)
        let (a, b) = try await (first, second)
        defer { for node in [a, b] where node.process.isRunning { node.signal(SIGTERM) } }
        for (index, node) in [a, b, a, b, a].enumerated() {
            let answer = await HTTP.send("POST", port: node.port, path: "/api/v1/comments",
                                         json: #"{"site":"default","uri":"/mailed/","text":"comment \#(index)"}"#)
            #expect(answer?.status == 201)
        }
        func outbox(_ sql: String) async throws -> String {
            try await Tool.run("psql", [url, "-At", "-c", sql]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Once the outbox holds five mails, each marked sent, no sender can take one again;
        // a duplicate could only come from a send already under way.
        let allSent = try await eventually(every: .milliseconds(200)) {
            try await outbox("SELECT COUNT(*) || '/' || COUNT(sent_at) FROM outbox") == "5/5"
        }
        let listed = try await outbox("SELECT id, sent_at, attempts, last_error FROM outbox")
        #expect(allSent, "the outbox: \(listed)")
        // Stopping the nodes finishes such a send and writes its state; then nothing sends any more.
        a.signal(SIGTERM)
        b.signal(SIGTERM)
        #expect(try await a.waitForExit(timeout: .seconds(60)) != nil, "A did not stop: \(a.log)")
        #expect(try await b.waitForExit(timeout: .seconds(60)) != nil, "B did not stop: \(b.log)")
        // The sink stores a message before accepting it: every one sent is there.
        let received = try sink.messages()
        #expect(received.count == 5, "one mail per comment, not one per node: \(received.map(\.subject))")
        let ids = received.flatMap { $0.headerValues("Message-ID") }
        #expect(Set(ids).count == ids.count && ids.count == 5)
        // Every send is counted in the mail's attempts: one each.
        let final = try await outbox("SELECT id, sent_at, attempts, last_error FROM outbox")
        #expect(try await outbox("SELECT COUNT(*) FROM outbox WHERE attempts <> 1 OR sent_at IS NULL") == "0", "\(final)")
    }

    /// Given a node whose PostgreSQL stops, then posts answer 503 (within the client's own time
    /// limit: never a hang), and the node reconnects by itself once PostgreSQL is back.
    @Test func nodesReconnectWhenPostgreSQLRestarts() async throws {
        // A cluster of its own: the shared one must not go down under other tests.
        let cluster = try await PrivatePostgresCluster()
        defer { cluster.remove() }
        let url = cluster.url
        let node = try await ServeProcess.start(database: url, arguments: ["--rate-limit", "off"])
        defer { node.signal(SIGTERM) }
        func post(_ text: String) async -> Int {
            await HTTP.send("POST", port: node.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/r/","text":"\#(text)"}"#,
                            timeout: 30)?.status ?? 0
        }
        #expect(await post("before") == 201)
        // Down: a clear 503, never a hang (the post gives up after 30 s and counts as 0) or a 500.
        #expect(try await cluster.run("stop").status == 0)
        #expect(await post("while down") == 503)
        // Up again: the node reconnects by itself.
        #expect(try await cluster.run("restart").status == 0)
        var after = 0
        for attempt in 0..<60 where after != 201 {
            after = await post("after \(attempt)")
            if after != 201 { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(after == 201)
        let thread = await HTTP.send("GET", port: node.port, path: "/api/v1/comments?site=default&uri=/r/")
        #expect(thread?.body.contains("before") == true && thread?.body.contains("after") == true)
        #expect(thread?.body.contains("while down") == false)
    }

    /// Given eight writers on two nodes, when one node is killed mid-load, then every comment
    /// either node acknowledged is stored, and the other node keeps serving.
    @Test func killingANodeUnderLoadLosesNoAcknowledgedComment() async throws {
        let url = try await PostgresTestCluster.freshDatabase()
        async let first = ServeProcess.start(database: url, arguments: ["--rate-limit", "off"])
        async let second = ServeProcess.start(database: url, arguments: ["--rate-limit", "off"])
        let (a, b) = try await (first, second)
        defer { b.signal(SIGTERM) }
        let acknowledged = Ledger()
        let stopped = StopFlag()
        // Eight writers, half on each node, until A is killed (once both nodes have taken writes:
        // beside 300 other tests the load can start slowly), it is gone, and B has taken more.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                let node = writer % 2 == 0 ? a : b
                group.addTask {
                    var sequence = 0
                    while !stopped.isSet {
                        sequence += 1
                        let text = "w\(writer)-\(sequence)"
                        let answer = await HTTP.send("POST", port: node.port, path: "/api/v1/comments",
                                                     json: #"{"site":"default","uri":"/load/","text":"\#(text)"}"#, timeout: 10)
                        if answer?.status == 201 { acknowledged.add(text) }
                    }
                }
            }
            group.addTask {
                // The writers stop however this ends.
                defer { stopped.set() }
                _ = try await eventually(every: .milliseconds(50)) {
                    let texts = acknowledged.texts
                    return texts.filter { $0.hasPrefix("w0-") }.count >= 5 && texts.filter { $0.hasPrefix("w1-") }.count >= 5
                }
                a.signal(SIGKILL)
                _ = try await a.waitForExit(timeout: .seconds(60))
                // B's writers are the odd ones.
                let onB = { acknowledged.texts.filter { Int($0.dropFirst().prefix { $0 != "-" }).map { $0 % 2 == 1 } == true }.count }
                let afterKill = onB()
                let tookMore = try await eventually { onB() >= afterKill + 5 }
                #expect(tookMore, "B took no more writes once A was gone")
            }
            try await group.waitForAll()
        }
        let stored = try await Tool.run("psql", [url, "-At", "-c", "SELECT body FROM comments"])
        let bodies = Set(stored.stdout.split(separator: "\n").map(String.init))
        let acked = acknowledged.texts
        #expect(acked.count >= 10, "the load ran: \(acked.count) acknowledged")
        #expect(acked.contains { $0.hasPrefix("w0-") } && acked.contains { $0.hasPrefix("w1-") }, "both nodes took writes")
        let lost = acked.filter { !bodies.contains($0) }
        #expect(lost.isEmpty, "acknowledged but not stored: \(lost.prefix(5))")
        #expect(try await a.waitForExit()?.signalled == true)
        // B goes on serving all of it.
        let thread = await HTTP.send("GET", port: b.port, path: "/api/v1/comments?site=default&uri=/load/&limit=1000")
        #expect(thread?.status == 200)
    }

    /// Given a database URL with no host or nothing listening, `margin serve` exits 1 with a
    /// sentence. A hang would be ended by `CLI.run`'s time limit (SIGTERM: no status 1, no sentence).
    @Test func aBadOrUnreachableDatabaseURLIsAClearErrorNotAHang() async throws {
        for (url, words) in [("postgres://nobody@/margin", "no host"), ("postgres://margin@127.0.0.1:1/margin?sslmode=disable", "did not answer")] {
            let result = try await CLI.run(["serve", "--port", "0", "--db", url], timeout: .seconds(60))
            #expect(result.status == 1, "\(url): \(result.stderr)")
            #expect(result.stderr.contains(words), "\(url): \(result.stderr)")
        }
    }
}

/// Tells several tasks to stop.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}

/// What the server acknowledged, written by several tasks.
final class Ledger: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ text: String) { entries.withLock { $0.append(text) } }
    var texts: [String] { entries.withLock { $0 } }
}
