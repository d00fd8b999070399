import Comments

/// A signed moderation link as a message carries it: `Approve` → the link's full URL.
struct HookLink: Sendable, Equatable {
    var action: ModerationAction
    var url: String

    /// `Approve`, `Reject`, `Spam`, `Delete`.
    var label: String { action.rawValue.prefix(1).uppercased() + action.rawValue.dropFirst() }

    /// The four moderation links for `commentID`, signed now with the store's current key and
    /// good for `settings.linkLifetimeMillis`; none when there is no key.
    static func signed(site: String, commentID: Int64, signer: LinkSigner, settings: HookSettings, now: Int64,
                       random: any RandomSource) -> [HookLink] {
        ModerationAction.linkActions.compactMap { action in
            signer.sign(site: site, commentID: commentID, action: action.rawValue, expiresAt: now + settings.linkLifetimeMillis,
                        nonce: LinkSigner.makeNonce(random: random))
                .map { HookLink(action: action, url: settings.publicURL + $0.pathAndQuery) }
        }
    }
}
