/// IP protocol / IPv6 next-header numbers csumlab handles.
public enum IPProtocol: UInt8, Sendable, Codable, CaseIterable {
    case icmp = 1
    case tcp = 6
    case udp = 17
    case icmpv6 = 58

    /// Offset of the checksum field inside the L4 header (Linux `skb->csum_offset`).
    public var checksumOffset: Int {
        switch self {
        case .tcp: return 16
        case .udp: return 6
        case .icmp, .icmpv6: return 2
        }
    }

    public var name: String {
        switch self {
        case .icmp: return "ICMP"
        case .tcp: return "TCP"
        case .udp: return "UDP"
        case .icmpv6: return "ICMPv6"
        }
    }
}

public enum IPVersion: Int, Sendable, Codable {
    case v4 = 4
    case v6 = 6
}

/// Ethernet types.
public enum EtherType {
    public static let ipv4: UInt16 = 0x0800
    public static let ipv6: UInt16 = 0x86DD
}
