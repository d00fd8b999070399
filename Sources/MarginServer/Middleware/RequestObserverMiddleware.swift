import HTTPTypes
import Hummingbird
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension HTTPField.Name {
    /// The request id a proxy sent, echoed on every response.
    static let requestID = Self("X-Request-Id")!
}

/// The outermost middleware: gives each request an id, counts it in the metrics under its route
/// template, and logs one line for it (method, route, status, duration, request id).
///
/// The route is the matched template (`/api/v1/comments/{id}`), never the raw path: that keeps the
/// metrics' label sets bounded, and keeps what is in a path or query (moderation-link signatures,
/// tokens) out of the log. The duration runs until the response is handed to the server, not
/// until its last byte is written.
struct RequestObserverMiddleware: RouterMiddleware {
    typealias Context = MarginRequestContext

    let metrics: ServerMetrics
    /// The server's logger (not the request's, which would repeat Hummingbird's id field).
    let logger: Logger

    /// The longest incoming request id honoured.
    static let requestIDLengthMax = 128

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = Self.monotonicNanoseconds()
        var context = context
        let requestID: String
        if let incoming = Self.sane(request.headers[.requestID]) {
            requestID = incoming
            // So that whatever a handler logs carries the proxy's id too.
            context.logger[metadataKey: "hb.request.id"] = .string(incoming)
        } else {
            requestID = context.id
        }
        do {
            var response = try await next(request, context)
            response.headers[.requestID] = requestID
            finish(request, context: context, status: response.status.code, requestID: requestID, start: start)
            return response
        } catch {
            // ErrorMiddleware answers everything; this is only for what escapes it.
            finish(request, context: context, status: (error as? any HTTPResponseError)?.status.code ?? 500, requestID: requestID, start: start)
            throw error
        }
    }

    private func finish(_ request: Request, context: Context, status: Int, requestID: String, start: UInt64) {
        Self.finish(method: request.method, route: Self.route(context.endpointPath), status: status, requestID: requestID,
                    start: start, metrics: metrics, logger: logger)
    }

    /// Counts a request that started at `start` (`monotonicNanoseconds`) and logs its one line;
    /// also for answers given before the router (`AnswerReplayHandler`).
    static func finish(
        method: HTTPRequest.Method, route: String, status: Int, requestID: String, start: UInt64, metrics: ServerMetrics, logger: Logger
    ) {
        let elapsed = monotonicNanoseconds() &- start
        metrics.recordRequest(route: route, method: method, status: status, nanoseconds: elapsed)
        logger.info("request", metadata: [
            "method": .string(method.rawValue),
            "route": .string(route),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(milliseconds(elapsed)),
            "request_id": .string(requestID),
        ])
    }

    /// The route template, or `unmatched` for requests no route took.
    static func route(_ endpointPath: String?) -> String {
        guard let endpointPath, endpointPath != "NotFound" else { return "unmatched" }
        return endpointPath
    }

    /// An incoming `X-Request-Id` when it is 1 to 128 characters of `A-Z a-z 0-9 - _ . :`;
    /// anything else is ignored and an id is made instead, so a client can never put spaces,
    /// quotes or line breaks into the log through it.
    static func sane(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.utf8.count <= requestIDLengthMax else { return nil }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                continue
            default:
                return nil
            }
        }
        return value
    }

    /// Nanoseconds as milliseconds, to the microsecond (`12.345`).
    static func milliseconds(_ nanoseconds: UInt64) -> Double {
        Double(nanoseconds / 1000) / 1000
    }

    static func monotonicNanoseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }
}
