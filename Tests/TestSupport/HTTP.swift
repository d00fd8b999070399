import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Small HTTP requests to a local server, through `URLSession`.
public enum HTTP {
    /// An answer: status, body and headers (lower-cased names).
    public struct Answer: Sendable {
        public var status: Int
        public var body: String
        public var headers: [String: String]

        /// The body as a JSON object.
        public var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] }
    }

    /// Sends a request to `host:port`; nil when nothing answers (refused, reset, timed out).
    public static func send(_ method: String, host: String = "127.0.0.1", port: Int, path: String, json: String? = nil, body: Data? = nil,
                            headers: [String: String] = [:], timeout: TimeInterval = 5) async -> Answer? {
        var request = URLRequest(url: URL(string: "http://\(host):\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = timeout
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.httpBody = Data(json.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        } else if let body {
            request.httpBody = body
        }
        guard let (data, response) = try? await URLSession.shared.data(for: request), let http = response as? HTTPURLResponse else {
            return nil
        }
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { fields[name.lowercased()] = value }
        }
        return Answer(status: http.statusCode, body: String(decoding: data, as: UTF8.self), headers: fields)
    }

    /// A JSON string literal for `text`.
    public static func quoted(_ text: String) -> String {
        String(decoding: try! JSONEncoder().encode(text), as: UTF8.self)
    }
}
