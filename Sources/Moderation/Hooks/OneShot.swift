import Synchronization

/// A continuation resumed by whichever of two tasks comes first (`HookTransport.within`).
final class OneShot<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ value: CheckedContinuation<T, Never>) {
        continuation.withLock { $0 = value }
    }

    /// True when this call resumed it.
    @discardableResult
    func resume(_ value: T) -> Bool {
        guard let taken = continuation.withLock({ slot -> CheckedContinuation<T, Never>? in
            defer { slot = nil }
            return slot
        }) else { return false }
        taken.resume(returning: value)
        return true
    }
}
