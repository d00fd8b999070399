/// Hooks and the hook outbox. The events themselves are written by the stores' own changes
/// (insert, edit, delete, moderation) in the change's transaction: one delivery per hook that
/// hears the event, so an event and its deliveries are stored together or not at all.
/// Every `CommentStore` is one; the conformance suite runs these on every store.
public protocol HookStore: Sendable {
    /// Stores a new hook; returns it with its id.
    func addHook(_ hook: Hook) async throws -> Hook
    /// One hook by id.
    func hook(id: Int64) async throws -> Hook?
    /// The hooks that hear `siteID` (its own and those for every site), or every hook when nil; by id.
    func hooks(siteID: String?) async throws -> [Hook]
    /// Replaces a hook's settings (all but `id` and `createdAt`); throws `hookNotFound`.
    func updateHook(_ hook: Hook) async throws -> Hook
    /// Removes a hook with its deliveries; false when there was none.
    func removeHook(id: Int64) async throws -> Bool
    /// Stores one delivery as given (a test event, or one already attempted); returns it with its id.
    func queueHookDelivery(_ delivery: HookDelivery) async throws -> HookDelivery
    /// Deliveries due at `now` (neither delivered nor failed, next attempt due, not claimed, their
    /// hook enabled: a disabled hook's deliveries wait until it is enabled again),
    /// oldest first, at most `limit`, each claimed until `now + OutboxClaim.leaseMillis`: no
    /// other caller, on any node, is given it again before it is recorded or the claim lapses.
    func dueHookDeliveries(now: Int64, limit: Int) async throws -> [HookDelivery]
    /// Records an attempt and releases the claim: delivered when `attempt.error` is nil, else
    /// due again at `attempt.retryAt`, or failed when that is nil.
    func recordHookAttempt(deliveryID: Int64, _ attempt: HookAttempt) async throws
    /// One hook's deliveries, newest first.
    func hookDeliveries(hookID: Int64, limit: Int) async throws -> [HookDelivery]
    /// Deletes the delivered and failed deliveries created before `before` (retention); returns
    /// how many went. Pending ones stay, however old.
    func pruneHookDeliveries(before: Int64) async throws -> Int
    /// Puts a failed delivery back in the queue, due at `at`; false when there is no such failed delivery.
    func retryHookDelivery(id: Int64, at: Int64) async throws -> Bool
}
