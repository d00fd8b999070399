@testable import Comments
import Foundation
import Moderation
import Synchronization
import TestSupport
import Testing

@testable import MarginServer

/// Who a client is for votes and limits: its network (an IPv4 address, an IPv6 /64), whatever
/// headers it sends; votes meet the blocklist and a limit of their own; a network starts only so
/// many threads an hour; the admin API's token checks. Against the real server.
@Suite struct ClientNetworkTests {
    /// Trusting the test client (127.0.0.1) as a proxy, so `X-Forwarded-For` names the client.
    static func behindProxy(_ configuration: inout ServerConfiguration) {
        configuration.trustedProxies = [IPNetwork("127.0.0.1")!]
    }

    static func from(_ address: String) -> [(String, String)] { [("X-Forwarded-For", address)] }

    static func vote(_ server: TestServer, _ id: Int64, _ value: Int = 1, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await server.client.postJSON("/api/v1/comments/\(id)/vote", ["value": value], headers: headers)
    }

    // MARK: Votes

    @Test func oneNetworkGetsOneVoteWhateverUserAgentItSends() async throws {
        // Given a published comment
        try await TestServer.with { server in
            let comment = try await server.publish("vote on me")
            // When one address votes 30 times, each time as another browser
            var last: HTTPResult?
            for index in 0..<30 {
                last = try await Self.vote(server, comment.id, headers: [("User-Agent", "Browser/\(index)")])
                #expect(last?.status == 200, "\(last?.text ?? "")")
            }
            // Then it counts once
            #expect(last?.json.int("likes") == 1)
            #expect(try await server.thread().comments.first?.int("likes") == 1)
        }
    }

    @Test func votesFromABlockedNetworkAreRefused() async throws {
        // Given a comment, and the network of the client blocked after it was posted
        try await TestServer.with { server in
            let comment = try await server.publish("vote on me")
            try await server.store.addBlock(BlockEntry(kind: .ip, value: "127.0.0.0/24", createdAt: 1))
            // When that network votes
            let refused = try await Self.vote(server, comment.id)
            // Then 403 blocked, and nothing is counted
            #expect(refused.status == 403)
            #expect(refused.errorCode == "blocked")
            #expect(try await server.store.comment(id: comment.id)?.likes == 0)
        }
    }

    @Test func votesHaveARateLimitOfTheirOwn() async throws {
        // Given a vote limit of 3 a minute, and no posting limit
        try await TestServer.with(configure: {
            $0.voteRateLimit = RateLimit(parsing: "3/min")!
            Self.behindProxy(&$0)
        }) { server in
            let comments = [try await server.publish("one"), try await server.publish("two")]
            // When one network votes four times
            var statuses: [Int] = []
            for index in 0..<3 { statuses.append(try await Self.vote(server, comments[index % 2].id, headers: Self.from("198.51.100.7")).status) }
            let limited = try await Self.vote(server, comments[1].id, headers: Self.from("198.51.100.7"))
            // Then the fourth waits: 429 rate_limited with Retry-After
            #expect(statuses == [200, 200, 200])
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
            // And another network, and posting, are not held back by it
            #expect(try await Self.vote(server, comments[1].id, headers: Self.from("198.51.100.8")).status == 200)
            #expect(try await server.post(["site": "default", "uri": "/post/", "text": "still posting"], headers: Self.from("198.51.100.7")).status == 201)
        }
    }

    // MARK: IPv6 networks

    @Test func addressesOfOneIPv6SlashSixtyFourShareThePostingLimit() async throws {
        // Given a posting limit of 2 a minute behind a trusted proxy
        try await TestServer.with(configure: {
            $0.rateLimit = RateLimit(parsing: "2/min")!
            Self.behindProxy(&$0)
        }) { server in
            func post(from address: String) async throws -> HTTPResult {
                try await server.post(["site": "default", "uri": "/post/", "text": "from \(address)"], headers: Self.from(address))
            }
            // When three addresses of one /64 post
            #expect(try await post(from: "2001:db8:1:2::1").status == 201)
            #expect(try await post(from: "2001:db8:1:2::ffff").status == 201)
            let third = try await post(from: "2001:db8:1:2:abcd:ef01:2345:6789")
            // Then the third is over their one limit
            #expect(third.status == 429)
            #expect(third.errorCode == "rate_limited")
            // And an address of another /64 has its own
            #expect(try await post(from: "2001:db8:1:3::1").status == 201)
        }
    }

    @Test func addressesOfOneIPv6SlashSixtyFourAreOneVoterWithOneVoteLimit() async throws {
        try await TestServer.with(configure: {
            $0.voteRateLimit = RateLimit(parsing: "3/min")!
            Self.behindProxy(&$0)
        }) { server in
            // Given a comment
            let comment = try await server.publish("vote on me")
            // When two addresses of one /64 like it, and one of another /64
            _ = try await Self.vote(server, comment.id, headers: Self.from("2001:db8:1:2::1"))
            let same = try await Self.vote(server, comment.id, headers: Self.from("2001:db8:1:2::2"))
            let other = try await Self.vote(server, comment.id, headers: Self.from("2001:db8:1:3::1"))
            // Then the /64 counts once
            #expect(same.json.int("likes") == 1)
            #expect(other.json.int("likes") == 2)
            // And its addresses draw on one vote limit
            #expect(try await Self.vote(server, comment.id, headers: Self.from("2001:db8:1:2::3")).status == 200)
            #expect(try await Self.vote(server, comment.id, headers: Self.from("2001:db8:1:2::4")).status == 429)
            #expect(try await Self.vote(server, comment.id, headers: Self.from("2001:db8:1:3::2")).status == 200)
        }
    }

    @Test func addressesOfOneIPv6SlashSixtyFourShareTheAdminFailureLimit() async throws {
        try await TestServer.with(configure: Self.behindProxy) { server in
            let (_, token) = try await server.store.createAdminToken(name: "ops", random: SystemRandom(), at: server.clock.nowMillis())
            // Given ten failed attempts from ten addresses of one /64
            for index in 1...10 {
                let failed = try await server.client.get(
                    "/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_x_\(index)")] + Self.from("2001:db8:1:2::\(index)"))
                #expect(failed.status == 401)
            }
            // When an eleventh address of it tries
            let limited = try await server.client.get(
                "/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_x_11")] + Self.from("2001:db8:1:2::ffff"))
            // Then it is refused, while another /64 is not
            #expect(limited.status == 429)
            let other = try await server.client.get(
                "/api/v1/admin/export", headers: [("Authorization", "Bearer \(token)")] + Self.from("2001:db8:1:3::1"))
            #expect(other.status == 200)
        }
    }

    @Test func connectionsAreCountedByNetwork() {
        // Given a cap of two connections
        let counter = ConnectionCounter(limit: 2)
        // When addresses of one /64 connect
        #expect(counter.admit("2001:db8:1:2::1"))
        #expect(counter.admit("2001:db8:1:2::2"))
        // Then a third of that /64 is refused, while another /64 and IPv4 addresses are not
        #expect(!counter.admit("2001:db8:1:2:ffff::3"))
        #expect(counter.admit("2001:db8:1:3::1"))
        #expect(counter.admit("203.0.113.1"))
        #expect(counter.admit("203.0.113.1"))
        #expect(!counter.admit("203.0.113.1"))
        #expect(counter.admit("203.0.113.2"))
        // And a closed one frees a place for the whole /64
        counter.release("2001:db8:1:2::1")
        #expect(counter.admit("2001:db8:1:2::99"))
    }

    @Test func networksAreWrittenWithTheirPrefix() {
        #expect(IPAnonymizer.clientNetwork(of: "203.0.113.7") == "203.0.113.7")
        #expect(IPAnonymizer.clientNetwork(of: "::ffff:203.0.113.7") == "203.0.113.7")
        #expect(IPAnonymizer.clientNetwork(of: "2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64")
        #expect(IPAnonymizer.clientNetwork(of: "[2001:DB8:1:2::ffff]") == "2001:db8:1:2::/64")
        #expect(IPAnonymizer.clientNetwork(of: "nonsense") == nil)
        #expect(IPAnonymizer.storedNetwork("203.0.113.0") == "203.0.113.0/24")
        #expect(IPAnonymizer.storedNetwork("2001:db8:1::") == "2001:db8:1::/48")
        #expect(IPAnonymizer.storedNetwork(IPAnonymizer.anonymize("2001:db8:1:2::9")!) == "2001:db8:1::/48")
        #expect(IPAnonymizer.storedNetwork("garbage") == "garbage")
        // What is shown blocks what it stands for.
        #expect(IPBlock.matches(rule: IPAnonymizer.storedNetwork("203.0.113.0"), address: "203.0.113.250"))
        #expect(IPBlock.matches(rule: IPAnonymizer.storedNetwork("2001:db8:1::"), address: "2001:db8:1:ffff::1"))
        #expect(!IPBlock.matches(rule: IPAnonymizer.storedNetwork("2001:db8:1::"), address: "2001:db8:2::1"))
    }

    /// A mail system that takes nothing: the mail stays in the outbox for the test to read.
    struct HoldingTransport: MailTransport {
        func send(_ message: MailMessage) async throws { throw CancellationError() }
    }

    @Test func theModeratorMailNamesTheNetworkWithItsPrefix() async throws {
        // Given moderators mailed about every comment, behind a trusted proxy
        try await TestServer.with(mailTransport: HoldingTransport(), configure: {
            $0.moderators = ["mod@example.org"]
            $0.notifyAllComments = true
            $0.outboxPollInterval = .seconds(3600)
            Self.behindProxy(&$0)
        }) { server in
            // When an IPv4 and an IPv6 reader comment
            #expect(try await server.post(["site": "default", "uri": "/post/", "text": "v4"], headers: Self.from("203.0.113.77")).status == 201)
            #expect(try await server.post(["site": "default", "uri": "/post/", "text": "v6"], headers: Self.from("2001:db8:1:2::1")).status == 201)
            // Then each mail shows the stored network as `margin block add ip` takes it
            let bodies = try await server.store.outbox(limit: 10).map(\.body)
            #expect(bodies.contains { $0.contains("Network: 203.0.113.0/24\n") }, "\(bodies)")
            #expect(bodies.contains { $0.contains("Network: 2001:db8:1::/48\n") }, "\(bodies)")
        }
    }

    // MARK: New threads

    @Test func aNetworkStartsOnlySoManyThreadsAnHour() async throws {
        // Given two new threads an hour per network, behind a trusted proxy, with a posting limit
        try await TestServer.with(configure: {
            $0.rateLimit = RateLimit(parsing: "100/min")!
            $0.newThreadsPerHour = 2
            Self.behindProxy(&$0)
        }) { server in
            func post(_ uri: String, from address: String) async throws -> HTTPResult {
                try await server.post(["site": "default", "uri": uri, "text": "on \(uri) from \(address)"], headers: Self.from(address))
            }
            // When one /64 comments on three pages no one has commented on
            #expect(try await post("/a/", from: "2001:db8:1:2::1").status == 201)
            #expect(try await post("/b/", from: "2001:db8:1:2::2").status == 201)
            let third = try await post("/c/", from: "2001:db8:1:2::3")
            // Then the third is refused with a clear message
            #expect(third.status == 429)
            #expect(third.errorCode == "too_many_new_threads")
            #expect(third.text.contains("new pages"))
            #expect(Int(third.header("Retry-After") ?? "") ?? 0 >= 1)
            // And nothing was stored for it
            #expect(try await server.store.thread(siteID: "default", uri: "/c/") == nil)
            // While comments on existing threads, and another network's new thread, are taken
            #expect(try await post("/a/", from: "2001:db8:1:2::3").status == 201)
            #expect(try await post("/b/", from: "2001:db8:1:2::4").status == 201)
            #expect(try await post("/c/", from: "2001:db8:1:3::1").status == 201)
            // And an hour later the network may start one again
            server.clock.advance(seconds: 3600)
            #expect(try await post("/d/", from: "2001:db8:1:2::1").status == 201)
        }
    }

    @Test func newThreadsAreUnlimitedWhenTheSettingIsZeroOrTheSiteHasNoPostingLimit() async throws {
        // Given new_threads_per_hour = 0
        try await TestServer.with(configure: {
            $0.rateLimit = RateLimit(parsing: "100/min")!
            $0.newThreadsPerHour = 0
        }) { server in
            // Then one client starts any number of threads
            for index in 0..<15 { _ = try await server.publish("page \(index)", uri: "/zero/\(index)/") }
        }
        // Given the default limit, but a site whose posting limit is off (as TestServer's is)
        try await TestServer.with { server in
            for index in 0..<15 { _ = try await server.publish("page \(index)", uri: "/off/\(index)/") }
        }
    }

    // MARK: Admin tokens

    @Test func theFailureLimitIsCheckedBeforeTheToken() async throws {
        try await TestServer.with { server in
            let (_, token) = try await server.store.createAdminToken(name: "ops", random: SystemRandom(), at: server.clock.nowMillis())
            // Given ten failed attempts
            for index in 0..<10 {
                #expect(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_x_\(index)")]).status == 401)
            }
            // When the right token comes next from the same client
            let guessed = try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(token)")])
            // Then it is refused unverified: guessing stops at the limit
            #expect(guessed.status == 429)
            #expect(guessed.errorCode == "rate_limited")
            #expect(try await server.store.adminTokens().first?.lastUsedAt == nil)
            // And once the minute has passed it works
            server.clock.advance(seconds: 61)
            #expect(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(token)")]).status == 200)
            #expect(try await server.store.adminTokens().first?.lastUsedAt != nil)
        }
    }

    @Test func aFailedTokenCheckWritesNothing() async throws {
        try await TestServer.with { server in
            let (made, token) = try await server.store.createAdminToken(name: "ops", random: SystemRandom(), at: server.clock.nowMillis())
            // Given the database's write lock held by another writer until the test lets go
            let release = Mutex(false), holding = Mutex(false)
            let held = Task {
                try await server.store.writer.write { _ in
                    holding.withLock { $0 = true }
                    let deadline = Date().addingTimeInterval(60)
                    while !release.withLock({ $0 }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
                }
            }
            defer { release.withLock { $0 = true } }
            try #require(try await eventually(timeout: .seconds(30), every: .milliseconds(10)) { holding.withLock { $0 } })
            // When a wrong token (of a real token id) and a malformed one are checked
            let wrong = try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_\(made.id)_wrong")])
            let malformed = try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer nonsense")])
            // Then both are answered 401 while the lock is still held: neither needed it (a check
            // that wrote would wait for the lock past the client's patience, and fail)
            #expect(wrong.status == 401)
            #expect(malformed.status == 401)
            #expect(!release.withLock { $0 } && holding.withLock { $0 })
            release.withLock { $0 = true }
            try await held.value
            // And nothing was stamped; a valid token is
            #expect(try await server.store.adminTokens().first?.lastUsedAt == nil)
            #expect(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(token)")]).status == 200)
            #expect(try await server.store.adminTokens().first?.lastUsedAt == server.clock.nowMillis())
        }
    }

    @Test func aRequestWithoutAuthorizationIsAlways401() async throws {
        try await TestServer.with { server in
            let (_, token) = try await server.store.createAdminToken(name: "ops", random: SystemRandom(), at: server.clock.nowMillis())
            // Given twelve requests without an Authorization header
            for _ in 0..<12 {
                let bare = try await server.client.get("/api/v1/admin/export")
                // Then each is 401 invalid_admin_token with WWW-Authenticate, and counts as no guess
                #expect(bare.status == 401)
                #expect(bare.errorCode == "invalid_admin_token")
                #expect(bare.header("WWW-Authenticate") == "Bearer")
            }
            #expect(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(token)")]).status == 200)
            // When the client then exhausts its failures
            for index in 0..<10 {
                _ = try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_x_\(index)")])
            }
            // Then a request without the header is still told what it lacks
            let bare = try await server.client.get("/api/v1/admin/export")
            #expect(bare.status == 401)
            #expect(bare.errorCode == "invalid_admin_token")
            #expect(bare.header("WWW-Authenticate") == "Bearer")
            #expect(try await server.client.send("POST", "/api/v1/admin/import?format=margin").status == 401)
        }
    }
}
