/// Why a byte buffer is not a frame csumlab can read.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    case truncated(what: String, need: Int, have: Int)
    case unsupported(String)
    case malformed(String)

    public var description: String {
        switch self {
        case let .truncated(what, need, have): return "\(what) truncated: need \(need) bytes, have \(have)"
        case let .unsupported(s): return "unsupported: \(s)"
        case let .malformed(s): return "malformed: \(s)"
        }
    }
}
