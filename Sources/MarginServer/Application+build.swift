import Comments
import Hummingbird
import HummingbirdCore
import Logging
import Moderation
import NIOCore
import ServiceLifecycle

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
        service: service, cache: ThreadCache(), limiter: RateLimiter(clock: clock, shared: store.sharedRateLimits), defaultRateLimit: configuration.rateLimit,
        metrics: metrics, voteRateLimit: configuration.voteRateLimit,
        newThreadLimit: configuration.newThreadsPerHour > 0 ? RateLimit(windows: [.init(count: configuration.newThreadsPerHour, seconds: 3600)]) : .off
    ).register(on: router)
    SiteRoutes(service: service, formTimestamp: formTimestamp, publicURL: configuration.resolvedPublicURL)
        .register(on: router)
    let moderator = Moderator(store: store, clock: clock, notifier: notifier)
    let linkLifetimeMillis = Int64(configuration.linkLifetimeDays) * 86_400_000
    ModerationRoutes(store: store, moderator: moderator, clock: clock, linkLifetimeMillis: linkLifetimeMillis)
        .register(on: router)
    let gate = ConsoleGate(store: store, clock: clock, failures: RateLimiter(clock: clock),
                           publicURL: configuration.resolvedPublicURL, defaultModerators: configuration.moderators)
    AdminRoutes(store: store, clock: clock, gate: gate,
                editWindowMillis: Int64(configuration.editWindowSeconds) * 1000).register(on: router)
    SignInRoutes(gate: gate, store: store, clock: clock, random: random, mail: transport.map { _ in configuration.mailSettings },
                 limiter: RateLimiter(clock: clock, shared: store.sharedRateLimits), logger: logger, linkLifetimeMillis: linkLifetimeMillis)
        .register(on: router)
    CommentModerationRoutes(gate: gate, store: store, moderator: moderator, clock: clock).register(on: router)
    ConsoleSiteRoutes(gate: gate, store: store).register(on: router)
    BlocklistRoutes(gate: gate, store: store, clock: clock).register(on: router)
    ActivityRoutes(gate: gate, store: store, clock: clock).register(on: router)
    let hookSender = HookSender(store: store, settings: configuration.hookSettings, clock: clock, random: random, logger: logger)
    HookRoutes(gate: gate, registry: HookRegistry(store: store, sender: hookSender, clock: clock, random: random))
        .register(on: router)
    ConsolePageRoutes().register(on: router)
    HealthRoutes(store: store, clock: clock, startedAt: clock.nowMillis()).register(on: router)
    MetricsRoutes(metrics: metrics, store: store, clock: clock).register(on: router)
    PageRoutes().register(on: router)

    var services: [any Service] = []
    if let checkpointing = store.checkpointing {
        services.append(CheckpointService(store: checkpointing, logger: logger))
    }
    if let transport {
        let sender = OutboxSender(
            store: store, transport: transport, settings: configuration.mailSettings, clock: clock, logger: logger,
            pollInterval: configuration.outboxPollInterval)
        services.append(SenderService(description: "OutboxService") { await sender.run(stopping: $0) })
    }
    // Always, mail or not: hooks are added at run time, and another node may have added them.
    services.append(SenderService(description: "HookService") { await hookSender.run(stopping: $0) })
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

/// The per-comment mail builder factory, when mail is configured.
func mailBuilderFactory(_ notifier: Notifier?) -> (@Sendable () async throws -> MailBuilder)? {
    guard let notifier else { return nil }
    return { try await notifier.builder() }
}
