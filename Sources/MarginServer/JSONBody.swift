import Comments
import Foundation
import Hummingbird
import NIOCore

/// Reading and writing JSON bodies with the API's rules: JSON only (415), at most 64 KiB (413),
/// valid UTF-8 and JSON (400), fields of the right type (422 naming the field).
enum JSONBody {
    /// Reads the request body as a JSON object and builds `T` from it.
    static func decode<T: JSONRequest>(_ type: T.Type, from request: Request) async throws -> T {
        let contentType = request.headers[.contentType]?.split(separator: ";").first?
            .trimmingCharacters(in: .whitespaces).lowercased()
        guard contentType == "application/json" else { throw APIError.unsupportedMediaType }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > Limits.bodyBytesMax {
            throw APIError.from(NIOTooManyBytesError(maxBytes: Limits.bodyBytesMax))!
        }
        var request = request
        let buffer = try await request.collectBody(upTo: Limits.bodyBytesMax)
        let bytes = Array(buffer.readableBytesView)
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
        return try T(JSONObject(values: object))
    }

    /// A JSON response from pre-encoded bytes.
    static func response(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
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
    init(_ json: JSONObject) throws
}

/// Typed access to a parsed JSON object; a field of the wrong type is a 422 naming it.
struct JSONObject {
    let values: [String: Any]

    private func value(_ key: String) -> Any? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    private func wrongType(_ key: String, _ type: String) -> CommentsError {
        .invalidField(field: key, message: "must be \(type)")
    }

    /// A string field, or nil when absent or null.
    func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value as? String else { throw wrongType(key, "a string") }
        return string
    }

    /// An integer field, or nil when absent or null.
    func integer(_ key: String) throws -> Int64? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, !(value is NSDecimalNumber), !Self.isBoolean(number) else {
            throw wrongType(key, "an integer")
        }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9.0e15 else { throw wrongType(key, "an integer") }
        return number.int64Value
    }

    /// A boolean field, or nil when absent or null.
    func boolean(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else { throw wrongType(key, "true or false") }
        return number.boolValue
    }

    /// An array of strings, or nil when absent or null.
    func strings(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard let array = value as? [Any], let strings = array as? [String] else { throw wrongType(key, "an array of strings") }
        return strings
    }

    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
