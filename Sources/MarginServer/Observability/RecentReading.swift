import Comments
import Synchronization

/// A figure read from the database at most once per `lifetimeMillis` of `clock`: `/metrics` and
/// `/healthz` answer from the last reading (or its failure) within that time, and requests that
/// arrive while a reading runs wait for it. However often they are asked, they cost the database
/// one query (and `/healthz` on SQLite one fresh connection) per period.
final class RecentReading<Value: Sendable>: Sendable {
    private struct State {
        /// The last reading and when it started, in the clock's milliseconds.
        var last: (result: Result<Value, any Error>, at: Int64)?
        /// The reading under way, shared by whoever asks meanwhile.
        var running: Task<Result<Value, any Error>, Never>?
    }

    private let state = Mutex(State())
    private let clock: any MarginClock
    let lifetimeMillis: Int64
    private let read: @Sendable () async throws -> Value
    private let readings = Atomic<Int>(0)

    /// How many times the database was actually read (tests compare it with the requests made).
    var count: Int { readings.load(ordering: .relaxed) }

    /// Two seconds by default: fresh enough for a load balancer or a scrape every few seconds.
    init(clock: any MarginClock, lifetimeMillis: Int64 = 2_000, read: @escaping @Sendable () async throws -> Value) {
        self.clock = clock
        self.lifetimeMillis = lifetimeMillis
        self.read = read
    }

    /// The last reading if it is younger than the lifetime, else a new one.
    func value() async throws -> Value {
        let now = clock.nowMillis()
        let step = state.withLock { state -> Result<Task<Result<Value, any Error>, Never>, Never>? in
            if let last = state.last, now >= last.at, now - last.at < lifetimeMillis { return nil }
            if let running = state.running { return .success(running) }
            readings.add(1, ordering: .relaxed)
            let read = self.read
            let running = Task { () -> Result<Value, any Error> in
                do { return .success(try await read()) } catch { return .failure(error) }
            }
            state.running = running
            return .success(running)
        }
        guard case .success(let running)? = step else {
            return try state.withLock { $0.last!.result }.get()
        }
        let result = await running.value
        state.withLock { state in
            // The first waiter to finish files the reading; later ones find it filed.
            if state.running == running {
                state.last = (result, now)
                state.running = nil
            }
        }
        return try result.get()
    }
}
