import NIOCore
import NIOPosix
import NIOSSL

/// Where and how to reach the SMTP server.
public struct SMTPConfiguration: Sendable, Equatable {
    /// How the connection is secured.
    public enum Security: String, Sendable {
        /// Plain text throughout.
        case none
        /// Plain text, upgraded with STARTTLS before anything else is said; a server that does not
        /// offer STARTTLS is an error, never a silent downgrade.
        case startTLS = "starttls"
        /// TLS from the first byte ("implicit TLS", SMTPS, usually port 465).
        case tls
    }

    /// The server's host name or IP address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// How the connection is secured.
    public var security: Security
    /// The user for AUTH; no AUTH when nil.
    public var username: String?
    /// The password for AUTH (empty when nil).
    public var password: String?
    /// The name this client gives in EHLO/HELO.
    public var heloName: String
    /// The limit on connecting and on each command's reply, in seconds.
    public var timeoutSeconds: Int
    /// Whether the server's certificate chain and host name are verified (TLS and STARTTLS).
    public var verifyCertificates: Bool
    /// A PEM file of extra CA certificates to trust, besides the system's.
    public var trustRootsPath: String?

    /// Settings; everything but the host has a default.
    public init(
        host: String,
        port: Int = 25,
        security: Security = .none,
        username: String? = nil,
        password: String? = nil,
        heloName: String = "localhost",
        timeoutSeconds: Int = 30,
        verifyCertificates: Bool = true,
        trustRootsPath: String? = nil
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.username = username
        self.password = password
        self.heloName = heloName
        self.timeoutSeconds = timeoutSeconds
        self.verifyCertificates = verifyCertificates
        self.trustRootsPath = trustRootsPath
    }
}

/// Delivers mail. A protocol because mail is a true outside effect: tests and the outbox can put
/// a recording transport in its place.
public protocol MailTransport: Sendable {
    /// Hands `message` to the mail system; returns once it was accepted, throws `MailError`
    /// (or `CancellationError`) otherwise.
    func send(_ message: MailMessage) async throws
}

/// Why a send failed. `isPermanent` tells the outbox whether to retry: it is true for a 5xx reply
/// and for a message or setting this client refuses to send (an invalid address, credentials over
/// an unencrypted connection); false for 4xx replies, connection and TLS failures, timeouts and
/// protocol errors.
public struct MailError: Error, Sendable, CustomStringConvertible {
    /// Whether retrying the same message is pointless.
    public var isPermanent: Bool
    /// What went wrong, for logs; never holds credentials.
    public var description: String

    /// An error with the given kind and description.
    public init(isPermanent: Bool, description: String) {
        self.isPermanent = isPermanent
        self.description = description
    }

    /// A failure worth retrying.
    static func transient(_ description: String) -> MailError {
        MailError(isPermanent: false, description: description)
    }

    /// A failure not worth retrying.
    static func permanent(_ description: String) -> MailError {
        MailError(isPermanent: true, description: description)
    }
}

/// A small SMTP client on SwiftNIO, one connection per message: EHLO (HELO if refused), STARTTLS
/// and EHLO again when configured, AUTH PLAIN or LOGIN when credentials are set (only over TLS or
/// to a loopback host), MAIL FROM, RCPT TO for each recipient, DATA with dot-stuffing, QUIT.
///
/// 4xx replies, connection and TLS failures and timeouts are transient errors, 5xx replies
/// permanent. A rejected recipient fails the whole message before DATA, so a retry never
/// delivers twice. Connecting and each command's reply are bounded by `timeoutSeconds`.
public struct SMTPTransport: MailTransport {
    /// The settings this transport uses.
    public let configuration: SMTPConfiguration
    private let group: any EventLoopGroup

    /// A transport for `configuration`, on NIO's shared event loop group.
    public init(configuration: SMTPConfiguration) {
        self.configuration = configuration
        self.group = MultiThreadedEventLoopGroup.singleton
    }

    /// Sends `message` over a new connection; throws `MailError` (or `CancellationError`).
    public func send(_ message: MailMessage) async throws {
        guard MailAddress.isAcceptable(message.from) else {
            throw MailError.permanent("invalid sender address \(Self.quoted(message.from))")
        }
        guard !message.to.isEmpty else { throw MailError.permanent("message has no recipients") }
        for recipient in message.to where !MailAddress.isAcceptable(recipient) {
            throw MailError.permanent("invalid recipient address \(Self.quoted(recipient))")
        }
        try Self.checkCredentialsPolicy(configuration)
        let payload = Self.dataPayload(message.rendered())
        try Task.checkCancellation()

        let tlsContext: NIOSSLContext?
        do {
            tlsContext = configuration.security == .none ? nil : try makeTLSContext()
        } catch {
            throw MailError.transient("cannot set up TLS: \(error)")
        }

        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        do {
            channel = try await connect(tlsContext: tlsContext)
        } catch {
            try Task.checkCancellation()
            throw MailError.transient("cannot connect to \(endpoint): \(error)")
        }
        try await channel.executeThenClose { inbound, outbound in
            var session = SMTPSession(
                channel: channel.channel, replies: inbound.makeAsyncIterator(), outbound: outbound,
                timeout: .seconds(Int64(max(1, configuration.timeoutSeconds))), endpoint: endpoint)
            do {
                try await converse(&session, message: message, payload: payload, tlsContext: tlsContext)
            } catch let error as MailError {
                if session.connectionUsable { await session.quitQuietly() }
                throw error
            }
        }
    }

    private var endpoint: String { "\(configuration.host):\(configuration.port)" }

    /// The conversation from greeting to QUIT; throws `MailError` at the first failure.
    private func converse(
        _ session: inout SMTPSession, message: MailMessage, payload: [UInt8], tlsContext: NIOSSLContext?
    ) async throws {
        let greeting = try await session.read(step: "greeting")
        try session.check(greeting, expect: 220, step: "greeting")

        let helo = Self.sanitizedCommandArgument(configuration.heloName, fallback: "localhost")
        var extensions = try await hello(&session, name: helo)

        if configuration.security == .startTLS, let tlsContext {
            guard extensions["STARTTLS"] != nil else {
                throw MailError.transient("\(endpoint) does not offer STARTTLS")
            }
            let reply = try await session.command("STARTTLS", step: "STARTTLS")
            try session.check(reply, expect: 220, step: "STARTTLS")
            try await session.startTLS(context: tlsContext, serverHostname: serverHostname)
            extensions = try await hello(&session, name: helo)
        }

        if let username = configuration.username {
            try await authenticate(&session, extensions: extensions, username: username,
                                   password: configuration.password ?? "")
        }

        let sender = message.envelopeSender
        let mailFrom = try await session.command("MAIL FROM:<\(sender)>", step: "MAIL FROM:<\(sender)>")
        try session.check(mailFrom, expect: 250, step: "MAIL FROM:<\(sender)>")
        for recipient in message.envelopeRecipients {
            let reply = try await session.command("RCPT TO:<\(recipient)>", step: "RCPT TO:<\(recipient)>")
            try session.check(reply, expect: 250, 251, step: "RCPT TO:<\(recipient)>")
        }
        let data = try await session.command("DATA", step: "DATA")
        try session.check(data, expect: 354, step: "DATA")
        let accepted = try await session.send(payload, step: "end of data")
        try session.check(accepted, expect: 250, step: "end of data")
        await session.quitQuietly()
    }

    /// EHLO, or HELO when the server refuses EHLO with a 5xx; the offered extensions by keyword
    /// (upper-cased), each with its parameters.
    private func hello(_ session: inout SMTPSession, name: String) async throws -> [String: [String]] {
        let ehlo = try await session.command("EHLO \(name)", step: "EHLO")
        if ehlo.code == 250 {
            var extensions: [String: [String]] = [:]
            for line in ehlo.lines.dropFirst() {
                let words = line.split(whereSeparator: { $0 == " " || $0 == "=" }).map(String.init)
                guard let keyword = words.first?.uppercased() else { continue }
                extensions[keyword, default: []].append(contentsOf: words.dropFirst().map { $0.uppercased() })
            }
            return extensions
        }
        guard (500..<600).contains(ehlo.code) else {
            try session.check(ehlo, expect: 250, step: "EHLO")
            return [:]
        }
        let heloReply = try await session.command("HELO \(name)", step: "HELO")
        try session.check(heloReply, expect: 250, step: "HELO")
        return [:]
    }

    /// AUTH PLAIN if offered, else AUTH LOGIN.
    private func authenticate(
        _ session: inout SMTPSession, extensions: [String: [String]], username: String, password: String
    ) async throws {
        let mechanisms = extensions["AUTH"] ?? []
        if mechanisms.contains("PLAIN") {
            let reply = try await session.command(
                "AUTH PLAIN " + Self.authPlainResponse(username: username, password: password), step: "AUTH PLAIN")
            try session.check(reply, expect: 235, step: "AUTH PLAIN")
        } else if mechanisms.contains("LOGIN") {
            let start = try await session.command("AUTH LOGIN", step: "AUTH LOGIN")
            try session.check(start, expect: 334, step: "AUTH LOGIN")
            let user = try await session.command(MIMEEncoding.base64(username.utf8), step: "AUTH LOGIN username")
            try session.check(user, expect: 334, step: "AUTH LOGIN username")
            let pass = try await session.command(MIMEEncoding.base64(password.utf8), step: "AUTH LOGIN password")
            try session.check(pass, expect: 235, step: "AUTH LOGIN password")
        } else if mechanisms.isEmpty {
            throw MailError.permanent("\(endpoint) does not offer AUTH on this connection")
        } else {
            throw MailError.permanent(
                "\(endpoint) offers AUTH \(mechanisms.joined(separator: " ")) but neither PLAIN nor LOGIN")
        }
    }

    /// A connected channel with the reply framer (and TLS first, for implicit TLS).
    private func connect(tlsContext: NIOSSLContext?) async throws -> NIOAsyncChannel<SMTPReply, ByteBuffer> {
        let implicitTLS = configuration.security == .tls ? tlsContext : nil
        let hostname = serverHostname
        return try await ClientBootstrap(group: group)
            .connectTimeout(.seconds(Int64(max(1, configuration.timeoutSeconds))))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let implicitTLS {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: implicitTLS, serverHostname: hostname))
                    }
                    try channel.pipeline.syncOperations.addHandler(SMTPReplyFramer())
                    return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// The client TLS context for the verification settings.
    private func makeTLSContext() throws -> NIOSSLContext {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !configuration.verifyCertificates {
            tls.certificateVerification = .none
        }
        if let path = configuration.trustRootsPath {
            tls.additionalTrustRoots = [.file(path)]
        }
        return try NIOSSLContext(configuration: tls)
    }

    /// The name for SNI and certificate checks; nil for an IP address, which is then checked
    /// against the certificate's IP address entries.
    private var serverHostname: String? {
        var host = configuration.host
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if (try? SocketAddress(ipAddress: host, port: 0)) != nil { return nil }
        return host.hasSuffix(".") ? String(host.dropLast()) : host
    }

    /// Throws (permanently) when credentials would cross a network unencrypted: AUTH without TLS
    /// is allowed only to a loopback host.
    static func checkCredentialsPolicy(_ configuration: SMTPConfiguration) throws {
        if configuration.username != nil, configuration.security == .none, !isLoopback(configuration.host) {
            throw MailError.permanent(
                "refusing to send credentials to \(configuration.host) without TLS (set security to starttls or tls)")
        }
    }

    /// Whether `host` names this machine, where credentials in clear text never cross a network.
    static func isLoopback(_ host: String) -> Bool {
        let lowered = host.lowercased()
        if lowered == "localhost" || lowered == "localhost." || lowered == "::1" || lowered == "[::1]" { return true }
        if let address = try? SocketAddress(ipAddress: host, port: 0), case .v4 = address {
            return host.hasPrefix("127.")
        }
        return false
    }

    /// The AUTH PLAIN initial response: base64 of NUL, user, NUL, password.
    static func authPlainResponse(username: String, password: String) -> String {
        MIMEEncoding.base64([0] + Array(username.utf8) + [0] + Array(password.utf8))
    }

    /// What follows DATA: `message` with every line that starts with "." given a second one,
    /// ending in CRLF, then the terminating ".", CRLF.
    static func dataPayload(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(message.count + message.count / 64 + 5)
        var atLineStart = true
        for byte in message {
            if atLineStart, byte == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")) }
            out.append(byte)
            atLineStart = byte == 10
        }
        if !out.isEmpty, !atLineStart {
            out.append(contentsOf: MIMEEncoding.crlf)
        }
        out.append(contentsOf: Array(".\r\n".utf8))
        return out
    }

    /// `text` fit for a command line: control characters and spaces removed.
    static func sanitizedCommandArgument(_ text: String, fallback: String) -> String {
        let clean = String(String.UnicodeScalarView(text.unicodeScalars.filter {
            $0.value > 0x20 && $0.value < 0x7F
        }))
        return clean.isEmpty ? fallback : clean
    }

    /// `text` quoted for an error message: control characters made spaces, at most 200 characters.
    static func quoted(_ text: String) -> String {
        "\"" + MIMEEncoding.sanitizedHeaderText(text).prefix(200) + "\""
    }
}

/// One SMTP reply: its code and the text of each of its lines.
struct SMTPReply: Sendable, Equatable {
    /// The three-digit reply code.
    var code: Int
    /// The text after the code on each line.
    var lines: [String]

    /// `code` and the lines' text, for error messages.
    var summary: String {
        "\(code) " + lines.joined(separator: " ").prefix(300)
    }
}

/// A protocol error: the server sent something that is not an SMTP reply.
struct SMTPProtocolError: Error, CustomStringConvertible {
    var description: String
}

/// Fired into the pipeline when a reply takes too long, so that a read waiting for it ends at once.
struct SMTPTimeoutError: Error {}

/// Frames bytes into SMTP replies (RFC 5321 4.2): lines of `NNN-text` continued by a final
/// `NNN text`. Lenient about bare LF; strict about length, so a hostile server cannot make it
/// buffer without end.
final class SMTPReplyFramer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = SMTPReply

    static let maxLineLength = 4096
    static let maxLinesPerReply = 256

    private var buffer = ByteBuffer()
    private var pendingLines: [String] = []
    private var failed = false
    /// How many replies were passed on, to tell whether any arrived after the reply to STARTTLS.
    private(set) var repliesEmitted = 0

    /// Whether bytes of a reply not yet complete are held.
    var hasPendingInput: Bool { buffer.readableBytes > 0 || !pendingLines.isEmpty }

    /// Passes on every complete reply; a malformed or oversized one closes the connection.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        do {
            while let reply = try nextReply() {
                repliesEmitted += 1
                context.fireChannelRead(wrapInboundOut(reply))
            }
            buffer.discardReadBytes()
        } catch {
            failed = true
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }

    /// The next complete reply in the buffer, nil when more bytes are needed.
    private func nextReply() throws -> SMTPReply? {
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            guard length <= Self.maxLineLength else { throw SMTPProtocolError(description: "reply line too long") }
            var bytes = buffer.readBytes(length: length + 1) ?? []
            bytes.removeLast()
            if bytes.last == 13 { bytes.removeLast() }
            let line = String(decoding: bytes, as: UTF8.self)
            let utf8 = Array(line.utf8.prefix(4))
            guard utf8.count >= 3, utf8[0...2].allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let code = Int(String(decoding: utf8[0...2], as: UTF8.self)), code >= 200, code < 600
            else { throw SMTPProtocolError(description: "not an SMTP reply: \"\(line.prefix(100))\"") }
            let separator = utf8.count > 3 ? utf8[3] : UInt8(ascii: " ")
            pendingLines.append(String(line.dropFirst(4)))
            guard pendingLines.count <= Self.maxLinesPerReply else {
                throw SMTPProtocolError(description: "reply has too many lines")
            }
            if separator == UInt8(ascii: "-") { continue }
            let reply = SMTPReply(code: code, lines: pendingLines)
            pendingLines = []
            return reply
        }
        guard buffer.readableBytes <= Self.maxLineLength else {
            throw SMTPProtocolError(description: "reply line too long")
        }
        return nil
    }
}

/// The client's side of one SMTP conversation: writes commands, reads replies, each under the
/// timeout.
struct SMTPSession {
    let channel: any Channel
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let timeout: TimeAmount
    let endpoint: String
    /// How many replies were read, to compare with what the framer passed on.
    private(set) var repliesRead = 0
    /// False once the connection failed, so no QUIT is attempted on it.
    private(set) var connectionUsable = true

    /// A session on a connected channel.
    init(
        channel: any Channel, replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, timeout: TimeAmount, endpoint: String
    ) {
        self.channel = channel
        self.replies = replies
        self.outbound = outbound
        self.timeout = timeout
        self.endpoint = endpoint
    }

    /// Writes `line` and CRLF, then reads the reply.
    mutating func command(_ line: String, step: String) async throws -> SMTPReply {
        try await exchange(Array((line + "\r\n").utf8), step: step)
    }

    /// Writes `bytes` as they are, then reads the reply.
    mutating func send(_ bytes: [UInt8], step: String) async throws -> SMTPReply {
        try await exchange(bytes, step: step)
    }

    /// Reads a reply without writing (the greeting).
    mutating func read(step: String) async throws -> SMTPReply {
        try await exchange(nil, step: step)
    }

    /// Throws unless `reply.code` is one of `expected`: transient for 4xx (and anything
    /// unexpected), permanent for 5xx.
    func check(_ reply: SMTPReply, expect expected: Int..., step: String) throws {
        guard !expected.contains(reply.code) else { return }
        let text = "\(endpoint) answered \(step) with \(reply.summary)"
        if (500..<600).contains(reply.code) { throw MailError.permanent(text) }
        throw MailError.transient(text)
    }

    /// Puts TLS under the framer. Refuses when the server said more after its 220 to STARTTLS:
    /// such bytes came in plain text and could be an attacker's injected replies.
    mutating func startTLS(context: NIOSSLContext, serverHostname: String?) async throws {
        let read = repliesRead
        let channel = self.channel
        do {
            try await channel.eventLoop.submit {
                guard channel.isActive else { throw SMTPProtocolError(description: "connection closed") }
                let framer = try channel.pipeline.syncOperations.handler(type: SMTPReplyFramer.self)
                guard framer.repliesEmitted == read, !framer.hasPendingInput else {
                    throw SMTPProtocolError(description: "server sent data after its STARTTLS reply")
                }
                let tls = try NIOSSLClientHandler(context: context, serverHostname: serverHostname)
                try channel.pipeline.syncOperations.addHandler(tls, position: .first)
            }.get()
        } catch {
            connectionUsable = false
            throw MailError.transient("cannot start TLS with \(endpoint): \(error)")
        }
    }

    /// Sends QUIT and waits briefly for its reply, ignoring every failure: the message's fate is
    /// already known.
    mutating func quitQuietly() async {
        _ = try? await exchange(Array("QUIT\r\n".utf8), step: "QUIT", timeout: min(timeout, .seconds(5)))
        connectionUsable = false
    }

    /// Writes `bytes` (if any) and reads one reply, all under `timeout` (else the session's);
    /// failures become transient `MailError`s.
    private mutating func exchange(
        _ bytes: [UInt8]?, step: String, timeout: TimeAmount? = nil
    ) async throws -> SMTPReply {
        try Task.checkCancellation()
        let channel = self.channel
        let timeout = timeout ?? self.timeout
        let deadline = NIODeadline.now() + timeout
        let timer = channel.eventLoop.scheduleTask(deadline: deadline) {
            channel.pipeline.fireErrorCaught(SMTPTimeoutError())
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            if let bytes {
                do {
                    try await outbound.write(channel.allocator.buffer(bytes: bytes))
                } catch {
                    // A failed write only says the channel closed; the reason (a TLS alert, a 421
                    // before the server hung up) waits in the inbound stream, which ends promptly
                    // once the channel is closed, and in any case at the timer.
                    if let reply = try await replies.next(), reply.code >= 400 {
                        repliesRead += 1
                        return reply
                    }
                    throw error
                }
            }
            guard let reply = try await replies.next() else {
                try Task.checkCancellation()
                connectionUsable = false
                throw MailError.transient("\(endpoint) closed the connection at \(step)")
            }
            repliesRead += 1
            return reply
        } catch let error as MailError {
            throw error
        } catch let error as CancellationError {
            connectionUsable = false
            throw error
        } catch {
            connectionUsable = false
            try Task.checkCancellation()
            if error is SMTPTimeoutError || NIODeadline.now() >= deadline {
                throw MailError.transient(
                    "\(endpoint) did not answer \(step) within \(timeout.nanoseconds / 1_000_000_000) s")
            }
            if let tlsError = error as? NIOSSLError, case .handshakeFailed = tlsError {
                throw MailError.transient("TLS handshake with \(endpoint) failed: \(error)")
            }
            if error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError {
                throw MailError.transient("TLS with \(endpoint) failed at \(step): \(error)")
            }
            throw MailError.transient("connection to \(endpoint) failed at \(step): \(error)")
        }
    }
}
