import NIOCore
import NIOPosix
import NIOSSL

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
