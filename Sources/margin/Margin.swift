import ArgumentParser

/// The `margin` command: serve comments, manage sites.
struct Margin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "margin",
        abstract: "A self-hosted comment server for blogs.",
        subcommands: [Serve.self, Config.self, Sites.self, Moderate.self, Block.self, Hooks.self, Keys.self, Spam.self, Import.self, Export.self, Threads.self, GDPR.self, Backup.self, Admin.self, Migrate.self],
        defaultSubcommand: Serve.self)
}
