import Foundation
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
        #if os(Linux)
        // glibc gives each thread that allocates its own heap arena (up to eight per core), each
        // holding freed memory of its own: with the event loops and SQLite's threads that was
        // about 5 MB more resident under a mixed load, for no measurable speed.
        _ = glibcMallopt(-8 /* M_ARENA_MAX */, 2)
        #endif
        // Every file Margin creates holds comments, email addresses or secrets: the database and
        // its -wal and -shm files, exports, backups, temporary copies. Only their owner may read
        // them (0600; folders 0700), whatever umask the caller had.
        umask(0o077)
        await Margin.main()
    }
}

#if os(Linux)
/// glibc's `mallopt`, which Swift's Glibc module does not import (`malloc.h` is not in it).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
