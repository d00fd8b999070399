import Comments
import Foundation
import Logging
import Moderation

/// Every setting of `margin serve`, each declared once: the catalogue that the file reader, the
/// environment, the flags of `margin serve`, `margin config show`, `ServerConfiguration`'s
/// defaults and the README check all derive from. A new setting is one declaration here, one
/// entry in `keys`, a flag property in `ServeOptions` and a README row (the tests name what is
/// missing).
public enum ServerSettings {
    /// The settings in the order `margin config show` prints them; a dot starts a `[table]`.
    public static let keys: [SettingKey] = [
        host.key, port.key, db.key, dbPasswordFile.key, publicURL.key, editWindow.key, rateLimit.key, voteRateLimit.key,
        newThreadsPerHour.key, shutdownGrace.key, trustedProxies.key,
        logLevel.key, logFormat.key,
        spamHold.key, spamThreshold.key, oldThreadDays.key, formMaxAgeHours.key,
        smtpHost.key, smtpPort.key, smtpSecurity.key, smtpUser.key, smtpPassword.key, smtpPasswordFile.key, smtpInsecure.key,
        mailFrom.key, moderators.key, notifyAll.key, linkDays.key, mailMaxPerRecipientPerDay.key,
        hooksTimeout.key, hooksFirstRetry.key,
        maxBody.key, maxURL.key, maxHeaderBytes.key, maxHeaders.key, requestTimeout.key, minBodyRate.key, maxConnectionsPerIP.key,
    ]

    /// The key named `name`; it must be in the catalogue.
    public static func key(_ name: String) -> SettingKey {
        keys.first { $0.name == name }!
    }

    // MARK: Listening and storage

    public static let host = Setting<String>(
        "host", env: "MARGIN_HOST", flag: "--host", default: "127.0.0.1",
        "address to listen on",
        flagHelp: "Address to listen on (env {env}; default {default}).",
        problem: { $0.isEmpty ? "must not be empty" : nil },
        apply: { $0.host = $1 })

    public static let port = Setting<Int>(
        "port", env: "MARGIN_PORT", flag: "--port", default: 8080,
        "port to listen on (0 picks a free one)",
        flagHelp: "Port to listen on (env {env}; default {default}; 0 picks a free port).",
        problem: { (0...65535).contains($0) ? nil : "must be from 0 to 65535" },
        apply: { $0.port = $1 })

    public static let db = Setting<String>(
        "db", env: "MARGIN_DB", flag: "--db", default: "margin.sqlite",
        "SQLite database file, created and migrated if missing",
        flagHelp: "SQLite database file, or a postgres:// URL (env {env}; default ./margin.sqlite).",
        problem: { $0.isEmpty ? "must name a file" : nil },
        // A password written into a postgres:// URL is a secret like any other.
        masked: { PostgresLocation.masked($0) },
        apply: { $0.databasePath = $1 })

    /// Read by `configuration(from:)`: the file's contents become `databasePassword`.
    public static let dbPasswordFile = Setting<String?>(
        "db_password_file", env: "MARGIN_DB_PASSWORD_FILE", flag: "--db-password-file", default: nil,
        "a file holding the PostgreSQL password; wins over a password in `db` and over `PGPASSWORD`",
        flagHelp: "File holding the PostgreSQL password (env {env}; or PGPASSWORD).",
        apply: nil)

    public static let publicURL = Setting<String?>(
        "public_url", env: "MARGIN_PUBLIC_URL", flag: "--public-url", default: nil, shown: "http://HOST:PORT",
        "public base URL of this server, used in feed and mail links",
        flagHelp: "Public base URL of this server, for links in feeds (env {env}).",
        problem: { text in
            let url = text.flatMap { URL(string: $0) }
            return url?.host != nil && ["http", "https"].contains(url?.scheme ?? "") ? nil : "must be an http:// or https:// URL"
        },
        apply: { $0.publicURL = $1 })

    // MARK: Comments and votes

    public static let editWindow = Setting<Int>(
        "edit_window", env: "MARGIN_EDIT_WINDOW", flag: "--edit-window", default: Limits.editWindowSeconds,
        "seconds an author may edit or delete their own comment",
        flagHelp: "Seconds an author may edit or delete their comment (env {env}; default {default}).",
        problem: { $0 >= 0 ? nil : "cannot be negative" },
        apply: { $0.editWindowSeconds = $1 })

    public static let rateLimit = Setting<RateLimit>(
        "rate_limit", env: "MARGIN_RATE_LIMIT", flag: "--rate-limit", default: .standard,
        "comments one client network (an IPv4 address, an IPv6 /64) may post, for sites that set none; `off` for none",
        flagHelp: "Default posting limit per client, e.g. 3/min,20/h or off (env {env}).",
        unreadable: { "is like 3/min,20/h or off, not '\($0.text)'" },
        apply: { $0.rateLimit = $1 })

    public static let voteRateLimit = Setting<RateLimit>(
        "vote_rate_limit", env: "MARGIN_VOTE_RATE_LIMIT", flag: "--vote-rate-limit",
        default: RateLimit(windows: [.init(count: 30, seconds: 60), .init(count: 300, seconds: 3600)]),
        "votes one client network (an IPv4 address, an IPv6 /64) may cast, for sites that set none; `off` for none",
        flagHelp: "Votes per client network, e.g. 30/min,300/h or off (env {env}; default {default}).",
        unreadable: { "is like 30/min,300/h or off, not '\($0.text)'" },
        apply: { $0.voteRateLimit = $1 })

    public static let newThreadsPerHour = Setting<Int>(
        "new_threads_per_hour", env: "MARGIN_NEW_THREADS_PER_HOUR", flag: "--new-threads-per-hour", default: 10,
        "threads (first comments on a page) one client network may start in an hour; `0` for no limit",
        flagHelp: "New threads one client network may start in an hour; 0 is no limit (env {env}; default {default}).",
        problem: { $0 >= 0 ? nil : "cannot be negative" },
        apply: { $0.newThreadsPerHour = $1 })

    // MARK: The process

    public static let shutdownGrace = Setting<Int>(
        "shutdown_grace", env: "MARGIN_SHUTDOWN_GRACE", flag: "--shutdown-grace", default: 30,
        "seconds SIGTERM or SIGINT waits for requests in flight before cutting them off",
        flagHelp: "Seconds SIGTERM waits for requests in flight before cutting them off (env {env}; default {default}).",
        problem: { $0 >= 0 ? nil : "cannot be negative" },
        apply: { $0.shutdownGrace = .seconds($1) })

    public static let trustedProxies = Setting<[String]>(
        "trusted_proxies", env: "MARGIN_TRUSTED_PROXIES", flag: "--trusted-proxy", default: [],
        "addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed",
        flagHelp: """
            Address or CIDR of a proxy whose X-Forwarded-For is believed; repeat for several \
            (env {env}, comma-separated; default none).
            """,
        problem: { texts in texts.first { IPNetwork($0) == nil }.map { "must be addresses or CIDRs like 10.0.0.0/8; '\($0)' is neither" } },
        apply: { $0.trustedProxies = $1.compactMap(IPNetwork.init) })

    public static let logLevel = Setting<Logger.Level>(
        "log.level", env: "MARGIN_LOG_LEVEL", flag: "--log-level", default: .info,
        "`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`",
        flagHelp: "trace, debug, info, notice, warning, error or critical (env {env}; default {default}).",
        unreadable: { _ in "is one of trace, debug, info, notice, warning, error, critical" },
        apply: { $0.logLevel = $1 })

    public static let logFormat = Setting<LogFormat>(
        "log.format", env: "MARGIN_LOG_FORMAT", flag: "--log-format", default: .logfmt,
        "`logfmt` or `json`: every log line of the server, one per event",
        flagHelp: "logfmt or json: one line per event, requests included (env {env}; default {default}).",
        unreadable: { "is logfmt or json, not '\($0.text)'" },
        apply: { $0.logFormat = $1 })

    // MARK: The spam filter (defaults: the filter's own, `SpamSettings()`)

    /// Checked against `spamThreshold` by `configuration(from:)`.
    public static let spamHold = Setting<Double>(
        "spam.hold", env: "MARGIN_SPAM_HOLD", flag: "--spam-hold", default: SpamSettings().holdScore,
        "spam score at which a comment is held for a moderator",
        flagHelp: "Score at which a comment is held (env {env}; default {default}).",
        apply: { $0.spam.holdScore = $1 })

    public static let spamThreshold = Setting<Double>(
        "spam.threshold", env: "MARGIN_SPAM_THRESHOLD", flag: "--spam-threshold", default: SpamSettings().spamScore,
        "spam score at which a comment is spam (stored, never shown, never mailed)",
        flagHelp: "Score at which a comment is spam (env {env}; default {default}).",
        apply: { $0.spam.spamScore = $1 })

    public static let oldThreadDays = Setting<Int>(
        "spam.old_thread_days", env: "MARGIN_OLD_THREAD_DAYS", flag: "--old-thread-days", default: SpamSettings().oldThreadDays,
        "comments on threads older than this score as doubtful; `0` turns the rule off",
        flagHelp: "Threads older than this score as doubtful; 0 turns it off (env {env}; default {default}).",
        problem: { $0 >= 0 ? nil : "cannot be negative" },
        apply: { $0.spam.oldThreadDays = $1 })

    public static let formMaxAgeHours = Setting<Int>(
        "spam.form_max_age_hours", env: "MARGIN_FORM_MAX_AGE_HOURS", flag: "--form-max-age-hours",
        default: SpamSettings().formMaxAgeHours,
        "hours a form timestamp counts; an older one earns nothing, like none",
        flagHelp: "Hours a form timestamp counts; an older one earns nothing (env {env}; default {default}).",
        problem: { $0 >= 1 ? nil : "must be at least 1" },
        apply: { $0.spam.formMaxAgeHours = $1 })

    // MARK: SMTP (put together by `configuration(from:)`: no server, no mail)

    public static let smtpHost = Setting<String?>(
        "smtp.host", env: "MARGIN_SMTP_HOST", flag: "--smtp-host", default: nil,
        "SMTP server; without it no mail is sent",
        flagHelp: "SMTP server for mail; no mail is sent without it (env {env}).",
        apply: nil)

    public static let smtpPort = Setting<Int?>(
        "smtp.port", env: "MARGIN_SMTP_PORT", flag: "--smtp-port", default: nil, shown: "587 / 465 / 25",
        "SMTP port (default by security)",
        flagHelp: "SMTP port (env {env}; default 587 with starttls, 465 with tls, else 25).",
        problem: { (1...65535).contains($0 ?? 0) ? nil : "must be from 1 to 65535" },
        apply: nil)

    public static let smtpSecurity = Setting<SMTPConfiguration.Security>(
        "smtp.security", env: "MARGIN_SMTP_SECURITY", flag: "--smtp-security", default: .startTLS,
        "`starttls`, `tls` (implicit, port 465) or `none`",
        flagHelp: "none, starttls or tls (env {env}; default {default}).",
        unreadable: { _ in "is none, starttls or tls" },
        apply: nil)

    public static let smtpUser = Setting<String?>(
        "smtp.user", env: "MARGIN_SMTP_USER", flag: "--smtp-user", default: nil,
        "SMTP login (AUTH PLAIN or LOGIN, only over TLS unless the server is on loopback)",
        flagHelp: "SMTP user name (env {env}).",
        apply: nil)

    public static let smtpPassword = Setting<String?>(
        "smtp.password", env: "MARGIN_SMTP_PASSWORD", flag: nil, default: nil, secret: true,
        "SMTP password (no flag: a command line is visible to every user of the machine)",
        flagHelp: nil,
        apply: nil)

    public static let smtpPasswordFile = Setting<String?>(
        "smtp.password_file", env: "MARGIN_SMTP_PASSWORD_FILE", flag: "--smtp-password-file", default: nil,
        "a file holding the SMTP password; wins over `smtp.password`",
        flagHelp: "File holding the SMTP password (env {env}, or the password itself in \(smtpPassword.key.environment)).",
        apply: nil)

    public static let smtpInsecure = Setting<Bool>(
        "smtp.insecure", env: "MARGIN_SMTP_INSECURE", flag: "--smtp-insecure", default: false,
        "accept any TLS certificate from the SMTP server (testing only)",
        flagHelp: "Accept any TLS certificate from the SMTP server (testing only).",
        apply: nil)

    // MARK: Mail

    /// Without it, `configuration(from:)` makes the address `margin@HOST`.
    public static let mailFrom = Setting<String?>(
        "mail.from", env: "MARGIN_MAIL_FROM", flag: "--mail-from", default: nil, shown: "margin@HOST",
        "From address of every mail",
        flagHelp: "From address of Margin's mail (env {env}; default {default}).",
        apply: { configuration, from in if let from { configuration.mailFrom = from } })

    public static let moderators = Setting<[String]>(
        "mail.moderators", env: "MARGIN_MODERATORS", flag: "--moderator", default: [],
        "moderator emails for sites that name none (repeat the flag; comma-separate the variable)",
        flagHelp: "Moderator email for sites that name none; repeat for several (env {env}, comma-separated).",
        problem: { $0.allSatisfy { $0.contains("@") } ? nil : "must be email addresses" },
        apply: { $0.moderators = $1 })

    public static let notifyAll = Setting<Bool>(
        "mail.notify_all", env: "MARGIN_NOTIFY_ALL", flag: "--notify-all", default: false,
        "mail moderators about every new comment, not only held ones",
        flagHelp: "Mail moderators about every new comment, not only held ones (env {env}=1).",
        apply: { $0.notifyAllComments = $1 })

    public static let linkDays = Setting<Int>(
        "mail.link_days", env: "MARGIN_LINK_DAYS", flag: "--link-days", default: Int(MailSettings.defaultLinkLifetimeSeconds / 86_400),
        "days a moderation link works",
        flagHelp: "Days a moderation link works (env {env}; default {default}).",
        problem: { $0 > 0 ? nil : "must be at least 1" },
        apply: { $0.linkLifetimeDays = $1 })

    public static let mailMaxPerRecipientPerDay = Setting<Int>(
        "mail.max_per_recipient_per_day", env: "MARGIN_MAIL_MAX_PER_RECIPIENT_PER_DAY", flag: "--mail-max-per-recipient-per-day",
        default: MailSettings.defaultMaxPerRecipientPerDay,
        "most reader mails (reply notifications, confirmations) to one address in any 24 hours; more are dropped",
        flagHelp: """
            Most reader mails (replies, confirmations) to one address in 24 hours \
            (env {env}; default {default}).
            """,
        problem: { $0 > 0 ? nil : "must be at least 1" },
        apply: { $0.maxMailsPerRecipientPerDay = $1 })

    // MARK: Hooks (webhooks and chat notifications)

    public static let hooksTimeout = Setting<Int>(
        "hooks.timeout", env: "MARGIN_HOOKS_TIMEOUT", flag: "--hooks-timeout", default: 10,
        "seconds one hook delivery attempt may take, connecting, sending and the answer together",
        flagHelp: "Seconds one hook delivery attempt may take, answer included (env {env}; default {default}).",
        problem: { (1...120).contains($0) ? nil : "must be from 1 to 120" },
        apply: { $0.hooksTimeoutSeconds = $1 })

    public static let hooksFirstRetry = Setting<Int>(
        "hooks.first_retry", env: "MARGIN_HOOKS_FIRST_RETRY", flag: "--hooks-first-retry", default: 30,
        "seconds before a failed hook delivery is tried again (1 to 3600); the wait doubles after each failure, up to an hour",
        flagHelp: "Seconds before a failed hook delivery is tried again, doubling up to an hour (env {env}; default {default}).",
        problem: { (1...3600).contains($0) ? nil : "must be from 1 to 3600" },
        apply: { $0.hooksFirstRetrySeconds = $1 })

    // MARK: Request limits

    public static let maxBody = Setting<Int>(
        "limits.max_body", env: "MARGIN_MAX_BODY", flag: "--max-body", default: Limits.bodyBytesMax,
        "largest JSON API request body in bytes (413 beyond)",
        flagHelp: "Largest JSON API request body in bytes; the admin import has its own (env {env}; default {default}).",
        problem: { $0 >= 1024 ? nil : "must be at least 1024" },
        apply: { $0.maxBodyBytes = $1 })

    public static let maxURL = Setting<Int>(
        "limits.max_url", env: "MARGIN_MAX_URL", flag: "--max-url", default: 8 * 1024,
        "longest request address in bytes (414 beyond)",
        flagHelp: "Longest request address (path and query) in bytes (env {env}; default {default}).",
        problem: { $0 >= 256 ? nil : "must be at least 256" },
        apply: { $0.maxURLBytes = $1 })

    public static let maxHeaderBytes = Setting<Int>(
        "limits.max_header_bytes", env: "MARGIN_MAX_HEADER_BYTES", flag: "--max-header-bytes", default: 32 * 1024,
        "largest request head in bytes (431 beyond)",
        flagHelp: "Largest request head, address and header fields, in bytes (env {env}; default {default}).",
        problem: { $0 >= 1024 ? nil : "must be at least 1024" },
        apply: { $0.maxHeaderBytes = $1 })

    public static let maxHeaders = Setting<Int>(
        "limits.max_headers", env: "MARGIN_MAX_HEADERS", flag: "--max-headers", default: 100,
        "most header fields in one request (431 beyond)",
        flagHelp: "Most header fields in a request (env {env}; default {default}).",
        problem: { $0 >= 8 ? nil : "must be at least 8" },
        apply: { $0.maxHeaderCount = $1 })

    public static let requestTimeout = Setting<Int>(
        "limits.request_timeout", env: "MARGIN_REQUEST_TIMEOUT", flag: "--request-timeout", default: 10,
        "seconds a client has to send a request head, and again its body",
        flagHelp: "Seconds a client has to send a request head, and again its body (env {env}; default {default}).",
        problem: { $0 >= 1 ? nil : "must be at least 1" },
        apply: { $0.requestTimeoutSeconds = $1 })

    public static let minBodyRate = Setting<Int>(
        "limits.min_body_rate", env: "MARGIN_MIN_BODY_RATE", flag: "--min-body-rate", default: 500,
        "bytes per second of body that earn an upload one more second",
        flagHelp: "Bytes per second of body that earn a slow upload a second more; 0 earns none (env {env}; default {default}).",
        problem: { $0 >= 0 ? nil : "must be at least 0" },
        apply: { $0.minBodyRate = $1 })

    public static let maxConnectionsPerIP = Setting<Int>(
        "limits.max_connections_per_ip", env: "MARGIN_MAX_CONNECTIONS_PER_IP", flag: "--max-connections-per-ip", default: 128,
        "most connections open at once from one peer network (an IPv4 address, an IPv6 /64); 0 for no limit",
        flagHelp: "Most connections open at once from one address; 0 is no limit (env {env}; default {default}).",
        problem: { $0 >= 0 ? nil : "must be at least 0" },
        apply: { $0.maxConnectionsPerIP = $1 })
}
