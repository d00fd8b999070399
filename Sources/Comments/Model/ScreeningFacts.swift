/// Everything the spam rules ask the store about one comment.
public struct ScreeningFacts: Sendable, Equatable {
    public var stored: StoredFacts
    public var blocklist: [BlockEntry]
    public var classifier: ClassifierCounts

    public init(stored: StoredFacts, blocklist: [BlockEntry], classifier: ClassifierCounts) {
        self.stored = stored
        self.blocklist = blocklist
        self.classifier = classifier
    }
}

/// What the store knows about a comment's author and body, for the spam rules.
public struct StoredFacts: Sendable, Equatable {
    /// Approved comments earlier on the site sent with the same author key (none without a key:
    /// an email or name anyone can type earns nothing).
    public var approvedBefore: Int
    /// Comments with the same body on the same site in the window asked for.
    public var duplicates: Int

    public init(approvedBefore: Int, duplicates: Int) {
        self.approvedBefore = approvedBefore
        self.duplicates = duplicates
    }
}

/// The learned classifier's counts for some features.
public struct ClassifierCounts: Sendable, Equatable {
    public var tokens: [String: (spam: Int, ham: Int)]
    public var spamDocuments: Int
    public var hamDocuments: Int

    public init(tokens: [String: (spam: Int, ham: Int)], spamDocuments: Int, hamDocuments: Int) {
        self.tokens = tokens
        self.spamDocuments = spamDocuments
        self.hamDocuments = hamDocuments
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.spamDocuments == rhs.spamDocuments && lhs.hamDocuments == rhs.hamDocuments
            && lhs.tokens.count == rhs.tokens.count
            && lhs.tokens.allSatisfy { key, value in rhs.tokens[key].map { $0 == value } ?? false }
    }
}
