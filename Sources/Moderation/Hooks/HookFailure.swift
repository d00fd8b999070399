/// Why a request could not be made or sent: a sentence kept as the delivery's last error.
struct HookFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
