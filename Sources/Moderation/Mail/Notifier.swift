import Comments
import Foundation

/// Decides which mails a stored or moderated comment causes and writes them: moderators hear
/// about held comments (or every comment), readers about published replies to them.
public struct Notifier: Sendable {
    public let store: any CommentStore
    public let settings: MailSettings
    public let clock: any MarginClock
    public let random: any RandomSource

    public init(store: any CommentStore, settings: MailSettings, clock: any MarginClock, random: any RandomSource) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.random = random
    }

    /// A mail builder over the current signing keys, to run inside the storing transaction.
    public func builder() async throws -> MailBuilder {
        let signer = LinkSigner(keys: try await store.signingKeys())
        let settings = self.settings
        let clock = self.clock
        let random = self.random
        return { context in
            Self.mails(for: context, signer: signer, settings: settings, now: clock.nowMillis(), random: random)
        }
    }

    /// The mails one change causes (pure, apart from the nonces it draws).
    static func mails(for context: MailContext, signer: LinkSigner, settings: MailSettings, now: Int64, random: any RandomSource) -> [OutgoingMail] {
        var mails: [OutgoingMail] = []
        let comment = context.comment
        let isNew = context.previousStatus == nil
        let moderators = context.site.moderators.isEmpty ? settings.moderators : context.site.moderators
        if isNew, !moderators.isEmpty, comment.status == .pending || (settings.notifyAll && comment.status == .approved) {
            mails.append(moderatorMail(context, to: moderators, signer: signer, settings: settings, now: now, random: random))
        }
        let justPublished = comment.status == .approved && context.previousStatus != .approved && context.previousStatus != .deleted
        // A published comment that asks for replies: its address confirms first, once (again only
        // after the last confirmation link expired unanswered). Held and spam comments ask nothing.
        if justPublished, comment.notify, let email = comment.email {
            let askAgainAfter = settings.linkLifetimeMillis
            let ask: Bool = switch context.consent(for: email) {
            case .unasked: true
            case .requested(let at): now - at >= askAgainAfter
            case .confirmed, .suppressed: false
            }
            if ask {
                mails.append(confirmationMail(context, to: email, signer: signer, settings: settings, now: now, random: random))
            }
        }
        if justPublished, let parent = context.parent, parent.notify, let email = parent.email,
           email.lowercased() != comment.email?.lowercased(), parent.status == .approved,
           context.consent(for: email) == .confirmed {
            mails.append(replyMail(context, parent: parent, to: email, signer: signer, settings: settings, now: now, random: random))
        }
        return mails
    }

    /// Asks `email` whether it wants reply mail from this site: one signed link to a page whose
    /// button confirms. Nothing else is ever mailed to an address that has not confirmed.
    static func confirmationMail(_ context: MailContext, to email: String, signer: LinkSigner, settings: MailSettings, now: Int64, random: any RandomSource) -> OutgoingMail {
        let comment = context.comment
        // No thread title: the first commenter of a page chooses it, and this is the one mail that
        // goes to an address nobody has confirmed, so it carries no text a stranger wrote.
        var body = "Someone (we hope you) commented at \(context.site.name) with this address and asked to be told of replies:\n\n"
        body += "  \(pageURL(context, settings: settings))#margin-comment-\(comment.id)\n\n"
        if let link = signer.sign(site: context.site.id, commentID: comment.id, action: "confirm",
                                  expiresAt: now + settings.linkLifetimeMillis, nonce: LinkSigner.makeNonce(random: random)) {
            body += "To get mail about replies, open this link and press the button (it works for \(settings.linkLifetimeSeconds / 86_400) day(s)):\n\n"
            body += "  \(settings.publicURL)\(link.pathAndQuery)\n\n"
        }
        body += "If it was not you, ignore this mail: without your confirmation you get no mail from us about it.\n"
        var headers: [[String]] = []
        if let url = unsubscribeURL(context, commentID: comment.id, signer: signer, settings: settings, now: now, random: random) {
            body += "To make sure this blog never mails this address again: \(url)\n"
            headers.append(["List-Unsubscribe", "<\(url)>"])
        }
        return OutgoingMail(
            kind: .confirmation, commentID: comment.id, recipients: [email],
            subject: "[\(context.site.name)] Confirm reply notifications", body: body, headers: headers,
            messageID: messageID(random: random, settings: settings), createdAt: now, dailyCap: settings.maxPerRecipientPerDay)
    }

    /// A signed link that unsubscribes the address of comment `commentID` (its page offers this
    /// thread or the whole blog); nil when there is no key to sign with.
    static func unsubscribeURL(_ context: MailContext, commentID: Int64, signer: LinkSigner, settings: MailSettings, now: Int64,
                               random: any RandomSource) -> String? {
        signer.sign(site: context.site.id, commentID: commentID, action: "unsubscribe",
                    expiresAt: now + LinkSigner.unsubscribeLifetimeMillis, nonce: LinkSigner.makeNonce(random: random))
            .map { settings.publicURL + $0.pathAndQuery }
    }

    static func pageURL(_ context: MailContext, settings: MailSettings) -> String {
        let origin = context.site.pageOrigin ?? settings.publicURL
        return origin + context.thread.uri
    }

    static func messageID(random: any RandomSource, settings: MailSettings) -> String {
        let host = settings.from.split(separator: "@").last.map { String($0).trimmingCharacters(in: CharacterSet(charactersIn: "> ")) } ?? "margin"
        return "<\(Base64URL.encode(random.bytes(12)))@\(host)>"
    }

    static func moderatorMail(_ context: MailContext, to moderators: [String], signer: LinkSigner, settings: MailSettings, now: Int64, random: any RandomSource) -> OutgoingMail {
        let comment = context.comment
        let expires = now + settings.linkLifetimeMillis
        let links = ModerationAction.linkActions.compactMap { action -> String? in
            guard let link = signer.sign(site: context.site.id, commentID: comment.id, action: action.rawValue, expiresAt: expires,
                                         nonce: LinkSigner.makeNonce(random: random))
            else { return nil }
            return "\(action.rawValue.capitalized): \(settings.publicURL)\(link.pathAndQuery)"
        }
        let state = comment.status == .pending ? "is waiting for moderation" : "was published"
        let title = context.thread.title ?? context.thread.uri
        var body = "A new comment on \"\(title)\" \(state).\n\n"
        body += "Page:    \(pageURL(context, settings: settings))\n"
        body += "Author:  \(comment.author ?? "Anonymous")\n"
        if let email = comment.email { body += "Email:   \(email)\n" }
        if let website = comment.website { body += "Website: \(website)\n" }
        // The network with its prefix: what `margin block add ip` takes to block it.
        if let ip = comment.ip { body += "Network: \(IPAnonymizer.storedNetwork(ip))\n" }
        body += "Score:   \(String(format: "%.1f", comment.spamScore))\n"
        if !comment.spamReasons.isEmpty {
            body += "Reasons:\n" + comment.spamReasons.map { "  \($0)" }.joined(separator: "\n") + "\n"
        }
        body += "\n" + comment.body + "\n\n"
        body += "Each link opens a page with one button; nothing happens until you press it.\n"
        body += "The links work once and expire in \(settings.linkLifetimeSeconds / 86_400) day(s).\n\n"
        body += links.joined(separator: "\n") + "\n"
        return OutgoingMail(
            kind: .moderation, commentID: comment.id, recipients: moderators,
            subject: "[\(context.site.name)] Comment \(comment.status == .pending ? "held" : "posted") on \(title)",
            body: body, messageID: messageID(random: random, settings: settings), createdAt: now)
    }

    static func replyMail(_ context: MailContext, parent: Comment, to email: String, signer: LinkSigner, settings: MailSettings, now: Int64, random: any RandomSource) -> OutgoingMail {
        let comment = context.comment
        let title = context.thread.title ?? context.thread.uri
        let page = pageURL(context, settings: settings) + "#margin-comment-\(comment.id)"
        var headers: [[String]] = []
        var body = "\(comment.author ?? "Someone") replied to your comment on \"\(title)\":\n\n"
        body += comment.body + "\n\n"
        body += "Read the thread: \(page)\n"
        if let url = unsubscribeURL(context, commentID: parent.id, signer: signer, settings: settings, now: now, random: random) {
            body += "\nYou get this mail because you asked to be told of replies. Stop them (for this thread or everything from this blog): \(url)\n"
            headers.append(["List-Unsubscribe", "<\(url)>"])
            headers.append(["List-Unsubscribe-Post", "List-Unsubscribe=One-Click"])
        }
        return OutgoingMail(
            kind: .reply, commentID: comment.id, recipients: [email],
            subject: "[\(context.site.name)] New reply on \(title)", body: body, headers: headers,
            messageID: messageID(random: random, settings: settings), createdAt: now, dailyCap: settings.maxPerRecipientPerDay)
    }
}
