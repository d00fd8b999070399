/// Tunable thresholds of the spam filter (`margin serve --spam-…` flags).
public struct SpamSettings: Sendable, Equatable {
    /// A score at or above this is held for a moderator.
    public var holdScore: Double
    /// A score at or above this is spam: stored, never shown, never mailed.
    public var spamScore: Double
    /// In `auto` mode, a first-time author's comment scoring at least this is held.
    public var doubtfulScore: Double
    /// Faster than this between form render and submit is a bot.
    public var minimumSecondsToSubmit: Int
    /// Comments on threads older than this many days score as doubtful (0 turns the rule off).
    public var oldThreadDays: Int
    /// A form timestamp older than this many hours earns nothing: it counts as none (a bot
    /// cannot keep posting with one harvested form).
    public var formMaxAgeHours: Int

    public init(holdScore: Double = 4, spamScore: Double = 9, doubtfulScore: Double = 2,
                minimumSecondsToSubmit: Int = 3, oldThreadDays: Int = 180, formMaxAgeHours: Int = 24) {
        self.formMaxAgeHours = formMaxAgeHours
        self.holdScore = holdScore
        self.spamScore = spamScore
        self.doubtfulScore = doubtfulScore
        self.minimumSecondsToSubmit = minimumSecondsToSubmit
        self.oldThreadDays = oldThreadDays
    }
}
