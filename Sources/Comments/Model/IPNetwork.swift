/// An IP network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`), or a single address.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// The network's address: 4 bytes for IPv4, 16 for IPv6.
    let bytes: [UInt8]
    /// How many leading bits an address must share with `bytes`.
    let prefixLength: Int

    /// The network of the first `prefixLength` bits of `bytes` (4 or 16 of them).
    public init(bytes: [UInt8], prefixLength: Int) {
        self.bytes = bytes
        self.prefixLength = prefixLength
    }

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
    public func contains(_ address: [UInt8]) -> Bool {
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
