import Comments
import Foundation
import Hummingbird
import NIOCore

/// Reading and writing JSON bodies with the API's rules: JSON only (415), at most the context's
/// `maxUploadSize` (64 KiB unless configured; 413), valid UTF-8 and JSON (400), fields of the
/// right type (422 naming the field).
enum JSONBody {
    /// Reads the request body as a JSON object and builds `T` from it.
    static func decode<T: JSONRequest>(_ type: T.Type, from request: Request, context: MarginRequestContext) async throws -> T {
        try decode(type, from: try await collect(request, context: context))
    }

    /// The body of a JSON request, unparsed: 415 unless it says JSON, 413 past the limit.
    static func collect(_ request: Request, context: MarginRequestContext) async throws -> [UInt8] {
        guard isJSON(request.headers[.contentType]) else { throw APIError.unsupportedMediaType }
        let limit = context.maxUploadSize
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.from(NIOTooManyBytesError(maxBytes: limit))!
        }
        var request = request
        let buffer = try await request.collectBody(upTo: limit)
        return Array(buffer.readableBytesView)
    }

    /// Whether a `Content-Type` value names JSON: `application/json` in any case, with optional
    /// whitespace around it and any parameters after a `;`. (Not trimmed with Foundation's
    /// character sets: they showed in the profile of every POST.)
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        return contentType.prefix { $0 != ";" }.trimmingASCIISpaces.lowercased() == "application/json"
    }

    /// Builds `T` from a collected body: 400 unless it is UTF-8 and a JSON object.
    static func decode<T: JSONRequest>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        guard String(validating: bytes, as: UTF8.self) != nil else { throw APIError.invalidUTF8 }
        // JSONSerialization, not JSONDecoder: on Linux the decoder reports a wrong-typed number
        // (1.5 for an id) as "not valid JSON", and the client deserves to hear which field.
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])
        } catch {
            throw APIError.malformedJSON
        }
        guard let object = parsed as? [String: Any] else {
            throw APIError(.badRequest, code: "malformed_json", message: "The body must be a JSON object.")
        }
        return try T(JSONFields(values: object) { key, problem in CommentsError.invalidField(field: key, message: problem) })
    }

    /// A JSON response from a pre-encoded buffer (shared, not copied).
    static func response(_ buffer: ByteBuffer, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: buffer))
    }

    /// A JSON response from pre-encoded bytes.
    static func response(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        response(ByteBuffer(bytes: bytes), status: status, headers: headers)
    }

    /// A JSON response from an `Encodable` value.
    static func response(encoding value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return response(Array(try encoder.encode(value)), status: status, headers: headers)
    }
}

/// A request body that can be read from a JSON object.
protocol JSONRequest {
    init(_ json: JSONFields) throws
}
