import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as the test client received it.
struct HTTPResult: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as a JSON object (empty when it is not one).
    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }

    /// `error.code` of a JSON error body.
    var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }

    func header(_ name: String) -> String? { headers.first(name: name) }
}

/// A tiny HTTP/1.1 client on SwiftNIO that sends exactly the bytes a test asks for (bad UTF-8,
/// odd content types, oversized bodies), one connection per request, with a deadline.
struct HTTPClient: Sendable {
    let port: Int
    var timeout: Duration = .seconds(20)

    func get(_ path: String, headers: [(String, String)] = []) async throws -> HTTPResult {
        try await send("GET", path, headers: headers)
    }

    /// Sends a JSON value (encoded with JSONSerialization) with `Content-Type: application/json`.
    func postJSON(_ path: String, _ value: Any, method: String = "POST", headers: [(String, String)] = []) async throws -> HTTPResult {
        let data = try JSONSerialization.data(withJSONObject: value)
        return try await send(method, path, headers: [("Content-Type", "application/json")] + headers, body: Array(data))
    }

    func send(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws -> HTTPResult {
        try await withThrowingTaskGroup(of: HTTPResult.self) { group in
            group.addTask { try await exchange(method, path, headers: headers, body: body) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw CancellationError()
            }
            let result = try await group.next()!
            group.cancelAll()
            return result
        }
    }

    private func exchange(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8]?) async throws -> HTTPResult {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: path)
            head.headers.add(name: "Host", value: "127.0.0.1:\(port)")
            head.headers.add(name: "Connection", value: "close")
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            if let body, !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
                head.headers.add(name: "Content-Length", value: String(body.count))
            }
            // The server may answer and close before reading a body it refuses; read on regardless.
            do {
                try await outbound.write(.head(head))
                if let body, !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
                try await outbound.write(.end(nil))
            } catch {}
            var result = HTTPResult(status: 0, headers: [:], body: [])
            for try await part in inbound {
                switch part {
                case .head(let response):
                    result.status = Int(response.status.code)
                    result.headers = response.headers
                case .body(let buffer):
                    result.body += Array(buffer.readableBytesView)
                case .end:
                    return result
                }
            }
            return result
        }
    }
}
