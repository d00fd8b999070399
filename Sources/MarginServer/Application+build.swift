import Comments
import Hummingbird
import Logging
import Moderation
import NIOCore

/// Everything `margin serve` can be told; flags and `MARGIN_*` variables fill it in.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Path of the SQLite database file.
    public var databasePath: String
    /// The address readers and moderators reach this server at (feed and mail links).
    public var publicURL: String?
    /// How long authors may edit or delete their comment, in seconds.
    public var editWindowSeconds: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, databasePath: String = "margin.sqlite",
                publicURL: String? = nil, editWindowSeconds: Int = 15 * 60) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.publicURL = publicURL
        self.editWindowSeconds = editWindowSeconds
    }

    /// The public base URL without a trailing slash.
    var resolvedPublicURL: String {
        let url = publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}

/// The site a fresh database starts with, so the quick start works with no configuration.
public let defaultSite = Site(
    id: "default", name: "Margin", origins: ["http://localhost:*", "http://127.0.0.1:*"], moderation: .none)

/// The composition root: wires the store, clock and randomness into the routes and middleware.
public func buildApplication(
    configuration: ServerConfiguration,
    store: any CommentStore,
    clock: any MarginClock = SystemClock(),
    random: any RandomSource = SystemRandom(),
    logger: Logger = Logger(label: "margin"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var defaults = defaultSite
    defaults.createdAt = clock.nowMillis()
    if try await store.addSiteIfNoneExist(defaults) {
        logger.info("created the default site for http://localhost:* and http://127.0.0.1:*")
    }
    let formSecret = try await store.secret(named: FormTimestamp.secretName, make: { random.bytes(32) }, at: clock.nowMillis())
    let service = CommentService(
        store: store, screening: ModeScreening(), clock: clock, random: random,
        editWindowMillis: Int64(configuration.editWindowSeconds) * 1000)

    let router = Router(context: MarginRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: SiteCORSMiddleware(sites: SiteDirectory(store: store)))
    CommentsRoutes(service: service, cache: ThreadCache()).register(on: router)
    SiteRoutes(service: service, formTimestamp: FormTimestamp(secret: formSecret), publicURL: configuration.resolvedPublicURL)
        .register(on: router)
    HealthRoutes(store: store).register(on: router)
    PageRoutes().register(on: router)

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Margin"),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}
