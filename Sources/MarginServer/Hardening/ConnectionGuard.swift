import Comments
import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import Synchronization

/// Open connections per peer network (an IPv4 address, an IPv6 /64: `IPAnonymizer.clientNetwork`),
/// shared by all connections of one server.
final class ConnectionCounter: Sendable {
    private let open = Mutex<[String: Int]>([:])
    /// Most connections one address may hold open.
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection from `address` (by its network, `IPAnonymizer.clientKey`, so that
    /// the addresses of one IPv6 /64 share one limit); false (and not counted) when that network
    /// already has `limit`.
    func admit(_ address: String) -> Bool {
        let address = IPAnonymizer.clientKey(of: address)
        return open.withLock { open in
            let count = open[address, default: 0]
            guard count < limit else { return false }
            open[address] = count + 1
            return true
        }
    }

    /// Forgets one connection of `address` (of its network).
    func release(_ address: String) {
        let address = IPAnonymizer.clientKey(of: address)
        open.withLock { open in
            if let count = open[address], count > 1 { open[address] = count - 1 } else { open[address] = nil }
        }
    }
}

/// The per-connection abuse limits, between NIO's HTTP decoding and Hummingbird:
/// - over `ConnectionCounter.limit` connections from one peer address, the new one is closed at
///   once, before it is read (answering would mean reading a request first);
/// - slow clients: a request head must arrive within the request timeout of the connection opening
///   or of its previous answer ending, and its body within the same time from the head plus a
///   second per `minBodyRate` bytes, else the connection is closed (slowloris, idle keep-alive);
/// - a request head the decoder refuses (too large, too many fields, malformed) is answered with
///   the API's JSON error (431 or 400) instead of an empty 400, then the connection is closed.
/// Per request it only notes the time twice; its one timer is re-armed only when it fires.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What the guard is told, the same for every connection of a server.
    struct Settings: Sendable {
        var requestTimeout: TimeAmount
        var minBodyRate: Int
        var counter: ConnectionCounter?
    }

    /// Where the connection is, and so which deadline applies.
    enum Phase {
        /// Not yet open.
        case starting
        /// Waiting for a request head (or idle between requests) since then.
        case waiting(since: NIODeadline)
        /// Reading a request body that started then, this many bytes so far.
        case reading(since: NIODeadline, bytes: Int)
        /// The server has the whole request and is answering: no deadline.
        case responding
        /// Answered before the body was read; the rest of it is being discarded.
        case draining(since: NIODeadline)
        /// Refused or answered an unreadable request; closing.
        case closing
    }

    private let settings: Settings
    private var phase = Phase.starting
    /// Requests whose head was read and whose answer has not ended yet.
    private var inFlight = 0
    private var timer: Scheduled<Void>?
    private var timerDeadline = NIODeadline.distantFuture
    /// The peer address counted against the per-address limit, to release on close.
    private var counted: String?

    init(settings: Settings) { self.settings = settings }

    // MARK: Opening and closing

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard case .starting = phase else { return }
        if let counter = settings.counter, let address = context.channel.remoteAddress?.ipAddress {
            guard counter.admit(address) else {
                phase = .closing
                // After this event has gone through the pipeline, so that every handler sees
                // the channel open before it sees it closed.
                context.eventLoop.assumeIsolated().execute { context.close(promise: nil) }
                return
            }
            counted = address
        }
        phase = .waiting(since: .now())
        arm(context)
    }

    private func stop() {
        timer?.cancel()
        timer = nil
        if let counted { settings.counter?.release(counted) }
        counted = nil
    }

    // MARK: Requests and answers

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .closing = phase { return } // refused or timed out: nothing more is served
        switch unwrapInboundIn(data) {
        case .head:
            inFlight += 1
            phase = .reading(since: .now(), bytes: 0)
            arm(context)
        case .body(let buffer):
            if case .reading(let since, let bytes) = phase { phase = .reading(since: since, bytes: bytes + buffer.readableBytes) }
        case .end:
            phase = inFlight == 0 ? .waiting(since: .now()) : .responding
            arm(context)
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            inFlight -= 1
            if inFlight == 0 {
                switch phase {
                case .reading: phase = .draining(since: .now())
                case .responding: phase = .waiting(since: .now())
                case .starting, .waiting, .draining, .closing: break
                }
                arm(context)
            }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if case .closing = phase { return } // the decoder repeating itself about bytes after the bad head
        guard let parseError = error as? HTTPParserError, inFlight == 0 else {
            context.fireErrorCaught(error)
            return
        }
        phase = .closing
        timer?.cancel()
        timer = nil
        let (status, code, message) = parseError == .headerOverflow
            ? (HTTPResponse.Status.requestHeaderFieldsTooLarge, "headers_too_large", "The request's address and header fields are too large or too many.")
            : (HTTPResponse.Status.badRequest, "malformed_request", "The request is not valid HTTP.")
        let body = APIError(status, code: code, message: message).body
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "application/json; charset=utf-8", .contentLength: String(body.readableBytes),
            .connection: "close", .cacheControl: "no-store", .xContentTypeOptions: "nosniff",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        // Close only our side at first and close fully a moment later: closing with the rest of
        // the client's head unread would reset the connection and lose the answer.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { context.close(promise: nil) }
        }
    }

    // MARK: The deadline

    /// When the current phase runs out; nil while the server is answering.
    private var deadline: NIODeadline? {
        switch phase {
        case .waiting(let since), .draining(let since):
            return since + settings.requestTimeout
        case .reading(let since, let bytes):
            guard settings.minBodyRate > 0 else { return since + settings.requestTimeout }
            let earned = Int64(min(bytes / settings.minBodyRate, 1 << 32))
            return since + settings.requestTimeout + .seconds(earned)
        case .starting, .responding, .closing:
            return nil
        }
    }

    /// Makes sure the timer fires no later than the current deadline; one that fires early finds
    /// a later deadline and sleeps again, so requests in a hurry never touch the timer.
    private func arm(_ context: ChannelHandlerContext) {
        guard let deadline else { return }
        if timer != nil {
            guard deadline < timerDeadline else { return }
            timer?.cancel()
        }
        timerDeadline = deadline
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timer = nil
            timerDeadline = .distantFuture
            guard let deadline = self.deadline else { return }
            if deadline <= .now() {
                phase = .closing
                context.close(promise: nil)
            } else {
                arm(context)
            }
        }
    }
}
