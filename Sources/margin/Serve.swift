import ArgumentParser
import Comments
import Foundation
import Hummingbird
import Logging
import Metrics
import MarginServer
import Moderation

/// `margin serve`: runs the HTTP server until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the comment server (the default command).")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var options: ServeOptions

    func run() async throws {
        let settings = try loadSettings(database: database, options: options)
        let configuration = try configurationError { () throws(ConfigurationError) in try ServerSettings.configuration(from: settings) }
        let level = settings.text("log.level").flatMap(Logger.Level.init(rawValue:)) ?? .info
        // Every logger of the process, the libraries' too, writes lines in the chosen format.
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: configuration.logFormat)
            handler.logLevel = level
            return handler
        }
        // The process-wide metrics system shares the server's registry, so anything a library
        // records through swift-metrics appears in /metrics too.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        var logger = Logger(label: "margin")
        logger.logLevel = level

        let runLogger = logger
        let store = try await database.openAnyStore(path: configuration.databasePath, password: configuration.databasePassword, logger: runLogger)
        let databaseName = DatabaseOptions.name(of: configuration.databasePath)
        let app = try await reporting {
            try await buildApplication(
                configuration: configuration, store: store, logger: runLogger, metrics: metrics,
                onServerRunning: { port in
                    runLogger.notice("Margin is serving on http://\(configuration.host):\(port) with database \(databaseName)")
                })
        }
        // SIGTERM or SIGINT: the server stops accepting, finishes the requests in flight, then
        // the outbox and checkpoint services end (a mail being sent has its state written).
        try await runUntilSignalled(app, configuration: configuration, logger: runLogger)
        do {
            if let sqlite = store as? SQLiteStore { try sqlite.close() }
            (store as? PostgresStore)?.close()
            runLogger.notice("Margin stopped; the database is closed")
        } catch {
            runLogger.error("Closing the database failed", metadata: ["error": "\(error)"])
        }
    }

}

/// The flags of `margin serve` (also taken by `margin config show`, which prints what they
/// would make). Each has a `margin.toml` key and a `MARGIN_*` variable; see `ServerSettings`.
struct ServeOptions: ParsableArguments {
    @Option(help: "Address to listen on (env MARGIN_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env MARGIN_PORT; default 8080; 0 picks a free port).")
    var port: String?

    @Option(name: .customLong("public-url"), help: "Public base URL of this server, for links in feeds (env MARGIN_PUBLIC_URL).")
    var publicURL: String?

    @Option(name: .customLong("edit-window"), help: "Seconds an author may edit or delete their comment (env MARGIN_EDIT_WINDOW; default 900).")
    var editWindow: String?

    @Option(name: .customLong("rate-limit"), help: "Default posting limit per client, e.g. 3/min,20/h or off (env MARGIN_RATE_LIMIT).")
    var rateLimit: String?

    @Option(name: .customLong("vote-rate-limit"), help: "Votes per client network, e.g. 30/min,300/h or off (env MARGIN_VOTE_RATE_LIMIT; default 30/min,300/h).")
    var voteRateLimit: String?

    @Option(name: .customLong("new-threads-per-hour"), help: "New threads one client network may start in an hour; 0 is no limit (env MARGIN_NEW_THREADS_PER_HOUR; default 10).")
    var newThreadsPerHour: String?

    @Option(name: .customLong("spam-hold"), help: "Score at which a comment is held (env MARGIN_SPAM_HOLD; default 4).")
    var spamHold: String?

    @Option(name: .customLong("spam-threshold"), help: "Score at which a comment is spam (env MARGIN_SPAM_THRESHOLD; default 9).")
    var spamThreshold: String?

    @Option(name: .customLong("old-thread-days"), help: "Threads older than this score as doubtful; 0 turns it off (env MARGIN_OLD_THREAD_DAYS; default 180).")
    var oldThreadDays: String?

    @Option(name: .customLong("form-max-age-hours"), help: "Hours a form timestamp counts; an older one earns nothing (env MARGIN_FORM_MAX_AGE_HOURS; default 24).")
    var formMaxAgeHours: String?

    @Option(name: .customLong("smtp-host"), help: "SMTP server for mail; no mail is sent without it (env MARGIN_SMTP_HOST).")
    var smtpHost: String?

    @Option(name: .customLong("smtp-port"), help: "SMTP port (env MARGIN_SMTP_PORT; default 587 with starttls, 465 with tls, else 25).")
    var smtpPort: String?

    @Option(name: .customLong("smtp-security"), help: "none, starttls or tls (env MARGIN_SMTP_SECURITY; default starttls).")
    var smtpSecurity: String?

    @Option(name: .customLong("smtp-user"), help: "SMTP user name (env MARGIN_SMTP_USER).")
    var smtpUser: String?

    @Option(name: .customLong("smtp-password-file"), help: "File holding the SMTP password (env MARGIN_SMTP_PASSWORD_FILE, or the password itself in MARGIN_SMTP_PASSWORD).")
    var smtpPasswordFile: String?

    @Flag(name: .customLong("smtp-insecure"), help: "Accept any TLS certificate from the SMTP server (testing only).")
    var smtpInsecure = false

    @Option(name: .customLong("mail-from"), help: "From address of Margin's mail (env MARGIN_MAIL_FROM; default margin@HOST).")
    var mailFrom: String?

    @Option(name: .customLong("moderator"), help: "Moderator email for sites that name none; repeat for several (env MARGIN_MODERATORS, comma-separated).")
    var moderators: [String] = []

    @Flag(name: .customLong("notify-all"), help: "Mail moderators about every new comment, not only held ones (env MARGIN_NOTIFY_ALL=1).")
    var notifyAll = false

    @Option(name: .customLong("link-days"), help: "Days a moderation link works (env MARGIN_LINK_DAYS; default 7).")
    var linkDays: String?

    @Option(name: .customLong("mail-max-per-recipient-per-day"), help: "Most reader mails (replies, confirmations) to one address in 24 hours (env MARGIN_MAIL_MAX_PER_RECIPIENT_PER_DAY; default 10).")
    var mailMaxPerRecipientPerDay: String?

    @Option(name: .customLong("shutdown-grace"), help: "Seconds SIGTERM waits for requests in flight before cutting them off (env MARGIN_SHUTDOWN_GRACE; default 30).")
    var shutdownGrace: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env MARGIN_LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "logfmt or json: one line per event, requests included (env MARGIN_LOG_FORMAT; default logfmt).")
    var logFormat: String?

    @Option(name: .customLong("trusted-proxy"), help: "Address or CIDR of a proxy whose X-Forwarded-For is believed; repeat for several (env MARGIN_TRUSTED_PROXIES, comma-separated; default none).")
    var trustedProxies: [String] = []

    @Option(name: .customLong("max-body"), help: "Largest JSON API request body in bytes; the admin import has its own (env MARGIN_MAX_BODY; default 65536).")
    var maxBody: String?

    @Option(name: .customLong("max-url"), help: "Longest request address (path and query) in bytes (env MARGIN_MAX_URL; default 8192).")
    var maxURL: String?

    @Option(name: .customLong("max-header-bytes"), help: "Largest request head, address and header fields, in bytes (env MARGIN_MAX_HEADER_BYTES; default 32768).")
    var maxHeaderBytes: String?

    @Option(name: .customLong("max-headers"), help: "Most header fields in a request (env MARGIN_MAX_HEADERS; default 100).")
    var maxHeaders: String?

    @Option(name: .customLong("request-timeout"), help: "Seconds a client has to send a request head, and again its body (env MARGIN_REQUEST_TIMEOUT; default 10).")
    var requestTimeout: String?

    @Option(name: .customLong("min-body-rate"), help: "Bytes per second of body that earn a slow upload a second more; 0 earns none (env MARGIN_MIN_BODY_RATE; default 500).")
    var minBodyRate: String?

    @Option(name: .customLong("max-connections-per-ip"), help: "Most connections open at once from one address; 0 is no limit (env MARGIN_MAX_CONNECTIONS_PER_IP; default 128).")
    var maxConnectionsPerIP: String?

    /// The flags given, by setting name.
    func values(database: DatabaseOptions) -> [String: SettingValue] {
        var values: [String: SettingValue] = [:]
        func set(_ name: String, _ text: String?) {
            guard let text, let flag = ServerSettings.key(name).flag else { return }
            values[name] = SettingValue(text: text, origin: .flag(flag))
        }
        set("db", database.db)
        set("db_password_file", database.dbPasswordFile)
        set("host", host)
        set("port", port)
        set("public_url", publicURL)
        set("edit_window", editWindow)
        set("rate_limit", rateLimit)
        set("vote_rate_limit", voteRateLimit)
        set("new_threads_per_hour", newThreadsPerHour)
        set("spam.hold", spamHold)
        set("spam.threshold", spamThreshold)
        set("spam.old_thread_days", oldThreadDays)
        set("spam.form_max_age_hours", formMaxAgeHours)
        set("smtp.host", smtpHost)
        set("smtp.port", smtpPort)
        set("smtp.security", smtpSecurity)
        set("smtp.user", smtpUser)
        set("smtp.password_file", smtpPasswordFile)
        set("smtp.insecure", smtpInsecure ? "true" : nil)
        set("mail.from", mailFrom)
        if !moderators.isEmpty { values["mail.moderators"] = SettingValue(list: moderators, origin: .flag("--moderator")) }
        set("mail.notify_all", notifyAll ? "true" : nil)
        set("mail.link_days", linkDays)
        set("mail.max_per_recipient_per_day", mailMaxPerRecipientPerDay)
        set("log.level", logLevel)
        set("log.format", logFormat)
        set("shutdown_grace", shutdownGrace)
        if !trustedProxies.isEmpty { values["trusted_proxies"] = SettingValue(list: trustedProxies, origin: .flag("--trusted-proxy")) }
        set("limits.max_body", maxBody)
        set("limits.max_url", maxURL)
        set("limits.max_header_bytes", maxHeaderBytes)
        set("limits.max_headers", maxHeaders)
        set("limits.request_timeout", requestTimeout)
        set("limits.min_body_rate", minBodyRate)
        set("limits.max_connections_per_ip", maxConnectionsPerIP)
        return values
    }
}

/// The merged settings of `margin serve`: flags over `MARGIN_*` variables over the file
/// (`--config` or `MARGIN_CONFIG`) over defaults; an unusable value is reported in words.
func loadSettings(database: DatabaseOptions, options: ServeOptions) throws -> Settings {
    try configurationError { () throws(ConfigurationError) in
        try Settings(file: try database.configFile(), environment: ProcessInfo.processInfo.environment,
                     flags: options.values(database: database))
    }
}

/// Runs `body`, turning a configuration error into its sentence on standard error and exit 1.
func configurationError<T>(_ body: () throws(ConfigurationError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        printError("error: \(error)")
        throw ExitCode.failure
    }
}
