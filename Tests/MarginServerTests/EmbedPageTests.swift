import Foundation
import Testing

@testable import MarginServer

/// The widget's files and the demo blog post, as a browser fetches them (the widget's behaviour
/// in a real browser is tested by `Tests/Browser`).
@Suite struct EmbedPageTests {
    static let embedFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/MarginServer/Embed")

    @Test func theCompiledInAssetsAreTheSourceFiles() throws {
        for (file, served) in [("embed.js", EmbedAssets.script), ("embed.css", EmbedAssets.style), ("demo.css", EmbedAssets.demoStyle)] {
            let source = try String(contentsOf: Self.embedFolder.appendingPathComponent(file), encoding: .utf8)
            var trimmed = source
            while trimmed.hasSuffix("\n") { trimmed.removeLast() }
            #expect(served == trimmed, "\(file) changed: run scripts/embed-assets")
        }
    }

    @Test func widgetFilesAreCachedAndRevalidated() async throws {
        try await TestServer.with { server in
            for (path, type) in [("/embed.js", "text/javascript; charset=utf-8"), ("/embed.css", "text/css; charset=utf-8"),
                                 ("/demo.css", "text/css; charset=utf-8")] {
                let first = try await server.client.get(path)
                #expect(first.status == 200)
                #expect(first.header("Content-Type") == type)
                #expect(first.header("Cache-Control")?.contains("max-age=86400") == true)
                #expect(first.header("Cross-Origin-Resource-Policy") == "cross-origin")
                #expect(!first.body.isEmpty)
                let etag = try #require(first.header("ETag"))
                #expect(etag.hasPrefix("\"") && etag.count > 10)
                let again = try await server.client.get(path, headers: [("If-None-Match", "\"other\", \(etag)")])
                #expect(again.status == 304)
                #expect(again.body.isEmpty)
                #expect(try await server.client.get(path, headers: [("If-None-Match", "\"stale\"")]).status == 200)
            }
        }
    }

    @Test func theDemoPostEmbedsTheWidgetUnderAStrictPolicy() async throws {
        try await TestServer.with { server in
            let page = try await server.client.get("/")
            #expect(page.status == 200)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            let policy = try #require(page.header("Content-Security-Policy"))
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"))
            #expect(!policy.contains("unsafe-inline"))
            #expect(page.text.contains(#"<div id="margin-thread"></div>"#))
            #expect(page.text.contains(#"<script src="/embed.js" data-site="default" data-uri="/demo/""#))
            // No inline script or style: everything the page runs comes from this server.
            #expect(!page.text.contains("<script>") && !page.text.contains("<style") && !page.text.contains("style="))
            for uri in ["/demo/", "/demo/second/", "/demo/third/"] {
                #expect(page.text.contains("data-margin-count=\"\(uri)\""))
            }
            let second = try await server.client.get("/demo/second/")
            #expect(second.status == 200)
            #expect(second.text.contains(#"data-uri="/demo/second/""#))
            let missing = try await server.client.get("/demo/nothing-here/")
            #expect(missing.status == 404)
            #expect(missing.errorCode == "not_found")
        }
    }
}
