#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Client addresses reduced before storage, so no stored row identifies a single machine.
public enum IPAnonymizer {
    /// IPv4 keeps its /24 (`203.0.113.0`), IPv6 its /48 (`2001:db8:85a3::`); an IPv4-mapped IPv6
    /// address is treated as IPv4. Nil when `address` is not an IP address.
    public static func anonymize(_ address: String) -> String? {
        guard let bytes = bytes(of: address) else { return nil }
        if bytes.count == 4 { return "\(bytes[0]).\(bytes[1]).\(bytes[2]).0" }
        let groups = (0..<3).map { String(UInt16(bytes[$0 * 2]) << 8 | UInt16(bytes[$0 * 2 + 1]), radix: 16) }
        return groups.joined(separator: ":") + "::"
    }

    /// The network a client stands for in every limit and in votes: an IPv4 address itself
    /// (`203.0.113.7`), an IPv6 address's /64 (`2001:db8:1:2::/64`), since one subscriber is
    /// routinely handed a whole /64 and may pick any address in it. Nil when `address` is not an
    /// IP address.
    public static func clientNetwork(of address: String) -> String? {
        guard var bytes = bytes(of: address) else { return nil }
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        for index in 8..<16 { bytes[index] = 0 }
        return text(ofIPv6: bytes) + "/64"
    }

    /// What limits and votes count `address` under: its `clientNetwork`, or the text itself when
    /// it is not an IP address (so that it still counts as someone).
    public static func clientKey(of address: String) -> String {
        clientNetwork(of: address) ?? address
    }

    /// A stored (anonymised) address as moderators are shown it: the network it stands for,
    /// with its prefix (`203.0.113.0/24`, `2001:db8:1::/48`), text that `margin block add ip`
    /// takes as it is. Anything that is not an address is returned unchanged.
    public static func storedNetwork(_ stored: String) -> String {
        guard var bytes = bytes(of: stored) else { return stored }
        if bytes.count == 4 { return "\(bytes[0]).\(bytes[1]).\(bytes[2]).0/24" }
        for index in 6..<16 { bytes[index] = 0 }
        return text(ofIPv6: bytes) + "/48"
    }

    /// 16 bytes in the canonical IPv6 text form (RFC 5952, as `inet_ntop` writes it).
    static func text(ofIPv6 bytes: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes.prefix(16)) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address as bytes: 4 for IPv4 (an IPv4-mapped IPv6 address included), 16 for IPv6.
    /// Brackets and a zone (`%eth0`) are ignored. Nil when `address` is not an IP address.
    public static func bytes(of address: String) -> [UInt8]? {
        var text = address.trimmingASCIIWhitespace()
        if text.hasPrefix("["), text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }
}
