import Comments
import Foundation

/// Measures the whole filter on labelled comments: trains a fresh classifier on the training
/// rows only, then judges every test row as a first-time author's comment sent through the
/// widget (a valid form time 30 s old, no honeypot), in moderation mode `none`.
public enum SpamEvaluation {
    /// The figures `margin spam eval` prints.
    public struct Result: Sendable, Equatable, Codable {
        /// Share of spam rows held or marked spam.
        public var spamCaught: Double
        /// Share of ham rows marked spam.
        public var hamMarkedSpam: Double
        /// Share of ham rows held.
        public var hamHeld: Double
        /// Of the rows held or marked spam, the share that is spam.
        public var precision: Double
        public var rows: Int

        enum CodingKeys: String, CodingKey {
            case precision, rows
            case spamCaught = "spam_caught"
            case hamMarkedSpam = "ham_marked_spam"
            case hamHeld = "ham_held"
        }
    }

    /// Trains on `training` and judges `test`.
    public static func run(training: [LabelledComment], test: [LabelledComment], settings: SpamSettings = SpamSettings()) -> Result {
        var classifier = InMemorySpamClassifier()
        for row in training { classifier.train(row.content, isSpam: row.isSpam) }
        let now: Int64 = 1_790_000_000_000
        var seenBodies: [String: Int] = [:]
        var spam = 0, spamCaught = 0, ham = 0, hamSpam = 0, hamHeld = 0
        for row in test {
            let text = row.content
            let hosts = SpamFactFinder.linkHosts(text: text, website: nil)
            let facts = SpamFacts(
                text: text, author: row.author, formTimestampSent: true, formRenderedAt: now - 30_000, now: now,
                linkCount: hosts.count, linkHosts: hosts, duplicates: seenBodies[text, default: 0],
                approvedBefore: 0, spamProbability: classifier.probability(text))
            seenBodies[text, default: 0] += 1
            let status = SpamRules.judge(facts, mode: .none, settings: settings).status
            if row.isSpam {
                spam += 1
                if status != .approved { spamCaught += 1 }
            } else {
                ham += 1
                if status == .spam { hamSpam += 1 }
                if status == .pending { hamHeld += 1 }
            }
        }
        let flagged = spamCaught + hamSpam + hamHeld
        return Result(
            spamCaught: spam == 0 ? 0 : Double(spamCaught) / Double(spam),
            hamMarkedSpam: ham == 0 ? 0 : Double(hamSpam) / Double(ham),
            hamHeld: ham == 0 ? 0 : Double(hamHeld) / Double(ham),
            precision: flagged == 0 ? 1 : Double(spamCaught) / Double(flagged),
            rows: test.count)
    }
}
