import NIOCore
import NIOPosix
import NIOSSL

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
