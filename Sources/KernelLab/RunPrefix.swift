/// The unique name prefix of one lab run, `csl<pid>-`. Every namespace a run creates starts with
/// it, so a later run (or `cleanup`) can find and remove what a killed run left behind without
/// touching anything else.
public struct RunPrefix: Sendable, Equatable, CustomStringConvertible {
    public static let stem = "csl"

    public let value: String

    public init(pid: Int32) {
        value = Self.stem + String(pid) + "-"
    }

    public var description: String { value }

    /// The namespace name for a role in this run, e.g. `csl4711-host`.
    public func namespace(_ role: String) -> String { value + role }

    /// Does `name` carry some run's prefix (`csl` + digits + `-`)?
    public static func isLabName(_ name: String) -> Bool {
        guard name.hasPrefix(stem) else { return false }
        let rest = name.dropFirst(stem.count)
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        return !digits.isEmpty && rest.dropFirst(digits.count).first == "-"
    }

    /// The pid in a lab name (`csl4711-host` → 4711).
    public static func pid(ofLabName name: String) -> Int32? {
        guard isLabName(name) else { return nil }
        return Int32(String(name.dropFirst(stem.count).prefix { $0.isASCII && $0.isNumber }))
    }

    /// Namespace names from `ip netns list` output (`NAME` or `NAME (id: N)` per line).
    public static func namespaceNames(fromNetnsList output: String) -> [String] {
        output.split(separator: "\n").compactMap { line in
            line.split(separator: " ").first.map(String.init)
        }
    }

    /// The lab namespaces in `ip netns list` output, restricted to one run's prefix if given.
    public static func labNamespaces(fromNetnsList output: String, prefix: RunPrefix? = nil) -> [String] {
        namespaceNames(fromNetnsList: output).filter { name in
            if let p = prefix { return name.hasPrefix(p.value) }
            return isLabName(name)
        }
    }
}

extension RunPrefix {
    /// A prefix given by text (`csl<digits>-`), e.g. from `cleanup --prefix`.
    public init?(_ text: String) {
        guard RunPrefix.isLabName(text), text.hasSuffix("-"), text.dropFirst(RunPrefix.stem.count).dropLast().allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        value = text
    }
}
