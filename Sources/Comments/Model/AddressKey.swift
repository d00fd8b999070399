import Crypto

/// How addresses are keyed where Margin keeps them apart from comments (consent, the daily
/// cap): the SHA-256 hex of the trimmed, lowercased address, so the suppression list outlives
/// `margin gdpr forget` without keeping the address itself.
public enum AddressKey {
    /// The key of `email`.
    public static func hash(_ email: String) -> String {
        let normalized = email.trimmingASCIIWhitespace().lowercased()
        return Hex.encode(SHA256.hash(data: Array(normalized.utf8)))
    }
}
