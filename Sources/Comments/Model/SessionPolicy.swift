/// How long console sessions live.
public struct SessionPolicy: Sendable, Equatable {
    /// A session unused for this long is over.
    public var idleMillis: Int64
    /// A session this old is over, however busy.
    public var absoluteMillis: Int64

    public init(idleMillis: Int64, absoluteMillis: Int64) {
        self.idleMillis = idleMillis
        self.absoluteMillis = absoluteMillis
    }

    /// Two hours idle, twelve hours at most: a working day's triage, then sign in again.
    public static let standard = SessionPolicy(idleMillis: 2 * 3_600_000, absoluteMillis: 12 * 3_600_000)
}
