import NIOCore
import NIOPosix

/// The process entry point: prepares the runtime, then runs the `margin` command line.
@main
enum Entry {
    static func main() async {
        // First, before any task reaches the global executor: Swift concurrency then runs on
        // NIO's event loops, so a request handler runs on the thread that owns its connection
        // instead of hopping to the concurrency pool and back for every request.
        _ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        await Margin.main()
    }
}
