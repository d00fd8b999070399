import Comments
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps hooks from reaching what only the server can reach: a destination's host is resolved
/// (off the event loops) and every address it has is classified; loopback, private,
/// link-local, cloud metadata, unspecified, carrier-grade NAT, multicast and reserved
/// addresses (and IPv6 forms that embed such an IPv4 address) are refused unless the hook
/// allows private destinations. The sender then connects to exactly the vetted address, so a
/// name cannot resolve to a public address here and a private one a moment later.
public enum DestinationGuard {
    /// The address to connect to for `host` (a name, or an IP literal with or without brackets),
    /// the first the resolver gives. Throws `HookError.destinationRefused` naming the host, the
    /// address and its kind when any address is refused and `allowPrivate` is false, and an
    /// error naming the host when it has no address.
    public static func vet(host: String, allowPrivate: Bool) async throws -> String {
        // `vetAll` never returns an empty list.
        try await vetAll(host: host, allowPrivate: allowPrivate)[0]
    }

    /// Every address of `host`, in the resolver's order, each vetted before any is used (the
    /// sender tries them in turn when one cannot be reached: `localhost` may give `::1` first
    /// with the receiver listening on 127.0.0.1 only).
    public static func vetAll(host: String, allowPrivate: Bool) async throws -> [String] {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let literal = literalBytes(bare) {
            if !allowPrivate, let kind = refusal(for: literal) {
                throw HookError.destinationRefused("\(bare) is \(kind); \(allowHint)")
            }
            return [bare]
        }
        let addresses = try await NIOThreadPool.singleton.runIfActive { try resolve(bare) }
        guard !addresses.isEmpty else { throw Unresolved(host: bare, reason: "no address") }
        if !allowPrivate {
            for address in addresses {
                if let kind = refusal(for: address) {
                    throw HookError.destinationRefused("\(bare) resolves to \(text(of: address)), \(kind); \(allowHint)")
                }
            }
        }
        return addresses.map(text(of:))
    }

    static let allowHint = "create the hook with --allow-private (API: allow_private) to send there"

    /// Why `address` (4 or 16 bytes) is refused, as words that follow "is" ("a loopback
    /// address"); nil for a public address. Every range the IANA special-purpose address
    /// registries mark as not globally reachable is refused, and multicast besides.
    public static func refusal(for address: [UInt8]) -> String? {
        if address.count == 4 { return refusalV4(address) }
        guard address.count == 16 else { return "not an IP address" }
        let prefix = address.prefix(12)
        // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and well-known NAT64
        // (64:ff9b::/96) addresses reach the IPv4 address inside them.
        let mapped = prefix.elementsEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF])
        let compatible = prefix.allSatisfy { $0 == 0 } && !(address[12] == 0 && address[13] == 0 && address[14] == 0 && address[15] <= 1)
        let nat64 = prefix.elementsEqual([0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0])
        if mapped || compatible || nat64 {
            let inner = Array(address.suffix(4))
            return refusalV4(inner).map { "\($0) (\(inner.map(String.init).joined(separator: ".")) inside an IPv6 address)" }
        }
        // 6to4 (2002::/16) tunnels to the IPv4 address in its next four bytes.
        if address[0] == 0x20 && address[1] == 0x02 {
            let inner = Array(address[2..<6])
            return refusalV4(inner).map { "\($0) (\(inner.map(String.init).joined(separator: ".")) inside a 6to4 address)" }
        }
        if address.allSatisfy({ $0 == 0 }) { return "an unspecified address" }
        if address.prefix(15).allSatisfy({ $0 == 0 }) && address[15] == 1 { return "a loopback address" }
        if address == metadataV6 { return "a cloud metadata address" }
        if let kind = refusalV6Range(address) { return kind }
        if address[0] == 0xFF { return "a multicast address" }
        if address[0] == 0xFE && address[1] & 0xC0 == 0x80 { return "a link-local address" }
        // fec0::/10, the deprecated site-local range, is as private as fc00::/7.
        if address[0] == 0xFE && address[1] & 0xC0 == 0xC0 { return "a private address" }
        if address[0] & 0xFE == 0xFC { return "a private address" }
        return nil
    }

    /// fd00:ec2::254, the AWS metadata service over IPv6.
    private static let metadataV6: [UInt8] = [0xFD, 0, 0x0E, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]

    /// The IPv6 special-purpose ranges that are not globally reachable, or that translate to
    /// an IPv4 address at a place this check cannot see (local NAT64, SIIT, Teredo).
    private static func refusalV6Range(_ a: [UInt8]) -> String? {
        func starts(_ bytes: [UInt8]) -> Bool { a.prefix(bytes.count).elementsEqual(bytes) }
        // ::ffff:0:a.b.c.d (SIIT) and 64:ff9b:1::/48 (local-use NAT64) embed an IPv4 address
        // wherever the translator chooses: refused whole.
        if a.prefix(8).allSatisfy({ $0 == 0 }) && a[8] == 0xFF && a[9] == 0xFF && a[10] == 0 && a[11] == 0 {
            return "an IPv4-translated address"
        }
        if starts([0, 0x64, 0xFF, 0x9B, 0, 1]) { return "a local-use NAT64 address" }
        // 100::/64 (discard-only) and 100:0:0:1::/64 (dummy prefix).
        if starts([1, 0, 0, 0, 0, 0]) && a[6] == 0 && a[7] <= 1 { return "a discard-only address" }
        if starts([0x20, 0x01, 0, 0]) { return "a Teredo address" }
        if starts([0x20, 0x01, 0x0D, 0xB8]) || (a[0] == 0x3F && a[1] == 0xFF && a[2] & 0xF0 == 0) {
            return "a documentation address"
        }
        if starts([0x20, 0x01, 0, 0x02, 0, 0]) { return "a benchmarking address" }
        // The rest of 2001::/23 (IETF protocol assignments) and 5f00::/16 (SRv6 SIDs).
        if a[0] == 0x20 && a[1] == 0x01 && a[2] < 0x02 { return "a reserved address" }
        if a[0] == 0x5F && a[1] == 0 { return "a reserved address" }
        return nil
    }

    private static func refusalV4(_ a: [UInt8]) -> String? {
        switch (a[0], a[1], a[2]) {
        case (0, _, _): return "an unspecified address"
        case (10, _, _): return "a private address"
        case (100, 64...127, _): return "a carrier-grade NAT address"
        case (127, _, _): return "a loopback address"
        case (169, 254, _): return a[2] == 169 && a[3] == 254 ? "a cloud metadata address" : "a link-local address"
        case (172, 16...31, _): return "a private address"
        case (192, 0, 0): return "a reserved address"
        case (192, 0, 2), (198, 51, 100), (203, 0, 113): return "a documentation address"
        case (192, 88, 99): return "a reserved address"
        case (192, 168, _): return "a private address"
        case (198, 18...19, _): return "a benchmarking address"
        case (224...239, _, _): return "a multicast address"
        case (255, 255, 255) where a[3] == 255: return "a broadcast address"
        case (240...255, _, _): return "a reserved address"
        default: return nil
        }
    }

    /// The bytes of an IP literal as `inet_pton` reads it (the sender's HTTP client reads
    /// literals the same way); nil for anything else, a name or a shorthand like `127.1` included,
    /// which the resolver then turns into addresses.
    static func literalBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Every address `getaddrinfo` gives for `host`, in its order (blocking: run off the loops).
    static func resolve(_ host: String) throws -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else { throw Unresolved(host: host, reason: String(cString: gai_strerror(status))) }
        defer { freeaddrinfo(list) }
        var addresses: [[UInt8]] = []
        var entry = list
        while let info = entry?.pointee {
            if info.ai_family == AF_INET, let raw = info.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                addresses.append(withUnsafeBytes(of: address) { Array($0) })
            } else if info.ai_family == AF_INET6, let raw = info.ai_addr {
                let address = raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                addresses.append(withUnsafeBytes(of: address) { Array($0) })
            }
            entry = info.ai_next
        }
        // The same address comes once per protocol on some systems.
        var seen = Set<[UInt8]>()
        return addresses.filter { seen.insert($0).inserted }
    }

    /// An address's text: dotted IPv4, or IPv6 as `inet_ntop` writes it.
    static func text(of address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { $0.copyBytes(from: address.prefix(16)) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &v6, &buffer, socklen_t(buffer.count)) != nil else { return "::" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
