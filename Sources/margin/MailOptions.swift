import Comments
import Foundation
import MarginServer
import Moderation

/// Mail and link settings the CLI needs when its actions cause mail.
enum MailOptions {
    /// The server's public base URL without a trailing slash: the flag, else `MARGIN_PUBLIC_URL`, else http://127.0.0.1:8080.
    static func publicURL(_ flag: String?) -> String {
        let url = flag ?? ProcessInfo.processInfo.environment[ServerSettings.publicURL.key.environment] ?? "http://127.0.0.1:8080"
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }

    /// The store's signing keys, creating the first one if the server never ran on this file.
    static func signer(store: any CommentStore) async throws -> LinkSigner {
        _ = try await store.addSigningKeyIfNoneExist(LinkSigner.makeKey(random: SystemRandom(), at: SystemClock().nowMillis()))
        return LinkSigner(keys: try await store.signingKeys())
    }

    /// A notifier so CLI decisions queue the same reply mails as the server's (delivered by it).
    static func notifier(store: any CommentStore, publicURL: String?) -> Notifier {
        let environment = ProcessInfo.processInfo.environment
        let settings = MailSettings(
            from: environment[ServerSettings.mailFrom.key.environment] ?? "margin@localhost",
            moderators: environment[ServerSettings.moderators.key.environment].map { $0.split(separator: ",").map { String($0) } } ?? [],
            publicURL: Self.publicURL(publicURL))
        return Notifier(store: store, settings: settings, clock: SystemClock(), random: SystemRandom())
    }
}
