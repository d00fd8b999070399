import Foundation
import TestSupport
import Moderation

/// A real SMTP server for tests: Python's aiosmtpd on 127.0.0.1, run as a child process that
/// records every accepted message (envelope, headers, decoded subject and body, raw bytes) as a
/// JSON file in a temporary folder.
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
final class SMTPSink: @unchecked Sendable {
    /// How the sink offers TLS.
    enum TLSMode: Sendable, Equatable {
        /// Plain text only.
        case none
        /// STARTTLS offered; when `required`, MAIL before STARTTLS is refused with 530.
        case startTLS(required: Bool)
        /// TLS from the first byte (SMTPS).
        case implicit
    }

    /// What the sink offers and demands.
    struct Options: Sendable {
        /// How TLS is offered.
        var tls: TLSMode = .none
        /// When set, AUTH with exactly these credentials is required before MAIL (over TLS or not).
        var requiredLogin: (username: String, password: String)?
        /// AUTH mechanisms not to offer, such as `["PLAIN"]` to force LOGIN.
        var excludedAuthMechanisms: [String] = []
        /// Recipients refused with `550 5.1.1`.
        var rejectedRecipients: [String] = []
        /// Recipients refused with `451 4.3.0`.
        var deferredRecipients: [String] = []

        /// Options; every one defaults to a plain, open sink.
        init(
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
    struct SinkError: Error, CustomStringConvertible {
        /// What went wrong, with the server's log where it helps.
        var description: String
    }

    /// The address the sink listens on.
    let host = "127.0.0.1"
    /// What the sink offers and demands.
    let options: Options
    /// The self-signed certificate (PEM, for `localhost` and `127.0.0.1`) when TLS is offered; usable
    /// as `SMTPConfiguration.trustRootsPath`.
    let certificatePath: String?
    /// The sink's temporary folder.
    let directory: URL

    private let lock = NSLock()
    private var process: ChildProcess?
    private var boundPort = 0
    private var closed = false
    private let python: String
    private var mailDirectory: URL { directory.appendingPathComponent("mail") }
    private var scriptPath: String { directory.appendingPathComponent("sink.py").path }
    private var readyPath: String { directory.appendingPathComponent("ready").path }
    private var logPath: String { directory.appendingPathComponent("server.log").path }

    /// A sink with its folder (and certificate) made, not yet started.
    init(_ options: Options = Options()) throws {
        self.options = options
        python = Self.pythonPath()
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
            try Data(Self.script.utf8).write(to: directory.appendingPathComponent("sink.py"))
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
    static func started(_ options: Options = Options()) async throws -> SMTPSink {
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
    var port: Int {
        lock.withLock { boundPort }
    }

    /// Whether the server process is running.
    var isRunning: Bool {
        lock.withLock { process?.isRunning ?? false }
    }

    /// Starts the server (on a free port the first time, on the same port after `stop()`) and
    /// returns once it listens; waits at most `timeout`.
    func start(timeout: Duration = .seconds(60)) async throws {
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
    func stop() {
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
    func close() {
        stop()
        let first = lock.withLock { () -> Bool in
            defer { closed = true }
            return !closed
        }
        if first { try? FileManager.default.removeItem(at: directory) }
    }

    /// The messages received so far (also those from before a restart), oldest first.
    func messages() throws -> [ReceivedMail] {
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
    func removeAllMessages() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: mailDirectory.path) {
            try FileManager.default.removeItem(at: mailDirectory.appendingPathComponent(name))
        }
    }

    /// The messages once there are at least `count`; throws when `timeout` passes first.
    func waitForMessages(count: Int, timeout: Duration = .seconds(10)) async throws -> [ReceivedMail] {
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
    var log: String {
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

    /// `MARGIN_TEST_PYTHON`, else the repository's `.venv-test` (this file is
    /// `<repo>/Tests/ModerationTests/Support/SMTPSink.swift`).
    private static func pythonPath() -> String {
        if let path = ProcessInfo.processInfo.environment["MARGIN_TEST_PYTHON"], !path.isEmpty {
            return path
        }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { root.deleteLastPathComponent() }
        return root.appendingPathComponent(".venv-test/bin/python").path
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

    /// The server: aiosmtpd's SMTP protocol on asyncio, one JSON file per accepted message.
    private static let script = #"""
        """A test SMTP server on aiosmtpd that writes each accepted message as one JSON file."""
        import argparse
        import asyncio
        import base64
        import email
        import email.policy
        import json
        import os
        import signal
        import ssl
        import time
        import warnings

        warnings.filterwarnings("ignore")

        from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

        parser = argparse.ArgumentParser()
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=0)
        parser.add_argument("--dir", required=True)
        parser.add_argument("--ready", required=True)
        parser.add_argument("--cert")
        parser.add_argument("--key")
        parser.add_argument("--starttls", action="store_true")
        parser.add_argument("--require-starttls", action="store_true")
        parser.add_argument("--implicit-tls", action="store_true")
        parser.add_argument("--auth-user")
        parser.add_argument("--auth-password")
        parser.add_argument("--auth-exclude", action="append", default=[])
        parser.add_argument("--reject", action="append", default=[])
        parser.add_argument("--tempfail", action="append", default=[])
        parser.add_argument("--parent-pid", type=int, default=0)
        args = parser.parse_args()

        sequence = 0


        def write_atomically(path, data):
            tmp = path + ".tmp"
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, path)


        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                if address in args.reject:
                    return "550 5.1.1 <%s>: recipient rejected" % address
                if address in args.tempfail:
                    return "451 4.3.0 <%s>: try again later" % address
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                global sequence
                raw = envelope.original_content or b""
                msg = email.message_from_bytes(raw, policy=email.policy.default)
                body = ""
                if not msg.is_multipart():
                    try:
                        body = msg.get_content().replace("\r\n", "\n")
                    except Exception as error:
                        body = "<undecodable: %s>" % error
                login = None
                if session.authenticated and isinstance(session.auth_data, LoginPassword):
                    login = session.auth_data.login.decode("utf-8", "replace")
                tls = session.ssl is not None or (
                    server.transport is not None
                    and server.transport.get_extra_info("sslcontext") is not None)
                record = {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": list(envelope.rcpt_tos),
                    "headers": [[name, str(value)] for name, value in msg.items()],
                    "subject": str(msg.get("subject", "")),
                    "body": body,
                    "raw": base64.b64encode(raw).decode("ascii"),
                    "tls": bool(tls),
                    "auth_login": login,
                }
                sequence += 1
                name = "%020d-%06d.json" % (time.time_ns(), sequence)
                write_atomically(os.path.join(args.dir, name), json.dumps(record).encode("utf-8"))
                return "250 2.0.0 Message accepted for delivery"


        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword)
                  and auth_data.login == (args.auth_user or "").encode()
                  and auth_data.password == (args.auth_password or "").encode())
            # handled=False makes aiosmtpd itself answer a failure with 535.
            return AuthResult(success=ok, handled=False, auth_data=auth_data)


        def tls_context():
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(args.cert, args.key)
            return context


        def make_protocol():
            options = {"hostname": "sink.test"}
            if args.starttls:
                options["tls_context"] = tls_context()
                options["require_starttls"] = args.require_starttls
            if args.auth_user is not None:
                options["authenticator"] = authenticator
                options["auth_required"] = True
                options["auth_require_tls"] = False
                options["auth_exclude_mechanism"] = args.auth_exclude
            return SMTP(Handler(), **options)


        async def watch_parent():
            # The test process may die without stopping us; we are then reparented, and must go.
            while True:
                if args.parent_pid and os.getppid() != args.parent_pid:
                    os._exit(0)
                await asyncio.sleep(0.5)


        def main():
            # Stop at once on SIGTERM: each message file is already complete. The signal may come
            # blocked from the spawning thread's mask, so unblock it.
            signal.signal(signal.SIGTERM, lambda number, frame: os._exit(0))
            signal.signal(signal.SIGINT, lambda number, frame: os._exit(0))
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(loop.create_server(
                make_protocol, host=args.host, port=args.port, reuse_address=True,
                ssl=tls_context() if args.implicit_tls else None))
            port = server.sockets[0].getsockname()[1]
            write_atomically(args.ready, str(port).encode("ascii"))
            loop.create_task(watch_parent())
            loop.run_forever()


        main()
        """#
}

/// One message as the sink received it.
struct ReceivedMail: Sendable {
    /// The envelope sender (MAIL FROM).
    var mailFrom: String
    /// The envelope recipients (RCPT TO) that were accepted.
    var recipients: [String]
    /// Every header in order, values decoded (RFC 2047) and unfolded by Python's `email` package.
    var headers: [(name: String, value: String)]
    /// The decoded subject.
    var subject: String
    /// The decoded body (transfer encoding and charset undone), with CRLF turned into LF.
    var body: String
    /// The message's bytes as they arrived (after dot-unstuffing).
    var raw: [UInt8]
    /// Whether the message came over TLS (STARTTLS or implicit).
    var usedTLS: Bool
    /// The AUTH user, when the client authenticated.
    var authenticatedUser: String?

    /// The first value of header `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headerValues(name).first
    }

    /// All values of header `name` (case-insensitive), in order.
    func headerValues(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The raw message's lines, without their CRLF.
    var rawLines: [String] {
        String(decoding: raw, as: UTF8.self).components(separatedBy: "\r\n")
    }

    /// The JSON the sink writes.
    struct Record: Decodable {
        var mail_from: String
        var rcpt_tos: [String]
        var headers: [[String]]
        var subject: String
        var body: String
        var raw: String
        var tls: Bool
        var auth_login: String?
    }

    /// The mail in a record.
    init(_ record: Record) {
        mailFrom = record.mail_from
        recipients = record.rcpt_tos
        headers = record.headers.compactMap { $0.count == 2 ? (name: $0[0], value: $0[1]) : nil }
        subject = record.subject
        body = record.body
        raw = Data(base64Encoded: record.raw).map { Array($0) } ?? []
        usedTLS = record.tls
        authenticatedUser = record.auth_login
    }
}

extension SMTPSink {
    /// A configuration that reaches this sink: the security that matches its TLS mode unless
    /// given, certificates unverified unless asked (the sink's are self-signed), short timeouts.
    func configuration(
        security: SMTPConfiguration.Security? = nil,
        username: String? = nil,
        password: String? = nil,
        verifyCertificates: Bool = false,
        trustRootsPath: String? = nil,
        timeoutSeconds: Int = 10
    ) -> SMTPConfiguration {
        let matching: SMTPConfiguration.Security
        switch options.tls {
        case .none: matching = .none
        case .startTLS: matching = .startTLS
        case .implicit: matching = .tls
        }
        return SMTPConfiguration(
            host: host, port: port, security: security ?? matching, username: username, password: password,
            heloName: "margin.test", timeoutSeconds: timeoutSeconds, verifyCertificates: verifyCertificates,
            trustRootsPath: trustRootsPath)
    }
}
