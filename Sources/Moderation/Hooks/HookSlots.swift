import Comments

/// The sender's bookkeeping during one pass over the outbox: how many attempts are under way,
/// in all and per hook, and the claimed deliveries waiting for their hook to have a slot (a
/// hook gets at most `perHook` at once, so a slow receiver cannot take every slot).
struct HookSlots {
    /// A claimed delivery not started yet.
    private struct Waiting {
        var delivery: HookDelivery
        var claimedAt: Int64
    }

    let total: Int
    let perHook: Int
    /// How many claimed deliveries one hook may have waiting; more are left to lapse.
    let waitingPerHook: Int
    private(set) var running = 0
    private var runningByHook: [Int64: Int] = [:]
    private var waiting: [Int64: [Waiting]] = [:]
    /// Claimed deliveries waiting for their hook.
    private(set) var waitingCount = 0

    init(total: Int, perHook: Int, waitingPerHook: Int) {
        self.total = total
        self.perHook = perHook
        self.waitingPerHook = waitingPerHook
    }

    /// Slots free for new attempts.
    var free: Int { total - running }

    /// Takes deliveries just claimed: returns those to start now (counted as running), keeps
    /// those whose hook is busy waiting, and counts those left claimed to lapse because their
    /// hook has enough waiting already.
    mutating func take(_ claimed: [HookDelivery], claimedAt: Int64) -> (start: [HookDelivery], lapsing: Int) {
        var start: [HookDelivery] = []
        var lapsing = 0
        for delivery in claimed {
            let hook = delivery.hookID
            if running < total && runningByHook[hook, default: 0] < perHook {
                started(hook)
                start.append(delivery)
            } else if waiting[hook, default: []].count < waitingPerHook {
                waiting[hook, default: []].append(Waiting(delivery: delivery, claimedAt: claimedAt))
                waitingCount += 1
            } else {
                lapsing += 1
            }
        }
        return (start, lapsing)
    }

    /// Waiting deliveries that may start now (a slot free and their hook below `perHook`),
    /// counted as running; those claimed before `claimedAfter` are dropped instead (their
    /// claim could lapse during the attempt, and another node take them at the same time).
    mutating func startable(claimedAfter: Int64) -> [HookDelivery] {
        var start: [HookDelivery] = []
        for hook in waiting.keys.sorted() {
            while running < total && runningByHook[hook, default: 0] < perHook, var queue = waiting[hook], !queue.isEmpty {
                let next = queue.removeFirst()
                waiting[hook] = queue.isEmpty ? nil : queue
                waitingCount -= 1
                guard next.claimedAt >= claimedAfter else { continue }
                started(hook)
                start.append(next.delivery)
            }
        }
        return start
    }

    /// An attempt for `hookID` ended.
    mutating func finished(hookID: Int64) {
        running -= 1
        runningByHook[hookID, default: 1] -= 1
        if runningByHook[hookID] == 0 { runningByHook[hookID] = nil }
    }

    private mutating func started(_ hook: Int64) {
        running += 1
        runningByHook[hook, default: 0] += 1
    }
}
