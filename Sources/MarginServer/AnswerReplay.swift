import Comments
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension HTTPField.Name {
    /// Set by a route on an answer that may be replayed while the store's change stamp stays
    /// at the value it carries (`AnswerReplayBook.mark`); never leaves the server.
    static let marginReplay = Self("Margin-Replay")!
}

/// Answers the router gave, kept so that the same request can be answered again without
/// entering the router while nothing in the store has changed since.
///
/// A route opts in per answer with `mark(_:stamp:route:)`; `AnswerReplayHandler` records marked
/// answers to requests that came before, and replays them. Every recording belongs to one
/// change stamp: the first recording at a newer stamp drops all the older ones, which could no
/// longer be replayed anyway.
final class AnswerReplayBook: Sendable {
    /// What a recorded answer depends on besides the store: the request target and the request
    /// fields the routes and middleware read for a GET.
    struct Key: Hashable, Sendable {
        var target: String
        var origin: String?
        var acceptEncoding: String?
        var ifNoneMatch: String?
        /// `Connection`: only absent, `keep-alive` or `close` are replayed.
        var connection: String?
    }

    /// One answer as the router gave it, without the fields that differ per response.
    struct Recording: Sendable {
        var response: HTTPResponse
        var body: [ByteBuffer]
        /// The route template, for the metrics and the request log.
        var route: String
        var bodyBytes: Int { body.reduce(0) { $0 + $1.readableBytes } }
        /// About what keeping it costs: the body and the fields, each field's strings with
        /// their overhead (a small thread's recording is mostly fields).
        var heldBytes: Int {
            response.headerFields.reduce(bodyBytes) { $0 + $1.name.rawName.utf8.count + $1.value.utf8.count + 64 }
        }
    }

    private struct Pages {
        var stamp: Int64 = .min
        var recordings: [Key: Recording] = [:]
        var bytes = 0
        /// Requests asked for since the book last started over, whatever their answer.
        var asked: Set<Key> = []
    }

    private let pages = Mutex(Pages())
    /// Most answers kept (and requests remembered), and most bytes they hold. Bodies are shared
    /// with the thread cache only while it holds the same answer: reading through many threads
    /// twice each (two clients, one behind the other) records answers the cache has long
    /// dropped, so the book's own budget is what bounds them. Measured on the rotation over the
    /// 1,000,000-comment database, the peak RSS rose by 14 MB with 8 MB and 4,096 answers, by
    /// 8 MB with 4 MB, and by 4 MB with 2 MB, which still holds most of the 500 threads of
    /// bench scenario (b) (0.85 of its throughput with 4 MB).
    let capacity: Int
    let byteBudget: Int

    init(capacity: Int = 2048, byteBudget: Int = 2 << 20) {
        self.capacity = capacity
        self.byteBudget = byteBudget
    }

    /// What the book has for a request.
    enum Lookup {
        /// Its answer, current at the stamp asked about.
        case answer(Recording)
        /// No answer, but the same request came before: its answer is worth recording.
        case askedBefore
        /// A request not seen before. Recording every answer would make a reader who goes
        /// through many threads once each fill the book with answers nobody asks for again.
        case firstAsk
    }

    /// Looks `key` up at `stamp`, and remembers that it was asked for.
    func look(up key: Key, at stamp: Int64) -> Lookup {
        pages.withLock { pages in
            if pages.stamp == stamp, let recording = pages.recordings[key] { return .answer(recording) }
            if pages.asked.contains(key) { return .askedBefore }
            if pages.asked.count >= capacity { pages.asked.removeAll(keepingCapacity: true) }
            pages.asked.insert(key)
            return .firstAsk
        }
    }

    /// Keeps `recording` as the answer to `key` while the stamp stays `stamp`.
    func record(_ recording: Recording, for key: Key, at stamp: Int64) {
        let bytes = recording.heldBytes
        pages.withLock { pages in
            if pages.stamp != stamp {
                pages.stamp = stamp
                pages.recordings.removeAll(keepingCapacity: true)
                pages.bytes = 0
            }
            if let old = pages.recordings[key] { pages.bytes -= old.heldBytes }
            guard pages.recordings.count < capacity || pages.recordings[key] != nil, pages.bytes + bytes <= byteBudget else {
                pages.recordings[key] = nil
                return
            }
            pages.recordings[key] = recording
            pages.bytes += bytes
        }
    }

    /// Lets the answer in `headers` be replayed while the store's change stamp stays `stamp`.
    /// Only for an answer that is a function of the request's target, `Origin`,
    /// `Accept-Encoding` and `If-None-Match` and of what the store held at `stamp`.
    static func mark(_ headers: inout HTTPFields, stamp: Int64?, route: String?) {
        guard let stamp, let route else { return }
        headers.append(HTTPField(name: .marginReplay, value: "\(stamp) \(route)"))
    }

    /// The stamp and route a `mark` wrote.
    static func parseMark(_ value: String) -> (stamp: Int64, route: String)? {
        guard let space = value.firstIndex(of: " "), let stamp = Int64(value[..<space]) else { return nil }
        return (stamp, String(value[value.index(after: space)...]))
    }
}

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
            if inFlight == 0, let key = Self.replayKey(request), let stamp = shared.store.changeStamp() {
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

/// The `Date` field's value (RFC 9110 IMF-fixdate), formatted once per second.
final class HTTPDate: Sendable {
    private let cached = Mutex<(second: Int, text: String)>((-1, ""))

    /// Now, as `Sun, 06 Nov 1994 08:49:37 GMT`.
    func now() -> String {
        var seconds = time(nil)
        return cached.withLock { cached in
            if cached.second == seconds { return cached.text }
            cached = (seconds, Self.format(&seconds))
            return cached.text
        }
    }

    /// `seconds` since the epoch as an IMF-fixdate.
    static func format(_ seconds: inout time_t) -> String {
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
