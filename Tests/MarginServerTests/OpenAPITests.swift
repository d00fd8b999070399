import Comments
import Crypto
import Foundation
import Hummingbird
import Logging
import TestSupport
import Testing

@testable import MarginServer

/// The API contract: `openapi.yaml` is what the server serves as `/openapi.json`, and it names
/// exactly the routes the server registers. (`scripts/fuzz-api` checks the answers against it.)
@Suite struct OpenAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Documented here before a colleague's branch registers it; once it is registered it is
    /// compared like every other route.
    static let documentedAhead: Set<String> = ["GET /metrics"]

    /// `METHOD /path/{param}` for every operation of the served document.
    static func documentedRoutes() throws -> Set<String> {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json.utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var routes = Set<String>()
        for (path, item) in paths {
            for method in item.keys where method != "parameters" {
                routes.insert("\(method.uppercased()) \(normalized(path))")
            }
        }
        return routes
    }

    /// A path as the router matches it: no empty segments, so `/demo/{slug}/` is `/demo/{slug}`.
    static func normalized(_ path: String) -> String {
        "/" + path.split(separator: "/", omittingEmptySubsequences: true).joined(separator: "/")
    }

    @Test func theServedDocumentIsOpenapiYaml() throws {
        let yaml = try Data(contentsOf: Self.root.appendingPathComponent("openapi.yaml"))
        let digest = SHA256.hash(data: yaml).map { String(format: "%02x", $0) }.joined()
        #expect(digest == OpenAPIDocument.sourceSHA256, "openapi.yaml changed: run scripts/embed-openapi")
    }

    @Test func everyRegisteredRouteIsDocumentedAndEveryDocumentedRouteIsRegistered() async throws {
        let directory = try Scratch()
        defer { directory.remove() }
        let store = try SQLiteStore(path: directory.path("margin.sqlite"))
        var registered: [String] = []
        var logger = Logger(label: "margin-test")
        logger.logLevel = .warning
        _ = try await buildApplication(
            configuration: ServerConfiguration(port: 0, databasePath: directory.path("margin.sqlite")),
            store: store, logger: logger,
            inspectRoutes: { routes in registered = routes.map { "\($0.method.rawValue) \(Self.normalized($0.path.description))" } })
        let serverRoutes = Set(registered)
        #expect(serverRoutes.count == registered.count, "a route is registered twice")
        #expect(serverRoutes.count > 15, "the router's table was not read")
        let documented = try Self.documentedRoutes()
        #expect(serverRoutes.subtracting(documented).sorted() == [], "registered but not in openapi.yaml")
        #expect(documented.subtracting(serverRoutes).subtracting(Self.documentedAhead).sorted() == [],
                "in openapi.yaml but not registered")
    }

    @Test func theDocumentIsServedAsJSONWithAnETag() async throws {
        try await TestServer.with { server in
            let response = try await server.client.get("/openapi.json")
            #expect(response.status == 200)
            #expect(response.header("Content-Type") == "application/json; charset=utf-8")
            #expect(response.json["openapi"] as? String == "3.0.3")
            let paths = response.json["paths"] as? [String: Any] ?? [:]
            #expect(paths["/api/v1/comments"] != nil && paths["/openapi.json"] != nil)
            let etag = try #require(response.header("ETag"))
            #expect(try await server.client.get("/openapi.json", headers: [("If-None-Match", etag)]).status == 304)
        }
    }

    @Test func aKnownPathWithAnUnknownMethodIs405WithAllow() async throws {
        try await TestServer.with { server in
            let put = try await server.client.send("PUT", "/api/v1/comments", headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
            #expect(put.status == 405)
            #expect(put.errorCode == "method_not_allowed")
            #expect(put.header("Allow") == "GET, POST")
            let get = try await server.client.get("/api/v1/comments/7")
            #expect(get.status == 405)
            #expect(get.header("Allow") == "DELETE, PATCH")
            // A path one route names exactly is that route's, never a parameter's (`bulk` is no `{id}`).
            let bulk = try await server.client.get("/api/v1/admin/comments/bulk")
            #expect(bulk.status == 405)
            #expect(bulk.header("Allow") == "POST")
            let unknown = try await server.client.get("/api/v1/nothing-here")
            #expect(unknown.status == 404)
            #expect(unknown.errorCode == "not_found")
            #expect(unknown.header("Allow") == nil)
        }
    }
}
