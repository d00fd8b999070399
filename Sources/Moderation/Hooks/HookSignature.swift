import Comments
import Crypto
import Foundation

/// Standard Webhooks signing (standardwebhooks.com): `webhook-signature` is `v1,` and the
/// base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under the secret's bytes.
public enum HookSignature {
    /// What every signing secret starts with.
    public static let secretPrefix = "whsec_"

    /// A fresh secret: `whsec_` and 32 random bytes in standard base64.
    public static func makeSecret(random: any RandomSource) -> String {
        secretPrefix + Data(random.bytes(32)).base64EncodedString()
    }

    /// The `webhook-signature` value; nil when `secret` is not a base64 secret (with or without
    /// its `whsec_` prefix).
    public static func sign(secret: String, id: String, timestamp: Int64, body: [UInt8]) -> String? {
        let encoded = secret.hasPrefix(secretPrefix) ? String(secret.dropFirst(secretPrefix.count)) : secret
        guard let key = Data(base64Encoded: encoded), !key.isEmpty else { return nil }
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return "v1," + Data(mac).base64EncodedString()
    }
}
