import Foundation

/// Where a PostgreSQL store lives, read from a database URL
/// (`postgres://user:password@host:5432/database?sslmode=disable`), as `--db`, `MARGIN_DB` and the
/// config file's `db` give it. Anything that does not start with `postgres://` or `postgresql://`
/// is a SQLite path. The password may stay out of the URL: `PGPASSWORD` in the environment (as
/// libpq reads it) gives it when the URL has none, and `db_password_file` (read by the
/// caller into `password`) wins over both.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `require` (TLS, the certificate checked), `prefer` or `disable`. Without `sslmode` in the
    /// URL: `prefer` for a loopback host, `require` for any other (a password never crosses a
    /// network in clear unless the URL says `sslmode=disable` or `prefer`).
    public var sslMode: SSLMode

    /// How the connection is protected, as libpq's `sslmode` names it.
    public enum SSLMode: String, Sendable {
        case disable, prefer, require
    }

    /// Whether `text` names a PostgreSQL database rather than a SQLite file.
    public static func isURL(_ text: String) -> Bool {
        let lower = text.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Reads a database URL; throws `CommentsError.invalidDatabaseURL` saying what is wrong.
    /// A URL without a password takes `PGPASSWORD` from `environment`, if set.
    public init(url text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard Self.isURL(text), let components = URLComponents(string: text) else {
            throw CommentsError.invalidDatabaseURL("not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw CommentsError.invalidDatabaseURL("it names no host")
        }
        guard let user = components.user, !user.isEmpty else {
            throw CommentsError.invalidDatabaseURL("it names no user (postgres://USER@\(host)/DATABASE)")
        }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw CommentsError.invalidDatabaseURL("it names no database (postgres://\(user)@\(host)/DATABASE)")
        }
        let port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw CommentsError.invalidDatabaseURL("port \(port) is out of range") }
        var sslMode = Self.isLoopback(host) ? SSLMode.prefer : SSLMode.require
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let mode = item.value.flatMap(SSLMode.init(rawValue:)) else {
                    throw CommentsError.invalidDatabaseURL("sslmode must be disable, prefer or require")
                }
                sslMode = mode
            default:
                throw CommentsError.invalidDatabaseURL("unknown parameter \(item.name)")
            }
        }
        self.host = host
        self.port = port
        self.user = user
        self.password = components.password ?? environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        self.database = database
        self.sslMode = sslMode
    }

    /// Whether `host` is this machine (`localhost`, `127.0.0.0/8`, `::1`): no network to cross.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare.lowercased() == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// `text` with the password of a `postgres://` URL replaced by `********` (for `config show`);
    /// anything else unchanged.
    public static func masked(_ text: String) -> String {
        guard isURL(text), let scheme = text.range(of: "://") else { return text }
        let rest = text[scheme.upperBound...]
        let authorityEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<authority.index(after: colon)]) + "********" + String(text[at...])
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }
}
