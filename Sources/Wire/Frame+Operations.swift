import Checksum

/// Byte operations the kernel performs on frames, done the way the kernel does them (incremental
/// where the kernel is incremental), so a trace shows exactly the bytes Linux would produce.
extension Frame {
    /// `skb_checksum_help()`: sum from `start` to the end of the datagram with the field in place
    /// (it holds the pseudo-header sum) and store the complement at `start + offset`.
    /// - Parameter mangleZero: 6.x writes `CSUM_MANGLED_0` (0xFFFF) for a computed 0.
    public mutating func completeChecksum(start: Int, offset: Int, end: Int, mangleZero: Bool) {
        let c = InternetChecksum.finish(InternetChecksum.sum(bytes, range: start..<end))
        bytes.setBE16(mangleZero ? InternetChecksum.udpMangleZero(c) : c, at: start + offset)
    }

    /// `ip_decrease_ttl()`: `check += htons(0x0100)` with end-around carry, then `--ttl`.
    /// For IPv6, `ip6_forward()` decrements the hop limit (no header checksum).
    public mutating func decrementTTL(_ l: FrameLayout) {
        switch l.ipVersion {
        case .v4:
            bytes.setBE16(InternetChecksum.decrementTTL(checksum: ipv4Checksum(l)), at: l.l3Offset + IPv4Field.checksum)
            bytes[l.l3Offset + IPv4Field.ttl] &-= 1
        case .v6:
            bytes[l.l3Offset + IPv6Field.hopLimit] &-= 1
        }
    }

    /// How a NAT rewrite treats the L4 checksum field.
    public enum L4ChecksumUpdate: Sendable {
        /// `CHECKSUM_PARTIAL`: the field is a pseudo-header sum; update it as one.
        case pseudoHeader
        /// A finished checksum: RFC 1624 incremental update (a wrong checksum stays wrong).
        case incremental
    }

    /// `nf_nat_ipv4_manip_pkt()`: replace the IPv4 source or destination address, updating the IP
    /// header checksum (`csum_replace4`) and the L4 field (`inet_proto_csum_replace4(...,
    /// pseudohdr=true)`). A UDP field of 0 ("no checksum") is left alone unless `PARTIAL`.
    public mutating func natRewriteIPv4(source: Bool, to new: UInt32, _ l: FrameLayout, l4: L4ChecksumUpdate) {
        let at = l.l3Offset + (source ? IPv4Field.source : IPv4Field.destination)
        let old = bytes.be32(at: at)
        bytes.setBE32(new, at: at)
        bytes.setBE16(InternetChecksum.replace32(checksum: ipv4Checksum(l), old: old, new: new), at: l.l3Offset + IPv4Field.checksum)
        guard l.l4Protocol == .tcp || l.l4Protocol == .udp else { return }
        let field = l4Checksum(l)
        switch l4 {
        case .pseudoHeader:
            setL4Checksum(InternetChecksum.replacePseudo32(partialField: field, old: old, new: new), l)
        case .incremental:
            if l.l4Protocol == .udp && field == 0 { return }
            let c = InternetChecksum.replace32(checksum: field, old: old, new: new)
            setL4Checksum(l.l4Protocol == .udp ? InternetChecksum.udpMangleZero(c) : c, l)
        }
    }

    /// `nf_nat_ipv6_manip_pkt()`: the source or destination IPv6 address rewritten to `new`
    /// (16 bytes) and the L4 checksum updated by `nf_nat_ipv6_csum_update()` →
    /// `inet_proto_csum_replace16()` (IPv6 has no header checksum): as a pending pseudo-header
    /// sum on a `PARTIAL` skb, incrementally otherwise. A UDP field of 0 is left alone by the
    /// incremental update as `natRewriteIPv4` leaves it (`__udp_manip_pkt()`).
    public mutating func natRewriteIPv6(source: Bool, to new: [UInt8], _ l: FrameLayout, l4: L4ChecksumUpdate) {
        precondition(new.count == 16, "an IPv6 address is 16 bytes")
        let at = l.l3Offset + (source ? IPv6Field.source : IPv6Field.destination)
        var words: [(old: UInt32, new: UInt32)] = []
        for w in 0..<4 {
            let old = bytes.be32(at: at + 4 * w)
            let nw = new.be32(at: 4 * w)
            bytes.setBE32(nw, at: at + 4 * w)
            words.append((old, nw))
        }
        guard l.l4Protocol == .tcp || l.l4Protocol == .udp else { return }
        var field = l4Checksum(l)
        switch l4 {
        case .pseudoHeader:
            for (o, n) in words { field = InternetChecksum.replacePseudo32(partialField: field, old: o, new: n) }
            setL4Checksum(field, l)
        case .incremental:
            if l.l4Protocol == .udp && field == 0 { return }
            for (o, n) in words { field = InternetChecksum.replace32(checksum: field, old: o, new: n) }
            setL4Checksum(l.l4Protocol == .udp ? InternetChecksum.udpMangleZero(field) : field, l)
        }
    }

    /// Flip one bit of the L4 payload (a fault on the wire). Returns false if there is no payload.
    @discardableResult
    public mutating func flipPayloadBit(byte: Int, _ l: FrameLayout) -> Bool {
        let payloadLength = l.end - l.payloadOffset
        guard payloadLength > 0 else { return false }
        bytes[l.payloadOffset + byte % payloadLength] ^= 0x01
        return true
    }

    /// One segment produced by `tcp_gso_segment()`.
    public struct TCPSegment: Sendable, Hashable {
        public var frame: Frame
        /// Byte offset of this segment's payload in the super-frame's payload.
        public var payloadOffset: Int
    }

    /// `skb_gso_segment()` → `inet_gso_segment()`/`ipv6_gso_segment()` → `tcp_gso_segment()`:
    /// split a TCP super-frame into `mss`-sized segments as Linux does: headers copied, sequence
    /// numbers advanced, CWR only on the first segment, FIN and PSH only on the last, IPv4 ID
    /// incremented per segment and the IP header checksum recomputed, lengths set, and the TCP
    /// field adjusted from the whole-frame pseudo-header sum by the length difference
    /// (`newcheck = ~csum_fold(csum_add(csum_unfold(th->check), delta))`).
    /// - Parameter complete: the device cannot checksum: each segment gets its full checksum
    ///   (`gso_make_checksum()`), else the field stays a pseudo-header sum (`CHECKSUM_PARTIAL`).
    public func tcpSegments(mss: Int, _ l: FrameLayout, complete: Bool, mangleZero: Bool) -> [TCPSegment] {
        precondition(l.l4Protocol == .tcp && mss > 0, "TCP segmentation needs a TCP frame and an MSS")
        let header = Array(bytes[0..<l.payloadOffset])
        let payload = Array(bytes[l.payloadOffset..<l.end])
        let thlen = l.l4HeaderLength
        let oldLen = UInt32(l.l4Length)
        let baseSeq = bytes.be32(at: l.l4Offset + TCPField.sequence)
        let flags = PacketBuilder.TCPFlags(rawValue: bytes[l.l4Offset + TCPField.flags])
        let oldCheck = l4Checksum(l)
        let baseID = l.ipVersion == .v4 ? ipv4Identification(l) : 0
        var out: [TCPSegment] = []
        var off = 0
        var index = 0
        repeat {
            let len = min(mss, payload.count - off)
            let last = off + len >= payload.count
            var b = header + payload[off..<off + len]
            let newL4 = UInt32(thlen + len)
            // Sequence number and flags.
            b.setBE32(baseSeq &+ UInt32(off), at: l.l4Offset + TCPField.sequence)
            var f = flags
            if index > 0 { f.remove(.cwr) }         // CWR only on the first segment
            if !last { f.subtract([.fin, .psh]) }   // FIN and PSH only on the last
            b[l.l4Offset + TCPField.flags] = f.rawValue
            // TCP field: adjust the pseudo-header sum for the new length (tcp_gso_segment's delta).
            let delta = InternetChecksum.add(~oldLen & 0xFFFF, newL4)
            let newcheck = InternetChecksum.fold(InternetChecksum.add(UInt32(oldCheck), delta))
            b.setBE16(newcheck, at: l.checksumFieldOffset)
            // IP header.
            switch l.ipVersion {
            case .v4:
                b.setBE16(UInt16(l.l4Offset - l.l3Offset + Int(newL4)), at: l.l3Offset + IPv4Field.totalLength)
                b.setBE16(baseID &+ UInt16(truncatingIfNeeded: index), at: l.l3Offset + IPv4Field.identification)
            case .v6:
                b.setBE16(UInt16(newL4), at: l.l3Offset + IPv6Field.payloadLength)
            }
            var seg = Frame(bytes: b)
            if l.ipVersion == .v4 { seg.fillIPv4Checksum(l) }
            if complete {
                seg.completeChecksum(start: l.l4Offset, offset: TCPField.checksum, end: l.l4Offset + Int(newL4), mangleZero: mangleZero)
            }
            out.append(TCPSegment(frame: seg, payloadOffset: off))
            off += len
            index += 1
        } while off < payload.count
        return out
    }
}
