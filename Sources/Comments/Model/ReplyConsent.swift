/// Whether an address wants reply notifications from one site. Typing an address into the
/// comment form proves nothing, so mail goes only to an address that confirmed through a
/// signed link mailed to it.
public enum ReplyConsent: Sendable, Equatable {
    /// Never asked: the first request sends one confirmation mail.
    case unasked
    /// A confirmation mail was queued at this time (unix ms) and not yet answered.
    case requested(at: Int64)
    /// The address confirmed: reply mail may go to it.
    case confirmed
    /// The address asked for nothing more from this site: no mail of any kind until it confirms again.
    case suppressed

    /// The stored `reply_consent.state` (nil for `unasked`, which has no row).
    public var stateName: String? {
        switch self {
        case .unasked: nil
        case .requested: "requested"
        case .confirmed: "confirmed"
        case .suppressed: "suppressed"
        }
    }

    /// The consent a stored row describes.
    public init(state: String, requestedAt: Int64?) {
        switch state {
        case "confirmed": self = .confirmed
        case "suppressed": self = .suppressed
        default: self = .requested(at: requestedAt ?? 0)
        }
    }
}
