import Hummingbird
import NIOCore

/// The per-request context: Hummingbird's core storage plus the peer address, which rate limits,
/// votes and anonymised storage need.
public struct MarginRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as text.
    var clientIP: String? { remoteAddress?.ipAddress }
}
