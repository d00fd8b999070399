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
        let facts = try await facts(for: draft)
        let report = SpamRules.judge(facts, mode: draft.site.moderation, settings: settings)
        return Judgement(status: report.status, score: report.score, reasons: report.reasons)
    }

    /// Everything the rules need, looked up once.
    public func facts(for draft: Draft) async throws -> SpamFacts {
        let comment = draft.comment
        let now = clock.nowMillis()
        let textHosts = SpamFactFinder.linkHosts(text: comment.body, website: nil)
        let hosts = SpamFactFinder.linkHosts(text: comment.body, website: comment.website)
        let features = SpamClassifier.features(comment.body)
        let facts = try await store.screeningFacts(
            siteID: draft.site.id, email: comment.email, author: comment.author, ip: comment.ip, body: comment.body,
            since: now - 86_400_000, excluding: draft.isEdit ? comment.id : nil, features: features)
        let blocklist = facts.blocklist, stored = facts.stored, counts = facts.classifier
        let trained = counts.spamDocuments > 0 && counts.hamDocuments > 0
        let probability = trained
            ? SpamClassifier.probability(
                features: features, counts: counts.tokens.mapValues { TokenCounts(spam: $0.spam, ham: $0.ham) },
                spamDocuments: counts.spamDocuments, hamDocuments: counts.hamDocuments)
            : nil
        return SpamFacts(
            text: comment.body, author: comment.author, email: comment.email, website: comment.website,
            honeypot: draft.honeypot, formTimestampSent: draft.formTimestamp.map { !$0.isEmpty } ?? false,
            formRenderedAt: formTimestamp.verify(draft.formTimestamp, site: draft.site.id), now: now,
            linkCount: textHosts.count, linkHosts: hosts,
            blocklistHits: SpamFactFinder.matches(blocklist, text: comment.body, author: comment.author, email: comment.email, hosts: hosts, ip: nil),
            duplicates: stored.duplicates, threadCreatedAt: draft.thread?.createdAt, approvedBefore: stored.approvedBefore,
            spamProbability: probability, isEdit: draft.isEdit)
    }
}
