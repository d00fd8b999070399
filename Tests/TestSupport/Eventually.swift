/// Polls `condition` every `interval` until it holds or `timeout` passes; whether it held.
/// The bound only keeps a broken server from hanging the run: it is generous for a loaded
/// machine and measures nothing.
public func eventually(
    timeout: Duration = .seconds(60), every interval: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async throws -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        try await Task.sleep(for: interval)
    }
}
