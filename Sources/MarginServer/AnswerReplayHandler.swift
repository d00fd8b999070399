import Comments
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Per connection, between the HTTP codec and Hummingbird: answers a GET from the replay book
/// when the store's change stamp still matches, byte for byte as the router answered it before
/// (only `Date` and `X-Request-Id` are new), and records the router's marked answers to
/// requests it saw before. After a request that says `Connection: close`, it closes the
/// connection, as Hummingbird does.
///
/// Why: for a cached thread, the router, the middleware chain and the async hand-offs cost
/// several times what writing the answer does. What the middleware would do per request is done
/// here too: the request is counted and logged under its route, and the answer gets its request
/// id. A request is replayed only when no earlier request of the connection is still being
/// answered (pipelining keeps its order), and never one that carries a body or asks for an
/// upgrade.
final class AnswerReplayHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// What every connection of a server shares.
    struct Shared: Sendable {
        let book: AnswerReplayBook
        let store: any CommentStore
        let metrics: ServerMetrics
        let logger: Logger
        let serverDate: HTTPDate
    }

    private let shared: Shared
    /// Requests passed on to the router whose answer has not ended yet.
    private var inFlight = 0
    /// The one request passed on that may be recorded, and the stamp before it was passed on.
    private var pending: (key: AnswerReplayBook.Key, stamp: Int64)?
    /// The answer being recorded for `pending`.
    private var recording: AnswerReplayBook.Recording?
    /// The request just replayed: its remaining parts are dropped.
    private var dropping = false
    /// Answered a request that asked to close: nothing more is read.
    private var closing = false

    init(shared: Shared) { self.shared = shared }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let request):
            dropping = false
            if inFlight == 0, let key = Self.replayKey(request), let stamp = shared.store.changeTracking?.changeStamp() {
                switch shared.book.look(up: key, at: stamp) {
                case .answer(let answer):
                    replay(answer, to: request, context: context)
                    dropping = true
                    return
                case .askedBefore: pending = (key, stamp)
                case .firstAsk: pending = nil
                }
            } else {
                pending = nil
            }
            inFlight += 1
        case .body, .end:
            if dropping {
                if case .end = part { dropping = false }
                return
            }
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var response):
            guard let mark = response.headerFields[.marginReplay] else { break }
            response.headerFields[.marginReplay] = nil
            if let pending, inFlight == 1, let (stamp, route) = AnswerReplayBook.parseMark(mark), stamp == pending.stamp {
                var kept = response
                kept.headerFields[.date] = nil
                kept.headerFields[.requestID] = nil
                recording = .init(response: kept, body: [], route: route)
            }
            context.write(wrapOutboundOut(.head(response)), promise: promise)
            return
        case .body(let buffer):
            recording?.body.append(buffer)
        case .end:
            if let recording, let pending { shared.book.record(recording, for: pending.key, at: pending.stamp) }
            recording = nil
            pending = nil
            inFlight -= 1
        }
        context.write(data, promise: promise)
    }

    /// What a replayable request is keyed by; nil when it must go to the router.
    static func replayKey(_ request: HTTPRequest) -> AnswerReplayBook.Key? {
        guard request.method == .get, let target = request.path else { return nil }
        let fields = request.headerFields
        var key = AnswerReplayBook.Key(target: target)
        for field in fields {
            switch field.name {
            case .origin: if key.origin == nil { key.origin = field.value } else { return nil }
            case .acceptEncoding: if key.acceptEncoding == nil { key.acceptEncoding = field.value } else { return nil }
            case .ifNoneMatch: if key.ifNoneMatch == nil { key.ifNoneMatch = field.value } else { return nil }
            case .connection:
                guard key.connection == nil, ["keep-alive", "close"].contains(field.value.lowercased()) else { return nil }
                key.connection = field.value
            case .contentLength, .transferEncoding, .upgrade: return nil
            default: continue
            }
        }
        return key
    }

    private func replay(_ answer: AnswerReplayBook.Recording, to request: HTTPRequest, context: ChannelHandlerContext) {
        let start = RequestObserverMiddleware.monotonicNanoseconds()
        let requestID = RequestObserverMiddleware.sane(request.headerFields[.requestID]) ?? RequestID().description
        var response = answer.response
        response.headerFields.append(HTTPField(name: .date, value: shared.serverDate.now()))
        response.headerFields.append(HTTPField(name: .requestID, value: requestID))
        context.write(wrapOutboundOut(.head(response)), promise: nil)
        for buffer in answer.body { context.write(wrapOutboundOut(.body(buffer)), promise: nil) }
        // Hummingbird closes after exactly this value, so the same is done here.
        if request.headerFields[.connection] == "close" {
            closing = true
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        // Only thread answers are marked (CommentsRoutes.thread).
        shared.metrics.threadCache.replayed.increment()
        RequestObserverMiddleware.finish(
            method: request.method, route: answer.route, status: response.status.code, requestID: requestID, start: start,
            metrics: shared.metrics, logger: shared.logger)
    }
}
