/// How hook deliveries are made: where the signed links point, how long each attempt may take
/// and how failures are retried.
public struct HookSettings: Sendable {
    /// The base of the signed moderation links, without a trailing slash.
    public var publicURL: String
    /// How long a moderation link in a message works.
    public var linkLifetimeMillis: Int64
    /// One attempt's whole time: connecting, sending and reading the answer.
    public var timeout: Duration
    /// The wait after the first failed attempt; it doubles with each further failure.
    public var firstRetryMillis: Int64
    /// The longest wait between two attempts.
    public var maximumRetryMillis: Int64 = 3_600_000
    /// How long after the event a delivery is still tried; then it is kept as failed.
    public var giveUpAfterMillis: Int64 = 2 * 86_400_000

    public init(publicURL: String, linkLifetimeMillis: Int64, timeout: Duration = .seconds(10), firstRetryMillis: Int64 = 30_000) {
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.linkLifetimeMillis = linkLifetimeMillis
        self.timeout = timeout
        self.firstRetryMillis = firstRetryMillis
    }
}
