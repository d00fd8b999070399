import ArgumentParser
import Comments
import Foundation
import Logging
import MarginServer
import Moderation

/// `margin hooks …`: webhooks and chat notifications (Slack, Mattermost, Discord, Telegram,
/// Matrix, ntfy) of comment events.
struct Hooks: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send comment events to webhooks and chat services, with moderation links.",
        subcommands: [Add.self, List.self, Update.self, Remove.self, Test.self, Deliveries.self])

    /// `margin hooks list [--site ID] [--json]`
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the hooks; secrets, tokens, ntfy topics and chat webhook URLs are masked.")
        @Option(help: "Only the hooks that hear this site: its own and those for every site.")
        var site: String?
        @Flag(help: "Print JSON.")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            let hooks = try await reporting { try await Hooks.registry(store: store, database: database).list(siteID: site) }
            if json {
                printJSON(hooks.map { HookView($0) })
            } else if hooks.isEmpty {
                print("No hooks. Add one with margin hooks add --preset webhook --url URL.")
            } else {
                printTable(["ID", "NAME", "PRESET", "SITE", "URL", "TARGET", "SECRET", "EVENTS", "STATE"], hooks.map { hook in
                    [String(hook.id), hook.name, hook.preset.rawValue, hook.siteID ?? "all", hook.maskedURL, hook.maskedTarget ?? "",
                     hook.maskedSecret ?? "", Hooks.events(hook.events), Hooks.state(hook)]
                })
            }
        }
    }

    /// `margin hooks remove ID`
    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a hook with its deliveries.")
        @Argument(help: "The hook's id (margin hooks list).")
        var id: Int64
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            let store = try await database.openAnyStore()
            try await reporting {
                guard try await Hooks.registry(store: store, database: database).remove(id: id) else { throw CommentsError.hookNotFound(id) }
            }
            print("Removed hook \(id).")
        }
    }
}

extension Hooks {
    /// The settings a hook's test and links read; an unusable one stops the command as it stops
    /// `margin serve`, instead of quietly falling back to its default.
    static let settingKeys = [ServerSettings.publicURL.key, ServerSettings.linkDays.key, ServerSettings.hooksTimeout.key,
                              ServerSettings.hooksFirstRetry.key]

    /// The registry `margin serve` would use on this database, with the `hooks.*`, `public_url`
    /// and `mail.link_days` settings as the server resolves them (environment, then file). A
    /// configuration file that does not read, or an unusable value of one of those settings,
    /// is an error (exit 1) naming where it was given.
    static func registry(store: any CommentStore, database: DatabaseOptions) throws -> HookRegistry {
        let environment = ProcessInfo.processInfo.environment
        let file = try configurationError { () throws(ConfigurationError) in try database.configFile() }
        let settings = try configurationError { () throws(ConfigurationError) in
            try Settings(keys: settingKeys, file: file, environment: environment)
        }
        let hookSettings = HookSettings(
            publicURL: MailOptions.publicURL(nil, file: file),
            linkLifetimeMillis: Int64(settings[ServerSettings.linkDays]) * 86_400_000,
            timeout: .seconds(settings[ServerSettings.hooksTimeout]),
            firstRetryMillis: Int64(settings[ServerSettings.hooksFirstRetry]) * 1000)
        var logger = Logger(label: "margin.hooks")
        logger.logLevel = .warning
        let sender = HookSender(store: store, settings: hookSettings, clock: SystemClock(), random: SystemRandom(), logger: logger)
        return HookRegistry(store: store, sender: sender, clock: SystemClock(), random: SystemRandom())
    }

    /// `all`, or the events' short names (`held, spam`).
    static func events(_ events: [HookEventType]) -> String {
        if Set(events) == Set(HookEventType.allCases) { return "all" }
        return events.map { $0.rawValue.replacingOccurrences(of: "comment.", with: "") }.joined(separator: ",")
    }

    /// `enabled` or `disabled`, and what else sets a hook apart.
    static func state(_ hook: Hook) -> String {
        ([hook.enabled ? "enabled" : "disabled"] + (hook.trusted ? ["trusted"] : []) + (hook.allowPrivate ? ["private-ok"] : []))
            .joined(separator: ",")
    }

    /// What a new or changed hook is, in one paragraph: its id, where it sends and what.
    static func describe(_ hook: Hook) -> String {
        let scope = hook.siteID.map { "site '\($0)'" } ?? "every site"
        let target = hook.maskedTarget.map { " (\($0))" } ?? ""
        return """
            hook \(hook.id) "\(hook.name)": \(hook.preset.rawValue) to \(hook.maskedURL)\(target), for \(scope), \
            events \(events(hook.events)), \(state(hook)).
            """
    }

    /// A token from `--token` or the first line of `--token-file`; nil when neither.
    static func token(_ text: String?, file: String?) throws -> String? {
        if text != nil, file != nil { throw ValidationError("Give --token or --token-file, not both.") }
        guard let file else { return text }
        guard let contents = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw ValidationError("Cannot read the token file \(file).")
        }
        let token = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        if token.isEmpty { throw ValidationError("The token file \(file) is empty.") }
        return token
    }

    /// The events of `--events`: a comma-separated list of names (`held`, `comment.held`) or `all`.
    static func events(_ text: String?) throws -> [HookEventType]? {
        guard let text else { return nil }
        do { return try HookEventType.parseList(text) } catch CommentsError.invalidField(_, let message) {
            throw ValidationError("--events: \(message)")
        }
    }
}

extension Hook.Preset: ExpressibleByArgument {}
