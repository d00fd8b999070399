import Comments
import Crypto

/// A console session's CSRF token: an HMAC of a fixed label under the session's cookie value,
/// so nothing more is stored and every node derives the same token.
public enum CSRFToken {
    /// The token for the session whose cookie value is `presented`.
    public static func derive(fromSession presented: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("margin-csrf-v1".utf8), using: SymmetricKey(data: Array(presented.utf8)))
        return Base64URL.encode(Array(mac))
    }
}
