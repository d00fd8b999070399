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
