/// `struct virtio_net_hdr` (include/uapi/linux/virtio_net.h): the 10-byte header (12 with
/// `num_buffers`) that travels with each frame between a virtio-net guest and its backend and
/// through a TAP opened with `IFF_VNET_HDR`. Fields are little-endian (modern virtio / TAP with
/// `TUNSETVNETLE`).
public struct VirtioNetHeader: Sendable, Equatable, Hashable {
    public static let needsCsum: UInt8 = 1
    public static let dataValid: UInt8 = 2

    public enum GSOType: UInt8, Sendable {
        case none = 0
        case tcpv4 = 1
        case udp = 3
        case tcpv6 = 4
        case udpL4 = 5
    }

    public var flags: UInt8
    public var gsoType: UInt8
    public var hdrLen: UInt16
    public var gsoSize: UInt16
    public var csumStart: UInt16
    public var csumOffset: UInt16

    public init(flags: UInt8 = 0, gsoType: UInt8 = 0, hdrLen: UInt16 = 0, gsoSize: UInt16 = 0, csumStart: UInt16 = 0, csumOffset: UInt16 = 0) {
        self.flags = flags
        self.gsoType = gsoType
        self.hdrLen = hdrLen
        self.gsoSize = gsoSize
        self.csumStart = csumStart
        self.csumOffset = csumOffset
    }

    public var needsChecksum: Bool { flags & Self.needsCsum != 0 }
    public var isDataValid: Bool { flags & Self.dataValid != 0 }
    /// The header describes a GSO super-frame (`gso_type` ≠ NONE).
    public var isGSO: Bool { gsoType & 0x7F != 0 }

    /// The 10-byte wire form.
    public var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: 10)
        b[0] = flags
        b[1] = gsoType
        b.setLE16(hdrLen, at: 2)
        b.setLE16(gsoSize, at: 4)
        b.setLE16(csumStart, at: 6)
        b.setLE16(csumOffset, at: 8)
        return b
    }

    public init(parsing b: [UInt8]) throws(WireError) {
        guard b.count >= 10 else { throw .truncated(what: "virtio_net_hdr", need: 10, have: b.count) }
        self.init(flags: b[0], gsoType: b[1], hdrLen: b.le16(at: 2), gsoSize: b.le16(at: 4), csumStart: b.le16(at: 6), csumOffset: b.le16(at: 8))
    }

    /// A readable rendering, e.g. `NEEDS_CSUM start=34 off=16 gso=TCPV4/1448`.
    public var summary: String {
        var parts: [String] = []
        if needsChecksum { parts.append("NEEDS_CSUM") }
        if isDataValid { parts.append("DATA_VALID") }
        if parts.isEmpty { parts.append("flags=0") }
        if needsChecksum { parts.append("start=\(csumStart) off=\(csumOffset)") }
        if gsoType & 0x7F != 0 {
            let name: String
            switch GSOType(rawValue: gsoType & 0x7F) {
            case .tcpv4: name = "TCPV4"
            case .tcpv6: name = "TCPV6"
            case .udp: name = "UDP"
            case .udpL4: name = "UDP_L4"
            default: name = "\(gsoType)"
            }
            parts.append("gso=\(name)/\(gsoSize)")
        }
        return parts.joined(separator: " ")
    }
}
