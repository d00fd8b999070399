import ArgumentParser
import Comments
import Foundation
import Hummingbird
import Logging
import MarginServer
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

    @Option(name: .customLong("max-body"), help: "Largest JSON API request body in bytes; the admin import has its own (env MARGIN_MAX_BODY; default 65536).")
    var maxBody: Int?

    @Option(name: .customLong("max-url"), help: "Longest request address (path and query) in bytes (env MARGIN_MAX_URL; default 8192).")
    var maxURL: Int?

    @Option(name: .customLong("max-header-bytes"), help: "Largest request head, address and header fields, in bytes (env MARGIN_MAX_HEADER_BYTES; default 32768).")
    var maxHeaderBytes: Int?

    @Option(name: .customLong("max-headers"), help: "Most header fields in a request (env MARGIN_MAX_HEADERS; default 100).")
    var maxHeaders: Int?

    @Option(name: .customLong("request-timeout"), help: "Seconds a client has to send a request head, and again its body (env MARGIN_REQUEST_TIMEOUT; default 10).")
    var requestTimeout: Int?

    @Option(name: .customLong("min-body-rate"), help: "Bytes per second of body that earn a slow upload a second more; 0 earns none (env MARGIN_MIN_BODY_RATE; default 500).")
    var minBodyRate: Int?

    @Option(name: .customLong("max-connections-per-ip"), help: "Most connections open at once from one address; 0 is no limit (env MARGIN_MAX_CONNECTIONS_PER_IP; default 128).")
    var maxConnectionsPerIP: Int?

    @Option(name: .customLong("trusted-proxy"), help: "Address or CIDR of a proxy whose X-Forwarded-For is believed; repeat for several (env MARGIN_TRUSTED_PROXIES, comma-separated; default none).")
    var trustedProxies: [String] = []

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
        try applyAbuseLimits(to: &configuration, environment: environment)
        var logger = Logger(label: "margin")
        let levelText = logLevel ?? environment["MARGIN_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else { throw ValidationError("Unknown log level '\(levelText)'.") }
        logger.logLevel = level

        let store = try database.openStore()
        let settings = configuration
        let runLogger = logger
        let app = try await reporting {
            try await buildApplication(
                configuration: settings, store: store, logger: runLogger,
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

extension Serve {
    /// The abuse-limit options into `configuration`, each from its flag or else its variable.
    func applyAbuseLimits(to configuration: inout ServerConfiguration, environment: [String: String]) throws {
        func value(_ flag: Int?, _ option: String, _ name: String, atLeast minimum: Int) throws -> Int? {
            guard let value = try flag ?? environment[name].map({ text in
                guard let value = Int(text) else { throw ValidationError("\(name) must be a whole number, not '\(text)'.") }
                return value
            }) else { return nil }
            guard value >= minimum else { throw ValidationError("--\(option) (\(name)) must be at least \(minimum); got \(value).") }
            return value
        }
        if let bytes = try value(maxBody, "max-body", "MARGIN_MAX_BODY", atLeast: 1024) { configuration.maxBodyBytes = bytes }
        if let bytes = try value(maxURL, "max-url", "MARGIN_MAX_URL", atLeast: 256) { configuration.maxURLBytes = bytes }
        if let bytes = try value(maxHeaderBytes, "max-header-bytes", "MARGIN_MAX_HEADER_BYTES", atLeast: 1024) { configuration.maxHeaderBytes = bytes }
        if let count = try value(maxHeaders, "max-headers", "MARGIN_MAX_HEADERS", atLeast: 8) { configuration.maxHeaderCount = count }
        if let seconds = try value(requestTimeout, "request-timeout", "MARGIN_REQUEST_TIMEOUT", atLeast: 1) { configuration.requestTimeoutSeconds = seconds }
        if let rate = try value(minBodyRate, "min-body-rate", "MARGIN_MIN_BODY_RATE", atLeast: 0) { configuration.minBodyRate = rate }
        if let count = try value(maxConnectionsPerIP, "max-connections-per-ip", "MARGIN_MAX_CONNECTIONS_PER_IP", atLeast: 0) { configuration.maxConnectionsPerIP = count }
        let proxies = trustedProxies.isEmpty
            ? (environment["MARGIN_TRUSTED_PROXIES"].map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } } ?? [])
            : trustedProxies
        configuration.trustedProxies = try proxies.filter { !$0.isEmpty }.map { text in
            guard let network = IPNetwork(text) else { throw ValidationError("A trusted proxy is an address or CIDR like 10.0.0.0/8; got '\(text)'.") }
            return network
        }
    }
}
