import Comments
import Moderation

/// Who is calling the moderation API, and what they may do.
struct ConsoleCaller: Sendable {
    /// The address written to the moderation log as the acting moderator (`token:<name>` for an
    /// admin token).
    var moderator: String
    var role: ConsoleRole
    /// The signed-in session; nil for an admin token.
    var session: ConsoleSession?
    /// The token a changing request must carry in `X-CSRF-Token`; nil for an admin token.
    var csrfToken: String?

    /// 404 unless the caller may see the site: a moderator of another site learns nothing, not
    /// even that it exists.
    func requireSite(_ id: String) throws {
        guard role.sees(siteID: id) else { throw CommentsError.siteNotFound(id) }
    }

    /// 403 unless the caller is an admin.
    func requireAdmin() throws {
        guard role.isAdmin else { throw APIError(.forbidden, code: "admin_only", message: "Only admins may do this.") }
    }
}
