import Comments
import Foundation
import HTTPTypes
import NIOCore
import Testing
@testable import MarginServer

/// Thread answers replayed before the router (`AnswerReplayHandler`): the same bytes the router
/// gave, only while nothing changed, in order on a pipelined connection.
@Suite struct AnswerReplayTests {
    static let path = "/api/v1/comments?site=default&uri=/replayed/"

    /// Thread reads answered by replay so far.
    static func replayed(_ server: TestServer) async throws -> Double {
        let samples = try ObservabilityTests.parse(try await server.client.get("/metrics").text)
        return ObservabilityTests.value(samples, "margin_thread_cache_requests_total", ["result": "replayed"])
    }

    /// Every header but the two made per response, as sorted lower-case name/value pairs.
    static func lasting(_ result: HTTPResult) -> [String] {
        result.headers.filter { !["date", "x-request-id"].contains($0.name.lowercased()) }
            .map { "\($0.name.lowercased()): \($0.value)" }.sorted()
    }

    /// Ten comments of about 150 bytes: over the 1 KB below which answers are not gzipped.
    static func seed(_ server: TestServer) async throws {
        for index in 0..<10 {
            _ = try await server.publish("Comment \(index): " + String(repeating: "replayed words ", count: 10), uri: "/replayed/")
        }
    }

    @Test func aRepeatedReadGetsTheRouterAnswerAgainByteForByte() async throws {
        try await TestServer.with { server in
            try await Self.seed(server)
            let variants: [[(String, String)]] = [
                [],
                [("Accept-Encoding", "gzip")],
                [("Origin", "http://localhost:4000")],
                [("Origin", "https://not-a-site.example")],
                [("Origin", "http://127.0.0.1:8080"), ("Accept-Encoding", "gzip, br")],
            ]
            for headers in variants {
                // The first request of a kind is only remembered; its second answer is recorded.
                let unrecorded = try await server.client.get(Self.path, headers: headers)
                let first = try await server.client.get(Self.path, headers: headers)
                #expect(first.body == unrecorded.body)
                let before = try await Self.replayed(server)
                let second = try await server.client.get(Self.path, headers: headers)
                #expect(try await Self.replayed(server) == before + 1, "\(headers): replayed")
                #expect(second.status == first.status)
                #expect(second.body == first.body, "\(headers)")
                #expect(Self.lasting(second) == Self.lasting(first), "\(headers)")
                #expect(second.header("Date") != nil)
                let ids = [first, second].compactMap { $0.header("X-Request-Id") }
                #expect(ids.count == 2 && ids[0] != ids[1], "each answer has its own request id")

                // A conditional request is its own answer: a 304, replayed as the router gave it.
                let etag = try #require(first.header("ETag"))
                let conditional = headers + [("If-None-Match", etag)]
                _ = try await server.client.get(Self.path, headers: conditional)
                let notModified = try await server.client.get(Self.path, headers: conditional)
                #expect(notModified.status == 304)
                let again = try await server.client.get(Self.path, headers: conditional)
                #expect(again.status == 304 && again.body.isEmpty)
                #expect(Self.lasting(again) == Self.lasting(notModified))
            }
            let plain = try await server.client.get(Self.path)
            #expect(plain.json.comments.count == 10)
            let gzipped = try await server.client.get(Self.path, headers: [("Accept-Encoding", "gzip")])
            #expect(gzipped.header("Content-Encoding") == "gzip" && gzipped.body != plain.body)
            let allowed = try await server.client.get(Self.path, headers: [("Origin", "http://localhost:4000")])
            #expect(allowed.header("Access-Control-Allow-Origin") == "http://localhost:4000")
            let refused = try await server.client.get(Self.path, headers: [("Origin", "https://not-a-site.example")])
            #expect(refused.header("Access-Control-Allow-Origin") == nil)

            // A proxy's request id is echoed as the router would; a malformed one is replaced.
            let traced = try await server.client.get(Self.path, headers: [("X-Request-Id", "edge-42")])
            #expect(traced.header("X-Request-Id") == "edge-42")
            let odd = try await server.client.get(Self.path, headers: [("X-Request-Id", "two words")])
            #expect(odd.header("X-Request-Id") != "two words" && odd.header("X-Request-Id") != nil)

            // Asked to close, the connection is closed after the answer, replayed or not.
            for _ in 0..<3 {
                let socket = try RawSocket(port: server.port)
                #expect(socket.send("GET \(Self.path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
                let (bytes, closed) = await socket.read(timeout: .seconds(10), untilClosed: true)
                #expect(closed)
                #expect(Self.split(bytes).map(\.body) == [plain.text])
            }
        }
    }

    /// A commit anywhere (the CLI's own connection, a post through the server) ends every
    /// replay at once; the next read is the router's and shows it, and is replayed after that.
    @Test func aCommitAnywhereEndsTheReplay() async throws {
        try await TestServer.with { server in
            try await Self.seed(server)
            for _ in 0..<2 { _ = try await server.client.get(Self.path) }
            let replayedAnswer = try await server.client.get(Self.path)
            let start = try await Self.replayed(server)
            #expect(start >= 1)

            let cli = try SQLiteStore(path: server.databasePath)
            defer { try? cli.close() }
            let removed = try #require(replayedAnswer.json.comments.first?.int("id"))
            _ = try await cli.delete(commentID: Int64(removed))
            let afterCLI = try await server.client.get(Self.path)
            #expect(afterCLI.json.comments.count == 9)
            #expect(afterCLI.header("ETag") != replayedAnswer.header("ETag"))
            #expect(try await Self.replayed(server) == start, "the first read after a commit is the router's")
            #expect(try await server.client.get(Self.path).body == afterCLI.body)
            #expect(try await Self.replayed(server) == start + 1)

            _ = try await server.publish("one more", uri: "/replayed/")
            #expect(try await server.client.get(Self.path).json.comments.count == 10)
            _ = try await server.publish("and one elsewhere", uri: "/elsewhere/")
            #expect(try await server.client.get(Self.path).json.comments.count == 10)
        }
    }

    /// Requests sent together on one connection are answered in the order they were sent: a
    /// replayable read behind a post waits for the router, and sees the post.
    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await TestServer.with { server in
            try await Self.seed(server)
            let body = #"{"site":"default","uri":"/replayed/","text":"posted in a pipeline"}"#
            let get = "GET \(Self.path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
            // Recorded, then replayed, on a keep-alive connection of its own.
            let warming = try RawSocket(port: server.port)
            for _ in 0..<3 {
                #expect(warming.send(get))
                #expect(Self.split(await warming.read(timeout: .seconds(10)).bytes).first?.status == 200)
            }
            let replays = try await Self.replayed(server)
            #expect(replays >= 1)
            let socket = try RawSocket(port: server.port)
            #expect(socket.send(
                get + "POST /api/v1/comments HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)" + get + get))
            var received: [UInt8] = []
            var answers: [(status: Int, body: String)] = []
            let deadline = ContinuousClock.now + .seconds(10)
            while answers.count < 4, ContinuousClock.now < deadline {
                received += await socket.read(timeout: .milliseconds(200)).bytes
                answers = Self.split(received)
            }
            #expect(answers.map(\.status) == [200, 201, 200, 200])
            #expect(answers.count == 4 && !answers[0].body.contains("posted in a pipeline"))
            #expect(answers.dropFirst(2).allSatisfy { $0.body.contains("posted in a pipeline") })
            #expect(try await Self.replayed(server) == replays + 1, "only the read before the post was replayed")
        }
    }

    /// The complete answers in `bytes`, in order.
    static func split(_ bytes: [UInt8]) -> [(status: Int, body: String)] {
        var answers: [(Int, String)] = []
        var rest = bytes[...]
        while let headLength = RawSocket.headLength(Array(rest)) {
            let head = String(decoding: rest.prefix(headLength), as: UTF8.self)
            let length = RawSocket.contentLength(Array(rest.prefix(headLength))) ?? 0
            guard rest.count >= headLength + length, let status = Int(head.dropFirst(9).prefix(3)) else { break }
            answers.append((status, String(decoding: rest.dropFirst(headLength).prefix(length), as: UTF8.self)))
            rest = rest.dropFirst(headLength + length)
        }
        return answers
    }

    @Test func theBookRecordsWhatIsAskedAgainAndStaysInItsBounds() {
        let book = AnswerReplayBook(capacity: 3, byteBudget: 100)
        func recording(_ bytes: Int) -> AnswerReplayBook.Recording {
            .init(response: HTTPResponse(status: .ok), body: [ByteBuffer(repeating: 0, count: bytes)], route: "/r")
        }
        func found(_ key: AnswerReplayBook.Key, at stamp: Int64) -> AnswerReplayBook.Recording? {
            if case .answer(let recording) = book.look(up: key, at: stamp) { return recording }
            return nil
        }
        let keys = (0..<5).map { AnswerReplayBook.Key(target: "/t\($0)") }
        guard case .firstAsk = book.look(up: keys[0], at: 1), case .askedBefore = book.look(up: keys[0], at: 1) else {
            Issue.record("a request is remembered on its first ask")
            return
        }
        for key in keys.prefix(3) { book.record(recording(10), for: key, at: 1) }
        #expect(keys.prefix(3).allSatisfy { found($0, at: 1) != nil })
        book.record(recording(10), for: keys[3], at: 1)
        #expect(found(keys[3], at: 1) == nil, "past its capacity")
        #expect(found(keys[0], at: 2) == nil, "another stamp")
        book.record(recording(95), for: keys[0], at: 1)
        #expect(found(keys[0], at: 1) == nil, "past its byte budget: the old answer is gone too")
        book.record(recording(60), for: keys[4], at: 2)
        #expect(found(keys[1], at: 1) == nil && found(keys[1], at: 2) == nil, "a new stamp drops the old answers")
        #expect(found(keys[4], at: 2)?.bodyBytes == 60)
        // What a recording holds counts its fields too: most of a small thread's answer.
        let withFields = AnswerReplayBook.Recording(
            response: HTTPResponse(status: .ok, headerFields: [.eTag: "\"x\"", .cacheControl: "no-cache"]),
            body: [ByteBuffer(repeating: 0, count: 10)], route: "/r")
        #expect(withFields.heldBytes == 10 + ("ETag".count + 3 + 64) + ("Cache-Control".count + 8 + 64))
        book.record(withFields, for: keys[4], at: 2)
        #expect(found(keys[4], at: 2) == nil, "past the byte budget with its fields")
        // Remembered requests are bounded too: past the capacity the book forgets them all.
        for index in 10..<14 { _ = book.look(up: AnswerReplayBook.Key(target: "/new\(index)"), at: 3) }
        guard case .firstAsk = book.look(up: keys[0], at: 3) else {
            Issue.record("forgotten after the capacity was passed")
            return
        }
        #expect(AnswerReplayBook.parseMark("42 /api/v1/comments")! == (42, "/api/v1/comments"))
        #expect(AnswerReplayBook.parseMark("x /api") == nil)
    }

    @Test func datesAreIMFFixdates() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        for seconds in [0, 784_111_777, 951_782_400, 1_795_984_654, 2_147_483_648, 4_102_444_799] as [time_t] {
            var value = seconds
            #expect(HTTPDate.format(&value) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        }
        let now = try #require(formatter.date(from: HTTPDate().now()))
        #expect(abs(now.timeIntervalSinceNow) < 2)
    }
}
