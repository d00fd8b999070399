import Foundation

/// Where a PostgreSQL store lives, read from a database URL
/// (`postgres://user:password@host:5432/database?sslmode=disable`), as `--db`, `MARGIN_DB` and the
/// config file's `db` give it. Anything that does not start with `postgres://` or `postgresql://`
/// is a SQLite path.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// `require` (TLS, the certificate checked), `prefer` or `disable`.
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
    public init(url text: String) throws {
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
        var sslMode = SSLMode.prefer
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
        self.password = components.password
        self.database = database
        self.sslMode = sslMode
    }

    /// The URL without its password, for logs and messages.
    public var description: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }
}
