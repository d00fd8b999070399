import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A real SMTP server for tests: Python's aiosmtpd on 127.0.0.1, run as a child process
/// (`smtp_sink.py`, beside this file) that records every accepted message (envelope, headers,
/// decoded subject and body, raw bytes) as a JSON file in a temporary folder.
///
/// It can offer STARTTLS (optionally required) or implicit TLS with a self-signed certificate made
/// by the `openssl` CLI, require AUTH (PLAIN and LOGIN), and reject (550) or defer (451) chosen
/// recipients. `stop()` and `start()` again keep the port, to test a server that goes down and comes
/// back. `close()` (also run on deinit) stops it and removes its folder.
///
/// The Python comes from `MARGIN_TEST_PYTHON`, else `<repo>/.venv-test/bin/python`; it needs
/// aiosmtpd (`python3 -m venv .venv-test && .venv-test/bin/pip install aiosmtpd`).
///
/// ```swift
/// let sink = try await SMTPSink.started(.init(tls: .startTLS(required: true)))
/// defer { sink.close() }
/// try await SMTPTransport(configuration: sink.configuration()).send(message)
/// let mail = try await sink.waitForMessages(count: 1)[0]
/// ```
///
/// `configuration()`, the Moderation `SMTPConfiguration` that reaches it, is in ModerationTestSupport.
public final class SMTPSink: @unchecked Sendable {
    /// How the sink offers TLS.
    public enum TLSMode: Sendable, Equatable {
        /// Plain text only.
        case none
        /// STARTTLS offered; when `required`, MAIL before STARTTLS is refused with 530.
        case startTLS(required: Bool)
        /// TLS from the first byte (SMTPS).
        case implicit
    }

    /// What the sink offers and demands.
    public struct Options: Sendable {
        /// How TLS is offered.
        public var tls: TLSMode = .none
        /// When set, AUTH with exactly these credentials is required before MAIL (over TLS or not).
        public var requiredLogin: (username: String, password: String)?
        /// AUTH mechanisms not to offer, such as `["PLAIN"]` to force LOGIN.
        public var excludedAuthMechanisms: [String] = []
        /// Recipients refused with `550 5.1.1`.
        public var rejectedRecipients: [String] = []
        /// Recipients refused with `451 4.3.0`.
        public var deferredRecipients: [String] = []

        /// Options; every one defaults to a plain, open sink.
        public init(
            tls: TLSMode = .none,
            requiredLogin: (username: String, password: String)? = nil,
            excludedAuthMechanisms: [String] = [],
            rejectedRecipients: [String] = [],
            deferredRecipients: [String] = []
        ) {
            self.tls = tls
            self.requiredLogin = requiredLogin
            self.excludedAuthMechanisms = excludedAuthMechanisms
            self.rejectedRecipients = rejectedRecipients
            self.deferredRecipients = deferredRecipients
        }
    }

    /// Why the sink could not do what was asked.
    public struct SinkError: Error, CustomStringConvertible {
        /// What went wrong, with the server's log where it helps.
        public var description: String
    }

    /// The address the sink listens on.
    public let host = "127.0.0.1"
    /// What the sink offers and demands.
    public let options: Options
    /// The self-signed certificate (PEM, for `localhost` and `127.0.0.1`) when TLS is offered; usable
    /// as `SMTPConfiguration.trustRootsPath`.
    public let certificatePath: String?
    /// The sink's temporary folder.
    public let directory: URL

    private let lock = NSLock()
    private var process: ChildProcess?
    private var boundPort = 0
    private var closed = false
    private let python: String
    private var mailDirectory: URL { directory.appendingPathComponent("mail") }
    /// The server, `smtp_sink.py`, a resource of this module.
    private let scriptPath: String
    private var readyPath: String { directory.appendingPathComponent("ready").path }
    private var logPath: String { directory.appendingPathComponent("server.log").path }

    /// A sink with its folder (and certificate) made, not yet started.
    public init(_ options: Options = Options()) throws {
        self.options = options
        python = Self.pythonPath()
        guard let script = Bundle.module.path(forResource: "smtp_sink", ofType: "py") else {
            throw SinkError(description: "smtp_sink.py is missing from TestSupport's resources")
        }
        scriptPath = script
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw SinkError(description: """
                no Python for aiosmtpd at \(python): set MARGIN_TEST_PYTHON, or run \
                `python3 -m venv .venv-test && .venv-test/bin/pip install aiosmtpd` in the repository
                """)
        }
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("margin-smtp-sink-\(UUID().uuidString)")
        try FileManager.default.createDirectory(
            at: directory.appendingPathComponent("mail"), withIntermediateDirectories: true)
        do {
            if options.tls != .none {
                let cert = directory.appendingPathComponent("cert.pem").path
                let key = directory.appendingPathComponent("key.pem").path
                try Self.makeCertificate(certificate: cert, key: key, in: directory)
                certificatePath = cert
            } else {
                certificatePath = nil
            }
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// A started sink; shorthand for `init` then `start()`.
    public static func started(_ options: Options = Options()) async throws -> SMTPSink {
        let sink = try SMTPSink(options)
        do {
            try await sink.start()
        } catch {
            sink.close()
            throw error
        }
        return sink
    }

    deinit {
        close()
    }

    /// The port; 0 before the first `start()`, then the same across restarts.
    public var port: Int {
        lock.withLock { boundPort }
    }

    /// Whether the server process is running.
    public var isRunning: Bool {
        lock.withLock { process?.isRunning ?? false }
    }

    /// Starts the server (on a free port the first time, on the same port after `stop()`) and
    /// returns once it listens; waits at most `timeout`.
    public func start(timeout: Duration = .seconds(60)) async throws {
        let process = try lock.withLock { () throws -> ChildProcess in
            guard !closed else { throw SinkError(description: "the sink was closed") }
            guard self.process?.isRunning != true else { throw SinkError(description: "the sink is running") }
            try? FileManager.default.removeItem(atPath: readyPath)
            _ = FileManager.default.createFile(atPath: logPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
            let process = ChildProcess()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = arguments(port: boundPort)
            process.standardInput = FileHandle.nullDevice
            process.standardOutput = log
            process.standardError = log
            process.environment = ProcessInfo.processInfo.environment.merging(["PYTHONUNBUFFERED": "1"]) { $1 }
            try process.run()
            try? log.close()
            self.process = process
            return process
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let text = try? String(contentsOfFile: readyPath, encoding: .utf8),
               let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                lock.withLock { boundPort = port }
                return
            }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        stop()
        throw SinkError(description: "the SMTP sink did not start:\n\(log)")
    }

    /// Stops the server: SIGTERM to the process it started, SIGKILL if it lingers. Received
    /// messages stay; `start()` brings it back on the same port.
    public func stop() {
        let process = lock.withLock { () -> ChildProcess? in
            defer { self.process = nil }
            return self.process
        }
        guard let process, process.isRunning else { return }
        let pid = process.processIdentifier
        process.terminate()
        for _ in 0..<100 where process.isRunning {
            usleep(50_000)
        }
        if process.isRunning {
            kill(pid, SIGKILL)
            for _ in 0..<100 where process.isRunning {
                usleep(50_000)
            }
        }
    }

    /// Stops the server and removes the sink's folder; the sink cannot start again.
    public func close() {
        stop()
        let first = lock.withLock { () -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { try? FileManager.default.removeItem(at: directory) }
    }

    /// The messages received so far (also those from before a restart), oldest first.
    public func messages() throws -> [ReceivedMail] {
        let names = try FileManager.default.contentsOfDirectory(atPath: mailDirectory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
        let decoder = JSONDecoder()
        return try names.map { name in
            let data = try Data(contentsOf: mailDirectory.appendingPathComponent(name))
            return ReceivedMail(try decoder.decode(ReceivedMail.Record.self, from: data))
        }
    }

    /// Forgets the messages received so far.
    public func removeAllMessages() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: mailDirectory.path) {
            try FileManager.default.removeItem(at: mailDirectory.appendingPathComponent(name))
        }
    }

    /// The messages once there are at least `count`; throws when `timeout` passes first.
    public func waitForMessages(count: Int, timeout: Duration = .seconds(10)) async throws -> [ReceivedMail] {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let received = try messages()
            if received.count >= count { return received }
            guard clock.now < deadline else {
                throw SinkError(description: "expected \(count) message(s), got \(received.count) in \(timeout):\n\(log)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// The server's output so far, for failure messages.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// The server script's command line.
    private func arguments(port: Int) -> [String] {
        var arguments = [
            scriptPath, "--host", host, "--port", String(port), "--dir", mailDirectory.path,
            "--ready", readyPath, "--parent-pid", String(ProcessInfo.processInfo.processIdentifier),
        ]
        if let certificatePath {
            arguments += ["--cert", certificatePath, "--key", directory.appendingPathComponent("key.pem").path]
        }
        switch options.tls {
        case .none: break
        case .startTLS(let required): arguments += ["--starttls"] + (required ? ["--require-starttls"] : [])
        case .implicit: arguments += ["--implicit-tls"]
        }
        if let login = options.requiredLogin {
            arguments += ["--auth-user", login.username, "--auth-password", login.password]
        }
        arguments += options.excludedAuthMechanisms.flatMap { ["--auth-exclude", $0] }
        arguments += options.rejectedRecipients.flatMap { ["--reject", $0] }
        arguments += options.deferredRecipients.flatMap { ["--tempfail", $0] }
        return arguments
    }

    /// `MARGIN_TEST_PYTHON`, else the repository's `.venv-test`.
    private static func pythonPath() -> String {
        if let path = ProcessInfo.processInfo.environment["MARGIN_TEST_PYTHON"], !path.isEmpty {
            return path
        }
        return TestEnvironment.repositoryRoot.appendingPathComponent(".venv-test/bin/python").path
    }

    /// A self-signed P-256 certificate for `localhost` and `127.0.0.1`, valid for two days.
    private static func makeCertificate(certificate: String, key: String, in directory: URL) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout", key, "-out", certificate,
        ]
        let logPath = directory.appendingPathComponent("openssl.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        defer { try? log.close() }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = log
        process.standardError = log
        try process.run()
        for _ in 0..<600 where process.isRunning {
            usleep(50_000)
        }
        if process.isRunning {
            process.terminate()
            throw SinkError(description: "openssl did not finish")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: certificate) else {
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            throw SinkError(description: "openssl failed (\(process.terminationStatus)): \(output)")
        }
    }
}
