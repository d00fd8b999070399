import ArgumentParser
import Foundation
import MarginServer

/// `margin config …`: check a configuration file, show the effective configuration.
struct Config: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check margin.toml, or show the configuration `margin serve` would run with.",
        subcommands: [Check.self, Show.self])

    /// `margin config check [FILE]`
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file: syntax, known keys, types and values. Names the bad key and line.")

        @Argument(help: "The file to check (default: --config or MARGIN_CONFIG).")
        var file: String?

        @Option(name: .long, help: "Configuration file, margin.toml (env MARGIN_CONFIG).")
        var config: String?

        func run() async throws {
            guard let path = file ?? config ?? ProcessInfo.processInfo.environment["MARGIN_CONFIG"] else {
                throw ValidationError("Name the file to check: margin config check FILE (or --config, or MARGIN_CONFIG).")
            }
            let settings = try configurationError { () throws(ConfigurationError) in
                // Only the file: an environment variable must not hide or cause a mistake in it.
                let settings = try Settings(file: try ConfigFile(path: path))
                _ = try ServerSettings.configuration(from: settings)
                return settings
            }
            print("\(path): ok (\(settings.values.count) setting\(settings.values.count == 1 ? "" : "s"))")
        }
    }

    /// `margin config show [serve flags]`
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the effective configuration as margin.toml, each value with its source; secrets are masked.")

        @OptionGroup var database: DatabaseOptions
        @OptionGroup var options: ServeOptions

        func run() async throws {
            let settings = try loadSettings(database: database, options: options)
            _ = try configurationError { () throws(ConfigurationError) in try ServerSettings.configuration(from: settings) }
            var header = "# Effective configuration of margin serve"
            if let path = settings.filePath { header += " (file \(path))" }
            print(header + "; commented-out lines show defaults.")
            print(ServerSettings.describe(settings), terminator: "")
        }
    }
}
