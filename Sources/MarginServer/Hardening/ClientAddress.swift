import Comments

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
