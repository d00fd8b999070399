import ArgumentParser
import Comments
import Foundation
import Hummingbird
import Logging
import MarginServer
import Metrics
import Moderation

/// `margin serve`: runs the HTTP server until SIGINT or SIGTERM.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the comment server (the default command).")

    @Option(help: "Address to listen on (env MARGIN_HOST; default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (env MARGIN_PORT; default 8080; 0 picks a free port).")
    var port: Int?

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("public-url"), help: "Public base URL of this server, for links in feeds (env MARGIN_PUBLIC_URL).")
    var publicURL: String?

    @Option(name: .customLong("edit-window"), help: "Seconds an author may edit or delete their comment (env MARGIN_EDIT_WINDOW; default 900).")
    var editWindow: Int?

    @Option(name: .customLong("rate-limit"), help: "Default posting limit per client, e.g. 3/min,20/h or off (env MARGIN_RATE_LIMIT).")
    var rateLimit: String?

    @Option(name: .customLong("spam-hold"), help: "Score at which a comment is held (env MARGIN_SPAM_HOLD; default 4).")
    var spamHold: Double?

    @Option(name: .customLong("spam-threshold"), help: "Score at which a comment is spam (env MARGIN_SPAM_THRESHOLD; default 9).")
    var spamThreshold: Double?

    @Option(name: .customLong("old-thread-days"), help: "Threads older than this score as doubtful; 0 turns it off (env MARGIN_OLD_THREAD_DAYS; default 180).")
    var oldThreadDays: Int?

    @Option(name: .customLong("smtp-host"), help: "SMTP server for mail; no mail is sent without it (env MARGIN_SMTP_HOST).")
    var smtpHost: String?

    @Option(name: .customLong("smtp-port"), help: "SMTP port (env MARGIN_SMTP_PORT; default 587 with starttls, 465 with tls, else 25).")
    var smtpPort: Int?

    @Option(name: .customLong("smtp-security"), help: "none, starttls or tls (env MARGIN_SMTP_SECURITY; default starttls).")
    var smtpSecurity: String?

    @Option(name: .customLong("smtp-user"), help: "SMTP user name (env MARGIN_SMTP_USER).")
    var smtpUser: String?

    @Option(name: .customLong("smtp-password-file"), help: "File holding the SMTP password (or env MARGIN_SMTP_PASSWORD).")
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
    var linkDays: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env MARGIN_LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "logfmt or json: one line per event, requests included (env MARGIN_LOG_FORMAT; default logfmt).")
    var logFormat: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = ServerConfiguration(databasePath: database.path)
        configuration.host = host ?? environment["MARGIN_HOST"] ?? configuration.host
        if let port = try port ?? environment["MARGIN_PORT"].map({ text in
            guard let value = Int(text) else { throw ValidationError("MARGIN_PORT must be a number, not '\(text)'.") }
            return value
        }) {
            guard (0...65535).contains(port) else { throw ValidationError("The port must be from 0 to 65535.") }
            configuration.port = port
        }
        configuration.publicURL = publicURL ?? environment["MARGIN_PUBLIC_URL"]
        if let window = try editWindow ?? environment["MARGIN_EDIT_WINDOW"].map({ text in
            guard let value = Int(text) else { throw ValidationError("MARGIN_EDIT_WINDOW must be a number of seconds.") }
            return value
        }) {
            guard window >= 0 else { throw ValidationError("The edit window cannot be negative.") }
            configuration.editWindowSeconds = window
        }
        if let text = rateLimit ?? environment["MARGIN_RATE_LIMIT"] {
            guard let limit = RateLimit(parsing: text) else { throw ValidationError("A rate limit is like 3/min,20/h or off; got '\(text)'.") }
            configuration.rateLimit = limit
        }
        if let hold = try spamHold ?? environment["MARGIN_SPAM_HOLD"].map({ try number($0, "MARGIN_SPAM_HOLD") }) { configuration.spam.holdScore = hold }
        if let spam = try spamThreshold ?? environment["MARGIN_SPAM_THRESHOLD"].map({ try number($0, "MARGIN_SPAM_THRESHOLD") }) {
            configuration.spam.spamScore = spam
        }
        guard configuration.spam.holdScore < configuration.spam.spamScore else {
            throw ValidationError("The hold score must be below the spam threshold.")
        }
        if let days = try oldThreadDays ?? environment["MARGIN_OLD_THREAD_DAYS"].map({ Int(try number($0, "MARGIN_OLD_THREAD_DAYS")) }) {
            configuration.spam.oldThreadDays = days
        }
        if let host = smtpHost ?? environment["MARGIN_SMTP_HOST"] {
            let securityText = smtpSecurity ?? environment["MARGIN_SMTP_SECURITY"] ?? "starttls"
            guard let security = SMTPConfiguration.Security(rawValue: securityText) else {
                throw ValidationError("--smtp-security is none, starttls or tls.")
            }
            let defaultPort = switch security {
            case .startTLS: 587
            case .tls: 465
            case .none: 25
            }
            let port = try smtpPort ?? environment["MARGIN_SMTP_PORT"].map({ Int(try number($0, "MARGIN_SMTP_PORT")) }) ?? defaultPort
            var password = environment["MARGIN_SMTP_PASSWORD"]
            if let file = smtpPasswordFile {
                guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("Cannot read \(file).") }
                password = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            configuration.smtp = SMTPConfiguration(
                host: host, port: port, security: security, username: smtpUser ?? environment["MARGIN_SMTP_USER"], password: password,
                verifyCertificates: !smtpInsecure)
        }
        configuration.mailFrom = mailFrom ?? environment["MARGIN_MAIL_FROM"] ?? "margin@\(configuration.host)"
        configuration.moderators = moderators.isEmpty
            ? (environment["MARGIN_MODERATORS"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [])
            : moderators
        configuration.notifyAllComments = notifyAll || environment["MARGIN_NOTIFY_ALL"] == "1"
        if let days = try linkDays ?? environment["MARGIN_LINK_DAYS"].map({ Int(try number($0, "MARGIN_LINK_DAYS")) }) {
            guard days > 0 else { throw ValidationError("Links must work for at least a day.") }
            configuration.linkLifetimeDays = days
        }
        let levelText = logLevel ?? environment["MARGIN_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("Unknown log level '\(levelText)'.") }
        let formatText = logFormat ?? environment["MARGIN_LOG_FORMAT"] ?? LogFormat.logfmt.rawValue
        guard let format = LogFormat(rawValue: formatText) else { throw ValidationError("--log-format is logfmt or json, not '\(formatText)'.") }
        configuration.logFormat = format
        // Every logger of the process, the libraries' too, writes lines in the chosen format.
        LoggingSystem.bootstrap { label in
            var handler = LineLogHandler(label: label, format: format)
            handler.logLevel = level
            return handler
        }
        // The process-wide metrics system shares the server's registry, so anything a library
        // records through swift-metrics appears in /metrics too.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        var logger = Logger(label: "margin")
        logger.logLevel = level

        let store = try database.openStore()
        let settings = configuration
        let runLogger = logger
        let app = try await reporting {
            try await buildApplication(
                configuration: settings, store: store, logger: runLogger, metrics: metrics,
                onServerRunning: { port in
                    runLogger.notice("Margin is serving on http://\(settings.host):\(port) with database \(settings.databasePath)")
                })
        }
        try await app.runService()
    }
}

/// A number from an environment variable, or a clear error naming it.
func number(_ text: String, _ name: String) throws -> Double {
    guard let value = Double(text) else { throw ValidationError("\(name) must be a number, not '\(text)'.") }
    return value
}
