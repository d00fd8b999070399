import Comments
import Foundation
import MarginServer
import Moderation

/// Mail and link settings the CLI needs when its actions cause mail.
enum MailOptions {
    /// The server's public base URL without a trailing slash: the flag, else the `public_url`
    /// setting (its variable, then the configuration file), else http://127.0.0.1:8080.
    static func publicURL(_ flag: String?, file: ConfigFile?) -> String {
        let url = flag ?? ServerSettings.publicURL.resolved(environment: ProcessInfo.processInfo.environment, file: file) ?? "http://127.0.0.1:8080"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// The store's signing keys, creating the first one if the server never ran on this file.
    static func signer(store: any CommentStore) async throws -> LinkSigner {
        _ = try await store.addSigningKeyIfNoneExist(LinkSigner.makeKey(random: SystemRandom(), at: SystemClock().nowMillis()))
        return LinkSigner(keys: try await store.signingKeys())
    }

    /// A notifier so CLI decisions queue the same reply mails as the server's (delivered by it),
    /// with the `mail.*` settings as `margin serve` resolves them.
    static func notifier(store: any CommentStore, publicURL: String?, file: ConfigFile?) -> Notifier {
        let environment = ProcessInfo.processInfo.environment
        let settings = MailSettings(
            from: ServerSettings.mailFrom.resolved(environment: environment, file: file) ?? "margin@localhost",
            moderators: ServerSettings.moderators.resolved(environment: environment, file: file),
            publicURL: Self.publicURL(publicURL, file: file),
            linkLifetimeSeconds: Int64(ServerSettings.linkDays.resolved(environment: environment, file: file)) * 86_400,
            maxPerRecipientPerDay: ServerSettings.mailMaxPerRecipientPerDay.resolved(environment: environment, file: file))
        return Notifier(store: store, settings: settings, clock: SystemClock(), random: SystemRandom())
    }
}
