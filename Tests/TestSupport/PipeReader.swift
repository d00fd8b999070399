import Foundation

/// Everything written to `handle` until its end, read on a thread of its own. A blocking read in
/// a task would hold one of the cooperative pool's threads (two on a 2-core machine) for as long
/// as the child runs, and every in-process server of the test run would stall behind it.
public func readToEnd(_ handle: FileHandle) async -> Data {
    await withCheckedContinuation { continuation in
        Thread { continuation.resume(returning: handle.readDataToEndOfFile()) }.start()
    }
}
