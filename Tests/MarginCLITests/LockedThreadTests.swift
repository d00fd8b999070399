import Foundation
import TestSupport
import Testing

/// A page closed for comments (WordPress's `comment_status` closed or Disqus's `isClosed`, carried over by an import) refuses new
/// comments with 403 `thread_locked`, on either store, through the real server.
@Suite struct LockedThreadTests {
    /// A real WordPress export (the importer's a11y test data) with pages closed for comments and open ones.
    static let export = TransferCommandTests.data.appendingPathComponent("wordpress/wpimporter-a11y-unit-test-data.xml").path
    static let closed = "/2012/01/04/template-password-protected/"
    static let open = "/2012/01/03/template-comments/"

    /// `POST /api/v1/comments` on `uri` of the default site.
    static func post(port: Int, uri: String, parent: Int? = nil) async -> HTTP.Answer? {
        let reply = parent.map { ",\"parent\":\($0)" } ?? ""
        return await HTTP.send("POST", port: port, path: "/api/v1/comments",
                               json: #"{"site":"default","uri":\#(HTTP.quoted(uri)),"text":"A late word."\#(reply)}"#)
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aClosedPageRefusesCommentsAndRepliesOverHTTP(store: String) async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        // Given the export imported into a SQLite file or a PostgreSQL database, and a server on it
        let database = store == "sqlite" ? scratch.database : try await PostgresTestCluster.freshDatabase()
        let imported = try await CLI.run(["import", "wordpress", Self.export, "--db", database])
        try #require(imported.status == 0, "\(imported.stderr)")
        let server = try await ServeProcess.start(database: database, arguments: ["--rate-limit", "off"])
        defer { server.signal(SIGKILL) }
        let thread = try #require(await HTTP.send("GET", port: server.port, path: "/api/v1/comments?site=default&uri=\(Self.closed)")?.json)
        #expect(thread["locked"] as? Bool == true)
        let before = thread["total"] as? Int
        let visible = try #require((thread["comments"] as? [[String: Any]])?.first { $0["deleted"] as? Bool == false })
        let parent = try #require(visible["id"] as? Int)

        // When a reader posts a comment, and a reply, on the closed page
        let comment = await Self.post(port: server.port, uri: Self.closed)
        let reply = await Self.post(port: server.port, uri: Self.closed, parent: parent)

        // Then both are refused with 403 thread_locked and the thread is unchanged
        for answer in [comment, reply] {
            #expect(answer?.status == 403)
            let error = answer?.json?["error"] as? [String: Any]
            #expect(error?["code"] as? String == "thread_locked", "\(answer?.body ?? "no answer")")
        }
        let after = await HTTP.send("GET", port: server.port, path: "/api/v1/comments?site=default&uri=\(Self.closed)")?.json
        #expect(after?["total"] as? Int == before)
        // while the open page of the same export takes comments
        #expect(await Self.post(port: server.port, uri: Self.open)?.status == 201)
    }
}
