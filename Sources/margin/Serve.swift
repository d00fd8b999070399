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
        let level = configuration.logLevel
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
            try store.close()
            runLogger.notice("Margin stopped; the database is closed")
        } catch {
            runLogger.error("Closing the database failed", metadata: ["error": "\(error)"])
        }
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
