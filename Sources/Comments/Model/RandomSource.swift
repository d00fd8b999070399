/// The source of secrets (edit tokens, keys), injected so tests can make it predictable.
public protocol RandomSource: Sendable {
    /// `count` cryptographically secure random bytes.
    func bytes(_ count: Int) -> [UInt8]
}

/// The system's secure generator.
public struct SystemRandom: RandomSource {
    public init() {}
    public func bytes(_ count: Int) -> [UInt8] {
        // Eight bytes per draw: each draw is a getrandom(2) call, 32 of them for every new token.
        var generator = SystemRandomNumberGenerator()
        var out: [UInt8] = []
        out.reserveCapacity(count + 7)
        while out.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { out.append(contentsOf: $0) }
        }
        out.removeLast(out.count - count)
        return out
    }
}
