import Foundation
import HTTPTypes
import Hummingbird

/// The console itself: `/admin/` and its script modules and stylesheet, compiled into the binary
/// (`ConsoleAssets`, written by `scripts/embed-assets`), under a CSP that lets the page load
/// nothing but these files and talk to nothing but this server.
struct ConsolePageRoutes: Sendable {
    func register(on router: Router<MarginRequestContext>) {
        // The router matches `/admin` and `/admin/` alike; the page's relative links need the slash.
        router.get("admin/") { request, _ in
            request.uri.path == "/admin" ? Response(status: .permanentRedirect, headers: [.location: "/admin/"]) : Self.page.response(to: request)
        }
        for (name, file) in Self.assets {
            router.get(RouterPath("admin/\(name)")) { request, _ in file.response(to: request) }
        }
    }

    /// What the console page may load and run: its own files, nothing inline, nothing elsewhere.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    /// One of the console's files: revalidated on every load (`no-cache` with an ETag), so an
    /// upgraded server never runs an old console against its new API.
    static func file(_ text: String, contentType: String) -> PageRoutes.Asset {
        PageRoutes.Asset(text, headers: [
            .contentType: contentType, .cacheControl: "no-cache",
            .contentSecurityPolicy: contentSecurityPolicy,
            // Same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with the
            // import upload, which the origin check must refuse.
            .referrerPolicy: "same-origin", HTTPField.Name("X-Robots-Tag")!: "noindex",
        ])
    }

    static let page = file(ConsoleAssets.page, contentType: "text/html; charset=utf-8")
    /// The files the page loads, by name under `/admin/`: its stylesheet and its script modules.
    static let assets: [(name: String, file: PageRoutes.Asset)] = [
        ("console.css", file(ConsoleAssets.style, contentType: "text/css; charset=utf-8")),
        ("console-i18n.js", script(ConsoleAssets.i18nScript)),
        ("console-core.js", script(ConsoleAssets.coreScript)),
        ("console-queue.js", script(ConsoleAssets.queueScript)),
        ("console-detail.js", script(ConsoleAssets.detailScript)),
        ("console-views.js", script(ConsoleAssets.viewsScript)),
        ("console-hooks.js", script(ConsoleAssets.hooksScript)),
    ]

    private static func script(_ text: String) -> PageRoutes.Asset { file(text, contentType: "text/javascript; charset=utf-8") }
}
