import Comments
import Crypto
import Foundation

/// The signed parameters of a moderation (or unsubscribe) link.
public struct SignedLink: Sendable, Equatable {
    public var site: String
    public var commentID: Int64
    /// `approve`, `reject`, `spam`, `delete` or `unsubscribe`.
    public var action: String
    /// Unix milliseconds after which the link is refused (410).
    public var expiresAt: Int64
    /// Random, single-use for moderation actions.
    public var nonce: String
    /// Which signing key made `signature`.
    public var keyID: String
    public var signature: String

    public init(site: String, commentID: Int64, action: String, expiresAt: Int64, nonce: String, keyID: String, signature: String) {
        self.site = site
        self.commentID = commentID
        self.action = action
        self.expiresAt = expiresAt
        self.nonce = nonce
        self.keyID = keyID
        self.signature = signature
    }

    /// The path and query this link is served at: `/moderate/{id}/{action}?site=…&exp=…&nonce=…&kid=…&sig=…`.
    public var pathAndQuery: String {
        // Reader links (unsubscribe, confirm reply mail) have pages of their own.
        let base = ["unsubscribe", "confirm"].contains(action) ? "/\(action)/\(commentID)" : "/moderate/\(commentID)/\(action)"
        return base + "?site=\(Self.escape(site))&exp=\(expiresAt)&nonce=\(nonce)&kid=\(Self.escape(keyID))&sig=\(signature)"
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }

    /// The bytes that are signed: `v1|site|id|action|exp|nonce`.
    var message: [UInt8] {
        Array("v1|\(site)|\(commentID)|\(action)|\(expiresAt)|\(nonce)".utf8)
    }
}

/// Why a link was refused.
public enum LinkRejection: Error, Equatable, Sendable {
    /// Tampered, malformed or signed by an unknown key (403).
    case invalid
    /// Past its expiry (410).
    case expired
}

/// HMAC-SHA256 signing of moderation links with rotating keys: the newest key signs, every
/// stored key verifies, so links signed before a rotation work until they expire. A retired key
/// verifies only while a link it signed can still be current: for `linkLifetimeMillis` after
/// its retirement (then it verifies nothing, whatever expiry a link claims).
public struct LinkSigner: Sendable {
    public let keys: [SigningKey]
    /// How long a link lives (`mail.link_days`); nil: retired keys verify for ever.
    public let linkLifetimeMillis: Int64?

    /// A signer over the keys the store holds (oldest first).
    public init(keys: [SigningKey], linkLifetimeMillis: Int64? = nil) {
        self.keys = keys
        self.linkLifetimeMillis = linkLifetimeMillis
    }

    /// The key that signs new links.
    public var currentKey: SigningKey? {
        keys.last { $0.retiredAt == nil } ?? keys.last
    }

    /// A freshly signed link.
    public func sign(site: String, commentID: Int64, action: String, expiresAt: Int64, nonce: String) -> SignedLink? {
        guard let key = currentKey else { return nil }
        var link = SignedLink(site: site, commentID: commentID, action: action, expiresAt: expiresAt, nonce: nonce, keyID: key.id, signature: "")
        link.signature = Base64URL.encode(HMAC<SHA256>.authenticationCode(for: link.message, using: SymmetricKey(data: key.secret)))
        return link
    }

    /// How long unsubscribe links work: a reader must be able to stop mail from any old mail.
    public static let unsubscribeLifetimeMillis: Int64 = 2 * 365 * 86_400_000

    /// Whether `key` may still verify a link for `action` at `now`: it is current, or retired less
    /// than the longest lifetime of such a link ago (unsubscribe links live longer than the rest).
    private func isLive(_ key: SigningKey, action: String, now: Int64) -> Bool {
        guard let retiredAt = key.retiredAt, let linkLifetimeMillis else { return true }
        let lifetime = action == "unsubscribe" ? max(linkLifetimeMillis, Self.unsubscribeLifetimeMillis) : linkLifetimeMillis
        return now <= retiredAt + lifetime
    }

    /// Checks a link's signature (in constant time), then its expiry, then that its key is still live.
    public func verify(_ link: SignedLink, now: Int64) -> Result<Void, LinkRejection> {
        guard let key = keys.first(where: { $0.id == link.keyID }),
              let signature = Base64URL.decode(link.signature), signature.count == 32, link.nonce.count >= 16
        else { return .failure(.invalid) }
        guard HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: link.message, using: SymmetricKey(data: key.secret)) else {
            return .failure(.invalid)
        }
        if now > link.expiresAt { return .failure(.expired) }
        // A link still unexpired from a key retired more than a link lifetime ago cannot be one
        // it signed while current: made with a leaked old key, or printed for longer than links live.
        return isLive(key, action: link.action, now: now) ? .success(()) : .failure(.invalid)
    }

    /// A new random key with a short public id.
    public static func makeKey(random: any RandomSource, at time: Int64) -> SigningKey {
        // No `-` in an id: one that began with it read as an option (`margin keys revoke -Ab3…`
        // said "Missing expected argument"), one time in 64.
        let id = Base64URL.encode(random.bytes(6)).replacingOccurrences(of: "-", with: "x")
        return SigningKey(id: id, secret: random.bytes(32), createdAt: time)
    }

    /// A random nonce for one link.
    public static func makeNonce(random: any RandomSource) -> String {
        Base64URL.encode(random.bytes(18))
    }
}
