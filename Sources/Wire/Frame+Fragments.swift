import Checksum

/// IP fragmentation of a datagram that does not fit the MTU, done as the kernel's local output
/// does it (`ip_fragment()` / `ip6_fragment()` on the skb list `__ip_append_data()` built): the
/// first fragment carries the L4 header with the checksum of the *whole* datagram, every
/// fragment but the last holds a multiple of 8 bytes of it, IPv4 fragments have DF clear and MF
/// on all but the last, IPv6 fragments carry a Fragment extension header.
extension Frame {
    /// The MTU of every link in csumlab's labs (Ethernet, veth, TAP, bridge defaults): the size
    /// above which a datagram is fragmented and a non-GSO frame is refused.
    public static let linkMTU = 1500
    /// The longest frame `is_skb_forwardable()` lets through: MTU + Ethernet header + a VLAN tag.
    public static let forwardableLength = FrameLayout.ethernetLength + linkMTU + 4

    /// The IPv6 Fragment extension header's next-header number.
    public static let ipv6FragmentHeader: UInt8 = 44

    /// Bytes of the L4 datagram each fragment but the last carries through an `mtu`-byte link.
    public static func fragmentDataLength(_ l: FrameLayout, ipv4HeaderLength: Int, mtu: Int) -> Int {
        switch l.ipVersion {
        case .v4: (mtu - ipv4HeaderLength) & ~7
        case .v6: (mtu - 40 - 8) & ~7
        }
    }

    /// How many fragments the datagram leaves as through an `mtu`-byte link (1 if it fits).
    public func fragmentCount(_ l: FrameLayout, mtu: Int) -> Int {
        let ipLen = l.end - l.l3Offset
        guard ipLen > mtu else { return 1 }
        let per = Self.fragmentDataLength(l, ipv4HeaderLength: ipv4HeaderLength(l), mtu: mtu)
        return (l.l4Length + per - 1) / per
    }

    /// The frames the datagram leaves as through an `mtu`-byte link, first fragment first (the
    /// frame itself when it fits). `identification` is the IPv6 Fragment header's (IPv4 keeps
    /// the datagram's IP ID). Ethernet header and any padding beyond the datagram are dropped
    /// from the copies but the MACs are kept.
    public func ipFragments(_ l: FrameLayout, mtu: Int, identification: UInt32 = 0) -> [Frame] {
        guard fragmentCount(l, mtu: mtu) > 1 else { return [self] }
        let eth = Array(bytes[0..<l.l3Offset])
        let data = Array(bytes[l.l4Offset..<l.end])
        let per = Self.fragmentDataLength(l, ipv4HeaderLength: ipv4HeaderLength(l), mtu: mtu)
        var out: [Frame] = []
        var off = 0
        while off < data.count {
            let n = min(per, data.count - off)
            let more = off + n < data.count
            let chunk = data[off..<(off + n)]
            switch l.ipVersion {
            case .v4:
                var ip = Array(bytes[l.l3Offset..<l.l4Offset])
                ip.setBE16(UInt16(ip.count + n), at: 2)
                ip.setBE16((more ? 0x2000 : 0) | UInt16(off / 8), at: 6)  // DF clear, MF, offset
                ip.setBE16(0, at: 10)
                var f = Frame(bytes: eth + ip + chunk)
                let fl = FrameLayout(ipVersion: .v4, l3Offset: l.l3Offset, l4Offset: l.l3Offset + ip.count,
                                     l4Protocol: l.l4Protocol, l4Length: n, l4HeaderLength: 0)
                f.fillIPv4Checksum(fl)
                out.append(f)
            case .v6:
                var ip = Array(bytes[l.l3Offset..<l.l4Offset])
                let next = ip[6]
                ip[6] = Self.ipv6FragmentHeader
                ip.setBE16(UInt16(8 + n), at: 4)
                var fh = [UInt8](repeating: 0, count: 8)
                fh[0] = next
                fh.setBE16(UInt16(off) | (more ? 1 : 0), at: 2)  // offset in 8-byte units << 3, M
                fh.setBE32(identification, at: 4)
                out.append(Frame(bytes: eth + ip + fh + chunk))
            }
            off += n
        }
        return out
    }

    /// The frames a datagram travels as when the sender cut it for `mtu` and routers on the way
    /// cut each piece again for the smaller MTUs in `again`, in order (IPv4 only: an IPv6
    /// router never fragments).
    public func ipFragments(_ l: FrameLayout, mtu: Int, again: [Int], identification: UInt32 = 0) -> [Frame] {
        var out = ipFragments(l, mtu: mtu, identification: identification)
        for m in again { out = out.flatMap { $0.refragmentIPv4(mtu: m) } }
        return out
    }

    /// `ip_do_fragment()`'s slow path on a router: an IPv4 packet (a whole datagram or itself a
    /// fragment) longer than `mtu` cut again. Every piece but the last carries
    /// (`mtu` − header) rounded down to 8 bytes; offsets continue the packet's own; MF is set
    /// on every piece but the last, and on that one too when the packet was not the datagram's
    /// last fragment; the IP ID stays; each header checksum is recomputed.
    public func refragmentIPv4(mtu: Int) -> [Frame] {
        guard let h = networkHeader, h.ipVersion == .v4 else { return [self] }
        let l3 = h.l3Offset, ihl = h.headerLength
        let total = Int(bytes.be16(at: l3 + IPv4Field.totalLength))
        guard total > mtu, total > ihl, bytes.count >= l3 + total else { return [self] }
        let flags = bytes.be16(at: l3 + IPv4Field.flagsFragment)
        let base = Int(flags & 0x1FFF) * 8
        let notLast = flags & 0x2000 != 0
        let per = (mtu - ihl) & ~7
        guard per > 0 else { return [self] }
        let eth = Array(bytes[0..<l3])
        let data = Array(bytes[(l3 + ihl)..<(l3 + total)])
        var out: [Frame] = []
        var off = 0
        while off < data.count {
            let n = min(per, data.count - off)
            let more = off + n < data.count || notLast
            var ip = Array(bytes[l3..<(l3 + ihl)])
            ip.setBE16(UInt16(ihl + n), at: IPv4Field.totalLength)
            ip.setBE16((flags & 0x4000) | (more ? 0x2000 : 0) | UInt16((base + off) / 8), at: IPv4Field.flagsFragment)
            var f = Frame(bytes: eth + ip + data[off..<(off + n)])
            f.fillIPv4Checksum(l3Offset: l3, headerLength: ihl)
            out.append(f)
            off += n
        }
        return out
    }

    /// Clear the IPv4 Don't Fragment bit (and fix the header checksum): what a datagram the
    /// local stack fragments carries.
    public mutating func clearDontFragment(_ l: FrameLayout) {
        guard l.ipVersion == .v4, mayNotFragment(l) else { return }
        bytes[l.l3Offset + IPv4Field.flagsFragment] &= ~IPv4Field.dontFragment
        fillIPv4Checksum(l)
    }
}

extension Frame {
    /// What a router needs from an IP packet, read from the IP header alone, so that IP
    /// fragments (a non-first one has no L4 header; an IPv6 one has a Fragment header) are
    /// routed like any other packet. Nil for a frame that is not IPv4/IPv6.
    public struct NetworkHeader: Sendable, Equatable {
        public var ipVersion: IPVersion
        public var l3Offset: Int
        public var headerLength: Int
        public var destination: [UInt8]
        public var ttl: UInt8
    }

    public var networkHeader: NetworkHeader? {
        let l3 = FrameLayout.ethernetLength
        guard bytes.count >= l3 + 20 else { return nil }
        switch (bytes.be16(at: 12), bytes[l3] >> 4) {
        case (EtherType.ipv4, 4):
            let ihl = Int(bytes[l3] & 0x0F) * 4
            guard ihl >= 20, bytes.count >= l3 + ihl else { return nil }
            return NetworkHeader(ipVersion: .v4, l3Offset: l3, headerLength: ihl, destination: Array(bytes[(l3 + 16)..<(l3 + 20)]), ttl: bytes[l3 + 8])
        case (EtherType.ipv6, 6):
            guard bytes.count >= l3 + 40 else { return nil }
            return NetworkHeader(ipVersion: .v6, l3Offset: l3, headerLength: 40, destination: Array(bytes[(l3 + 24)..<(l3 + 40)]), ttl: bytes[l3 + 7])
        default:
            return nil
        }
    }

    /// A router's rewrite from the IP header alone: TTL / hop limit − 1 and, for IPv4, the header
    /// checksum recomputed. L4 bytes are not read.
    public mutating func decrementTTLRecomputingHeader(_ h: NetworkHeader) {
        switch h.ipVersion {
        case .v4:
            bytes[h.l3Offset + IPv4Field.ttl] &-= 1
            fillIPv4Checksum(l3Offset: h.l3Offset, headerLength: h.headerLength)
        case .v6:
            bytes[h.l3Offset + IPv6Field.hopLimit] &-= 1
        }
    }
}
