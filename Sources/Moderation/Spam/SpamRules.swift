import Comments
import Foundation

/// A spam rule: a pure function of the facts and settings.
public typealias SpamRule = @Sendable (SpamFacts, SpamSettings) -> RuleHit?

/// The rules, each a pure function returning points and a reason, and the verdict they add up to.
public enum SpamRules {
    /// Every rule, in the order reasons are shown.
    public static let all: [SpamRule] = [
        honeypot, formTiming, links, blocklisted, duplicate, shouting, repetition, oldThread, knownAuthor, classifier,
    ]

    /// Filled honeypot: only bots see and fill the hidden field.
    public static let honeypot: SpamRule = { facts, _ in
        guard let value = facts.honeypot, !value.isEmpty else { return nil }
        return RuleHit(rule: "honeypot", points: 15, reason: "the hidden field was filled in")
    }

    /// Posting within seconds of the form appearing, or without a (valid) signed form time; a
    /// form time older than `formMaxAgeHours` counts as none.
    public static let formTiming: SpamRule = { facts, settings in
        guard !facts.isEdit else { return nil }
        guard facts.formTimestampSent else {
            return RuleHit(rule: "no-form-time", points: 1.5, reason: "posted without the widget's form timestamp")
        }
        guard let rendered = facts.formRenderedAt, rendered <= facts.now + 60_000 else {
            return RuleHit(rule: "forged-form-time", points: 4, reason: "the form timestamp is forged")
        }
        let seconds = Double(facts.now - rendered) / 1000
        if seconds > Double(settings.formMaxAgeHours) * 3600 {
            return RuleHit(rule: "stale-form-time", points: 1.5,
                           reason: "the form timestamp is older than \(settings.formMaxAgeHours) h")
        }
        if seconds < Double(settings.minimumSecondsToSubmit) {
            return RuleHit(rule: "too-fast", points: 4, reason: String(format: "submitted %.1f s after the form appeared", max(0, seconds)))
        }
        return nil
    }

    /// Links: one is normal, several are what link droppers post.
    public static let links: SpamRule = { facts, _ in
        switch facts.linkCount {
        case 0: return nil
        case 1: return RuleHit(rule: "links", points: 1, reason: "1 link")
        case 2: return RuleHit(rule: "links", points: 2.5, reason: "2 links")
        default: return RuleHit(rule: "links", points: min(8, 2 + Double(facts.linkCount)), reason: "\(facts.linkCount) links")
        }
    }

    /// A blocklisted word, domain, email or author name.
    public static let blocklisted: SpamRule = { facts, _ in
        let hits = facts.blocklistHits.filter { $0.kind != .ip }
        guard !hits.isEmpty else { return nil }
        let list = hits.map { "\($0.kind.rawValue) '\($0.value)'" }.joined(separator: ", ")
        return RuleHit(rule: "blocklist", points: 10, reason: "blocklisted \(list)")
    }

    /// The same text posted again within a day.
    public static let duplicate: SpamRule = { facts, _ in
        guard facts.duplicates > 0 else { return nil }
        let points = facts.duplicates >= 3 ? 6.0 : 4.0
        return RuleHit(rule: "duplicate", points: points, reason: "the same text was posted \(facts.duplicates) time(s) in the last 24 h")
    }

    /// Mostly capital letters over a long enough text. Scripts without case never trigger it.
    public static let shouting: SpamRule = { facts, _ in
        let (upper, cased) = SpamFactFinder.capitals(facts.text)
        guard cased >= 20, Double(upper) / Double(cased) >= 0.7 else { return nil }
        return RuleHit(rule: "shouting", points: 1.5, reason: "\(Int(Double(upper) * 100 / Double(cased)))% capital letters")
    }

    /// One character repeated many times in a row (`!!!!!!!!!!`, `aaaaaaaaaaaa`).
    public static let repetition: SpamRule = { facts, _ in
        let longest = SpamFactFinder.longestRepeat(facts.text)
        guard longest >= 10 else { return nil }
        return RuleHit(rule: "repetition", points: 1.5, reason: "a character repeated \(longest) times")
    }

    /// Comments on old posts are mostly spam.
    public static let oldThread: SpamRule = { facts, settings in
        guard settings.oldThreadDays > 0, let created = facts.threadCreatedAt else { return nil }
        let days = (facts.now - created) / 86_400_000
        guard days >= settings.oldThreadDays else { return nil }
        return RuleHit(rule: "old-thread", points: 2, reason: "the thread is \(days) days old")
    }

    /// Authors whose comments were approved before are trusted a little: counted by the author
    /// key they hold (`SpamFacts.approvedBefore`), never by a typed email or name.
    public static let knownAuthor: SpamRule = { facts, _ in
        guard facts.approvedBefore > 0 else { return nil }
        let points = facts.approvedBefore >= 3 ? -4.0 : -2.5
        return RuleHit(rule: "known-author", points: points, reason: "\(facts.approvedBefore) earlier approved comment(s)")
    }

    /// The learned classifier's view, once it has been trained.
    public static let classifier: SpamRule = { facts, _ in
        guard let probability = facts.spamProbability else { return nil }
        let percent = String(format: "%.0f%%", probability * 100)
        switch probability {
        case 0.99...: return RuleHit(rule: "classifier", points: 7, reason: "learned filter: \(percent) spam")
        case 0.9..<0.99: return RuleHit(rule: "classifier", points: 5, reason: "learned filter: \(percent) spam")
        case 0.7..<0.9: return RuleHit(rule: "classifier", points: 3, reason: "learned filter: \(percent) spam")
        case ..<0.1: return RuleHit(rule: "classifier", points: -1, reason: "learned filter: \(percent) spam")
        default: return nil
        }
    }

    /// Runs every rule and decides, applying the site's moderation mode after the score.
    public static func judge(_ facts: SpamFacts, mode: ModerationMode, settings: SpamSettings) -> SpamReport {
        let hits = all.compactMap { $0(facts, settings) }
        let score = hits.reduce(0) { $0 + $1.points }
        return SpamReport(hits: hits, score: score, status: verdict(score: score, facts: facts, mode: mode, settings: settings))
    }

    /// Spam by score first; then hold by score, or by the site's mode.
    public static func verdict(score: Double, facts: SpamFacts, mode: ModerationMode, settings: SpamSettings) -> CommentStatus {
        if score >= settings.spamScore { return .spam }
        if score >= settings.holdScore { return .pending }
        switch mode {
        case .none: return .approved
        case .all: return .pending
        case .auto:
            let firstTime = facts.approvedBefore == 0
            return firstTime && (facts.linkCount > 0 || score >= settings.doubtfulScore) ? .pending : .approved
        }
    }
}
