import Comments

/// Builds `ModeratedComment`s, reading what their badges need once per page.
struct ModeratedCommentBuilder: Sendable {
    let store: any CommentStore

    func views(_ rows: [(CommentThread, Comment)]) async throws -> [ModeratedComment] {
        var sites: [String: Site] = [:]
        for site in try await store.sites() { sites[site.id] = site }
        // One lookup per site for the whole page, not one per comment.
        var emailsBySite: [String: Set<String>] = [:]
        for (thread, comment) in rows {
            if let email = comment.email { emailsBySite[thread.siteID, default: []].insert(email.lowercased()) }
        }
        var approvedIDs: [String: [String: [Int64]]] = [:]
        for (siteID, emails) in emailsBySite {
            approvedIDs[siteID] = try await store.approvedCommentIDs(siteID: siteID, emails: Array(emails))
        }
        return rows.map { thread, comment in
            let ids = comment.email.flatMap { approvedIDs[thread.siteID]?[$0.lowercased()] } ?? []
            return ModeratedComment(comment, thread: thread, site: sites[thread.siteID], firstTime: !ids.contains { $0 != comment.id })
        }
    }

    func view(_ comment: Comment) async throws -> ModeratedComment? {
        guard let thread = try await store.thread(id: comment.threadID) else { return nil }
        return try await views([(thread, comment)]).first
    }
}
