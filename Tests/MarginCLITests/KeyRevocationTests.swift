import Foundation
import TestSupport
import Testing

/// `margin keys revoke`: a leaked signing key ends at once, against the real server.
@Suite struct KeyRevocationTests {
    /// Given printed links of a server's current key and of an older key, when each key is
    /// revoked with `margin keys revoke` while the server runs, then its links answer 403 on the
    /// next request; revoking the current key makes a new one, whose links work.
    @Test func aRevokedKeysLinksAnswer403AtOnce() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let db = ["--db", scratch.database]
        let node = try await ServeProcess.start(database: scratch.database)
        defer { node.signal(SIGTERM) }
        let posted = await HTTP.send("POST", port: node.port, path: "/api/v1/comments", json: #"{"site":"default","uri":"/k/","text":"a comment"}"#)
        let id = try #require(posted?.json?["id"] as? Int)
        func link(_ action: String) async throws -> String {
            let made = try await CLI.run(["moderate", "link", String(id), action, "--public-url", "http://127.0.0.1:\(node.port)"] + db)
            #expect(made.status == 0, "\(made.stderr)")
            let url = made.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            return String(url.dropFirst("http://127.0.0.1:\(node.port)".count))
        }
        func status(_ path: String) async -> Int? { await HTTP.send("GET", port: node.port, path: path)?.status }
        func kid(_ path: String) -> String? {
            URLComponents(string: path)?.queryItems?.first { $0.name == "kid" }?.value
        }
        let first = try await link("reject")
        #expect(await status(first) == 200)
        #expect(try await CLI.run(["keys", "rotate"] + db).status == 0)
        let second = try await link("delete")
        #expect(await status(first) == 200, "a rotated-out key still verifies its links")
        #expect(await status(second) == 200)

        // The older (retired) key: its link is refused at once; the current key's still works.
        let older = try #require(kid(first))
        let revoked = try await CLI.run(["keys", "revoke", older] + db)
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(await status(first) == 403)
        #expect(await status(second) == 200)

        // The current key: a new one replaces it, so new links keep working.
        let current = try #require(kid(second))
        let replaced = try await CLI.run(["keys", "revoke", current] + db)
        #expect(replaced.status == 0 && replaced.stdout.contains("New signing key"), "\(replaced.stdout)")
        #expect(await status(second) == 403)
        let third = try await link("spam")
        #expect(kid(third) != current)
        #expect(await status(third) == 200)
        let listed = try await CLI.run(["keys", "list"] + db)
        #expect(!listed.stdout.contains(older) && !listed.stdout.contains(current))
        // An unknown key is an error in words, changing nothing.
        let unknown = try await CLI.run(["keys", "revoke", "no-such-key"] + db)
        #expect(unknown.status == 1 && unknown.stderr.contains("No signing key 'no-such-key'"))
        #expect(await status(third) == 200)
    }
}
