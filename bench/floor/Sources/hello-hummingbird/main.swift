import Hummingbird

/// `hello-hummingbird PORT`: a Hummingbird 2 server with one route, `GET /healthz`.
let router = Router()
router.get("healthz") { _, _ in "ok" }
let port = Int(CommandLine.arguments[1])!
let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
try await app.runService()
