import ArgumentParser
import Comments
import Foundation
import Hummingbird
import Logging
import MarginServer

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

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env MARGIN_LOG_LEVEL; default info).")
    var logLevel: String?

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
