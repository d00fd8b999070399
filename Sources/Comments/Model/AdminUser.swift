import Foundation

/// Someone who may sign in to the console and sees every site.
public struct AdminUser: Sendable, Equatable, Codable {
    public var email: String
    public var createdAt: Int64

    public init(email: String, createdAt: Int64) {
        self.email = email
        self.createdAt = createdAt
    }

    enum CodingKeys: String, CodingKey {
        case email
        case createdAt = "created_at"
    }
}

extension AdminUser {
    /// An address as admins, sessions and console roles compare it: trimmed and lowercased.
    public static func normalized(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }
}
