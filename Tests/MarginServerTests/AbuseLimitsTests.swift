import Comments
import Foundation
import Moderation
import Testing

@testable import MarginServer

/// The abuse limits of `margin serve`, against the real server: body, address and head sizes,
/// slow clients, connections per address, and who the client is behind proxies.
@Suite struct AbuseLimitsTests {
    static let json = [("Content-Type", "application/json")]

    /// A comment body of about `size` bytes.
    static func comment(_ size: Int) -> [UInt8] {
        Array(#"{"site":"default","uri":"/post/","text":""#.utf8) + Array(repeating: UInt8(ascii: "a"), count: size) + Array(#""}"#.utf8)
    }

    // MARK: Sizes

    @Test func bodiesOverTheConfiguredLimitAre413() async throws {
        try await TestServer.with(configure: { $0.maxBodyBytes = 2048 }) { server in
            let big = try await server.client.send("POST", "/api/v1/comments", headers: Self.json, body: Self.comment(3000))
            #expect(big.status == 413)
            #expect(big.errorCode == "body_too_large")
            #expect(big.text.contains("2048"))
            // Chunked, with no length to check up front: refused once 2048 bytes have arrived.
            let socket = try RawSocket(port: server.port)
            let chunk = String(decoding: Self.comment(3000), as: UTF8.self)
            socket.send("POST /api/v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                        + String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n0\r\n\r\n")
            let chunked = String(decoding: await socket.read(timeout: .seconds(5)).bytes, as: UTF8.self)
            #expect(chunked.hasPrefix("HTTP/1.1 413"))
            #expect(chunked.contains("body_too_large"))
            // Refused before any route: a body nobody would read counts too.
            let elsewhere = try await server.client.send("POST", "/healthz", headers: Self.json, body: Self.comment(3000))
            #expect(elsewhere.status == 413)
            #expect(elsewhere.errorCode == "body_too_large")
            #expect(try await server.thread().comments.isEmpty)
            // Under the limit, and above it once it is raised, comments are taken.
            #expect(try await server.client.send("POST", "/api/v1/comments", headers: Self.json, body: Self.comment(1500)).status == 201)
        }
        try await TestServer.with(configure: { $0.maxBodyBytes = 128 * 1024 }) { server in
            let preview = try await server.client.send(
                "POST", "/api/v1/preview", headers: Self.json, body: Array(#"{"text":""#.utf8) + Array(repeating: UInt8(ascii: "b"), count: 9000) + Array(#"", "pad":""#.utf8) + Array(repeating: UInt8(ascii: "c"), count: 80_000) + Array(#""}"#.utf8))
            #expect(preview.status == 200)
        }
    }

    @Test func longAddressesAre414AndOversizedHeads431() async throws {
        try await TestServer.with(configure: { $0.maxURLBytes = 1024 }) { server in
            let long = try await server.client.get("/api/v1/comments?site=default&uri=/post/&pad=" + String(repeating: "a", count: 1100))
            #expect(long.status == 414)
            #expect(long.errorCode == "uri_too_long")
            #expect(try await server.client.get("/api/v1/comments?site=default&uri=/post/&pad=" + String(repeating: "a", count: 900)).status == 200)
            // Past the head limit NIO's decoder refuses it; the answer is still the API's JSON.
            let huge = try await server.client.get("/?" + String(repeating: "a", count: 40_000))
            #expect(huge.status == 431)
            #expect(huge.errorCode == "headers_too_large")
            let bigHeader = try await server.client.get("/healthz", headers: [("X-Big", String(repeating: "h", count: 40_000))])
            #expect(bigHeader.status == 431)
            #expect(bigHeader.errorCode == "headers_too_large")
            #expect(bigHeader.header("X-Content-Type-Options") == "nosniff")
            let many = try await server.client.get("/healthz", headers: (0..<150).map { ("X-Header-\($0)", "v") })
            #expect(many.status == 431)
            #expect(many.errorCode == "headers_too_large")
            // A head that is not HTTP at all: 400 in the same shape.
            let socket = try RawSocket(port: server.port)
            socket.send("GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n")
            let garbage = String(decoding: await socket.read(timeout: .seconds(5), untilClosed: true).bytes, as: UTF8.self)
            #expect(garbage.hasPrefix("HTTP/1.1 400"))
            #expect(garbage.contains("malformed_request"))
            // The server carries on.
            #expect(try await server.client.get("/healthz").status == 200)
        }
        // The defaults: 8 KiB addresses, 32 KiB heads, 100 fields.
        try await TestServer.with { (server: TestServer) async throws in
            #expect(try await server.client.get("/healthz?" + String(repeating: "a", count: 9000)).status == 414)
            #expect(try await server.client.get("/healthz", headers: (0..<90).map { ("X-Header-\($0)", "v") }).status == 200)
            #expect(try await server.client.get("/healthz", headers: (0..<101).map { ("X-Header-\($0)", "v") }).status == 431)
        }
    }

    // MARK: Slow clients

    @Test func headsTrickledByteByByteAreCutOffWhileOthersAreServed() async throws {
        try await TestServer.with(configure: { $0.requestTimeoutSeconds = 1 }) { server in
            let socket = try RawSocket(port: server.port)
            let start = ContinuousClock.now
            #expect(socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "))
            var closedAfter: Duration?
            var othersServed = true
            for round in 0..<60 {
                if await socket.closedWithin(.milliseconds(200)) || !socket.send("a") {
                    closedAfter = ContinuousClock.now - start
                    break
                }
                if round == 2 { othersServed = try await server.client.get("/healthz").status == 200 }
            }
            let after = try #require(closedAfter, "a trickling client was never cut off")
            #expect(after >= .milliseconds(900) && after < .seconds(6))
            #expect(othersServed)
            #expect(try await server.client.get("/healthz").status == 200)
        }
    }

    @Test func bodiesTrickledByteByByteAreCutOffButSteadyUploadsFinish() async throws {
        try await TestServer.with(configure: { $0.requestTimeoutSeconds = 1 }) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("POST /api/v1/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{\"text\":\"")
            let start = ContinuousClock.now
            var closedAfter: Duration?
            for _ in 0..<60 {
                if await socket.closedWithin(.milliseconds(200)) || !socket.send("a") {
                    closedAfter = ContinuousClock.now - start
                    break
                }
            }
            let after = try #require(closedAfter, "a trickling upload was never cut off")
            #expect(after >= .milliseconds(900) && after < .seconds(6))

            // 6 KB over 2.25 s is slow but steady (2.4 KB/s, over the 500 B/s that earns time): answered.
            let text = String(repeating: "s", count: 6000)
            let body = "{\"text\":\"\(text)\"}"
            let steady = try RawSocket(port: server.port)
            steady.send("POST /api/v1/preview HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n")
            let bytes = Array(body.utf8)
            for piece in stride(from: 0, to: bytes.count, by: 600) {
                if piece > 0 { try await Task.sleep(for: .milliseconds(250)) }
                #expect(steady.send(String(decoding: bytes[piece..<min(piece + 600, bytes.count)], as: UTF8.self)))
            }
            let answer = String(decoding: await steady.read(timeout: .seconds(5), untilClosed: true).bytes, as: UTF8.self)
            #expect(answer.hasPrefix("HTTP/1.1 200"))
            #expect(answer.contains(text))
        }
    }

    @Test func idleConnectionsAreClosedAfterTheRequestTimeout() async throws {
        // 3 s, not 1: the kept-alive request below must not lose a race with a busy test machine.
        try await TestServer.with(configure: { $0.requestTimeoutSeconds = 3 }) { server in
            let socket = try RawSocket(port: server.port)
            socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(String(decoding: await socket.read(timeout: .seconds(5)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            // Kept alive: a second request within the timeout is answered on the same connection.
            try await Task.sleep(for: .milliseconds(200))
            socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            #expect(String(decoding: await socket.read(timeout: .seconds(5)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            let start = ContinuousClock.now
            #expect(await socket.closedWithin(.seconds(10)))
            #expect(ContinuousClock.now - start >= .milliseconds(2500))
            // A connection that never says anything goes the same way.
            #expect(await (try RawSocket(port: server.port)).closedWithin(.seconds(10)))
        }
    }

    // MARK: Connections per address

    @Test func connectionsPerAddressAreCapped() async throws {
        try await TestServer.with(configure: { $0.maxConnectionsPerIP = 3 }) { server in
            let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            let held = try (0..<3).map { _ in try RawSocket(port: server.port) }
            for socket in held {
                socket.send(request)
                #expect(String(decoding: await socket.read(timeout: .seconds(5)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            }
            // The fourth is closed at once, unanswered.
            let refused = try RawSocket(port: server.port)
            refused.send(request)
            let result = await refused.read(timeout: .seconds(3), untilClosed: true)
            #expect(result.closed)
            #expect(result.bytes.isEmpty)
            // Closing one lets the next one in (once the server has seen the close).
            held[0].close()
            var served = false
            for _ in 0..<50 where !served {
                let socket = try RawSocket(port: server.port)
                socket.send(request)
                served = String(decoding: await socket.read(timeout: .seconds(1)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200")
                if !served { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(served)
            // The other two were never disturbed.
            for socket in held.dropFirst() {
                socket.send(request)
                #expect(String(decoding: await socket.read(timeout: .seconds(5)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
            }
        }
    }

    @Test func theDefaultCapLeavesRoomForALoadTester() async throws {
        // wrk -c64 from one address, as the HTTP benchmark runs it, is all served.
        try await TestServer.with { server in
            let sockets = try (0..<64).map { _ in try RawSocket(port: server.port) }
            for socket in sockets { socket.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") }
            var served = 0
            for socket in sockets where String(decoding: await socket.read(timeout: .seconds(5)).bytes, as: UTF8.self).hasPrefix("HTTP/1.1 200") {
                served += 1
            }
            #expect(served == 64)
        }
    }

    // MARK: Who the client is

    @Test func aSpoofedForwardedForDoesNotDodgeThePostingLimit() async throws {
        try await TestServer.with(configure: { $0.rateLimit = RateLimit(parsing: "3/min")! }) { server in
            var statuses: [Int] = []
            for attempt in 0..<5 {
                let response = try await server.post(
                    ["site": "default", "uri": "/post/", "text": "spoofed \(attempt)"], headers: [("X-Forwarded-For", "198.51.100.\(attempt + 1)")])
                statuses.append(response.status)
            }
            #expect(statuses == [201, 201, 201, 429, 429])
            // Nor is the made-up address stored.
            let stored = try await server.store.comment(id: 1)
            #expect(stored?.ip == "127.0.0.0")
        }
    }

    @Test func behindATrustedProxyEachForwardedClientHasItsOwnQuota() async throws {
        try await TestServer.with(configure: {
            $0.rateLimit = RateLimit(parsing: "2/min")!
            $0.trustedProxies = [IPNetwork("127.0.0.1")!, IPNetwork("10.0.0.0/8")!]
        }) { server in
            func post(_ text: String, from chain: String) async throws -> Int {
                try await server.post(["site": "default", "uri": "/post/", "text": text], headers: [("X-Forwarded-For", chain)]).status
            }
            #expect(try await post("a1", from: "198.51.100.7") == 201)
            #expect(try await post("a2", from: "198.51.100.7") == 201)
            #expect(try await post("a3", from: "198.51.100.7") == 429)
            let other = try await server.post(["site": "default", "uri": "/post/", "text": "b1"], headers: [("X-Forwarded-For", "203.0.113.9")])
            #expect(other.status == 201)
            let id = try #require(other.json.int("id"))
            #expect(try await server.store.comment(id: Int64(id))?.ip == "203.0.113.0")
            // Whatever a client writes left of the address our proxies saw is ignored; trusted
            // proxies in the chain are skipped.
            #expect(try await post("a4", from: "203.0.113.50, 198.51.100.7") == 429)
            #expect(try await post("a5", from: "203.0.113.51, 198.51.100.7, 10.1.2.3") == 429)
            #expect(try await post("b2", from: "198.51.100.7, 203.0.113.9, 10.9.9.9") == 201)
            // Without the header the proxy itself is the client.
            #expect(try await server.post(["site": "default", "uri": "/post/", "text": "p1"]).status == 201)
        }
    }

    @Test func networksAndForwardedChainsAreReadStrictly() throws {
        func bytes(_ text: String) -> [UInt8] { IPAnonymizer.bytes(of: text)! }
        let ten = try #require(IPNetwork("10.0.0.0/8"))
        #expect(ten.contains(bytes("10.200.1.2")))
        #expect(!ten.contains(bytes("11.0.0.1")))
        #expect(!ten.contains(bytes("2001:db8::1")))
        let v6 = try #require(IPNetwork("2001:db8::/32"))
        #expect(v6.contains(bytes("2001:db8:ffff::1")))
        #expect(!v6.contains(bytes("2001:db9::1")))
        #expect(try #require(IPNetwork("::ffff:192.168.0.0/112")).contains(bytes("192.168.7.7")))
        #expect(try #require(IPNetwork("192.168.1.5")).contains(bytes("192.168.1.5")))
        #expect(!(try #require(IPNetwork("192.168.1.5"))).contains(bytes("192.168.1.6")))
        #expect(try #require(IPNetwork("172.16.0.0/12")).contains(bytes("172.31.255.255")))
        #expect(!(try #require(IPNetwork("172.16.0.0/12"))).contains(bytes("172.32.0.0")))
        for bad in ["", "nonsense", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "2001:db8::/129", "10.0.0/8"] {
            #expect(IPNetwork(bad) == nil, "\(bad)")
        }
        let proxies = ClientAddress(trustedProxies: [ten])
        #expect(proxies.resolve(peer: "203.0.113.1", forwardedFor: ["198.51.100.1"]) == nil)
        #expect(proxies.resolve(peer: "10.0.0.1", forwardedFor: ["198.51.100.1, 10.0.0.2"]) == "198.51.100.1")
        #expect(proxies.resolve(peer: "10.0.0.1", forwardedFor: ["1.1.1.1", "198.51.100.1"]) == "198.51.100.1")
        #expect(proxies.resolve(peer: "10.0.0.1", forwardedFor: ["10.0.0.3, 10.0.0.2"]) == "10.0.0.3")
        #expect(proxies.resolve(peer: "10.0.0.1", forwardedFor: ["198.51.100.1, garbage, 10.0.0.2"]) == "10.0.0.2")
        #expect(proxies.resolve(peer: "10.0.0.1", forwardedFor: ["garbage"]) == nil)
    }

    // MARK: Headers

    @Test func everyHTMLPageCarriesTheSecurityHeaders() async throws {
        try await TestServer.with { server in
            let comment = try await server.publish("a comment to moderate")
            let signer = LinkSigner(keys: try await server.store.signingKeys())
            let expires = server.clock.nowMillis() + 86_400_000
            func link(_ action: String) throws -> String {
                let nonce = LinkSigner.makeNonce(random: SystemRandom())
                return try #require(signer.sign(site: "default", commentID: comment.id, action: action, expiresAt: expires, nonce: nonce)).pathAndQuery
            }
            let pages: [(String, Int)] = [
                ("/", 200), ("/demo/second/", 200),
                (try link("approve"), 200), (try link("unsubscribe"), 200),
                ("/moderate/\(comment.id)/approve", 403), ("/unsubscribe/\(comment.id)?site=default", 403),
                (try link("approve").replacingOccurrences(of: "exp=\(expires)", with: "exp=\(expires + 1)"), 403),
            ]
            for (path, status) in pages {
                let page = try await server.client.get(path)
                #expect(page.status == status, "\(path)")
                #expect(page.header("Content-Type")?.hasPrefix("text/html") == true, "\(path)")
                let policy = page.header("Content-Security-Policy") ?? ""
                #expect(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'none'"), "\(path): \(policy)")
                #expect(page.header("X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(page.header("Referrer-Policy") != nil, "\(path)")
                #expect(page.header("Set-Cookie") == nil, "\(path)")
            }
            // Scripts, styles, feeds and JSON (errors included) are never sniffed either.
            for path in ["/embed.js", "/embed.css", "/demo.css", "/healthz", "/api/v1/comments?site=default&uri=/post/",
                         "/api/v1/config?site=default", "/api/v1/feed.atom?site=default", "/api/v1/nothing", "/demo/nothing/"] {
                let response = try await server.client.get(path)
                #expect(response.header("X-Content-Type-Options") == "nosniff", "\(path)")
                #expect(response.header("Set-Cookie") == nil, "\(path)")
            }
            let error = try await server.post(["site": "default", "uri": "/post/"])
            #expect(error.status == 422)
            #expect(error.header("X-Content-Type-Options") == "nosniff")
        }
    }

    @Test func anUnknownOriginGetsNoCORSHeaders() async throws {
        try await TestServer.with { server in
            let evil = [("Origin", "https://evil.example")]
            let read = try await server.client.get("/api/v1/comments?site=default&uri=/post/", headers: evil)
            #expect(read.status == 200)
            #expect(read.header("Access-Control-Allow-Origin") == nil)
            #expect(read.header("Access-Control-Allow-Credentials") == nil)
            let write = try await server.post(["site": "default", "uri": "/post/", "text": "csrf"], headers: evil)
            #expect(write.status == 403)
            #expect(write.header("Access-Control-Allow-Origin") == nil)
            let known = try await server.client.get("/api/v1/comments?site=default&uri=/post/", headers: [("Origin", "http://localhost:4000")])
            #expect(known.header("Access-Control-Allow-Origin") == "http://localhost:4000")
        }
    }

    // MARK: Admin tokens

    @Test func theDatabaseNeverHoldsAnAdminTokenInThePlain() async throws {
        try await TestServer.with { server in
            let (_, token) = try await server.store.createAdminToken(name: "ops", random: SystemRandom(), at: server.clock.nowMillis())
            #expect(try await server.client.get("/api/v1/admin/export", headers: [("Authorization", "Bearer \(token)")]).status == 200)
            let secret = try #require(token.split(separator: "_", maxSplits: 2).last.map(String.init))
            var files = Data()
            for suffix in ["", "-wal", "-shm"] {
                files.append((try? Data(contentsOf: URL(fileURLWithPath: server.databasePath + suffix))) ?? Data())
            }
            #expect(!files.isEmpty)
            #expect(files.range(of: Data(secret.utf8)) == nil)
            #expect(files.range(of: Data(token.utf8)) == nil)
        }
    }

    @Test func theAdminImportKeepsItsOwnBodyLimit() async throws {
        try await TestServer.with(configure: { $0.maxBodyBytes = 1024 }) { server in
            for index in 0..<3 { _ = try await server.publish("\(index) " + String(repeating: "long comment ", count: 60)) }
            let (_, token) = try await server.store.createAdminToken(name: "ops", random: SystemRandom(), at: server.clock.nowMillis())
            let auth = [("Authorization", "Bearer \(token)")]
            let export = try await server.client.get("/api/v1/admin/export?format=margin", headers: auth)
            #expect(export.status == 200)
            #expect(export.body.count > 2048)
            let upload = try await server.client.send("POST", "/api/v1/admin/import?format=margin&dry_run=1", headers: auth, body: export.body)
            #expect(upload.status == 200, "\(upload.text)")
            // Any other route refuses the same bytes.
            #expect(try await server.client.send("POST", "/api/v1/preview", headers: Self.json + auth, body: export.body).status == 413)
        }
    }

    @Test func tokenHashesAreComparedWholly() {
        let hash = Array(CommentService.hash(token: "secret").utf8)
        #expect(CommentService.constantTimeEquals(hash, hash))
        var lastDiffers = hash
        lastDiffers[lastDiffers.count - 1] ^= 1
        #expect(!CommentService.constantTimeEquals(hash, lastDiffers))
        #expect(!CommentService.constantTimeEquals(hash, Array(hash.dropLast())))
    }

    @Test func aSpoofedForwardedForDoesNotDodgeTheAdminFailureLimit() async throws {
        try await TestServer.with { server in
            var statuses: [Int] = []
            for attempt in 0..<12 {
                let response = try await server.client.get(
                    "/api/v1/admin/export", headers: [("Authorization", "Bearer mgn_x_\(attempt)"), ("X-Forwarded-For", "198.51.100.\(attempt + 1)")])
                statuses.append(response.status)
            }
            #expect(statuses.prefix(10).allSatisfy { $0 == 401 })
            #expect(statuses.suffix(2).allSatisfy { $0 == 429 })
        }
    }
}
