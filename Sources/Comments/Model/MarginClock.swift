import Foundation

/// The time source, injected so tests can move time instead of editing rows.
public protocol MarginClock: Sendable {
    /// Now, in UTC unix milliseconds.
    func nowMillis() -> Int64
}

/// The real wall clock.
public struct SystemClock: MarginClock {
    public init() {}
    public func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}
