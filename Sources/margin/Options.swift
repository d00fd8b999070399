import ArgumentParser
import Comments
import Foundation
import Logging
import MarginServer

/// The database every command works on: `--db`, else `MARGIN_DB`, else `db` in the
/// configuration file (`--config` or `MARGIN_CONFIG`), else `./margin.sqlite`.
struct DatabaseOptions: ParsableArguments {
    @Option(ServerSettings.db) var db: String?

    @Option(name: .long, help: "Configuration file, margin.toml (env MARGIN_CONFIG; default none).")
    var config: String?

    @Option(ServerSettings.dbPasswordFile) var dbPasswordFile: String?

    /// The configuration file named by `--config` or `MARGIN_CONFIG`, if any.
    var configPath: String? { config ?? ProcessInfo.processInfo.environment["MARGIN_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } }

    /// The configuration file, read and checked; nil when none is named.
    func configFile() throws(ConfigurationError) -> ConfigFile? {
        try configPath.map { path throws(ConfigurationError) in try ConfigFile(path: path) }
    }

    /// The PostgreSQL password file: `--db-password-file`, else `MARGIN_DB_PASSWORD_FILE`, else
    /// `db_password_file` in the configuration file; nil when none is named.
    var passwordFile: String? {
        let setting = ServerSettings.dbPasswordFile.key
        let named = dbPasswordFile ?? ProcessInfo.processInfo.environment[setting.environment]
            ?? (try? configFile())?.flatMap { $0.values[setting.name]?.text }
        return named.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The database: `--db`, else `MARGIN_DB`, else `db` in the configuration file, else the
    /// default; as given, unchecked (`margin serve` checks it with the other settings).
    var path: String {
        let setting = ServerSettings.db
        return db ?? ProcessInfo.processInfo.environment[setting.key.environment]
            ?? (try? configFile())?.flatMap { $0.values[setting.name]?.text }
            ?? setting.defaultValue
    }

    /// Opens the SQLite file at `path` (the caller has resolved it and checked the
    /// configuration file), explaining failures in one sentence (exit status 1, no usage text:
    /// the command was right, the file or the disk was not).
    func openSQLite(path: String) throws -> SQLiteStore {
        // A write past the process's file size limit (RLIMIT_FSIZE) then fails like a full disk,
        // answered in words, instead of SIGXFSZ ending the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            return try SQLiteStore(path: path)
        } catch {
            printError("error: Cannot open database '\(path)': \(error)")
            throw ExitCode.failure
        }
    }
}

extension DatabaseOptions {
    /// Opens the store `--db` names for commands that work on either: a `postgres://` URL opens
    /// the PostgreSQL store, anything else the SQLite file (`openSQLite`).
    func openAnyStore() async throws -> any CommentStore {
        _ = try configurationError { () throws(ConfigurationError) in try configFile() }
        var password: String?
        if PostgresLocation.isURL(path), let file = passwordFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                printError("error: Cannot read the database password file \(file).")
                throw ExitCode.failure
            }
            password = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return try await openAnyStore(path: path, password: password)
    }

    /// Opens the store at `path` (resolved by the caller): PostgreSQL for a `postgres://` URL
    /// (with `password`, from `db_password_file`, over the URL's and `PGPASSWORD`), else the
    /// SQLite file; `margin serve` passes its own logger.
    func openAnyStore(path: String, password: String? = nil, logger: Logger = Logger(label: "margin.postgres")) async throws -> any CommentStore {
        guard PostgresLocation.isURL(path) else { return try openSQLite(path: path) }
        do {
            var location = try PostgresLocation(url: path)
            if let password { location.password = password }
            return try await PostgresStore(location: location, logger: logger)
        } catch {
            printError("error: Cannot open database: \(error)")
            throw ExitCode.failure
        }
    }
}

extension DatabaseOptions {
    /// How messages name the database: the path, or the URL without its password.
    var location: String { Self.name(of: path) }

    /// How messages and the log name the database at `path`: the path, or the URL without its
    /// password.
    static func name(of path: String) -> String {
        PostgresLocation.isURL(path) ? ((try? PostgresLocation(url: path))?.description ?? "the database") : path
    }
}
