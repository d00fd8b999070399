import Comments
import Foundation

/// The spam filter as the comment service's `Screening`: the store gathers facts, the rules
/// judge, the site's mode has the last word.
public struct SpamScreening: Screening {
    public let store: any CommentStore
    public let formTimestamp: FormTimestamp
    public let settings: SpamSettings
    public let clock: any MarginClock

    public init(store: any CommentStore, formTimestamp: FormTimestamp, settings: SpamSettings, clock: any MarginClock) {
        self.store = store
        self.formTimestamp = formTimestamp
        self.settings = settings
        self.clock = clock
    }

    public func judge(_ draft: Draft) async throws -> Judgement {
        let plan = plan(for: draft)
        guard let query = plan.query else { return plan.decide(draft.thread, nil) }
        return plan.decide(draft.thread, try await store.screeningFacts(siteID: draft.site.id, query: query))
    }

    public func plan(for draft: Draft) -> ScreeningPlan {
        let (query, assemble) = prepare(draft)
        let mode = draft.site.moderation, settings = settings
        return ScreeningPlan(query: query) { thread, found in
            // The query is always made; were it not, a person should look rather than the filter guess.
            guard let found else { return Judgement(status: .pending, reasons: ["spam facts were not looked up"]) }
            let report = SpamRules.judge(assemble(thread, found), mode: mode, settings: settings)
            return Judgement(status: report.status, score: report.score, reasons: report.reasons)
        }
    }

    /// Everything the rules need, looked up once.
    public func facts(for draft: Draft) async throws -> SpamFacts {
        let (query, assemble) = prepare(draft)
        return assemble(draft.thread, try await store.screeningFacts(siteID: draft.site.id, query: query))
    }

    /// The work that needs nothing stored (links, features, the form's signature), and a pure
    /// function that completes the facts from the thread and what the store found.
    private func prepare(_ draft: Draft) -> (ScreeningQuery, @Sendable (CommentThread?, ScreeningFacts) -> SpamFacts) {
        let comment = draft.comment
        let now = clock.nowMillis()
        let textHosts = SpamFactFinder.linkHosts(text: comment.body, website: nil)
        let hosts = SpamFactFinder.linkHosts(text: comment.body, website: comment.website)
        let features = SpamClassifier.features(comment.body)
        let query = ScreeningQuery(
            body: comment.body,
            since: now - 86_400_000, excluding: draft.isEdit ? comment.id : nil, features: features,
            authorKeyHash: draft.authorKeyHash)
        let formRenderedAt = formTimestamp.verify(draft.formTimestamp, site: draft.site.id)
        let honeypot = draft.honeypot, formTimestampSent = draft.formTimestamp.map { !$0.isEmpty } ?? false
        let isEdit = draft.isEdit
        return (query, { thread, found in
            let counts = found.classifier
            let trained = counts.spamDocuments > 0 && counts.hamDocuments > 0
            let probability = trained
                ? SpamClassifier.probability(
                    features: features, counts: counts.tokens.mapValues { TokenCounts(spam: $0.spam, ham: $0.ham) },
                    spamDocuments: counts.spamDocuments, hamDocuments: counts.hamDocuments)
                : nil
            return SpamFacts(
                text: comment.body, author: comment.author, email: comment.email, website: comment.website,
                honeypot: honeypot, formTimestampSent: formTimestampSent,
                formRenderedAt: formRenderedAt, now: now,
                linkCount: textHosts.count, linkHosts: hosts,
                blocklistHits: SpamFactFinder.matches(found.blocklist, text: comment.body, author: comment.author, email: comment.email, hosts: hosts),
                duplicates: found.stored.duplicates, threadCreatedAt: thread?.createdAt, approvedBefore: found.stored.approvedBefore,
                spamProbability: probability, isEdit: isEdit)
        })
    }
}
