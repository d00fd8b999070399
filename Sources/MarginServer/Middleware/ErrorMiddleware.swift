import Comments
import Hummingbird
import Logging
import Moderation

/// Turns every thrown error into the JSON error shape. Bad input never becomes a 500; anything
/// unexpected is logged and answered 500 without internals.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try Self.response(for: error, request: request, context: context)
        }
    }

    /// The answer to `error`, logging what the answer does not say; every middleware that turns
    /// errors into answers (CORS adds its headers to them) goes through this.
    static func response(for error: any Error, request: Request, context: Context) throws -> Response {
        if let page = error as? PageError { return try page.response(from: request, context: context) }
        if let apiError = APIError.from(error) {
            if let failure = error as? CommentsError, failure.publicDescription != failure.description {
                // The answer says only that the store is unavailable; the log says why.
                context.logger.error("storage unavailable", metadata: [
                    "error": "\(Redaction.emailAddresses(in: failure.description))", "route": "\(context.endpointPath ?? "unmatched")",
                ])
            }
            return try apiError.response(from: request, context: context)
        }
        // Errors can quote what a reader sent; never their email address.
        context.logger.error("unexpected error", metadata: [
            "error": "\(Redaction.emailAddresses(in: String(reflecting: error)))", "path": "\(request.uri.path)",
        ])
        return try APIError(.internalServerError, code: "internal_error", message: "Something went wrong on the server.")
            .response(from: request, context: context)
    }
}
