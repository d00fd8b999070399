import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server on 127.0.0.1 (NIO, no HTTP library: it reads the head and a
/// `content-length` body as bytes) that records each request and answers with what `answer`
/// says: a status, headers, a body, optionally after a delay, or a head whose body never comes.
final class HookListener: Sendable {
    /// What the listener sends back.
    struct Answer: Sendable {
        var status: Int = 200
        var headers: [(String, String)] = []
        var body: [UInt8] = Array("ok".utf8)
        /// Waits this long before answering.
        var delay: TimeAmount = .zero
        /// Sends the head (with a `content-length` of the body) but never the body.
        var stallAfterHead = false
    }

    /// One request as received.
    struct Request: Sendable {
        var method: String
        var target: String
        /// Names lowercased.
        var headers: [String: String]
        var body: [UInt8]
    }

    private let channel: any Channel
    private let state: Mutex<(answer: Answer, requests: [Request])>
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    private init(channel: any Channel, answer: Answer) {
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.state = Mutex((answer, []))
    }

    static func started(_ answer: Answer = Answer()) async throws -> HookListener {
        let box = Box(answer)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Handler(box: box)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let listener = HookListener(channel: channel, answer: answer)
        box.listener.withLock { $0 = listener }
        return listener
    }

    /// Answers the next requests with `answer`.
    func answer(_ answer: Answer) { state.withLock { $0.answer = answer } }

    /// The requests received so far, oldest first.
    var requests: [Request] { state.withLock { $0.requests } }

    func close() async { try? await channel.close() }

    fileprivate func received(_ request: Request) -> Answer {
        state.withLock { state in
            state.requests.append(request)
            return state.answer
        }
    }

    /// How the handlers find the listener (made after the bootstrap that makes them).
    private final class Box: Sendable {
        let listener = Mutex<HookListener?>(nil)
        let initial: Answer
        init(_ initial: Answer) { self.initial = initial }

        func received(_ request: Request) -> Answer {
            listener.withLock { $0 }?.received(request) ?? initial
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let box: Box
        var bytes: [UInt8] = []
        var answered = false

        init(box: Box) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            bytes += buffer.readableBytesView
            guard !answered, let request = parse() else { return }
            answered = true
            let answer = box.received(request)
            var head = "HTTP/1.1 \(answer.status) Answer\r\ncontent-length: \(answer.body.count)\r\nconnection: close\r\n"
            for (name, value) in answer.headers { head += "\(name): \(value)\r\n" }
            head += "\r\n"
            let loop = context.eventLoop
            let channel = context.channel
            let headBytes = Array(head.utf8)
            let body = answer.body
            let stall = answer.stallAfterHead
            loop.scheduleTask(in: answer.delay) {
                channel.writeAndFlush(ByteBuffer(bytes: headBytes), promise: nil)
                guard !stall else { return }
                channel.writeAndFlush(ByteBuffer(bytes: body)).whenComplete { _ in channel.close(promise: nil) }
            }
        }

        /// The request once its head and `content-length` body are in.
        private func parse() -> Request? {
            let separator: [UInt8] = [13, 10, 13, 10]
            guard bytes.count >= 4, let end = (0...(bytes.count - 4)).first(where: { bytes[$0..<$0 + 4].elementsEqual(separator) })
            else { return nil }
            let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
            let start = lines[0].split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            guard bytes.count - end - 4 >= length else { return nil }
            return Request(method: start.first.map(String.init) ?? "", target: start.count > 1 ? String(start[1]) : "",
                           headers: headers, body: Array(bytes[(end + 4)..<(end + 4 + length)]))
        }
    }
}
