/// Where the headers of an Ethernet frame carrying IPv4/IPv6 and TCP/UDP/ICMP sit. Parsing
/// validates every length once (the checked path for untrusted bytes); afterwards accessors on
/// `Frame` never trap for a frame of this layout.
public struct FrameLayout: Sendable, Equatable {
    public static let ethernetLength = 14

    public var ipVersion: IPVersion
    /// Offset of the IP header (after Ethernet).
    public var l3Offset: Int
    /// Offset of the L4 header (Linux `skb_transport_offset()` measured from the MAC header).
    public var l4Offset: Int
    public var l4Protocol: IPProtocol
    /// L4 length from the IP header (TCP/UDP length used in the pseudo-header).
    public var l4Length: Int
    /// L4 header length (TCP data offset, 8 for UDP/ICMP).
    public var l4HeaderLength: Int

    public var payloadOffset: Int { l4Offset + l4HeaderLength }
    /// Offset of the L4 checksum field from the frame start (`csum_start + csum_offset`).
    public var checksumFieldOffset: Int { l4Offset + l4Protocol.checksumOffset }
    /// End of the IP datagram (the frame may be padded beyond it).
    public var end: Int { l4Offset + l4Length }

    public init(ipVersion: IPVersion, l3Offset: Int, l4Offset: Int, l4Protocol: IPProtocol, l4Length: Int, l4HeaderLength: Int) {
        self.ipVersion = ipVersion
        self.l3Offset = l3Offset
        self.l4Offset = l4Offset
        self.l4Protocol = l4Protocol
        self.l4Length = l4Length
        self.l4HeaderLength = l4HeaderLength
    }

    /// Parse an Ethernet frame. Throws on anything csumlab cannot follow.
    public static func parse(_ b: [UInt8]) throws(WireError) -> FrameLayout {
        guard b.count >= ethernetLength else { throw .truncated(what: "Ethernet header", need: ethernetLength, have: b.count) }
        let type = b.be16(at: 12)
        let l3 = ethernetLength
        let version: IPVersion
        let l4: Int
        let protoNumber: UInt8
        let l4Len: Int
        switch type {
        case EtherType.ipv4:
            guard b.count >= l3 + 20 else { throw .truncated(what: "IPv4 header", need: l3 + 20, have: b.count) }
            guard b[l3] >> 4 == 4 else { throw .malformed("IPv4 version field is \(b[l3] >> 4)") }
            let ihl = Int(b[l3] & 0x0F) * 4
            guard ihl >= 20, b.count >= l3 + ihl else { throw .malformed("IPv4 header length \(ihl)") }
            let total = Int(b.be16(at: l3 + 2))
            guard total >= ihl, b.count >= l3 + total else { throw .truncated(what: "IPv4 datagram", need: l3 + total, have: b.count) }
            version = .v4
            l4 = l3 + ihl
            protoNumber = b[l3 + 9]
            l4Len = total - ihl
        case EtherType.ipv6:
            guard b.count >= l3 + 40 else { throw .truncated(what: "IPv6 header", need: l3 + 40, have: b.count) }
            guard b[l3] >> 4 == 6 else { throw .malformed("IPv6 version field is \(b[l3] >> 4)") }
            let payload = Int(b.be16(at: l3 + 4))
            guard b.count >= l3 + 40 + payload else { throw .truncated(what: "IPv6 payload", need: l3 + 40 + payload, have: b.count) }
            version = .v6
            l4 = l3 + 40
            protoNumber = b[l3 + 6]
            l4Len = payload
        default:
            throw .unsupported("ethertype 0x" + hex16(type))
        }
        guard let proto = IPProtocol(rawValue: protoNumber) else { throw .unsupported("IP protocol \(protoNumber)") }
        let hlen: Int
        switch proto {
        case .tcp:
            guard l4Len >= 20 else { throw .truncated(what: "TCP header", need: 20, have: l4Len) }
            hlen = Int(b[l4 + 12] >> 4) * 4
            guard hlen >= 20, hlen <= l4Len else { throw .malformed("TCP data offset \(hlen)") }
        case .udp, .icmp, .icmpv6:
            guard l4Len >= 8 else { throw .truncated(what: "\(proto.name) header", need: 8, have: l4Len) }
            hlen = 8
        }
        return FrameLayout(ipVersion: version, l3Offset: l3, l4Offset: l4, l4Protocol: proto, l4Length: l4Len, l4HeaderLength: hlen)
    }
}
