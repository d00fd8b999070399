import Comments
import Logging
import Moderation

/// Mails a sign-in link to an address that may sign in; nothing for any other.
struct SignInMailJob: Sendable {
    let store: any CommentStore
    let clock: any MarginClock
    let random: any RandomSource
    let mail: MailSettings?
    let defaultModerators: [String]
    let limiter: RateLimiter
    let logger: Logger

    /// Three sign-in mails per address in fifteen minutes, so nobody can flood a moderator's
    /// inbox from many networks. Past it the mail is dropped, never answered 429: that would
    /// tell a stranger the address is known. (Someone who uses up a moderator's three mails
    /// delays their mail by fifteen minutes at most; `margin admin login-link` still works.)
    static let addressLimit = RateLimit(windows: [.init(count: 3, seconds: 900)])

    func send(to email: String) async {
        do {
            guard try await ConsoleRole.of(email: email, store: store, defaultModerators: defaultModerators) != nil,
                  await limiter.take(site: "sign-in", client: "address:\(AddressKey.hash(email))", limit: Self.addressLimit) == nil
            else { return }
            guard let mail else {
                logger.warning("console sign-in asked for by a moderator, but no mail is configured: use margin admin login-link")
                return
            }
            let now = clock.nowMillis()
            guard let link = SignInLink.make(email: email, publicURL: mail.publicURL, signer: LinkSigner(keys: try await store.signingKeys()),
                                             now: now, random: random)
            else { return }
            try await store.queue(mail: SignInLink.mail(to: email, link: link, settings: mail, now: now, random: random))
        } catch {
            logger.error("could not queue a sign-in mail", metadata: ["error": "\(error)"])
        }
    }
}
