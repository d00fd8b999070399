import ArgumentParser
import Comments
import Foundation
import MarginServer
import Moderation

extension Hooks {
    /// `margin hooks update ID [options]`: only what is given changes.
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a hook; only the options given change.")
        @Argument(help: "The hook's id (margin hooks list).")
        var id: Int64
        @Option(help: "A new endpoint or base URL (to another host, with the token for it: --token or --token-file).")
        var url: String?
        @Option(help: "Hear only this site.")
        var site: String?
        @Flag(help: "Hear every site.")
        var allSites = false
        @Option(help: "A new label.")
        var name: String?
        @Option(help: "Comma-separated events, or all.")
        var events: String?
        @Option(help: "A new chat, room or topic.")
        var target: String?
        @Option(help: "A new bot or access token (prefer --token-file).")
        var token: String?
        @Option(help: "A file holding the new bot or access token.")
        var tokenFile: String?
        @Flag(help: "Deliveries carry the commenter's email and network (read as each is sent) and the moderator's email.")
        var trusted = false
        @Flag(help: "Deliveries no longer carry the commenter's or moderator's email or the network.")
        var untrusted = false
        @Flag(inversion: .prefixedNo, help: "Allow (or no longer allow) loopback, private, link-local and metadata destinations.")
        var allowPrivate: Bool?
        @Flag(help: "Enable it.")
        var enable = false
        @Flag(help: "Disable it: no new deliveries, and queued ones wait until it is enabled again.")
        var disable = false
        @Flag(help: "A webhook's new signing secret, printed once; the old one stops signing at once.")
        var rotateSecret = false
        @Flag(help: "Print the hook as JSON (a rotated secret in clear).")
        var json = false
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            if site != nil, allSites { throw ValidationError("Give --site or --all-sites, not both.") }
            if trusted, untrusted { throw ValidationError("Give --trusted or --untrusted, not both.") }
            if enable, disable { throw ValidationError("Give --enable or --disable, not both.") }
            _ = try Hooks.token(token, file: tokenFile)
            _ = try Hooks.events(events)
        }

        /// The changes the options ask for.
        func changes() throws -> HookChanges {
            var changes = HookChanges(
                name: name, url: url, target: target, token: try Hooks.token(token, file: tokenFile), events: try Hooks.events(events),
                allowPrivate: allowPrivate, rotateSecret: rotateSecret)
            if let site { changes.siteID = .some(site) } else if allSites { changes.siteID = .some(nil) }
            if trusted || untrusted { changes.trusted = trusted }
            if enable || disable { changes.enabled = enable }
            return changes
        }

        func run() async throws {
            let store = try await database.openAnyStore()
            let changes = try changes()
            let (hook, newSecret) = try await reporting { try await Hooks.registry(store: store, database: database).update(id: id, changes) }
            if json {
                printJSON(HookView(hook, clearSecret: newSecret))
                return
            }
            print("Updated " + Hooks.describe(hook))
            if let newSecret { print("Signing secret (shown once): \(newSecret)") }
        }
    }
}
