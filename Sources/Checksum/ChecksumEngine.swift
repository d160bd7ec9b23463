/// The implementation that `InternetChecksum.sum` uses. A portable Swift path always exists;
/// faster paths may be added and selected at run time.
public struct ChecksumEngine: Sendable {
    /// The implementations csumlab knows of.
    public enum Path: String, Sendable, CaseIterable {
        case portable
    }

    public let path: Path

    public init(path: Path) {
        self.path = path
    }

    /// Paths this CPU can run.
    public static var availablePaths: [Path] { [.portable] }

    /// The engine chosen for this process.
    public static let current = ChecksumEngine(path: .portable)

    /// One's-complement sum of big-endian 16-bit words, added to `initial`.
    @inlinable
    public func sum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        Self.portableSum(bytes, initial: initial)
    }

    /// Portable path: 64-bit accumulation of 16-bit words, folded at the end.
    @inlinable
    public static func portableSum(_ bytes: UnsafeRawBufferPointer, initial: UInt32) -> UInt32 {
        var acc: UInt64 = UInt64(initial)
        let n = bytes.count
        var i = 0
        while i + 1 < n {
            acc &+= UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < n { acc &+= UInt64(bytes[i]) << 8 }
        while acc >> 32 != 0 { acc = (acc & 0xFFFF_FFFF) &+ (acc >> 32) }
        return UInt32(acc)
    }
}
