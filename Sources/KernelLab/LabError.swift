#if canImport(Glibc)
import Glibc
#endif

/// Why a lab step failed. Carries the command or call and what the kernel or tool said.
public enum LabError: Error, Sendable, CustomStringConvertible, Equatable {
    case command([String], status: Int32, stderr: String)
    case system(String, errno: Int32)
    case agent(String)
    case notRoot

    public var description: String {
        switch self {
        case let .command(argv, status, stderr):
            return "`\(argv.joined(separator: " "))` exited \(status): \(stderr.trimmingTrailingNewlines)"
        case let .system(what, e):
            return "\(what): \(LabError.errnoName(e))"
        case let .agent(s):
            return "helper: \(s)"
        case .notRoot:
            return "needs root and network namespaces (run as root on Linux)"
        }
    }

    /// `strerror` text plus the symbolic name for the errnos a lab meets.
    public static func errnoName(_ e: Int32) -> String {
        let names: [Int32: String] = [
            1: "EPERM", 2: "ENOENT", 5: "EIO", 9: "EBADF", 11: "EAGAIN", 12: "ENOMEM", 13: "EACCES",
            16: "EBUSY", 17: "EEXIST", 19: "ENODEV", 22: "EINVAL", 90: "EMSGSIZE", 95: "EOPNOTSUPP",
            100: "ENETDOWN", 105: "ENOBUFS",
        ]
        let text = String(cString: strerror(e))
        return (names[e].map { $0 + " " } ?? "") + "(\(text))"
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var s = Substring(self)
        while let last = s.last, last == "\n" || last == "\r" || last == " " { s = s.dropLast() }
        return String(s)
    }
}
