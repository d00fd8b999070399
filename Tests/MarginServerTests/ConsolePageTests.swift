import Foundation
import Testing

@testable import MarginServer

/// The console's files as a browser fetches them: the compiled-in copies of the sources, a
/// strict Content-Security-Policy, nothing inline, and small. (Its behaviour in a real browser
/// is tested by `Tests/Browser/test_console.py`.)
@Suite struct ConsolePageTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/MarginServer/Console")

    /// Every file the console is made of, by name, as compiled in.
    static let files = [("console.html", ConsoleAssets.page), ("console.css", ConsoleAssets.style),
                        ("console-i18n.js", ConsoleAssets.i18nScript), ("console-core.js", ConsoleAssets.coreScript),
                        ("console-queue.js", ConsoleAssets.queueScript), ("console-detail.js", ConsoleAssets.detailScript),
                        ("console-views.js", ConsoleAssets.viewsScript),
                        ("console-hooks.js", ConsoleAssets.hooksScript)]

    @Test func theCompiledInFilesAreTheSourceFiles() throws {
        for (file, served) in Self.files {
            var source = try String(contentsOf: Self.folder.appendingPathComponent(file), encoding: .utf8)
            while source.hasSuffix("\n") { source.removeLast() }
            #expect(served == source, "\(file) changed: run scripts/embed-assets")
        }
        // Every script and stylesheet in the folder is compiled in, and served.
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
            .filter { $0.hasSuffix(".js") || $0.hasSuffix(".css") || $0.hasSuffix(".html") }
        #expect(Set(onDisk) == Set(Self.files.map { $0.0 }))
        #expect(Set(ConsolePageRoutes.assets.map { $0.name }) == Set(Self.files.map { $0.0 }).subtracting(["console.html"]))
    }

    @Test func theWholeConsoleIsAtMost40KBGzipped() {
        let total = Self.files.reduce(0) { sum, file in
            let bytes = Array(file.1.utf8)
            return sum + (bytes.withUnsafeBytes { Gzip.compress($0) }?.count ?? bytes.count)
        }
        #expect(total <= 40 * 1024, "the console is \(total) bytes gzipped")
    }

    /// Each file is small enough to read in one sitting.
    @Test func noFileIsLongerThan400Lines() {
        for (file, text) in Self.files {
            #expect(text.split(separator: "\n", omittingEmptySubsequences: false).count < 400, "\(file)")
        }
    }

    @Test func thePageRunsNothingInlineAndLoadsNothingElsewhere() async throws {
        try await TestServer.with { server in
            let redirect = try await server.client.get("/admin")
            #expect(redirect.status == 308 && redirect.header("Location") == "/admin/")
            let page = try await server.client.get("/admin/").text
            // The page loads each script module and the stylesheet, by a relative address.
            let loaded = ConsolePageRoutes.assets.map { $0.name }.filter { $0.hasSuffix(".js") }
            for name in loaded { #expect(page.contains("<script type=\"module\" src=\"\(name)\"></script>"), "\(name)") }
            #expect(page.contains("<link rel=\"stylesheet\" href=\"console.css\">"))
            let files = [("/admin/", "text/html; charset=utf-8")] + ConsolePageRoutes.assets.map {
                ("/admin/" + $0.name, $0.name.hasSuffix(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8")
            }
            #expect(files.count == 8)
            for (path, type) in files {
                let answer = try await server.client.get(path)
                #expect(answer.status == 200 && answer.header("Content-Type") == type, "\(path)")
                let policy = try #require(answer.header("Content-Security-Policy"))
                #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'") && policy.contains("style-src 'self'"))
                #expect(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe"))
                #expect(answer.header("Cache-Control") == "no-cache")
                let etag = try #require(answer.header("ETag"))
                #expect(try await server.client.get(path, headers: [("If-None-Match", etag)]).status == 304)
            }
            // Every script has a src, there is no style element or attribute, and no other host.
            #expect(!page.contains("<style") && !page.contains("style=") && !page.contains("<script>"))
            #expect(!page.contains("http://") && !page.contains("https://"))
            for (file, text) in Self.files {
                #expect(!text.contains("innerHTML") && !text.contains("eval(") && !text.contains("new Function"), "\(file)")
            }
        }
    }
}
