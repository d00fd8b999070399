import Comments
import Hummingbird
import HummingbirdCore
import Logging
import Moderation
import NIOCore
import ServiceLifecycle
import Synchronization

/// Everything `margin serve` can be told; flags and `MARGIN_*` variables fill it in.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Path of the SQLite database file.
    public var databasePath: String
    /// The PostgreSQL password read from `db_password_file`; wins over the URL's and `PGPASSWORD`.
    public var databasePassword: String?
    /// The address readers and moderators reach this server at (feed and mail links).
    public var publicURL: String?
    /// How long authors may edit or delete their comment, in seconds.
    public var editWindowSeconds: Int
    /// The spam filter's thresholds.
    public var spam: SpamSettings
    /// Posting limit per client for sites that set none.
    public var rateLimit: RateLimit
    /// Votes one client network may cast (`vote_rate_limit`); `.off` for no limit.
    public var voteRateLimit = RateLimit(windows: [.init(count: 30, seconds: 60), .init(count: 300, seconds: 3600)])
    /// New threads (first comments on a page) one client network may start in an hour; 0 for no limit.
    public var newThreadsPerHour = 10
    /// SMTP server for mail; nil sends no mail.
    public var smtp: SMTPConfiguration?
    /// From address, default moderators and link lifetime for mail.
    public var mailFrom: String
    public var moderators: [String]
    public var notifyAllComments: Bool
    public var linkLifetimeDays: Int
    /// Most reader mails (reply notifications, confirmations) to one address in any 24 hours.
    public var maxMailsPerRecipientPerDay = 10
    /// How often the outbox looks for due mail.
    public var outboxPollInterval: Duration
    /// Largest body of a JSON API request in bytes (413 beyond); the admin import has its own.
    public var maxBodyBytes = Limits.bodyBytesMax
    /// Longest request target (path and query) in bytes (414 beyond).
    public var maxURLBytes = 8 * 1024
    /// Largest request head, request line and header fields together, in bytes (431 beyond).
    public var maxHeaderBytes = 32 * 1024
    /// Most header fields in one request (431 beyond).
    public var maxHeaderCount = 100
    /// Seconds a client has to send a request head, counted from when the connection opens or
    /// its previous answer ends (so also how long an idle kept-alive connection stays open), and
    /// again to send a body, plus a second per `minBodyRate` bytes of it. Then the connection is closed.
    public var requestTimeoutSeconds = 10
    /// The body rate (bytes per second) that earns a slow upload more time; 0 gives none.
    public var minBodyRate = 500
    /// Most connections open at once from one peer address; 0 is no limit. Browsers open about
    /// six per host, an office behind one address several times that, and the HTTP benchmark 64.
    public var maxConnectionsPerIP = 128
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else the header is ignored.
    public var trustedProxies: [IPNetwork] = []
    /// How long a graceful shutdown waits for requests in flight before cancelling them.
    public var shutdownGrace: Duration = .seconds(30)
    /// How log lines are written (`--log-format`); `margin serve` bootstraps logging with it.
    public var logFormat: LogFormat = .logfmt

    public init(host: String = "127.0.0.1", port: Int = 8080, databasePath: String = "margin.sqlite",
                publicURL: String? = nil, editWindowSeconds: Int = 15 * 60, spam: SpamSettings = SpamSettings(),
                rateLimit: RateLimit = .standard, smtp: SMTPConfiguration? = nil, mailFrom: String = "margin@localhost",
                moderators: [String] = [], notifyAllComments: Bool = false, linkLifetimeDays: Int = 7,
                outboxPollInterval: Duration = .seconds(2)) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.publicURL = publicURL
        self.editWindowSeconds = editWindowSeconds
        self.spam = spam
        self.rateLimit = rateLimit
        self.smtp = smtp
        self.mailFrom = mailFrom
        self.moderators = moderators
        self.notifyAllComments = notifyAllComments
        self.linkLifetimeDays = linkLifetimeDays
        self.outboxPollInterval = outboxPollInterval
    }

    /// The mail settings these options describe.
    var mailSettings: MailSettings {
        MailSettings(from: mailFrom, moderators: moderators, notifyAll: notifyAllComments, publicURL: resolvedPublicURL,
                     linkLifetimeSeconds: Int64(linkLifetimeDays) * 86_400, maxPerRecipientPerDay: maxMailsPerRecipientPerDay)
    }

    /// The public base URL without a trailing slash.
    var resolvedPublicURL: String {
        let url = publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}


extension ServerConfiguration {
    /// The HTTP/1 server with the configured decoder limits, and per connection a
    /// `ConnectionGuard` and an `AnswerReplayHandler` (replaying from `replay.book`).
    func http1Channel(replay: AnswerReplayHandler.Shared) -> HTTP1Channel.Configuration {
        let settings = ConnectionGuard.Settings(
            requestTimeout: .seconds(Int64(requestTimeoutSeconds)), minBodyRate: minBodyRate,
            counter: maxConnectionsPerIP > 0 ? ConnectionCounter(limit: maxConnectionsPerIP) : nil)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuard(settings: settings), AnswerReplayHandler(shared: replay)],
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: maxHeaderBytes, maxHeaderListSize: maxHeaderBytes, maxHeaderFieldCount: maxHeaderCount))
    }
}

/// The composition root: wires the store, clock and randomness into the routes and middleware.
/// `inspectRoutes` gets the router's route table once every route is registered (a test holds it
/// to openapi.yaml).
public func buildApplication(
    configuration: ServerConfiguration,
    store: any CommentStore,
    clock: any MarginClock = SystemClock(),
    random: any RandomSource = SystemRandom(),
    logger: Logger = Logger(label: "margin"),
    mailTransport: (any MailTransport)? = nil,
    metrics: ServerMetrics = ServerMetrics(),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in },
    inspectRoutes: ([Router<MarginRequestContext>.RouteDescription]) -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    if try await store.addSiteIfNoneExist(Site.embeddedDefault(createdAt: clock.nowMillis())) {
        logger.info("created the default site for http://localhost:* and http://127.0.0.1:*")
    }
    let formSecret = try await store.secret(named: FormTimestamp.secretName, make: { random.bytes(32) }, at: clock.nowMillis())
    let formTimestamp = FormTimestamp(secret: formSecret)
    _ = try await store.addSigningKeyIfNoneExist(LinkSigner.makeKey(random: random, at: clock.nowMillis()))
    let transport = mailTransport ?? configuration.smtp.map { SMTPTransport(configuration: $0) }
    let notifier = transport.map { _ in
        Notifier(store: store, settings: configuration.mailSettings, clock: clock, random: random)
    }
    let service = CommentService(
        store: store,
        screening: SpamScreening(store: store, formTimestamp: formTimestamp, settings: configuration.spam, clock: clock),
        clock: clock, random: random, editWindowMillis: Int64(configuration.editWindowSeconds) * 1000,
        mail: mailBuilderFactory(notifier))

    let router = Router(context: MarginRequestContext.self)
    router.add(middleware: RequestObserverMiddleware(metrics: metrics, logger: logger))
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: SiteCORSMiddleware(sites: SiteDirectory(sites: service.sites)))
    router.add(middleware: HardeningMiddleware(configuration: configuration))
    let replay = AnswerReplayHandler.Shared(
        book: AnswerReplayBook(), store: store, metrics: metrics, logger: logger, serverDate: HTTPDate())
    CommentsRoutes(
        service: service, cache: ThreadCache(), limiter: RateLimiter(clock: clock, shared: store as? SharedRateLimits), defaultRateLimit: configuration.rateLimit,
        metrics: metrics, voteRateLimit: configuration.voteRateLimit,
        newThreadLimit: configuration.newThreadsPerHour > 0 ? RateLimit(windows: [.init(count: configuration.newThreadsPerHour, seconds: 3600)]) : .off
    ).register(on: router)
    SiteRoutes(service: service, formTimestamp: formTimestamp, publicURL: configuration.resolvedPublicURL)
        .register(on: router)
    ModerationRoutes(store: store, moderator: Moderator(store: store, clock: clock, notifier: notifier), clock: clock,
                     linkLifetimeMillis: Int64(configuration.linkLifetimeDays) * 86_400_000)
        .register(on: router)
    if let tokens = store as? any CommentStore & AdminTokenStore {
        AdminRoutes(store: tokens, clock: clock, failures: RateLimiter(clock: clock),
                    editWindowMillis: Int64(configuration.editWindowSeconds) * 1000).register(on: router)
    }
    HealthRoutes(store: store, clock: clock, startedAt: clock.nowMillis()).register(on: router)
    MetricsRoutes(metrics: metrics, store: store as? any StatisticsStore, clock: clock).register(on: router)
    PageRoutes().register(on: router)

    var services: [any Service] = []
    if let sqlite = store as? SQLiteStore {
        services.append(CheckpointService(store: sqlite, logger: logger))
    }
    if let transport {
        let sender = OutboxSender(
            store: store, transport: transport, settings: configuration.mailSettings, clock: clock, logger: logger,
            pollInterval: configuration.outboxPollInterval)
        services.append(OutboxService(sender: sender))
    }
    // Once every route is registered: the router's own table, for 405s and the API-contract test.
    let routes = router.routes
    router.add(middleware: MethodNotAllowedMiddleware<MarginRequestContext>(routes: routes))
    inspectRoutes(routes)
    return Application(
        router: router,
        server: .http1(configuration: configuration.http1Channel(replay: replay)),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Margin"),
        services: services,
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// Runs `app` until SIGTERM or SIGINT, then shuts it down gracefully: the server stops
/// accepting connections and lets the requests in flight finish, then the outbox and checkpoint
/// services end. What still runs after `configuration.shutdownGrace` is cancelled, so a client
/// that stalls mid-request cannot keep the process alive.
public func runUntilSignalled(_ app: some ApplicationProtocol, configuration: ServerConfiguration, logger: Logger) async throws {
    var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    group.maximumGracefulShutdownDuration = configuration.shutdownGrace
    group.maximumCancellationDuration = .seconds(5)
    try await ServiceGroup(configuration: group).run()
}

/// Runs the outbox sender beside the server until shutdown; a send in progress is finished
/// first, so the outbox's state is always written.
struct OutboxService: Service, CustomStringConvertible {
    let sender: OutboxSender

    /// How ServiceLifecycle names it in the log: not a dump of the sender and its settings.
    var description: String { "OutboxService" }

    func run() async throws {
        let stopping = Mutex(false)
        await withGracefulShutdownHandler {
            await sender.run(stopping: { stopping.withLock { $0 } })
        } onGracefulShutdown: {
            stopping.withLock { $0 = true }
        }
    }
}

/// Checkpoints the SQLite WAL every half second beside the server, so that no request's commit
/// has to (see `SQLiteStore.checkpoint()`); one last time at shutdown.
struct CheckpointService: Service, CustomStringConvertible {
    let store: SQLiteStore
    let logger: Logger

    /// How ServiceLifecycle names it in the log.
    var description: String { "CheckpointService" }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                try await store.checkpoint()
            } catch {
                logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(500)) }
        }
        _ = try? await store.checkpoint()
    }
}

/// The per-comment mail builder factory, when mail is configured.
func mailBuilderFactory(_ notifier: Notifier?) -> (@Sendable () async throws -> MailBuilder)? {
    guard let notifier else { return nil }
    return { try await notifier.builder() }
}
