/// A single-use signed link being used: its nonce is spent, and a person's decision logged at or
/// after `issuedAt` makes it `ModerationOutcome.alreadyDecided`.
public struct LinkUse: Sendable, Equatable {
    public var nonce: String
    public var expiresAt: Int64
    /// When the link was mailed (its expiry less its lifetime).
    public var issuedAt: Int64

    public init(nonce: String, expiresAt: Int64, issuedAt: Int64) {
        self.nonce = nonce
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
    }
}
