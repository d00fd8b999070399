import Comments
import Foundation
import Testing

/// Editing, deleting and voting.
@Suite struct AuthorActionsTests {
    @Test func authorsEditWithTheirTokenWithinTheWindow() async throws {
        try await TestServer.with { server in
            let mine = try await server.publish("first draft")
            let auth = [("Authorization", "Bearer \(mine.token)")]
            server.clock.advance(seconds: 60)
            let edited = try await server.client.postJSON("/api/v1/comments/\(mine.id)", ["text": "second **draft**"], method: "PATCH", headers: auth)
            #expect(edited.status == 200)
            #expect(edited.json["html"] as? String == "<p>second <strong>draft</strong></p>")
            #expect(edited.json.int("edited") == Int(server.clock.nowMillis()))
            #expect(edited.json["edit_token"] == nil)
            let thread = try await server.thread()
            #expect(thread.comments.first?["html"] as? String == "<p>second <strong>draft</strong></p>")
            #expect(thread.comments.first?.int("edited") == Int(server.clock.nowMillis()))

            let wrong = try await server.client.postJSON("/api/v1/comments/\(mine.id)", ["text": "hijack"], method: "PATCH", headers: [("Authorization", "Bearer wrong")])
            #expect(wrong.status == 401)
            #expect(wrong.errorCode == "invalid_edit_token")
            #expect(wrong.header("WWW-Authenticate") == "Bearer")
            let missing = try await server.client.postJSON("/api/v1/comments/\(mine.id)", ["text": "hijack"], method: "PATCH")
            #expect(missing.status == 401)
            let someoneElses = try await server.publish("other")
            let crossed = try await server.client.postJSON("/api/v1/comments/\(someoneElses.id)", ["text": "hijack"], method: "PATCH", headers: auth)
            #expect(crossed.status == 401)
            let invalid = try await server.client.postJSON("/api/v1/comments/\(mine.id)", ["text": ""], method: "PATCH", headers: auth)
            #expect(invalid.status == 422)

            server.clock.advance(seconds: 15 * 60)
            let late = try await server.client.postJSON("/api/v1/comments/\(mine.id)", ["text": "too late"], method: "PATCH", headers: auth)
            #expect(late.status == 403)
            #expect(late.errorCode == "edit_window_closed")
            let lateDelete = try await server.client.send("DELETE", "/api/v1/comments/\(mine.id)", headers: auth)
            #expect(lateDelete.status == 403)
            #expect(try await server.thread().comments.first?["html"] as? String == "<p>second <strong>draft</strong></p>")
        }
    }

    @Test func deleteNeedsTheToken() async throws {
        try await TestServer.with { server in
            let mine = try await server.publish("delete me")
            #expect(try await server.client.send("DELETE", "/api/v1/comments/\(mine.id)").status == 401)
            #expect(try await server.client.send("DELETE", "/api/v1/comments/\(mine.id)", headers: [("Authorization", "Bearer nope")]).status == 401)
            #expect(try await server.thread().comments.count == 1)
            #expect(try await server.client.send("DELETE", "/api/v1/comments/\(mine.id)", headers: [("Authorization", "Bearer \(mine.token)")]).status == 200)
            #expect(try await server.thread().comments.isEmpty)
            #expect(try await server.client.send("DELETE", "/api/v1/comments/\(mine.id)", headers: [("Authorization", "Bearer \(mine.token)")]).status == 404)
        }
    }

    @Test func oneVotePerVoterWhichMayChange() async throws {
        // A voter is a client network: two readers here are two addresses behind a trusted proxy.
        try await TestServer.with(configure: { $0.trustedProxies = [IPNetwork("127.0.0.1")!] }) { server in
            let comment = try await server.publish("vote on me")
            let path = "/api/v1/comments/\(comment.id)/vote"
            let reader = [("X-Forwarded-For", "198.51.100.1")]
            var response = try await server.client.postJSON(path, ["value": 1], headers: reader)
            #expect(response.status == 200)
            #expect(response.json.int("likes") == 1 && response.json.int("dislikes") == 0)
            response = try await server.client.postJSON(path, ["value": 1], headers: reader)
            #expect(response.json.int("likes") == 1)
            response = try await server.client.postJSON(path, ["value": -1], headers: reader)
            #expect(response.json.int("likes") == 0 && response.json.int("dislikes") == 1)
            response = try await server.client.postJSON(path, ["value": 1], headers: [("X-Forwarded-For", "198.51.100.2")])
            #expect(response.json.int("likes") == 1 && response.json.int("dislikes") == 1)
            for bad: Any in [2, 0, "1", -5] {
                let invalid = try await server.client.postJSON(path, ["value": bad], headers: reader)
                #expect(invalid.status == 422)
                #expect(invalid.errorCode == "invalid_value")
            }
            let thread = try await server.thread()
            #expect(thread.comments.first?.int("likes") == 1)
            #expect(thread.comments.first?.int("dislikes") == 1)
        }
    }
}
