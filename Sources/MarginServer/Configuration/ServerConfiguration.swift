import Comments
import Logging
import Moderation

/// Everything `margin serve` can be told; `ServerSettings.configuration(from:)` fills it in from
/// the file, the `MARGIN_*` variables and the flags. Its defaults are the catalogue's
/// (`ServerSettings`), so a test that builds one directly runs what `margin serve` runs.
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
    public var voteRateLimit: RateLimit = ServerSettings.voteRateLimit.defaultValue
    /// New threads (first comments on a page) one client network may start in an hour; 0 for no limit.
    public var newThreadsPerHour: Int = ServerSettings.newThreadsPerHour.defaultValue
    /// SMTP server for mail; nil sends no mail.
    public var smtp: SMTPConfiguration?
    /// From address, default moderators and link lifetime for mail.
    public var mailFrom: String
    public var moderators: [String]
    public var notifyAllComments: Bool
    public var linkLifetimeDays: Int
    /// Most reader mails (reply notifications, confirmations) to one address in any 24 hours.
    public var maxMailsPerRecipientPerDay: Int = ServerSettings.mailMaxPerRecipientPerDay.defaultValue
    /// Seconds one hook delivery attempt may take (`hooks.timeout`).
    public var hooksTimeoutSeconds: Int = ServerSettings.hooksTimeout.defaultValue
    /// Seconds before a failed hook delivery is tried again, doubling after each (`hooks.first_retry`).
    public var hooksFirstRetrySeconds: Int = ServerSettings.hooksFirstRetry.defaultValue
    /// How often the outbox looks for due mail.
    public var outboxPollInterval: Duration
    /// Largest body of a JSON API request in bytes (413 beyond); the admin import has its own.
    public var maxBodyBytes: Int = ServerSettings.maxBody.defaultValue
    /// Longest request target (path and query) in bytes (414 beyond).
    public var maxURLBytes: Int = ServerSettings.maxURL.defaultValue
    /// Largest request head, request line and header fields together, in bytes (431 beyond).
    public var maxHeaderBytes: Int = ServerSettings.maxHeaderBytes.defaultValue
    /// Most header fields in one request (431 beyond).
    public var maxHeaderCount: Int = ServerSettings.maxHeaders.defaultValue
    /// Seconds a client has to send a request head, counted from when the connection opens or
    /// its previous answer ends (so also how long an idle kept-alive connection stays open), and
    /// again to send a body, plus a second per `minBodyRate` bytes of it. Then the connection is closed.
    public var requestTimeoutSeconds: Int = ServerSettings.requestTimeout.defaultValue
    /// The body rate (bytes per second) that earns a slow upload more time; 0 gives none.
    public var minBodyRate: Int = ServerSettings.minBodyRate.defaultValue
    /// Most connections open at once from one peer address; 0 is no limit. Browsers open about
    /// six per host, an office behind one address several times that, and the HTTP benchmark 64.
    public var maxConnectionsPerIP: Int = ServerSettings.maxConnectionsPerIP.defaultValue
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else the header is ignored.
    public var trustedProxies: [IPNetwork] = ServerSettings.trustedProxies.defaultValue.compactMap(IPNetwork.init)
    /// How long a graceful shutdown waits for requests in flight before cancelling them.
    public var shutdownGrace: Duration = .seconds(ServerSettings.shutdownGrace.defaultValue)
    /// How log lines are written (`--log-format`); `margin serve` bootstraps logging with it.
    public var logFormat: LogFormat = ServerSettings.logFormat.defaultValue
    /// The lowest level logged (`--log-level`); `margin serve` bootstraps logging with it.
    public var logLevel: Logger.Level = ServerSettings.logLevel.defaultValue

    /// A configuration; what is not given is the setting's default (`mailFrom` is
    /// `margin@localhost` here, `margin@HOST` from settings).
    public init(host: String = ServerSettings.host.defaultValue, port: Int = ServerSettings.port.defaultValue,
                databasePath: String = ServerSettings.db.defaultValue, publicURL: String? = ServerSettings.publicURL.defaultValue,
                editWindowSeconds: Int = ServerSettings.editWindow.defaultValue, spam: SpamSettings = SpamSettings(),
                rateLimit: RateLimit = ServerSettings.rateLimit.defaultValue, smtp: SMTPConfiguration? = nil,
                mailFrom: String = "margin@localhost", moderators: [String] = ServerSettings.moderators.defaultValue,
                notifyAllComments: Bool = ServerSettings.notifyAll.defaultValue,
                linkLifetimeDays: Int = ServerSettings.linkDays.defaultValue, outboxPollInterval: Duration = .seconds(2)) {
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

    /// The hook sender's settings these options describe: its links last as long as mailed ones.
    public var hookSettings: HookSettings {
        HookSettings(publicURL: resolvedPublicURL, linkLifetimeMillis: Int64(linkLifetimeDays) * 86_400_000,
                     timeout: .seconds(hooksTimeoutSeconds), firstRetryMillis: Int64(hooksFirstRetrySeconds) * 1000)
    }

    /// The public base URL without a trailing slash.
    var resolvedPublicURL: String {
        let url = publicURL ?? "http://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
