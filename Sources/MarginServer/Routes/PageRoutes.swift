import HTTPTypes
import Hummingbird

/// The HTML pages the server shows itself: for now a landing page at `/`.
struct PageRoutes: Sendable {
    func register(on router: Router<MarginRequestContext>) {
        router.get("/", use: index)
    }

    /// Headers every HTML page carries.
    static let securityHeaders: HTTPFields = [
        .contentType: "text/html; charset=utf-8",
        .contentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("Referrer-Policy")!: "strict-origin-when-cross-origin",
    ]

    @Sendable func index(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Margin</title></head>
        <body><h1>Margin is running</h1>
        <p>This is a Margin comment server. The JSON API lives under <code>/api/v1</code>;
        try <a href="/api/v1/comments?site=default&amp;uri=/">/api/v1/comments?site=default&amp;uri=/</a>
        or <a href="/healthz">/healthz</a>.</p></body></html>
        """
        return Response(status: .ok, headers: Self.securityHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
