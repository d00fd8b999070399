import Comments

/// The filter's conclusion for one comment.
public struct SpamReport: Sendable, Equatable {
    public var hits: [RuleHit]
    public var score: Double
    public var status: CommentStatus

    /// Reasons as stored with the comment: `+3.0 links: 3 links`.
    public var reasons: [String] {
        hits.map { hit in
            let sign = hit.points >= 0 ? "+" : "-"
            return "\(sign)\(String(format: "%.1f", abs(hit.points))) \(hit.rule): \(hit.reason)"
        }
    }
}

/// One rule's finding: points (negative ones vouch for the comment) and why, in words.
public struct RuleHit: Sendable, Equatable, Codable {
    /// A stable identifier, e.g. `honeypot`.
    public var rule: String
    public var points: Double
    public var reason: String

    public init(rule: String, points: Double, reason: String) {
        self.rule = rule
        self.points = points
        self.reason = reason
    }
}
