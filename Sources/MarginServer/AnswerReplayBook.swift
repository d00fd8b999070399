import Comments
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

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

extension HTTPField.Name {
    /// Set by a route on an answer that may be replayed while the store's change stamp stays
    /// at the value it carries (`AnswerReplayBook.mark`); never leaves the server.
    static let marginReplay = Self("Margin-Replay")!
}
