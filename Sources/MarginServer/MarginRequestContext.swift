import Comments
import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer address, which rate limits,
/// votes and anonymised storage need.
public struct MarginRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The client's address from `X-Forwarded-For` when a trusted proxy sent it (set by
    /// `HardeningMiddleware`); nil when the peer is the client.
    var forwardedClientIP: String?
    /// Largest JSON body this request may have (set by `HardeningMiddleware` from the configuration).
    public var maxUploadSize = Limits.bodyBytesMax

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text: the peer's, or the one a trusted proxy forwarded.
    var clientIP: String? { forwardedClientIP ?? remoteAddress?.ipAddress }
}
