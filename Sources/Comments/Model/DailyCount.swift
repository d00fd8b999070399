/// Comments created on one UTC day with one status.
public struct DailyCount: Sendable, Equatable, Codable {
    /// `YYYY-MM-DD`.
    public var day: String
    public var status: CommentStatus
    public var count: Int

    public init(day: String, status: CommentStatus, count: Int) {
        self.day = day
        self.status = status
        self.count = count
    }
}
