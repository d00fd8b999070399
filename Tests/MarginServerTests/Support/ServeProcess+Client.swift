import TestSupport

extension ServeProcess {
    /// A client for the server's port.
    var client: HTTPClient { HTTPClient(port: port, timeout: .seconds(10)) }
}
