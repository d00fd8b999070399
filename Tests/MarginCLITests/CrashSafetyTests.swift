import Foundation
import Synchronization
import TestSupport
import Testing

/// SIGKILL in the middle of concurrent writes loses nothing the server (or the CLI) acknowledged,
/// and the file stays sound. `scripts/crash-test` runs the same test with more kills
/// (`MARGIN_CRASH_KILLS`) and prints how many it survived.
@Suite struct CrashSafetyTests {
    /// Everything acknowledged so far, to compare with the file after each kill.
    actor Ledger {
        /// A comment as the API acknowledged it (201 or 202).
        struct Acknowledged {
            var site, uri, author, text, status: String
        }

        var comments: [Int64: Acknowledged] = [:]
        /// Votes acknowledged (200) and merely tried, per comment: likes and dislikes.
        var likes: [Int64: (acknowledged: Int, tried: Int)] = [:]
        var dislikes: [Int64: (acknowledged: Int, tried: Int)] = [:]
        /// Held comments `margin moderate approve` was run on, and those it acknowledged (exit 0).
        var approvalsTried: Set<Int64> = []
        var approved: Set<Int64> = []
        /// Answers no writer expected (anything but an acknowledgement or no answer at all).
        var unexpected: [String] = []
        var acknowledgedVotes = 0

        func acknowledge(_ id: Int64, _ comment: Acknowledged) { comments[id] = comment }

        func voteTried(_ id: Int64, like: Bool) {
            if like { likes[id, default: (0, 0)].tried += 1 } else { dislikes[id, default: (0, 0)].tried += 1 }
        }

        func voteAcknowledged(_ id: Int64, like: Bool) {
            if like { likes[id, default: (0, 0)].acknowledged += 1 } else { dislikes[id, default: (0, 0)].acknowledged += 1 }
            acknowledgedVotes += 1
        }

        /// A published comment to vote on.
        func votable() -> Int64? {
            comments.filter { $0.value.status == "approved" }.keys.randomElement()
        }

        /// A held comment nobody has tried to approve yet.
        func nextHeld() -> Int64? {
            let id = comments.filter { $0.value.status == "pending" }.keys.filter { !approvalsTried.contains($0) }.min()
            if let id { approvalsTried.insert(id) }
            return id
        }

        func approve(_ id: Int64) { approved.insert(id) }

        func note(_ what: String) { if unexpected.count < 20 { unexpected.append(what) } }

        /// What the file holds that contradicts an acknowledgement; empty when nothing was lost.
        func losses(in rows: [[String: Any]]) -> [String] {
            var stored: [Int64: [String: Any]] = [:]
            for row in rows { if let id = (row["id"] as? NSNumber)?.int64Value { stored[id] = row } }
            var losses: [String] = []
            for (id, comment) in comments.sorted(by: { $0.key < $1.key }) {
                guard let row = stored[id] else {
                    losses.append("comment \(id) (acknowledged \(comment.status)) is missing")
                    continue
                }
                if row["body"] as? String != comment.text || row["author"] as? String != comment.author
                    || row["uri"] as? String != comment.uri || row["site_id"] as? String != comment.site {
                    losses.append("comment \(id) changed: \(row) vs \(comment)")
                }
                let status = row["status"] as? String ?? "?"
                let allowed: Set<String> = approved.contains(id) || comment.status == "approved" ? ["approved"]
                    : approvalsTried.contains(id) ? ["pending", "spam", "approved"] : ["pending", "spam"]
                if !allowed.contains(status) { losses.append("comment \(id) is \(status), expected one of \(allowed.sorted())") }
                let storedLikes = (row["likes"] as? NSNumber)?.intValue ?? -1
                let storedDislikes = (row["dislikes"] as? NSNumber)?.intValue ?? -1
                let like = likes[id] ?? (0, 0), dislike = dislikes[id] ?? (0, 0)
                if !(like.acknowledged...like.tried).contains(storedLikes) || !(dislike.acknowledged...dislike.tried).contains(storedDislikes) {
                    losses.append("comment \(id) has \(storedLikes)/\(storedDislikes) votes; acknowledged \(like.acknowledged)/\(dislike.acknowledged), tried \(like.tried)/\(dislike.tried)")
                }
            }
            return losses
        }
    }

    /// No limits (the load is one client), and votes from many networks behind a trusted proxy.
    static let serveArguments = ["--rate-limit", "off", "--vote-rate-limit", "off", "--trusted-proxy", "127.0.0.1"]

    /// A flag the writers poll.
    final class Stop: Sendable {
        private let flag = Atomic(false)
        var isSet: Bool { flag.load(ordering: .relaxed) }
        func set() { flag.store(true, ordering: .relaxed) }
    }

    @Test(.timeLimit(.minutes(30)))
    func sigkillLosesNothingAcknowledged() async throws {
        let kills = ProcessInfo.processInfo.environment["MARGIN_CRASH_KILLS"].flatMap { Int($0) } ?? 4
        let scratch = try Scratch()
        defer { scratch.remove() }
        let database = scratch.database
        for (site, moderation) in [("blog", "none"), ("held", "all")] {
            let added = try await CLI.run([
                "sites", "add", site, "--origin", "http://localhost:*", "--moderation", moderation, "--rate-limit", "off", "--db", database,
            ])
            try #require(added.status == 0, "\(added.stderr)")
        }
        let ledger = Ledger()
        var survived = 0
        var server = try await ServeProcess.start(database: database, arguments: Self.serveArguments)
        for round in 1...kills {
            let stop = Stop()
            let port = server.port
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<4 { group.addTask { await Self.post(port: port, writer: writer, ledger: ledger, stop: stop) } }
                for _ in 0..<2 { group.addTask { await Self.vote(port: port, ledger: ledger, stop: stop) } }
                group.addTask { await Self.moderate(database: database, ledger: ledger, stop: stop) }
                // The kill comes at a random moment of the load.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 300...1500)))
                server.signal(SIGKILL)
                _ = try? await server.waitForExit()
                stop.set()
                await group.waitForAll()
            }

            let integrity = try await Tool.integrity(database)
            #expect(integrity == "ok", "round \(round): integrity_check says \(integrity)")
            let rows = try await Tool.rows(database, """
                SELECT c.id, c.author, c.body, c.status, c.likes, c.dislikes, t.uri, t.site_id
                FROM comments c JOIN threads t ON t.id = c.thread_id
                """)
            let losses = await ledger.losses(in: rows)
            #expect(losses.isEmpty, "round \(round): \(losses.prefix(10).joined(separator: "\n"))")

            // The server comes back on the same file and serves reads and writes.
            server = try await ServeProcess.start(database: database, arguments: Self.serveArguments)
            let thread = await HTTP.send("GET", port: server.port, path: "/api/v1/comments?site=blog&uri=/crash/0")
            #expect(thread?.status == 200)
            let fresh = await HTTP.send("POST", port: server.port, path: "/api/v1/comments",
                                        json: #"{"site":"blog","uri":"/crash/after","author":"After","text":"Round \#(round) survived."}"#)
            #expect(fresh?.status == 201, "\(fresh?.body ?? "no answer")")
            if integrity == "ok" && losses.isEmpty && thread?.status == 200 && fresh?.status == 201 { survived += 1 }
        }
        server.signal(SIGKILL)
        _ = try await server.waitForExit()

        let acknowledged = await ledger.comments.count
        let votes = await ledger.acknowledgedVotes
        let approvals = await ledger.approved.count
        let unexpected = await ledger.unexpected
        #expect(unexpected.isEmpty, "\(unexpected.joined(separator: "\n"))")
        #expect(acknowledged > 0 && votes > 0)
        print("crash-test: survived \(survived) of \(kills) SIGKILLs (\(acknowledged) comments, \(votes) votes, \(approvals) CLI approvals acknowledged)")
        #expect(survived == kills)
    }

    /// Posts comments until stopped, published (site `blog`) and held (site `held`).
    static func post(port: Int, writer: Int, ledger: Ledger, stop: Stop) async {
        var count = 0
        while !stop.isSet {
            count += 1
            let site = count % 3 == 0 ? "held" : "blog"
            let uri = "/crash/\(count % 3)"
            let author = "Writer \(writer)-\(UUID().uuidString.prefix(6))"
            let text = "Comment \(count) from writer \(writer): *ünïcode* & \(UUID().uuidString)\n\nSecond paragraph."
            let body = #"{"site":"\#(site)","uri":"\#(uri)","author":\#(HTTP.quoted(author)),"text":\#(HTTP.quoted(text))}"#
            guard let answer = await HTTP.send("POST", port: port, path: "/api/v1/comments", json: body, timeout: 3) else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            guard answer.status == 201 || answer.status == 202, let json = answer.json, let id = (json["id"] as? NSNumber)?.int64Value else {
                await ledger.note("POST comment: \(answer.status) \(answer.body)")
                continue
            }
            await ledger.acknowledge(id, .init(
                site: site, uri: json["uri"] as? String ?? "?", author: json["author"] as? String ?? "?",
                text: json["text"] as? String ?? "?", status: json["status"] as? String ?? "?"))
        }
    }

    /// Votes on published comments until stopped, each vote from a voter of its own: a client
    /// network (an IPv6 /64 of 48 random bits) forwarded by the trusted proxy the test stands for.
    static func vote(port: Int, ledger: Ledger, stop: Stop) async {
        while !stop.isSet {
            guard let id = await ledger.votable() else {
                try? await Task.sleep(for: .milliseconds(10))
                continue
            }
            let like = Bool.random()
            await ledger.voteTried(id, like: like)
            let answer = await HTTP.send(
                "POST", port: port, path: "/api/v1/comments/\(id)/vote", json: #"{"value":\#(like ? 1 : -1)}"#,
                headers: ["X-Forwarded-For": Self.randomNetwork()], timeout: 3)
            guard let answer else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            if answer.status == 200 { await ledger.voteAcknowledged(id, like: like) } else { await ledger.note("vote: \(answer.status) \(answer.body)") }
        }
    }

    /// An address in a random IPv6 /64 (`fd00:1a2b:3c4d:5e6f::1`).
    static func randomNetwork() -> String {
        let bytes = withUnsafeBytes(of: UUID().uuid) { Array($0) }
        let groups = (0..<3).map { String(UInt16(bytes[$0 * 2]) << 8 | UInt16(bytes[$0 * 2 + 1]), radix: 16) }
        return "fd00:" + groups.joined(separator: ":") + "::1"
    }

    /// Approves held comments with `margin moderate approve` on the same file until stopped.
    static func moderate(database: String, ledger: Ledger, stop: Stop) async {
        while !stop.isSet {
            guard let id = await ledger.nextHeld() else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            guard let result = try? await CLI.run(["moderate", "approve", String(id), "--db", database]) else { continue }
            if result.status == 0 { await ledger.approve(id) } else { await ledger.note("moderate approve \(id): \(result.stderr)") }
        }
    }
}
