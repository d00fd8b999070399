/// A credential presented as `<prefix>_<id>_<secret>`, the form of admin tokens (`mgn_`) and
/// console session cookies (`mgs_`): the id finds the stored row, which keeps only the secret's
/// SHA-256, compared in constant time.
struct PrefixedSecret {
    let prefix: String
    /// Random bytes in the id (base64url, `_` written as `x` so the id never holds the separator).
    let idBytes: Int

    static let adminToken = PrefixedSecret(prefix: "mgn", idBytes: 6)
    static let consoleSession = PrefixedSecret(prefix: "mgs", idBytes: 9)

    /// A new id, the value in full (given once) and the hash that is stored.
    func make(random: any RandomSource) -> (id: String, presented: String, hash: String) {
        let id = Base64URL.encode(random.bytes(idBytes)).replacingOccurrences(of: "_", with: "x")
        let secret = Base64URL.encode(random.bytes(32))
        return (id, "\(prefix)_\(id)_\(secret)", CommentService.hash(token: secret))
    }

    /// The id and secret of a presented `<prefix>_<id>_<secret>`; nil for anything else.
    func parse(_ presented: String) -> (id: String, secret: String)? {
        let parts = presented.split(separator: "_", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == prefix, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return (String(parts[1]), String(parts[2]))
    }

    /// Whether `secret` hashes to `stored`, in constant time.
    static func matches(_ secret: String, hash stored: String) -> Bool {
        CommentService.constantTimeEquals(Array(CommentService.hash(token: secret).utf8), Array(stored.utf8))
    }
}
