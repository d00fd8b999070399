import Comments
import Foundation
import Hummingbird
import Moderation
import NIOCore

/// An error as the API answers it: `{"error": {"code", "message"}}` with its status. Every error
/// of every module is turned into one of these here, and nowhere else.
public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    /// `{"error":{"code":…,"message":…}}`.
    var body: ByteBuffer {
        var json = JSONWriter(capacity: 128)
        json.raw("{\"error\":{")
        json.key("code"); json.string(code); json.raw(",")
        json.key("message"); json.string(message)
        json.raw("}}")
        return ByteBuffer(bytes: json.bytes)
    }
}

extension APIError {
    /// The one mapping from anything thrown to what the client sees.
    static func from(_ error: any Error) -> APIError? {
        switch error {
        case let error as APIError: return error
        case let error as CommentsError: return from(error)
        case let error as HookError: return from(error)
        case let error as HTTPError: return from(error)
        case let error as NIOTooManyBytesError:
            return APIError(.contentTooLarge, code: "body_too_large",
                            message: "The request body is larger than \(error.maxBytes ?? Limits.bodyBytesMax) bytes.")
        default: return nil
        }
    }

    static func from(_ error: CommentsError) -> APIError {
        // A storage failure's detail (a host name, a database server's message) is logged by
        // `ErrorMiddleware`, never answered.
        let message = error.publicDescription
        switch error {
        case .siteNotFound: return APIError(.notFound, code: "site_not_found", message: message)
        case .siteExists: return APIError(.conflict, code: "site_exists", message: message)
        case .siteHasComments: return APIError(.conflict, code: "site_has_comments", message: message)
        case .commentNotFound: return APIError(.notFound, code: "comment_not_found", message: message)
        case .hookNotFound: return APIError(.notFound, code: "hook_not_found", message: message)
        case .invalidField(let field, _): return APIError(.unprocessableContent, code: "invalid_\(field)", message: message)
        case .originNotAllowed: return APIError(.forbidden, code: "origin_not_allowed", message: message)
        // A missing or wrong credential is 401 with a challenge (RFC 9110), as in the admin API.
        case .invalidEditToken:
            return APIError(.unauthorized, code: "invalid_edit_token", message: message, headers: [.wwwAuthenticate: "Bearer"])
        case .editWindowClosed: return APIError(.forbidden, code: "edit_window_closed", message: message)
        case .threadLocked: return APIError(.forbidden, code: "thread_locked", message: message)
        case .nothingToRestore: return APIError(.conflict, code: "nothing_to_restore", message: message)
        case .storageUnavailable:
            return APIError(.serviceUnavailable, code: "storage_unavailable", message: message, headers: [.retryAfter: "5"])
        // Only at start-up, never from a request: the server does not start with a bad URL.
        case .invalidDatabaseURL:
            return APIError(.serviceUnavailable, code: "storage_unavailable", message: message, headers: [.retryAfter: "5"])
        // Only from `margin migrate`, never from a request.
        case .copyRefused: return APIError(.conflict, code: "migration_refused", message: message)
        }
    }

    static func from(_ error: HookError) -> APIError {
        switch error {
        case .invalid(let field, _): return APIError(.unprocessableContent, code: "invalid_\(field)", message: error.description)
        // The sentence names the host and the address it resolved to, and how to allow it.
        case .destinationRefused: return APIError(.unprocessableContent, code: "destination_refused", message: error.description)
        }
    }

    static func from(_ error: HTTPError) -> APIError {
        switch error.status {
        case .notFound:
            return APIError(.notFound, code: "not_found", message: "There is nothing at this address.", headers: error.headers)
        case .methodNotAllowed:
            return APIError(.methodNotAllowed, code: "method_not_allowed", message: "This address does not take that method.", headers: error.headers)
        case .contentTooLarge:
            return APIError(.contentTooLarge, code: "body_too_large", message: "The request body is too large.", headers: error.headers)
        default:
            let code = error.status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "_")
            return APIError(error.status, code: code.isEmpty ? "http_\(error.status.code)" : code,
                            message: error.body ?? error.status.reasonPhrase, headers: error.headers)
        }
    }

    static let malformedJSON = APIError(.badRequest, code: "malformed_json", message: "The body is not valid JSON.")
    static let invalidUTF8 = APIError(.badRequest, code: "invalid_utf8", message: "The body is not valid UTF-8.")
    static let unsupportedMediaType = APIError(
        .unsupportedMediaType, code: "unsupported_media_type", message: "Send the body as application/json.")
}
