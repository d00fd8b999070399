/// An in-memory classifier with the same maths, for `margin spam eval` and tests.
public struct InMemorySpamClassifier: Sendable {
    /// Per feature, the number of trained spam and ham documents that had it.
    public private(set) var counts: [String: TokenCounts]
    /// Spam documents trained.
    public private(set) var spamDocuments: Int
    /// Ham documents trained.
    public private(set) var hamDocuments: Int

    /// An untrained classifier, which scores everything 0.5.
    public init() {
        counts = [:]
        spamDocuments = 0
        hamDocuments = 0
    }

    /// Counts the features of `text` as seen once more in spam (`isSpam`) or ham.
    public mutating func train(_ text: String, isSpam: Bool) {
        for feature in SpamClassifier.features(text) {
            counts[feature, default: TokenCounts(spam: 0, ham: 0)].add(isSpam: isSpam)
        }
        if isSpam { spamDocuments += 1 } else { hamDocuments += 1 }
    }

    /// P(spam) of `text` in 0...1.
    public func probability(_ text: String) -> Double {
        SpamClassifier.probability(
            features: SpamClassifier.features(text), counts: counts,
            spamDocuments: spamDocuments, hamDocuments: hamDocuments
        )
    }
}

private extension TokenCounts {
    /// One more document with the feature.
    mutating func add(isSpam: Bool) {
        if isSpam { spam += 1 } else { ham += 1 }
    }
}
