import Comments

/// An IP network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or a single address.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// The network's address: 4 bytes for IPv4, 16 for IPv6.
    let bytes: [UInt8]
    /// How many leading bits an address must share with `bytes`.
    let prefixLength: Int

    /// Nil when `text` is not an address or `address/prefix` with a prefix that fits it.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let bytes = IPAnonymizer.bytes(of: String(parts[0])) else { return nil }
        let writtenAsIPv6 = parts[0].contains(":")
        var length = bytes.count * 8
        if parts.count == 2 {
            guard let given = Int(parts[1]), (0...(writtenAsIPv6 ? 128 : 32)).contains(given) else { return nil }
            // An IPv4-mapped IPv6 network (::ffff:10.0.0.0/104) is kept as the IPv4 one.
            length = writtenAsIPv6 && bytes.count == 4 ? max(0, given - 96) : given
        }
        self.bytes = bytes
        prefixLength = length
    }

    /// Whether the address (as `IPAnonymizer.bytes` gives it) is in this network.
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var bit = 0
        while bit < prefixLength {
            let mask = UInt8(0xFF) << UInt8(max(0, 8 - (prefixLength - bit)))
            if (address[bit / 8] ^ bytes[bit / 8]) & mask != 0 { return false }
            bit += 8
        }
        return true
    }

    public var description: String {
        let address = bytes.count == 4
            ? bytes.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
        return "\(address)/\(prefixLength)"
    }
}

/// Who the client is when proxies stand in front: `X-Forwarded-For` counts only when the peer is
/// a trusted proxy, and then the right-most address in it that is not a trusted proxy is the
/// client (every proxy appends the address it was reached from, so that one was written by a
/// proxy we trust; anything left of it the client could have made up).
struct ClientAddress {
    let trustedProxies: [IPNetwork]

    func isTrusted(_ address: [UInt8]) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }

    /// The client's address given the TCP peer and the `X-Forwarded-For` values in order; nil
    /// means the peer itself is the client.
    func resolve(peer: String, forwardedFor values: [String]) -> String? {
        guard !values.isEmpty, let peerBytes = IPAnonymizer.bytes(of: peer), isTrusted(peerBytes) else { return nil }
        var client: String?
        for value in values.reversed() {
            for entry in value.split(separator: ",").reversed() {
                let address = entry.trimmingWhiteSpace()
                // A hop a trusted proxy wrote that is not an address: the proxy is misconfigured
                // and nothing left of it can be believed; the last trusted hop stands for the client.
                guard let bytes = IPAnonymizer.bytes(of: address) else { return client }
                client = address
                if !isTrusted(bytes) { return address }
            }
        }
        // Every hop was a trusted proxy: the left-most is as close to the client as we know.
        return client
    }
}
