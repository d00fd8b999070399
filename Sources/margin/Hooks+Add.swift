import ArgumentParser
import Comments
import Foundation
import MarginServer
import Moderation

extension Hooks {
    /// `margin hooks add --preset P [--url U] [--site ID] [--name N] [--events LIST|all]
    /// [--target T] [--token T | --token-file F] [--trusted] [--allow-private] [--disabled] [--json]`
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a hook; a webhook's signing secret is printed once.",
            discussion: """
                Presets: webhook (Standard Webhooks, signed), slack, mattermost, discord (their incoming \
                webhook URL), telegram (--target=CHAT --token-file BOT_TOKEN), matrix (--url HOMESERVER \
                --target '!room:server' --token-file ACCESS_TOKEN), ntfy (--target TOPIC; --url for your \
                own server). A destination on a loopback, private, link-local or metadata address is \
                refused unless --allow-private.
                """)
        @Option(help: "webhook, slack, mattermost, discord, telegram, matrix or ntfy.")
        var preset: Hook.Preset
        @Option(help: "The endpoint, or the service's base URL (default for telegram and ntfy: the public service).")
        var url: String?
        @Option(help: "The one site it hears (default: every site).")
        var site: String?
        @Option(help: "A label (default: the preset and the URL's host).")
        var name: String?
        @Option(help: """
            Comma-separated events (published, held, spam, approved, rejected, deleted, edited) or all \
            (default: all for a webhook, published,held for chats).
            """)
        var events: String?
        @Option(help: """
            The Telegram chat id (a negative one as --target=-100…) or @channel, the Matrix room \
            (!id:server; not an alias) or the ntfy topic.
            """)
        var target: String?
        @Option(help: "The bot or access token (visible to other users of this machine while it runs: prefer --token-file).")
        var token: String?
        @Option(help: "A file holding the bot or access token.")
        var tokenFile: String?
        @Flag(help: "Deliveries carry the commenter's email and network (read as each is sent) and the moderator's email (else null).")
        var trusted = false
        @Flag(help: "Allow loopback, private, link-local and metadata destinations (a receiver on this machine or network).")
        var allowPrivate = false
        @Flag(help: "Add it disabled: it gets and sends no deliveries until enabled.")
        var disabled = false
        @Flag(help: "Print the hook as JSON (a webhook's secret and the target in clear).")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try Hooks.token(token, file: tokenFile)
            _ = try Hooks.events(events)
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let input = HookInput(
                name: name, siteID: site, preset: preset, url: url, target: target, token: try Hooks.token(token, file: tokenFile),
                events: try Hooks.events(events), trusted: trusted, allowPrivate: allowPrivate, enabled: !disabled)
            let hook = try await reporting { try await Hooks.registry(store: store, database: database).add(input) }
            let secret = hook.preset == .webhook ? hook.secret : nil
            if json {
                printJSON(HookView(hook, clearSecret: secret, clearTarget: true))
                return
            }
            print("Added " + Hooks.describe(hook))
            if let secret {
                print("Signing secret (shown once): \(secret)")
                printError("Give it to the receiver to verify the webhook-signature header (Standard Webhooks); margin hooks list shows it masked.")
            }
            printError("Send a sample event with: margin hooks test \(hook.id)")
        }
    }
}
