import Comments
import Foundation
import Logging
import Moderation

/// Every setting of `margin serve`, and how they become a `ServerConfiguration`. The catalogue
/// is the one list that the file, the environment, the flags, `margin config show` and the
/// README table agree on.
public enum ServerSettings {
    /// The settings in the order `margin config show` prints them; a dot starts a `[table]`.
    public static let keys: [SettingKey] = [
        SettingKey("host", env: "MARGIN_HOST", flag: "--host", .text, default: "127.0.0.1", "address to listen on",
                   problem: { $0.text.isEmpty ? "must not be empty" : nil }),
        SettingKey("port", env: "MARGIN_PORT", flag: "--port", .integer, default: "8080", "port to listen on (0 picks a free one)",
                   problem: { (0...65535).contains(Int($0.text) ?? -1) ? nil : "must be from 0 to 65535" }),
        SettingKey("db", env: "MARGIN_DB", flag: "--db", .text, default: "margin.sqlite",
                   "SQLite database file, created and migrated if missing",
                   problem: { $0.text.isEmpty ? "must name a file" : nil }),
        SettingKey("db_password_file", env: "MARGIN_DB_PASSWORD_FILE", flag: "--db-password-file", .text, default: "",
                   "a file holding the PostgreSQL password; wins over a password in `db` and over `PGPASSWORD`"),
        SettingKey("public_url", env: "MARGIN_PUBLIC_URL", flag: "--public-url", .text, default: "http://HOST:PORT",
                   "public base URL of this server, used in feed and mail links",
                   problem: { value in
                       let url = URL(string: value.text)
                       return url?.host != nil && ["http", "https"].contains(url?.scheme ?? "") ? nil : "must be an http:// or https:// URL"
                   }),
        SettingKey("edit_window", env: "MARGIN_EDIT_WINDOW", flag: "--edit-window", .integer, default: "900",
                   "seconds an author may edit or delete their own comment",
                   problem: { Int($0.text)! >= 0 ? nil : "cannot be negative" }),
        SettingKey("rate_limit", env: "MARGIN_RATE_LIMIT", flag: "--rate-limit", .text, default: "3/min,20/h",
                   "comments one client network (an IPv4 address, an IPv6 /64) may post, for sites that set none; `off` for none",
                   problem: { RateLimit(parsing: $0.text) == nil ? "is like 3/min,20/h or off, not '\($0.text)'" : nil }),
        SettingKey("vote_rate_limit", env: "MARGIN_VOTE_RATE_LIMIT", flag: "--vote-rate-limit", .text, default: "30/min,300/h",
                   "votes one client network (an IPv4 address, an IPv6 /64) may cast, for sites that set none; `off` for none",
                   problem: { RateLimit(parsing: $0.text) == nil ? "is like 30/min,300/h or off, not '\($0.text)'" : nil }),
        SettingKey("new_threads_per_hour", env: "MARGIN_NEW_THREADS_PER_HOUR", flag: "--new-threads-per-hour", .integer, default: "10",
                   "threads (first comments on a page) one client network may start in an hour; `0` for no limit",
                   problem: { Int($0.text)! >= 0 ? nil : "cannot be negative" }),
        SettingKey("shutdown_grace", env: "MARGIN_SHUTDOWN_GRACE", flag: "--shutdown-grace", .integer, default: "30",
                   "seconds SIGTERM or SIGINT waits for requests in flight before cutting them off",
                   problem: { Int($0.text)! >= 0 ? nil : "cannot be negative" }),
        SettingKey("trusted_proxies", env: "MARGIN_TRUSTED_PROXIES", flag: "--trusted-proxy", .list, default: "",
                   "addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed",
                   problem: { value in
                       value.list.first { IPNetwork($0) == nil }.map { "must be addresses or CIDRs like 10.0.0.0/8; '\($0)' is neither" }
                   }),
        SettingKey("log.level", env: "MARGIN_LOG_LEVEL", flag: "--log-level", .text, default: "info",
                   "`trace`, `debug`, `info`, `notice`, `warning`, `error` or `critical`",
                   problem: { Logger.Level(rawValue: $0.text) == nil ? "is one of trace, debug, info, notice, warning, error, critical" : nil }),
        SettingKey("log.format", env: "MARGIN_LOG_FORMAT", flag: "--log-format", .text, default: "logfmt",
                   "`logfmt` or `json`: every log line of the server, one per event",
                   problem: { LogFormat(rawValue: $0.text) == nil ? "is logfmt or json, not '\($0.text)'" : nil }),
        SettingKey("spam.hold", env: "MARGIN_SPAM_HOLD", flag: "--spam-hold", .number, default: "4",
                   "spam score at which a comment is held for a moderator"),
        SettingKey("spam.threshold", env: "MARGIN_SPAM_THRESHOLD", flag: "--spam-threshold", .number, default: "9",
                   "spam score at which a comment is spam (stored, never shown, never mailed)"),
        SettingKey("spam.old_thread_days", env: "MARGIN_OLD_THREAD_DAYS", flag: "--old-thread-days", .integer, default: "180",
                   "comments on threads older than this score as doubtful; `0` turns the rule off",
                   problem: { Int($0.text)! >= 0 ? nil : "cannot be negative" }),
        SettingKey("spam.form_max_age_hours", env: "MARGIN_FORM_MAX_AGE_HOURS", flag: "--form-max-age-hours", .integer, default: "24",
                   "hours a form timestamp counts; an older one earns nothing, like none",
                   problem: { Int($0.text)! >= 1 ? nil : "must be at least 1" }),
        SettingKey("smtp.host", env: "MARGIN_SMTP_HOST", flag: "--smtp-host", .text, default: "",
                   "SMTP server; without it no mail is sent"),
        SettingKey("smtp.port", env: "MARGIN_SMTP_PORT", flag: "--smtp-port", .integer, default: "587 / 465 / 25",
                   "SMTP port (default by security)",
                   problem: { (1...65535).contains(Int($0.text) ?? 0) ? nil : "must be from 1 to 65535" }),
        SettingKey("smtp.security", env: "MARGIN_SMTP_SECURITY", flag: "--smtp-security", .text, default: "starttls",
                   "`starttls`, `tls` (implicit, port 465) or `none`",
                   problem: { SMTPConfiguration.Security(rawValue: $0.text) == nil ? "is none, starttls or tls" : nil }),
        SettingKey("smtp.user", env: "MARGIN_SMTP_USER", flag: "--smtp-user", .text, default: "",
                   "SMTP login (AUTH PLAIN or LOGIN, only over TLS unless the server is on loopback)"),
        SettingKey("smtp.password", env: "MARGIN_SMTP_PASSWORD", flag: nil, .text, default: "", secret: true,
                   "SMTP password (no flag: a command line is visible to every user of the machine)"),
        SettingKey("smtp.password_file", env: "MARGIN_SMTP_PASSWORD_FILE", flag: "--smtp-password-file", .text, default: "",
                   "a file holding the SMTP password; wins over `smtp.password`"),
        SettingKey("smtp.insecure", env: "MARGIN_SMTP_INSECURE", flag: "--smtp-insecure", .boolean, default: "false",
                   "accept any TLS certificate from the SMTP server (testing only)"),
        SettingKey("mail.from", env: "MARGIN_MAIL_FROM", flag: "--mail-from", .text, default: "margin@HOST",
                   "From address of every mail"),
        SettingKey("mail.moderators", env: "MARGIN_MODERATORS", flag: "--moderator", .list, default: "",
                   "moderator emails for sites that name none (repeat the flag; comma-separate the variable)",
                   problem: { $0.list.allSatisfy { $0.contains("@") } ? nil : "must be email addresses" }),
        SettingKey("mail.notify_all", env: "MARGIN_NOTIFY_ALL", flag: "--notify-all", .boolean, default: "false",
                   "mail moderators about every new comment, not only held ones"),
        SettingKey("mail.link_days", env: "MARGIN_LINK_DAYS", flag: "--link-days", .integer, default: "7",
                   "days a moderation link works",
                   problem: { Int($0.text)! > 0 ? nil : "must be at least 1" }),
        SettingKey("mail.max_per_recipient_per_day", env: "MARGIN_MAIL_MAX_PER_RECIPIENT_PER_DAY", flag: "--mail-max-per-recipient-per-day",
                   .integer, default: "10",
                   "most reader mails (reply notifications, confirmations) to one address in any 24 hours; more are dropped",
                   problem: { Int($0.text)! > 0 ? nil : "must be at least 1" }),
        SettingKey("limits.max_body", env: "MARGIN_MAX_BODY", flag: "--max-body", .integer, default: "65536",
                   "largest JSON API request body in bytes (413 beyond)",
                   problem: { Int($0.text)! >= 1024 ? nil : "must be at least 1024" }),
        SettingKey("limits.max_url", env: "MARGIN_MAX_URL", flag: "--max-url", .integer, default: "8192",
                   "longest request address in bytes (414 beyond)",
                   problem: { Int($0.text)! >= 256 ? nil : "must be at least 256" }),
        SettingKey("limits.max_header_bytes", env: "MARGIN_MAX_HEADER_BYTES", flag: "--max-header-bytes", .integer, default: "32768",
                   "largest request head in bytes (431 beyond)",
                   problem: { Int($0.text)! >= 1024 ? nil : "must be at least 1024" }),
        SettingKey("limits.max_headers", env: "MARGIN_MAX_HEADERS", flag: "--max-headers", .integer, default: "100",
                   "most header fields in one request (431 beyond)",
                   problem: { Int($0.text)! >= 8 ? nil : "must be at least 8" }),
        SettingKey("limits.request_timeout", env: "MARGIN_REQUEST_TIMEOUT", flag: "--request-timeout", .integer, default: "10",
                   "seconds a client has to send a request head, and again its body",
                   problem: { Int($0.text)! >= 1 ? nil : "must be at least 1" }),
        SettingKey("limits.min_body_rate", env: "MARGIN_MIN_BODY_RATE", flag: "--min-body-rate", .integer, default: "500",
                   "bytes per second of body that earn an upload one more second",
                   problem: { Int($0.text)! >= 0 ? nil : "must be at least 0" }),
        SettingKey("limits.max_connections_per_ip", env: "MARGIN_MAX_CONNECTIONS_PER_IP", flag: "--max-connections-per-ip", .integer, default: "128",
                   "most connections open at once from one peer network (an IPv4 address, an IPv6 /64); 0 for no limit",
                   problem: { Int($0.text)! >= 0 ? nil : "must be at least 0" }),
    ]

    /// The key named `name`; it must be in the catalogue.
    public static func key(_ name: String) -> SettingKey {
        keys.first { $0.name == name }!
    }

    /// The server configuration the merged settings describe. Settings that only make sense
    /// together (the spam scores, SMTP) are checked here.
    public static func configuration(from settings: Settings) throws(ConfigurationError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.host = settings.text("host") ?? configuration.host
        configuration.port = settings.integer("port") ?? configuration.port
        configuration.databasePath = settings.text("db") ?? configuration.databasePath
        if let file = settings.value("db_password_file"), !file.text.isEmpty {
            guard let text = try? String(contentsOfFile: file.text, encoding: .utf8) else {
                throw ConfigurationError(origin: file.origin, key: "db_password_file", message: "cannot read \(file.text)")
            }
            configuration.databasePassword = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        configuration.publicURL = settings.text("public_url")
        configuration.editWindowSeconds = settings.integer("edit_window") ?? configuration.editWindowSeconds
        if let text = settings.text("rate_limit"), let limit = RateLimit(parsing: text) { configuration.rateLimit = limit }
        if let text = settings.text("vote_rate_limit"), let limit = RateLimit(parsing: text) { configuration.voteRateLimit = limit }
        configuration.newThreadsPerHour = settings.integer("new_threads_per_hour") ?? configuration.newThreadsPerHour
        configuration.spam.holdScore = settings.number("spam.hold") ?? configuration.spam.holdScore
        configuration.spam.spamScore = settings.number("spam.threshold") ?? configuration.spam.spamScore
        guard configuration.spam.holdScore < configuration.spam.spamScore else {
            throw ConfigurationError(origin: settings.value("spam.hold")?.origin ?? settings.value("spam.threshold")?.origin,
                                     key: "spam.hold", message: "must be below spam.threshold (\(configuration.spam.spamScore))")
        }
        configuration.spam.oldThreadDays = settings.integer("spam.old_thread_days") ?? configuration.spam.oldThreadDays
        configuration.spam.formMaxAgeHours = settings.integer("spam.form_max_age_hours") ?? configuration.spam.formMaxAgeHours
        if let host = settings.text("smtp.host"), !host.isEmpty {
            let security = settings.text("smtp.security").flatMap(SMTPConfiguration.Security.init(rawValue:)) ?? .startTLS
            let defaultPort = switch security {
            case .startTLS: 587
            case .tls: 465
            case .none: 25
            }
            var password = settings.text("smtp.password")
            if let file = settings.value("smtp.password_file"), !file.text.isEmpty {
                guard let text = try? String(contentsOfFile: file.text, encoding: .utf8) else {
                    throw ConfigurationError(origin: file.origin, key: "smtp.password_file", message: "cannot read \(file.text)")
                }
                password = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            configuration.smtp = SMTPConfiguration(
                host: host, port: settings.integer("smtp.port") ?? defaultPort, security: security, username: settings.text("smtp.user"),
                password: password, verifyCertificates: !(settings.boolean("smtp.insecure") ?? false))
        }
        configuration.mailFrom = settings.text("mail.from") ?? "margin@\(configuration.host)"
        configuration.moderators = settings.list("mail.moderators") ?? []
        configuration.notifyAllComments = settings.boolean("mail.notify_all") ?? false
        configuration.linkLifetimeDays = settings.integer("mail.link_days") ?? configuration.linkLifetimeDays
        configuration.maxMailsPerRecipientPerDay = settings.integer("mail.max_per_recipient_per_day") ?? configuration.maxMailsPerRecipientPerDay
        configuration.logFormat = settings.text("log.format").flatMap(LogFormat.init(rawValue:)) ?? .logfmt
        configuration.shutdownGrace = .seconds(settings.integer("shutdown_grace") ?? 30)
        configuration.trustedProxies = (settings.list("trusted_proxies") ?? []).compactMap(IPNetwork.init)
        configuration.maxBodyBytes = settings.integer("limits.max_body") ?? configuration.maxBodyBytes
        configuration.maxURLBytes = settings.integer("limits.max_url") ?? configuration.maxURLBytes
        configuration.maxHeaderBytes = settings.integer("limits.max_header_bytes") ?? configuration.maxHeaderBytes
        configuration.maxHeaderCount = settings.integer("limits.max_headers") ?? configuration.maxHeaderCount
        configuration.requestTimeoutSeconds = settings.integer("limits.request_timeout") ?? configuration.requestTimeoutSeconds
        configuration.minBodyRate = settings.integer("limits.min_body_rate") ?? configuration.minBodyRate
        configuration.maxConnectionsPerIP = settings.integer("limits.max_connections_per_ip") ?? configuration.maxConnectionsPerIP
        return configuration
    }

    /// The effective settings as a `margin.toml`, each line commented with where its value came
    /// from; secrets are masked.
    public static func describe(_ settings: Settings) -> String {
        var lines: [String] = []
        var table = ""
        for key in settings.keys {
            let parts = key.name.split(separator: ".", maxSplits: 1).map(String.init)
            let section = parts.count == 2 ? parts[0] : ""
            let name = parts.last!
            if section != table {
                lines.append("")
                lines.append("[\(section)]")
                table = section
            }
            guard let value = settings.value(key.name) else {
                lines.append("# \(name) = \(key.defaultText.isEmpty ? "(not set)" : key.defaultText)    # default")
                continue
            }
            let shown: String
            if key.secret {
                shown = value.text.isEmpty ? "\"\"" : "\"********\""
            } else if key.name == "db" {
                // A password written into a postgres:// URL is a secret like any other.
                shown = tomlString(PostgresLocation.masked(value.text))
            } else {
                switch key.kind {
                case .integer, .number, .boolean: shown = value.text
                case .text: shown = tomlString(value.text)
                case .list: shown = "[" + value.list.map(tomlString).joined(separator: ", ") + "]"
                }
            }
            lines.append("\(name) = \(shown)    # \(value.origin)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A TOML basic string.
    static func tomlString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += String(format: "\\u%04X", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
