import Comments
import Crypto

/// The widget's signed form-render time (`ts`): proves when the form was shown, so the spam
/// filter can tell a person who types from a bot that posts at once.
public struct FormTimestamp: Sendable {
    /// The store secret that keys these signatures.
    public static let secretName = "form-timestamp"
    let key: SymmetricKey

    /// A signer keyed with `secret`.
    public init(secret: [UInt8]) {
        key = SymmetricKey(data: secret)
    }

    /// `"<unix ms>.<base64url HMAC-SHA256>"` for the moment `millis`.
    public func sign(millis: Int64, site: String) -> String {
        let message = "ts|\(site)|\(millis)"
        return "\(millis).\(Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: key)))"
    }

    /// The signed moment, or nil when `token` is missing, malformed or forged.
    public func verify(_ token: String?, site: String) -> Int64? {
        guard let token, let dot = token.firstIndex(of: "."), let millis = Int64(token[..<dot]),
              let mac = Base64URL.decode(String(token[token.index(after: dot)...]))
        else { return nil }
        let message = "ts|\(site)|\(millis)"
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Array(message.utf8), using: key) ? millis : nil
    }
}
