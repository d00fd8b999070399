import Foundation

/// Typed access to a parsed JSON object (from `JSONSerialization`). A field of the wrong type
/// is reported through `failure(key, problem)`, so each caller names it in its own error.
public struct JSONFields {
    public let values: [String: Any]
    let failure: (_ key: String, _ problem: String) -> any Error

    public init(values: [String: Any], failure: @escaping (_ key: String, _ problem: String) -> any Error) {
        self.values = values
        self.failure = failure
    }

    private func value(_ key: String) -> Any? {
        guard let value = values[key], !(value is NSNull) else { return nil }
        return value
    }

    /// A string field, or nil when absent or null.
    public func string(_ key: String) throws -> String? {
        guard let value = value(key) else { return nil }
        guard let string = value as? String else { throw failure(key, "must be a string") }
        return string
    }

    /// An integer field, or nil when absent or null. `1.5`, `true` and numbers beyond ±9e15 are refused.
    public func integer(_ key: String) throws -> Int64? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, !(value is NSDecimalNumber), !Self.isBoolean(number) else {
            throw failure(key, "must be an integer")
        }
        let double = number.doubleValue
        guard double.rounded() == double, abs(double) < 9.0e15 else { throw failure(key, "must be an integer") }
        return number.int64Value
    }

    /// An array of integers, or nil when absent or null; each element checked as `integer` does.
    public func integers(_ key: String) throws -> [Int64]? {
        guard let value = value(key) else { return nil }
        guard let array = value as? [Any] else { throw failure(key, "must be an array of integers") }
        return try array.map { element in
            guard let number = element as? NSNumber, !(element is NSDecimalNumber), !Self.isBoolean(number),
                  number.doubleValue.rounded() == number.doubleValue, abs(number.doubleValue) < 9.0e15
            else { throw failure(key, "must be an array of integers") }
            return number.int64Value
        }
    }

    /// A number field, or nil when absent or null.
    public func double(_ key: String) throws -> Double? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, !Self.isBoolean(number) else { throw failure(key, "must be a number") }
        return number.doubleValue
    }

    /// A boolean field, or nil when absent or null.
    public func boolean(_ key: String) throws -> Bool? {
        guard let value = value(key) else { return nil }
        guard let number = value as? NSNumber, Self.isBoolean(number) else { throw failure(key, "must be true or false") }
        return number.boolValue
    }

    /// An array of strings, or nil when absent or null.
    public func strings(_ key: String) throws -> [String]? {
        guard let value = value(key) else { return nil }
        guard let strings = value as? [String] else { throw failure(key, "must be an array of strings") }
        return strings
    }

    /// A string that must be present.
    public func required(_ key: String) throws -> String {
        guard let value = try string(key) else { throw failure(key, "is missing") }
        return value
    }

    /// An integer that must be present.
    public func requiredInteger(_ key: String) throws -> Int64 {
        guard let value = try integer(key) else { throw failure(key, "is missing") }
        return value
    }

    // On Linux, JSONSerialization gives booleans as NSNumbers of type char.
    private static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }
}
