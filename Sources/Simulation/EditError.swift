/// Why a `LabEdit` cannot be applied: one user-facing sentence (names unescaped; the UI
/// escapes what it prints).
public struct EditError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
