import Foundation
import HTTPTypes
import Hummingbird

/// What the server shows itself: the embed widget (`/embed.js`, `/embed.css`), the API contract
/// (`/openapi.json`) and a demo blog post at `/` (and `/demo/…/`) with the widget working against
/// this server.
struct PageRoutes: Sendable {
    func register(on router: Router<MarginRequestContext>) {
        router.get("/", use: index)
        router.get("/demo/:slug/", use: demoPost)
        router.get("/embed.js") { request, _ in Self.script.response(to: request) }
        router.get("/embed.css") { request, _ in Self.style.response(to: request) }
        router.get("/demo.css") { request, _ in Self.demoStyle.response(to: request) }
        router.get("/openapi.json") { request, _ in Self.openAPI.response(to: request) }
    }

    /// Headers every HTML page carries: only this origin may run script, style or be fetched.
    static let securityHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data: https://www.gravatar.com; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        .referrerPolicy: "strict-origin-when-cross-origin",
    ]

    /// A file served with a strong ETag and fixed headers: the widget's with a day of caching (a
    /// week more while it revalidates), the console's revalidated every time.
    struct Asset: Sendable {
        let body: ByteBuffer
        let headers: HTTPFields

        /// A widget file: cached for a day, and loadable by blogs on other origins.
        init(_ text: String, contentType: String) {
            self.init(text, headers: [
                .contentType: contentType,
                .cacheControl: "public, max-age=86400, stale-while-revalidate=604800",
                // Blogs on other origins load it with <script src> and <link>.
                HTTPField.Name("Cross-Origin-Resource-Policy")!: "cross-origin",
            ])
        }

        /// A file with these headers and its ETag.
        init(_ text: String, headers: HTTPFields) {
            body = ByteBuffer(string: text)
            var headers = headers
            headers[.eTag] = ThreadCache.etag(for: Array(text.utf8))
            self.headers = headers
        }

        func response(to request: Request) -> Response {
            var headers = self.headers
            if ifNoneMatch(request.headers[.ifNoneMatch], matches: headers[.eTag] ?? "") {
                return Response(status: .notModified, headers: headers)
            }
            headers[.contentLength] = String(body.readableBytes)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
        }
    }

    static let script = Asset(EmbedAssets.script, contentType: "text/javascript; charset=utf-8")
    static let style = Asset(EmbedAssets.style, contentType: "text/css; charset=utf-8")
    static let demoStyle = Asset(EmbedAssets.demoStyle, contentType: "text/css; charset=utf-8")
    /// The API contract (`openapi.yaml`), compiled in by `scripts/embed-openapi`.
    static let openAPI = Asset(OpenAPIDocument.json, contentType: "application/json; charset=utf-8")

    /// A post of the demo blog.
    struct DemoPost: Sendable {
        let slug: String
        let title: String
        let paragraphs: [String]
        var uri: String { "/demo/\(slug == "welcome" ? "" : slug + "/")" }
        var href: String { slug == "welcome" ? "/" : uri }
    }

    static let posts = [
        DemoPost(slug: "welcome", title: "Comments on a static blog, without Disqus", paragraphs: [
            "This page is a sample blog post served by your Margin server. The thread below is the real widget, talking to this server: post a comment, reply to it, vote, preview your markdown, and edit or delete what you wrote for a few minutes afterwards.",
            "On your own blog it takes one tag where the comments should appear:",
            "<pre><code>&lt;div id=\"margin-thread\"&gt;&lt;/div&gt;\n&lt;script src=\"https://comments.example.org/embed.js\" data-site=\"blog\" async&gt;&lt;/script&gt;</code></pre>",
            "The widget makes no request to any other host, sets no cookie and needs no inline script, so it works under a strict Content-Security-Policy like this page's.",
        ]),
        DemoPost(slug: "second", title: "A second post", paragraphs: [
            "Each page has its own thread, keyed by its path. Comment counts on list pages come from one request per page.",
        ]),
        DemoPost(slug: "third", title: "A third post", paragraphs: [
            "Themes follow the reader's light or dark preference; <code>data-theme</code> and <code>data-lang</code> on the script tag override them.",
        ]),
    ]

    @Sendable func index(_ request: Request, context: MarginRequestContext) async throws -> Response {
        page(Self.posts[0])
    }

    @Sendable func demoPost(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let slug = context.parameters.get("slug") ?? ""
        guard let post = Self.posts.first(where: { $0.slug == slug && slug != "welcome" }) else {
            throw APIError(.notFound, code: "not_found", message: "No such page.")
        }
        return page(post)
    }

    func page(_ post: DemoPost) -> Response {
        let others = Self.posts.map { other in
            "<li><a href=\"\(other.href)\">\(other.title)</a><span data-margin-count=\"\(other.uri)\"></span></li>"
        }.joined(separator: "\n")
        let html = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(post.title) · Margin demo</title>
        <link rel="stylesheet" href="/demo.css">
        </head>
        <body>
        <header><a href="/">A Margin demo blog</a><span>served by Margin</span></header>
        <main>
        <article>
        <h1>\(post.title)</h1>
        <p class="meta">A sample post · comments below are live</p>
        \(post.paragraphs.map { $0.hasPrefix("<pre>") ? $0 : "<p>\($0)</p>" }.joined(separator: "\n"))
        </article>
        <aside><h2>More posts</h2><ul>
        \(others)
        </ul></aside>
        <div id="margin-thread"></div>
        <script src="/embed.js" data-site="default" data-uri="\(post.uri)" data-title="\(post.title)" async></script>
        </main>
        <footer>The JSON API is under <a href="/api/v1/comments?site=default&amp;uri=\(post.uri)">/api/v1</a>; health at <a href="/healthz">/healthz</a>.</footer>
        </body>
        </html>
        """
        return Response(status: .ok, headers: Self.securityHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
