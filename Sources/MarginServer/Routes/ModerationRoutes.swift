import Comments
import Foundation
import HTTPTypes
import Hummingbird
import Moderation
import SafeHTML

/// The pages behind signed links in mail: `/moderate/{id}/{action}` and `/unsubscribe/{id}`.
/// A GET only shows a confirmation page (mail scanners follow links); the POST from its button acts.
struct ModerationRoutes: Sendable {
    let store: any CommentStore
    let moderator: Moderator
    let clock: any MarginClock
    /// How long a link lives (`mail.link_days`): a retired key verifies for that long after its retirement.
    var linkLifetimeMillis: Int64? = nil

    func register(on router: Router<MarginRequestContext>) {
        router.get("moderate/:id/:action", use: confirmModeration)
        router.post("moderate/:id/:action", use: moderate)
        router.get("unsubscribe/:id", use: confirmUnsubscribe)
        router.post("unsubscribe/:id", use: unsubscribe)
        router.get("confirm/:id", use: confirmPage)
        router.post("confirm/:id", use: confirm)
    }

    /// A verified link and the comment it names (nil when the comment is gone).
    struct VerifiedLink {
        var link: SignedLink
        var comment: Comment?
    }

    /// Reads and verifies the link in the request: 403 tampered or unknown key, 410 expired.
    func verify(_ request: Request, context: MarginRequestContext, action: String) async throws -> VerifiedLink {
        let query = request.uri.queryParameters
        guard let idText = context.parameters.get("id"), let id = Int64(idText),
              let site = query["site"].map(String.init), let expText = query["exp"], let exp = Int64(String(expText)),
              let nonce = query["nonce"].map(String.init), let kid = query["kid"].map(String.init),
              let sig = query["sig"].map(String.init)
        else { throw Page.error(.forbidden, "This link is incomplete or has been altered.") }
        let link = SignedLink(site: site, commentID: id, action: action, expiresAt: exp, nonce: nonce, keyID: kid, signature: sig)
        switch LinkSigner(keys: try await store.signingKeys(), linkLifetimeMillis: linkLifetimeMillis).verify(link, now: clock.nowMillis()) {
        case .failure(.invalid): throw Page.error(.forbidden, "This link is not valid: it has been altered or its key is unknown.")
        case .failure(.expired): throw Page.error(.gone, "This link has expired. Moderate from the CLI or ask for a new link.")
        case .success: break
        }
        let comment = try await store.comment(id: id)
        if let comment, let thread = try await store.thread(id: comment.threadID), thread.siteID != site {
            throw Page.error(.forbidden, "This link is not valid for this comment.")
        }
        return VerifiedLink(link: link, comment: comment)
    }

    func action(_ context: MarginRequestContext) throws -> ModerationAction {
        guard let text = context.parameters.get("action"), let action = ModerationAction(rawValue: text),
              ModerationAction.linkActions.contains(action)
        else {
            throw Page.error(.notFound, "There is no such moderation action.")
        }
        return action
    }

    /// `GET /moderate/{id}/{action}`: the comment and one button.
    @Sendable func confirmModeration(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let action = try action(context)
        let verified = try await verify(request, context: context, action: action.rawValue)
        if try await store.isLinkUsed(nonce: verified.link.nonce) {
            return Page.alreadyUsed(verified.comment)
        }
        guard let comment = verified.comment else { throw Page.error(.notFound, "This comment no longer exists.") }
        let thread = try await store.thread(id: comment.threadID)
        var body = "<h1>\(escapeHTML(action.rawValue.capitalized)) this comment?</h1>\n"
        body += Page.describe(comment, thread: thread)
        body += "<form method=\"post\" action=\"\(escapeHTML(request.uri.description))\">"
        body += "<button type=\"submit\">\(escapeHTML(action.rawValue.capitalized))</button></form>\n"
        body += "<p class=\"note\">Nothing has changed yet. This link works once.</p>"
        return Page.response(.ok, title: "Moderate comment \(comment.id)", body: body)
    }

    /// `POST /moderate/{id}/{action}`: acts once; a replay is 409 with the comment's state.
    @Sendable func moderate(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let action = try action(context)
        let verified = try await verify(request, context: context, action: action.rawValue)
        // When the link was mailed: a person's decision since then stands over it.
        let lifetime = linkLifetimeMillis ?? MailSettings.defaultLinkLifetimeSeconds * 1000
        let use = LinkUse(nonce: verified.link.nonce, expiresAt: verified.link.expiresAt, issuedAt: verified.link.expiresAt - lifetime)
        let outcome = try await moderator.act(on: verified.link.commentID, action: action, actor: .link, link: use)
        switch outcome {
        case .linkAlreadyUsed(let comment):
            return Page.alreadyUsed(comment)
        case .alreadyDecided(let entry, _):
            let status = entry.action == "restore" ? "restored" : (ModerationAction(rawValue: entry.action)?.resultingStatus?.rawValue ?? entry.action)
            let who = entry.moderator ?? entry.actor.rawValue
            let body = "<h1>Already \(escapeHTML(status)) by \(escapeHTML(who))</h1>\n"
                + "<p>Comment \(verified.link.commentID) was moderated after this link was sent; nothing has changed.</p>"
            return Page.response(.conflict, title: "Already decided", body: body)
        case .applied(let comment):
            let state = comment.map { "It is now <strong>\(escapeHTML($0.status.rawValue))</strong>." } ?? "It has been removed."
            return Page.response(.ok, title: "Done", body: "<h1>Done: \(escapeHTML(action.rawValue))</h1>\n<p>Comment \(verified.link.commentID). \(state)</p>")
        }
    }

    /// `GET /unsubscribe/{id}`: choose between stopping reply mails for this thread and stopping
    /// everything from this blog (the suppression list); a suppressed address may resume instead.
    @Sendable func confirmUnsubscribe(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let verified = try await verify(request, context: context, action: "unsubscribe")
        guard let comment = verified.comment else { throw Page.error(.notFound, "This comment no longer exists.") }
        let action = escapeHTML(request.uri.description)
        func button(_ scope: UnsubscribeScope, _ label: String) -> String {
            "<form method=\"post\" action=\"\(action)\"><input type=\"hidden\" name=\"scope\" value=\"\(scope.rawValue)\">"
                + "<button type=\"submit\">\(label)</button></form>\n"
        }
        if let email = comment.email, try await store.replyConsent(email: email, siteID: verified.link.site) == .suppressed {
            let body = "<h1>No mail from this blog</h1>\n<p>This address gets no mail from this blog.</p>\n"
                + button(.resume, "Send me reply notifications again")
            return Page.response(.ok, title: "Unsubscribed", body: body)
        }
        let body = "<h1>Stop reply notifications?</h1>\n"
            + button(.thread, "Stop mail about this thread")
            + button(.site, "Stop all mail from this blog")
            + "<p class=\"note\">Nothing has changed yet. After \"all mail\", no later comment can turn mail back on; only you can, from a link we mailed you.</p>"
        return Page.response(.ok, title: "Unsubscribe", body: body)
    }

    /// What a `POST /unsubscribe/{id}` asks for, in its form field `scope`.
    enum UnsubscribeScope: String {
        /// Reply mail of this thread (also RFC 8058 one-click, which sends no scope).
        case thread
        /// Everything from this blog: the address goes on the suppression list.
        case site
        /// Off the suppression list again: the address's owner confirms anew.
        case resume
    }

    /// `POST /unsubscribe/{id}`: from the page's buttons (`scope=thread|site|resume`) or a mail
    /// client's one-click (RFC 8058), which means this thread.
    @Sendable func unsubscribe(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let verified = try await verify(request, context: context, action: "unsubscribe")
        var request = request
        // A form of one field; anything larger or unreadable means the default, this thread.
        let form = (try? await request.collectBody(upTo: 4096)).map { String(buffer: $0) } ?? ""
        let scope = form.split(separator: "&").compactMap { pair -> UnsubscribeScope? in
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 && parts[0] == "scope" ? UnsubscribeScope(rawValue: parts[1]) : nil
        }.first ?? .thread
        let now = clock.nowMillis()
        guard let comment = verified.comment, let email = comment.email else {
            return Page.response(.ok, title: "Unsubscribed", body: "<h1>Unsubscribed</h1>\n<p>You will get no more mail about replies in this thread.</p>")
        }
        switch scope {
        case .thread:
            _ = try await store.unsubscribe(email: email, threadID: comment.threadID, at: now)
            return Page.response(.ok, title: "Unsubscribed", body: "<h1>Unsubscribed</h1>\n<p>You will get no more mail about replies in this thread.</p>")
        case .site:
            _ = try await store.unsubscribe(email: email, threadID: comment.threadID, at: now)
            try await store.setReplyConsent(.suppressed, email: email, siteID: verified.link.site, at: now)
            return Page.response(.ok, title: "Unsubscribed", body: """
                <h1>Unsubscribed from everything</h1>
                <p>This address gets no more mail from this blog, whatever anyone types into a comment form.</p>
                <form method="post" action="\(escapeHTML(request.uri.description))"><input type="hidden" name="scope" value="resume"><button type="submit">Undo</button></form>
                """)
        case .resume:
            try await store.setReplyConsent(.confirmed, email: email, siteID: verified.link.site, at: now)
            return Page.response(.ok, title: "Notifications on", body: "<h1>Reply notifications are on again</h1>\n<p>You will get mail about replies to comments where you ask for it.</p>")
        }
    }

    /// `GET /confirm/{id}`: the page behind the link of a confirmation mail; one button.
    @Sendable func confirmPage(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let verified = try await verify(request, context: context, action: "confirm")
        guard let comment = verified.comment, comment.email != nil else { throw Page.error(.notFound, "This comment no longer exists.") }
        let thread = try await store.thread(id: comment.threadID)
        let body = """
            <h1>Get mail about replies?</h1>
            <p>A comment on \(escapeHTML(thread?.title ?? thread?.uri ?? "this blog")) asked for mail about replies to this address.</p>
            <form method="post" action="\(escapeHTML(request.uri.description))"><button type="submit">Yes, mail me about replies</button></form>
            <p class="note">Nothing has changed yet. Every such mail has a link to stop them.</p>
            """
        return Page.response(.ok, title: "Confirm reply notifications", body: body)
    }

    /// `POST /confirm/{id}`: the address's owner confirms; reply mail may go to it from now on,
    /// also after an earlier "stop all mail".
    @Sendable func confirm(_ request: Request, context: MarginRequestContext) async throws -> Response {
        let verified = try await verify(request, context: context, action: "confirm")
        guard let comment = verified.comment, let email = comment.email else { throw Page.error(.notFound, "This comment no longer exists.") }
        try await store.setReplyConsent(.confirmed, email: email, siteID: verified.link.site, at: clock.nowMillis())
        return Page.response(.ok, title: "Confirmed", body: "<h1>Confirmed</h1>\n<p>You will get mail about replies to your comments here. Every such mail has a link to stop them.</p>")
    }
}

/// Small server-rendered HTML pages with strict headers; every user string escaped.
enum Page {
    static let headers: HTTPFields = {
        var headers = PageRoutes.securityHeaders
        headers[.cacheControl] = "no-store"
        headers[.contentSecurityPolicy] = "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        // Not no-referrer: under it Chromium posts these pages' forms with `Origin: null`, and
        // the console's sign-in form must show its own origin. Other hosts still get no referrer.
        headers[.referrerPolicy] = "same-origin"
        headers[HTTPField.Name("X-Robots-Tag")!] = "noindex"
        return headers
    }()

    /// An HTML error page carried as an error (the error middleware sends it as is).
    static func error(_ status: HTTPResponse.Status, _ message: String) -> PageError {
        PageError(status: status, message: message)
    }

    static func response(_ status: HTTPResponse.Status, title: String, body: String) -> Response {
        let html = """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escapeHTML(title)) · Margin</title></head>
        <body>
        \(body)
        </body></html>
        """
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func describe(_ comment: Comment, thread: CommentThread?) -> String {
        var html = "<dl>"
        html += "<dt>Page</dt><dd>\(escapeHTML(thread?.title ?? thread?.uri ?? "?")) (\(escapeHTML(thread?.uri ?? "")))</dd>"
        html += "<dt>Author</dt><dd>\(escapeHTML(comment.author ?? "Anonymous"))</dd>"
        if let email = comment.email { html += "<dt>Email</dt><dd>\(escapeHTML(email))</dd>" }
        if let website = comment.website { html += "<dt>Website</dt><dd>\(escapeHTML(website))</dd>" }
        html += "<dt>Status</dt><dd>\(escapeHTML(comment.status.rawValue))</dd>"
        html += "<dt>Score</dt><dd>\(String(format: "%.1f", comment.spamScore))</dd>"
        html += "</dl>"
        if !comment.spamReasons.isEmpty {
            html += "<ul class=\"reasons\">" + comment.spamReasons.map { "<li>\(escapeHTML($0))</li>" }.joined() + "</ul>"
        }
        html += "<blockquote>\(comment.html)</blockquote>\n"
        return html
    }

    static func alreadyUsed(_ comment: Comment?) -> Response {
        let state = comment.map { "The comment is now <strong>\(escapeHTML($0.status.rawValue))</strong>." } ?? "The comment has been removed."
        return response(.conflict, title: "Link already used", body: "<h1>This link has already been used</h1>\n<p>\(state)</p>")
    }
}

/// An error answered with an HTML page rather than JSON.
struct PageError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var message: String

    func response(from request: Request, context: some RequestContext) throws -> Response {
        Page.response(status, title: status.reasonPhrase, body: "<h1>\(escapeHTML(status.reasonPhrase))</h1>\n<p>\(escapeHTML(message))</p>")
    }
}
