/// A kernel's behaviour set. A profile belongs to each host and guest; distributions backport,
/// so a profile is a well-defined set of behaviours, not a promise about every build.
public enum KernelProfile: String, Sendable, CaseIterable, Codable {
    /// Before the December 2015 veth fix (ce8c839b74e3): Ubuntu 14.04's 3.13, the Docker era.
    case linux3 = "linux-3.x"
    /// Ubuntu 16.04; the guests of the question that started csumlab.
    case linux44 = "linux-4.4"
    /// Current kernels (this machine runs 6.18).
    case linux6 = "linux-6.x"

    public static let `default`: KernelProfile = .linux6

    /// `veth_xmit()` rewrote `CHECKSUM_NONE` to `CHECKSUM_UNNECESSARY` when the peer had RXCSUM.
    public var vethMarksUnnecessary: Bool { self == .linux3 }

    /// `skb_checksum_help()` writes `CSUM_MANGLED_0` (0xFFFF) instead of a computed 0.
    public var checksumHelpMangles0: Bool { self == .linux6 }

    /// `checksum_tg()` (`CHECKSUM --checksum-fill`) skips GSO skbs; older kernels call
    /// `skb_checksum_help()`, which refuses them with a bad-offload warning.
    public var checksumFillSkipsGSO: Bool { self == .linux6 }

}
