import Comments
import Foundation

/// The single-use link that signs a moderator or admin in to the console:
/// `{public URL}/admin/sign-in?email=…&exp=…&nonce=…&kid=…&sig=…`, signed with the moderation
/// link keys (a `SignedLink` whose site is the address and whose action is `sign-in`).
public enum SignInLink {
    /// Fifteen minutes: long enough to open the mail, short enough that an old mail is no key.
    public static let lifetimeMillis: Int64 = 15 * 60_000
    /// The signed action.
    public static let action = "sign-in"
    /// Where the link points, below the public URL.
    public static let path = "/admin/sign-in"

    /// A new link for `email`, or nil when there is no signing key.
    public static func make(email: String, publicURL: String, signer: LinkSigner, now: Int64, random: any RandomSource) -> String? {
        let address = ConsoleRole.normalized(email)
        guard let link = signer.sign(site: address, commentID: 0, action: action, expiresAt: now + lifetimeMillis,
                                     nonce: LinkSigner.makeNonce(random: random))
        else { return nil }
        return publicURL + path + "?email=\(escape(address))&exp=\(link.expiresAt)&nonce=\(link.nonce)&kid=\(escape(link.keyID))&sig=\(link.signature)"
    }

    /// The signed link a request's query names; nil when a part is missing.
    public static func parse(_ query: [String: String]) -> SignedLink? {
        guard let email = query["email"], let exp = query["exp"].flatMap({ Int64($0) }),
              let nonce = query["nonce"], let kid = query["kid"], let sig = query["sig"]
        else { return nil }
        return SignedLink(site: ConsoleRole.normalized(email), commentID: 0, action: action, expiresAt: exp, nonce: nonce, keyID: kid, signature: sig)
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }

    /// The mail that carries a link: plain text, to one address.
    public static func mail(to email: String, link: String, settings: MailSettings, now: Int64, random: any RandomSource) -> OutgoingMail {
        let body = """
            Someone (hopefully you) asked to sign in to Margin's moderation console as \(email).

            Sign in: \(link)

            The link works once and expires in 15 minutes. If you did not ask for it, ignore this mail:
            nobody can sign in without it.

            """
        return OutgoingMail(
            kind: .moderation, commentID: nil, recipients: [email], subject: "Your Margin sign-in link", body: body,
            messageID: Notifier.messageID(random: random, settings: settings), createdAt: now)
    }
}
