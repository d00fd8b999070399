import Comments

/// Matching client addresses against `ip` blocklist entries: exact, or CIDR (`203.0.113.0/24`).
public enum IPBlock {
    /// Whether `address` falls under `rule`.
    public static func matches(rule: String, address: String) -> Bool {
        let parts = rule.split(separator: "/", maxSplits: 1)
        guard let ruleBytes = IPAnonymizer.bytes(of: String(parts[0])), let addressBytes = IPAnonymizer.bytes(of: address), ruleBytes.count == addressBytes.count else {
            return rule == address
        }
        let bits = parts.count == 2 ? Int(parts[1]) ?? ruleBytes.count * 8 : ruleBytes.count * 8
        guard bits >= 0, bits <= ruleBytes.count * 8 else { return false }
        return IPNetwork(bytes: ruleBytes, prefixLength: bits).contains(addressBytes)
    }
}
