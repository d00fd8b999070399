/// The outcome of a vote: the comment's new totals.
public struct VoteTotals: Sendable, Equatable, Codable {
    public var likes: Int
    public var dislikes: Int

    public init(likes: Int, dislikes: Int) {
        self.likes = likes
        self.dislikes = dislikes
    }
}
