import Foundation
import ModerationTestSupport
import TestSupport
import Testing
@testable import Moderation

#if canImport(Glibc)
import Glibc
private let systemClose = Glibc.close
private let streamSocketType = Int32(SOCK_STREAM.rawValue)
private let sendFlags = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin
private let systemClose = Darwin.close
private let streamSocketType = SOCK_STREAM
private let sendFlags: Int32 = 0
#endif

/// Renders and sends mail through `SMTPTransport` to a real SMTP server (`SMTPSink`, aiosmtpd),
/// and checks what arrived.
@Suite struct SMTPTransportTests {
    static let sender = "Margin 블로그 <margin@blog.example.org>"
    static let longURL = "https://blog.example.org/unsubscribe?token="
        + String(repeating: "abcdefghij", count: 12)

    /// A message with everything awkward: Korean and emoji, a long subject, long lines, lines
    /// that start with ".", "=" and trailing spaces, and a List-Unsubscribe header.
    static func awkwardMessage(to recipients: [String] = ["reader@example.net"]) -> MailMessage {
        let body = """
            안녕하세요! 새 댓글이 달렸습니다 💬🎉
            .
            .. two dots
            .starts with a dot
            a=b and =?UTF-8?B?not-a-word?= stay literal, trailing spaces stay  \u{20}
            \(String(repeating: "긴 줄 long line ", count: 60))
            \(String(repeating: "x", count: 1200))
            \ttabbed line
            From the start of a line

            last line without a newline 🚀
            """
        return MailMessage(
            from: sender,
            to: recipients,
            subject: "새 댓글: “Margin” 블로그에 댓글이 달렸습니다 — reply to your comment on a rather long post title 🎉",
            body: body,
            headers: [
                (name: "List-Unsubscribe", value: "<\(longURL)>, <mailto:unsubscribe@blog.example.org?subject=unsubscribe>"),
                (name: "List-Unsubscribe-Post", value: "List-Unsubscribe=One-Click"),
            ],
            messageID: "<20260301.abc123@blog.example.org>",
            date: 1_772_323_200_123
        )
    }

    @Test func unicodeMessageArrivesIntact() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        let message = Self.awkwardMessage()

        try await SMTPTransport(configuration: sink.configuration()).send(message)

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.subject == message.subject)
        #expect(mail.body == message.body)
        #expect(mail.mailFrom == "margin@blog.example.org")
        #expect(mail.recipients == ["reader@example.net"])
        #expect(mail.header("From") == "Margin 블로그 <margin@blog.example.org>")
        #expect(mail.header("To") == "reader@example.net")
        #expect(mail.header("List-Unsubscribe") == "<\(Self.longURL)>, <mailto:unsubscribe@blog.example.org?subject=unsubscribe>")
        #expect(mail.header("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click")
        #expect(mail.header("Message-ID") == "<20260301.abc123@blog.example.org>")
        #expect(mail.header("Date") == "Sun, 01 Mar 2026 00:00:00 +0000")
        #expect(mail.header("MIME-Version") == "1.0")
        #expect(mail.header("Content-Transfer-Encoding") == "quoted-printable")
        #expect(!mail.usedTLS)
        #expect(mail.authenticatedUser == nil)
        for line in mail.rawLines {
            // Only the URL, which must not be broken, may make a line longer than 78.
            #expect(line.utf8.count <= (line.contains(Self.longURL) ? 998 : 78), "line too long: \(line)")
            #expect(line.utf8.allSatisfy { $0 < 0x80 }, "non-ASCII byte in: \(line)")
        }
    }

    @Test func bodyEndingInNewlineArrivesIntact() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        var message = Self.awkwardMessage()
        message.subject = "Plain ASCII subject"
        message.body = "First line.\r\nSecond line.\n\n.\n"

        try await SMTPTransport(configuration: sink.configuration()).send(message)

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.subject == "Plain ASCII subject")
        #expect(mail.body == "First line.\nSecond line.\n\n.\n")
    }

    @Test func severalRecipients() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        let recipients = ["one@example.net", "Two Person <two@example.net>", "\"Three, Esq.\" <three@example.org>"]

        try await SMTPTransport(configuration: sink.configuration()).send(Self.awkwardMessage(to: recipients))

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.recipients == ["one@example.net", "two@example.net", "three@example.org"])
        #expect(mail.header("To") == "one@example.net, Two Person <two@example.net>, \"Three, Esq.\" <three@example.org>")
        #expect(try sink.messages().count == 1)
    }

    @Test func startTLSWithoutVerification() async throws {
        let sink = try await SMTPSink.started(.init(tls: .startTLS(required: true)))
        defer { sink.close() }
        let message = Self.awkwardMessage()

        try await SMTPTransport(configuration: sink.configuration(security: .startTLS)).send(message)

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.usedTLS)
        #expect(mail.subject == message.subject)
        #expect(mail.body == message.body)
    }

    @Test func startTLSVerifyingSelfSignedCertificateFails() async throws {
        let sink = try await SMTPSink.started(.init(tls: .startTLS(required: true)))
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration(verifyCertificates: true))
                .send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == false)
        let description = error?.description ?? ""
        #expect(description.contains("TLS handshake"), "\(description)")
        #expect(description.contains("CERTIFICATE_VERIFY_FAILED"), "\(description)")
        #expect(try sink.messages().isEmpty)
    }

    @Test func startTLSTrustingTheSinkCertificate() async throws {
        let sink = try await SMTPSink.started(.init(tls: .startTLS(required: true)))
        defer { sink.close() }

        try await SMTPTransport(configuration: sink.configuration(
            verifyCertificates: true, trustRootsPath: sink.certificatePath)).send(Self.awkwardMessage())

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.usedTLS)
    }

    @Test func startTLSRequiredButServerDoesNotOfferIt() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration(security: .startTLS)).send(Self.awkwardMessage())
        }
        #expect(error?.description.contains("STARTTLS") == true)
        #expect(try sink.messages().isEmpty)
    }

    @Test func plainTextToServerRequiringStartTLSIsPermanent() async throws {
        let sink = try await SMTPSink.started(.init(tls: .startTLS(required: true)))
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration(security: SMTPConfiguration.Security.none))
                .send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains("530") == true)
    }

    @Test func implicitTLS() async throws {
        let sink = try await SMTPSink.started(.init(tls: .implicit))
        defer { sink.close() }

        try await SMTPTransport(configuration: sink.configuration(security: .tls)).send(Self.awkwardMessage())

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.usedTLS)
    }

    @Test func authPlain() async throws {
        let sink = try await SMTPSink.started(.init(requiredLogin: (username: "margin", password: "s3cret pässword")))
        defer { sink.close() }

        try await SMTPTransport(configuration: sink.configuration(username: "margin", password: "s3cret pässword"))
            .send(Self.awkwardMessage())

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.authenticatedUser == "margin")
    }

    @Test func authLoginWhenPlainIsNotOffered() async throws {
        let sink = try await SMTPSink.started(.init(
            tls: .startTLS(required: true), requiredLogin: (username: "margin", password: "pw"),
            excludedAuthMechanisms: ["PLAIN"]))
        defer { sink.close() }

        try await SMTPTransport(configuration: sink.configuration(username: "margin", password: "pw"))
            .send(Self.awkwardMessage())

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.authenticatedUser == "margin")
        #expect(mail.usedTLS)
    }

    @Test func wrongPasswordIsPermanent() async throws {
        let sink = try await SMTPSink.started(.init(requiredLogin: (username: "margin", password: "right")))
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration(username: "margin", password: "wrong"))
                .send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains("535") == true)
        #expect(error?.description.contains("wrong") == false)
    }

    @Test func missingCredentialsArePermanent() async throws {
        let sink = try await SMTPSink.started(.init(requiredLogin: (username: "margin", password: "pw")))
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration()).send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains("530") == true)
    }

    @Test func connectionRefusedIsTransientAndServerCanComeBack() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        let transport = SMTPTransport(configuration: sink.configuration())
        sink.stop()

        let error = await #expect(throws: MailError.self) {
            try await transport.send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == false)
        #expect(error?.description.contains("connect") == true)

        try await sink.start()
        try await transport.send(Self.awkwardMessage())
        #expect(try await sink.waitForMessages(count: 1).count == 1)
    }

    @Test func rejectedRecipientIsPermanent() async throws {
        let sink = try await SMTPSink.started(.init(rejectedRecipients: ["gone@example.net"]))
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration())
                .send(Self.awkwardMessage(to: ["reader@example.net", "gone@example.net"]))
        }
        #expect(error?.isPermanent == true)
        #expect(error?.description.contains("550") == true)
        #expect(error?.description.contains("gone@example.net") == true)
        #expect(try sink.messages().isEmpty)
    }

    @Test func deferredRecipientIsTransient() async throws {
        let sink = try await SMTPSink.started(.init(deferredRecipients: ["busy@example.net"]))
        defer { sink.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: sink.configuration()).send(Self.awkwardMessage(to: ["busy@example.net"]))
        }
        #expect(error?.isPermanent == false)
        #expect(error?.description.contains("451") == true)
    }

    @Test func silentServerTimesOut() async throws {
        let server = try SilentServer()
        defer { server.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: SMTPConfiguration(host: "127.0.0.1", port: server.port, timeoutSeconds: 1))
                .send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == false)
        #expect(error?.description.contains("did not answer greeting") == true)
    }

    @Test func fallsBackToHeloAndStuffsDots() async throws {
        let server = try ScriptedSMTPServer([
            .send("220-scripted.test ESMTP\r\n220 welcome\r\n"),
            .expect("EHLO margin.test"), .send("502 5.5.1 EHLO not implemented\r\n"),
            .expect("HELO margin.test"), .send("250 scripted.test\r\n"),
            .expect("MAIL FROM:<margin@blog.example.org>"), .send("250 OK\r\n"),
            .expect("RCPT TO:<reader@example.net>"), .send("250 OK\r\n"),
            .expect("DATA"), .send("354 go ahead\r\n"),
            .readData, .send("250 queued\r\n"),
            .expect("QUIT"), .send("221 bye\r\n"),
        ])
        defer { server.close() }

        do {
            try await SMTPTransport(configuration: SMTPConfiguration(
                host: "127.0.0.1", port: server.port, heloName: "margin.test", timeoutSeconds: 30))
                .send(Self.awkwardMessage())
        } catch {
            // Say what the server saw, too: a failure here is otherwise hard to read.
            Issue.record("\(error); server: \(server.scriptFailure ?? "on script"), received \(server.received)")
            return
        }

        try await server.waitUntilDone()
        #expect(server.scriptFailure == nil)
        let lines = server.received
        #expect(lines.contains(".."))
        #expect(lines.contains("... two dots"))
        #expect(lines.contains("..starts with a dot"))
        #expect(lines.last == "QUIT")
    }

    @Test func dataInjectedAfterStartTLSReplyIsRefused() async throws {
        let server = try ScriptedSMTPServer([
            .send("220 scripted.test ESMTP\r\n"),
            .expect("EHLO"), .send("250-scripted.test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"),
            .expect("STARTTLS"), .send("220 ready\r\n250 injected\r\n"),
            .expect(""),  // Holds the connection open until the client gives up.
        ])
        defer { server.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: SMTPConfiguration(
                host: "127.0.0.1", port: server.port, security: .startTLS, verifyCertificates: false))
                .send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == false)
        #expect(error?.description.contains("after its STARTTLS reply") == true,
                "\(String(describing: error)); server: \(server.scriptFailure ?? "on script"), received \(server.received)")
    }

    @Test func serverClosingWithA421IsTransient() async throws {
        let server = try ScriptedSMTPServer([.send("421 4.3.2 shutting down\r\n")])
        defer { server.close() }

        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: SMTPConfiguration(host: "127.0.0.1", port: server.port))
                .send(Self.awkwardMessage())
        }
        #expect(error?.isPermanent == false)
        #expect(error?.description.contains("421") == true)
    }

    @Test func headerInjectionAddsNoHeader() async throws {
        let sink = try await SMTPSink.started()
        defer { sink.close() }
        var message = Self.awkwardMessage()
        message.subject = "Hello\r\nBcc: evil@example.com"
        message.headers = [
            (name: "List-Unsubscribe", value: "<https://blog.example.org/u>\r\nX-Injected: yes"),
            (name: "X-Bad\r\nX-Injected", value: "yes"),
            (name: "To", value: "evil@example.com"),
        ]
        message.messageID = "id@example.org>\r\nX-Injected: yes"

        try await SMTPTransport(configuration: sink.configuration()).send(message)

        let mail = try #require(try await sink.waitForMessages(count: 1).first)
        #expect(mail.header("Bcc") == nil)
        #expect(mail.header("X-Injected") == nil)
        #expect(mail.headerValues("To") == ["reader@example.net"])
        #expect(mail.recipients == ["reader@example.net"])
        #expect(mail.subject == "Hello Bcc: evil@example.com")
        #expect(mail.header("List-Unsubscribe") == "<https://blog.example.org/u> X-Injected: yes")
        #expect(!mail.rawLines.contains { $0.hasPrefix("Bcc") || $0.hasPrefix("X-Injected") })
    }

    @Test func addressWithLineBreakIsRefused() async throws {
        var message = Self.awkwardMessage(to: ["reader@example.net\r\nRCPT TO:<evil@example.com>"])
        let error = await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: SMTPConfiguration(host: "127.0.0.1", port: 9)).send(message)
        }
        #expect(error?.isPermanent == true)

        message = Self.awkwardMessage()
        message.from = "margin@blog.example.org\nBcc: evil@example.com"
        await #expect(throws: MailError.self) {
            try await SMTPTransport(configuration: SMTPConfiguration(host: "127.0.0.1", port: 9)).send(message)
        }
        let rendered = String(decoding: message.rendered(), as: UTF8.self)
        #expect(!rendered.contains("\nBcc"))
    }

    @Test func credentialsAreNotSentInClearTextToARemoteHost() {
        #expect(SMTPTransport.isLoopback("localhost"))
        #expect(SMTPTransport.isLoopback("127.0.0.1"))
        #expect(SMTPTransport.isLoopback("::1"))
        #expect(!SMTPTransport.isLoopback("smtp.example.org"))
        #expect(!SMTPTransport.isLoopback("127.example.org"))
        #expect(!SMTPTransport.isLoopback("192.0.2.1"))

        #expect(throws: MailError.self) {
            try SMTPTransport.checkCredentialsPolicy(SMTPConfiguration(host: "smtp.example.org", username: "u", password: "p"))
        }
        #expect(throws: Never.self) {
            try SMTPTransport.checkCredentialsPolicy(SMTPConfiguration(host: "localhost", username: "u", password: "p"))
            try SMTPTransport.checkCredentialsPolicy(SMTPConfiguration(host: "smtp.example.org", security: .startTLS, username: "u"))
            try SMTPTransport.checkCredentialsPolicy(SMTPConfiguration(host: "smtp.example.org"))
        }
    }
}

/// The pieces of the transport and the rendering that need no server.
@Suite struct MailEncodingTests {
    @Test func dotStuffing() {
        let payload = SMTPTransport.dataPayload(Array("a\r\n.b\r\n.\r\n..c\r\nd.".utf8))
        #expect(String(decoding: payload, as: UTF8.self) == "a\r\n..b\r\n..\r\n...c\r\nd.\r\n.\r\n")
        #expect(String(decoding: SMTPTransport.dataPayload(Array(".x\r\n".utf8)), as: UTF8.self) == "..x\r\n.\r\n")
    }

    @Test func authPlainEncoding() {
        #expect(SMTPTransport.authPlainResponse(username: "u", password: "p") == "AHUAcA==")
        #expect(SMTPTransport.authPlainResponse(username: "margin", password: "s3cret") == "AG1hcmdpbgBzM2NyZXQ=")
        #expect(MIMEEncoding.base64(Array("pässword".utf8)) == "cMOkc3N3b3Jk")
    }

    @Test func dates() {
        #expect(MIMEEncoding.rfc5322Date(millis: 0) == "Thu, 01 Jan 1970 00:00:00 +0000")
        #expect(MIMEEncoding.rfc5322Date(millis: 951_782_400_000) == "Tue, 29 Feb 2000 00:00:00 +0000")
        #expect(MIMEEncoding.rfc5322Date(millis: 1_772_323_199_999) == "Sat, 28 Feb 2026 23:59:59 +0000")
        #expect(MIMEEncoding.rfc5322Date(millis: -1) == "Wed, 31 Dec 1969 23:59:59 +0000")
    }

    @Test func renderedShape() throws {
        var message = SMTPTransportTests.awkwardMessage()
        message.subject = String(repeating: "averyveryverylongwordwithoutanyspace", count: 4)
        message.headers.append((name: "X-Long", value: String(repeating: "z", count: 2000)))
        let rendered = message.rendered()
        let text = String(decoding: rendered, as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n")
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        #expect(lines.allSatisfy { $0.utf8.count <= 998 })
        let headerEnd = try #require(lines.firstIndex(of: ""))
        // Only the line with the unbreakable URL may be longer than 78.
        #expect(lines[..<headerEnd].filter { $0.utf8.count > 78 }.count == 1)
        #expect(lines.contains { $0.hasPrefix("X-Long: =?UTF-8?B?") })
        #expect(lines[(headerEnd + 1)...].allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.contains("Content-Type: text/plain; charset=utf-8"))
        #expect(lines.contains("Message-ID: <20260301.abc123@blog.example.org>"))
        #expect(lines.contains { $0.hasPrefix("Subject: =?UTF-8?B?") })
    }

    @Test func messageIDIsStoredWithoutBrackets() {
        let a = MailMessage(from: "a@b.c", to: ["d@e.f"], subject: "s", body: "b", messageID: "<x@y>", date: 0)
        let b = MailMessage(from: "a@b.c", to: ["d@e.f"], subject: "s", body: "b", messageID: "x@y", date: 0)
        #expect(a.messageID == "x@y")
        #expect(a == b)
        var c = b
        c.headers = [(name: "X", value: "1")]
        #expect(c != b)
    }
}

/// A socket listening on 127.0.0.1 at a free port: its descriptor and port.
private func listenOnLoopback() throws -> (descriptor: Int32, port: Int) {
    let fd = socket(AF_INET, streamSocketType, 0)
    guard fd >= 0 else { throw POSIXError(.EIO) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else {
        _ = systemClose(fd)
        throw POSIXError(.EADDRINUSE)
    }
    return (fd, Int(UInt16(bigEndian: address.sin_port)))
}

/// A listening socket that accepts connections (in the kernel's backlog) and never says a word.
final class SilentServer: @unchecked Sendable {
    let port: Int
    private let descriptor: Int32

    /// Listens on a free port.
    init() throws {
        (descriptor, port) = try listenOnLoopback()
    }

    /// Stops listening.
    func close() {
        _ = systemClose(descriptor)
    }
}

/// A fake SMTP server for one connection that follows a script, for what aiosmtpd will not do
/// (refuse EHLO, inject data after STARTTLS). Runs on its own thread with blocking sockets, each
/// read bounded by a 10 s receive timeout.
final class ScriptedSMTPServer: @unchecked Sendable {
    /// One step of the script.
    enum Step {
        /// Write this text as it is.
        case send(String)
        /// Read one line, which must start with this.
        case expect(String)
        /// Read message lines up to the lone ".".
        case readData
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var lines: [String] = []
    private var failure: String?
    private var done = false

    /// Listens on a free port and plays `script` to the first connection.
    init(_ script: [Step]) throws {
        (listener, port) = try listenOnLoopback()
        // Generous: when the whole suite runs in parallel on a busy machine, the client may only
        // connect many seconds after the server is made.
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        _ = setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let listener = self.listener
        Thread.detachNewThread { [self] in
            run(script, listener: listener)
        }
    }

    /// The lines the client sent, without CRLF.
    var received: [String] { lock.withLock { lines } }
    /// What went off script, if anything.
    var scriptFailure: String? { lock.withLock { failure } }

    /// Waits (at most 60 s) until the script ran to its end or broke off.
    func waitUntilDone() async throws {
        for _ in 0..<1200 {
            if lock.withLock({ done }) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Stops listening (ending a wait for a connection).
    func close() {
        _ = shutdown(listener, Int32(SHUT_RDWR))
        _ = systemClose(listener)
    }

    /// Accepts one connection and plays the script on it.
    private func run(_ script: [Step], listener: Int32) {
        defer { lock.withLock { done = true } }
        let connection = accept(listener, nil, nil)
        guard connection >= 0 else { return record(failure: "no connection") }
        defer { _ = systemClose(connection) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var pending: [UInt8] = []
        func readLine() -> String? {
            while true {
                if let newline = pending.firstIndex(of: 10) {
                    let line = String(decoding: pending[..<newline].filter { $0 != 13 }, as: UTF8.self)
                    pending.removeSubrange(...newline)
                    lock.withLock { lines.append(line) }
                    return line
                }
                var chunk = [UInt8](repeating: 0, count: 4096)
                let count = recv(connection, &chunk, chunk.count, 0)
                guard count > 0 else { return nil }
                pending.append(contentsOf: chunk[..<count])
            }
        }
        for step in script {
            switch step {
            case .send(let text):
                let bytes = Array(text.utf8)
                guard send(connection, bytes, bytes.count, sendFlags) == bytes.count else {
                    return record(failure: "could not send \(text)")
                }
            case .expect(let prefix):
                guard let line = readLine() else { return record(failure: "connection ended before \(prefix)") }
                guard line.hasPrefix(prefix) else { return record(failure: "expected \(prefix), got \(line)") }
            case .readData:
                while true {
                    guard let line = readLine() else { return record(failure: "connection ended in DATA") }
                    if line == "." { break }
                }
            }
        }
    }

    /// Notes where the script broke off.
    private func record(failure text: String) {
        lock.withLock { failure = text }
    }
}
