extension DestinationGuard {
    /// A host that could not be resolved: not a refusal (the name may exist later), but no
    /// attempt can be made now.
    struct Unresolved: Error, CustomStringConvertible {
        var host: String
        var reason: String
        var description: String { "\(host) could not be resolved (\(reason))" }
    }
}
