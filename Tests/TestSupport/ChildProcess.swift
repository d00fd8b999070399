import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A child process started with `posix_spawn`, with the part of `Foundation.Process`'s interface
/// the tests use. Foundation's `Process.run()` on Linux (swift-corelibs-foundation up to Swift
/// 6.3) lists `/proc/self/fd` with a 256-byte over-read of each `dirent` and now and then dies of
/// SIGSEGV when the test process holds many descriptors (fixed upstream in
/// swift-corelibs-foundation#5472); this closes the inherited descriptors with
/// `posix_spawn_file_actions_addclosefrom_np` instead, and reaps only its own child.
public final class ChildProcess: @unchecked Sendable {
    /// How the child ended.
    public enum TerminationReason: Sendable {
        case exit
        case uncaughtSignal
    }

    public var executableURL: URL?
    public var arguments: [String] = []
    /// The child's whole environment; nil inherits the test process's.
    public var environment: [String: String]?
    public var currentDirectoryURL: URL?
    /// A `Pipe` or a `FileHandle`; the test process's own by default, `/dev/null` for nil or
    /// `FileHandle.nullDevice` (as with `Foundation.Process`).
    public var standardInput: Any? = FileHandle.standardInput
    public var standardOutput: Any? = FileHandle.standardOutput
    public var standardError: Any? = FileHandle.standardError

    private let lock = NSLock()
    private var pid: pid_t = 0
    private var status: Int32?

    public init() {}

    /// The child's process id (0 before `run()`).
    public var processIdentifier: Int32 { lock.withLock { pid } }

    /// Starts the child; throws when it cannot be started.
    public func run() throws {
        guard let executable = executableURL?.path else { throw SpawnError(message: "no executable", code: EINVAL) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Its own process group, as Foundation's Process does: a signal to the tests' group
        // (a terminal's ^C) is not also delivered to every server they started.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        // The child's ends of pipes, which the parent closes once the child holds them.
        var childEnds: [FileHandle] = []
        let inherited = [FileHandle.standardInput, FileHandle.standardOutput, FileHandle.standardError]
        for (target, stream) in [(Int32(0), standardInput), (1, standardOutput), (2, standardError)] {
            switch stream {
            case let pipe as Pipe:
                let end = target == 0 ? pipe.fileHandleForReading : pipe.fileHandleForWriting
                posix_spawn_file_actions_adddup2(&actions, end.fileDescriptor, target)
                childEnds.append(end)
            case let handle as FileHandle where handle === inherited[Int(target)]:
                break
            case let handle as FileHandle where handle !== FileHandle.nullDevice:
                posix_spawn_file_actions_adddup2(&actions, handle.fileDescriptor, target)
            default:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            }
        }
        guard Self.addCloseFrom(&actions, 3) == 0 else { throw SpawnError(message: "cannot close descriptors", code: errno) }
        if let directory = currentDirectoryURL?.path, Self.addChdir(&actions, directory) != 0 {
            throw SpawnError(message: "cannot change to \(directory)", code: errno)
        }

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var child: pid_t = 0
        let result = posix_spawn(&child, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SpawnError(message: "cannot start \(executable)", code: result) }
        lock.withLock { pid = child }
        // The child holds its ends now; the parent's copies would keep a pipe from ever ending.
        for handle in childEnds { try? handle.close() }
    }

    /// Whether the child still runs (reaping it, without blocking, once it has ended).
    public var isRunning: Bool {
        lock.withLock {
            guard pid > 0 else { return false }
            if status != nil { return false }
            var raw: Int32 = 0
            let reaped = waitpid(pid, &raw, WNOHANG)
            if reaped == pid {
                status = raw
                return false
            }
            return reaped == 0 || (reaped < 0 && errno == EINTR)
        }
    }

    /// The exit code, or the signal number when the child was killed by one.
    public var terminationStatus: Int32 {
        guard let raw = waitedStatus() else { return -1 }
        return Self.exited(raw) ? (raw >> 8) & 0xFF : raw & 0x7F
    }

    /// Whether the child exited or was killed by a signal.
    public var terminationReason: TerminationReason {
        guard let raw = waitedStatus() else { return .exit }
        return Self.exited(raw) ? .exit : .uncaughtSignal
    }

    /// Sends SIGTERM.
    public func terminate() {
        let child = processIdentifier
        if child > 0 && isRunning { kill(child, SIGTERM) }
    }

    /// Blocks until the child has ended.
    public func waitUntilExit() {
        while isRunning { usleep(5_000) }
    }

    private func waitedStatus() -> Int32? {
        _ = isRunning
        return lock.withLock { status }
    }

    private static func exited(_ raw: Int32) -> Bool { raw & 0x7F == 0 }

    // glibc's `_np` spawn actions (2.29, 2.34) are declared only under _GNU_SOURCE, which the
    // Glibc module does not set: they are looked up by name, once.
    private static let addCloseFrom = unsafeBitCast(
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")!,
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    private static let addChdir = unsafeBitCast(
        dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np")!,
        to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)

    /// A child that could not be started.
    public struct SpawnError: Error, CustomStringConvertible {
        public var message: String
        public var code: Int32
        public var description: String { "\(message): \(String(cString: strerror(code)))" }
    }
}
