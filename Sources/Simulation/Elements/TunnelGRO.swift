import Checksum
import Wire

// GRO on a receiving tunnel device (#16): `vxlan_rcv()` / `geneve_rx()` → `gro_cells_receive()`
// → the cell's NAPI poll → `napi_gro_receive()` → `dev_gro_receive()` → `inet_gro_receive()` →
// `tcp4_gro_receive()` → `tcp_gro_receive()`, and at the flush `napi_gro_complete()` →
// `tcp4_gro_complete()` → `tcp_gro_complete()` (6.13.7 net/core/gro.c, net/ipv4/tcp_offload.c,
// include/net/gro.h). Rules and measurements: assets/kernel-reference-notes.md, "Tunnel GRO".

/// Where GRO runs: a tunnel device's GRO cell, or the NAPI of a veth end whose peer sent
/// (`Elements/VethGRO.swift`) — on the TCP segment itself, or on the outer packet of a tunnelled
/// one, for the tunnel's socket (`Elements/UnderlayGRO.swift`). The merge rules are the same;
/// the way up differs.
enum GROPath: Sendable, Hashable {
    case tunnel
    case veth
    /// A veth end's NAPI merging tunnelled segments (`udp_gro_receive()` → the tunnel socket's
    /// `gro_receive`): the held packet is the outer one, the TCP rules apply to its inner segment.
    case underlay

    /// GRO on a veth end's NAPI (plain or tunnelled).
    var onVeth: Bool { self != .tunnel }
}

/// The TCP segment GRO's rules read: the frame itself, or the inner frame of an outer packet
/// merged on the underlay (`offset` = where it starts in the packet's frame).
struct GROSegment {
    var frame: Frame
    var layout: FrameLayout
    var offset: Int

    init(_ p: Packet, _ path: GROPath) {
        if path == .underlay, let io = p.innerOffset, io < p.frame.count {
            let inner = Frame(bytes: Array(p.frame.bytes[io...]))
            if let l = try? inner.layout() {
                (frame, layout, offset) = (inner, l, io)
                return
            }
        }
        (frame, layout, offset) = (p.frame, p.layout, 0)
    }
}

/// A segment GRO holds on a device's list, with the segments merged into it so far.
struct GROHeld: Sendable {
    /// The tunnel device, or the veth end receiving.
    var device: Int
    var path: GROPath = .tunnel
    /// The first segment (FIN/PSH of merged ones ORed into its flags).
    var packet: Packet
    /// The payload of the merged segments, in order (`skb_gro_receive()` appends their frags).
    var appended: [UInt8] = []
    /// `NAPI_GRO_CB(p)->count`.
    var count: Int
    /// `skb_shinfo(p)->gso_size`: the first segment's payload length.
    var mss: Int
    /// On the underlay: the tunnel socket whose `gro_receive` holds it.
    var underlay: StepEvent.UnderlayGRO?
}

extension Walk {
    /// The inner frame `p` enters GRO on tunnel device `vx` of namespace `ni`.
    mutating func tunnelGRO(_ p: Packet, node ni: Int, device vx: Int) {
        let l = p.layout
        guard l.l4Protocol == .tcp || l.l4Protocol == .udp, p.fragmentMTU == nil, let s = p.skb else {
            // inet_gro_receive(): no GRO callback for the protocol (ICMP), or a fragment: flushed.
            return passUpFromTunnel(p, device: vx)
        }
        let v6 = l.ipVersion == .v6
        // dev_gro_receive(): COMPLETE gives NAPI_GRO_CB(skb)->csum, UNNECESSARY csum_cnt =
        // csum_level + 1; __skb_gro_checksum_validate_needed() skips PARTIAL, a counted level and
        // (UDP) a zero field; skb_gro_incr_csum_unnecessary() then turns a checked NONE into
        // UNNECESSARY (a COMPLETE stays COMPLETE, a consumed level stays UNNECESSARY).
        let bytesValid = p.frame.l4ChecksumIsValid(l)
        let udpZero = l.l4Protocol == .udp && p.frame.l4Checksum(l) == 0
        var st = s
        let valid: Bool
        switch s.ipSummed {
        case .partial, .unnecessary:
            valid = true
        case .complete:
            valid = bytesValid || udpZero
        case .none:
            valid = bytesValid || udpZero
            if valid { st = st.with(.unnecessary) }
        }
        let gsoSkb = s.isGSO
        var q = p
        q.carrier = .skb(st)
        let gro = StepEvent.TunnelGRO(device: name(vx), v6: v6, l4: l.l4Protocol, found: s.ipSummed, valid: valid, action: .held)
        let entered = q
        if l.l4Protocol == .udp { return groPassUp(p, entered, gro, .udp, node: ni, device: vx) }
        // tcp4_gro_receive(): a wrong checksum flushes the skb (the held one of its flow stays).
        if !valid { return groPassUp(p, entered, gro, .checksumWrong, node: ni, device: vx) }
        // A GSO skb (count = gso_segs): a DODGY one is flushed; a trusted one, held and completed
        // later, comes out the same (PARTIAL, the pseudo-header sum): nothing to merge here.
        if gsoSkb { return groPassUp(p, entered, gro, .gso, node: ni, device: vx) }
        groMergeTCP(p, q, gro, node: ni, device: vx, path: .tunnel)
    }

    /// `tcp_gro_receive()` for a TCP segment whose checksum GRO found right (`entered`: in the
    /// state GRO left it), on a tunnel device or a veth end: merged into the held segment of
    /// its flow, held, or sent up. `gro` is the step's event, its action filled in here.
    mutating func groMergeTCP(_ p: Packet, _ entered: Packet, _ gro: StepEvent.TunnelGRO, node ni: Int, device vx: Int, path: GROPath) {
        let seg = GROSegment(p, path)
        let l = seg.layout
        let q = entered
        let flags = seg.frame.tcpFlags(l)
        let len = l.end - l.payloadOffset
        let flushFlags: PacketBuilder.TCPFlags = [.urg, .psh, .rst, .syn, .fin]
        if let hi = groHeld.firstIndex(where: { $0.device == vx && $0.path == path && Self.sameFlow($0.packet, p, path) }) {
            let h = groHeld[hi]
            if Self.canMerge(h, p, seg) {
                // skb_gro_receive(): the payload appended; tcp_flag_word(th2) |= FIN | PSH.
                var m = h
                let held = GROSegment(m.packet, path)
                let ho = held.offset + held.layout.l4Offset + 13
                m.packet.frame.bytes[ho] |= flags.intersection([.fin, .psh]).rawValue
                m.appended += seg.frame.bytes[l.payloadOffset..<l.end]
                m.count += 1
                groHeld[hi] = m
                var e = gro
                e.action = .merged(count: m.count)
                let before = p
                _ = watch(q) { w in w.record(before, q, node: ni, iface: w.ifLabel(vx), .receive, .tunnelGRO(e)) }
                // out_check_final: a segment shorter than the held gso_size, or a flush flag.
                if len < m.mss || !flags.intersection(flushFlags).isEmpty {
                    groHeld.remove(at: hi)
                    groComplete(m, node: ni)
                }
                return
            }
            // Not the next segment of the held one (flush): the held one goes up first.
            groHeld.remove(at: hi)
            groComplete(h, node: ni)
        }
        // Nothing held for the flow: a flush flag sends it up now, otherwise it is held
        // (gso_size = its payload length).
        if !flags.intersection(flushFlags).isEmpty { return groPassUp(p, entered, gro, .flushFlag, node: ni, device: vx, path: path) }
        let before = p
        let held = watch(q) { w in w.record(before, q, node: ni, iface: w.ifLabel(vx), .receive, .tunnelGRO(gro)) }
        groHeld.append(GROHeld(device: vx, path: path, packet: held, count: 1, mss: len, underlay: gro.underlay))
    }

    /// `GRO_NORMAL`: the frame goes up unmerged, in the state GRO left. On a veth end, a
    /// segment that meets no held segment of its flow goes up without a step of its own
    /// (`VethGRO.swift` records the one that matters: the segment kept apart by its owner).
    private mutating func groPassUp(_ before: Packet, _ q: Packet, _ gro: StepEvent.TunnelGRO, _ why: StepEvent.TunnelGRO.PassReason,
                                    node ni: Int, device vx: Int, path: GROPath = .tunnel) {
        var e = gro
        e.action = .passedUp(why)
        var up = q
        if !path.onVeth || e.keptApart {
            up = watch(q) { w in w.record(before, q, node: ni, iface: w.ifLabel(vx), .receive, .tunnelGRO(e)) }
        }
        groDeliver(up, device: vx, path: path)
    }

    /// A frame GRO lets go of, up the device it ran on.
    mutating func groDeliver(_ p: Packet, device d: Int, path: GROPath) {
        switch path {
        case .tunnel: passUpFromTunnel(p, device: d)
        case .veth, .underlay: ingress(p, on: d, via: "napi_gro_receive")
        }
    }

    /// `tcp_gro_lookup()` after `gro_list_prepare()`: the same addresses and ports, and — for a
    /// segment a socket owns (`slow_gro`) — the same owner (`p->sk != skb->sk`). On the
    /// underlay the outer addresses and UDP ports too (`inet_gro_receive()`, `udp_gro_receive()`).
    static func sameFlow(_ a: Packet, _ b: Packet, _ path: GROPath = .tunnel) -> Bool {
        guard a.owner == b.owner, sameAddressesAndPorts(a, b) else { return false }
        guard path == .underlay else { return true }
        let (x, y) = (GROSegment(a, path), GROSegment(b, path))
        guard x.layout.ipVersion == y.layout.ipVersion, x.layout.l4Protocol == y.layout.l4Protocol else { return false }
        return x.frame.sourceAddress(x.layout) == y.frame.sourceAddress(y.layout) && x.frame.destinationAddress(x.layout) == y.frame.destinationAddress(y.layout)
            && x.frame.sourcePort(x.layout) == y.frame.sourcePort(y.layout) && x.frame.destinationPort(x.layout) == y.frame.destinationPort(y.layout)
    }

    /// The same addresses and ports, whoever owns the two.
    static func sameAddressesAndPorts(_ a: Packet, _ b: Packet) -> Bool {
        let la = a.layout, lb = b.layout
        guard la.ipVersion == lb.ipVersion, la.l4Protocol == lb.l4Protocol else { return false }
        return a.frame.sourceAddress(la) == b.frame.sourceAddress(lb) && a.frame.destinationAddress(la) == b.frame.destinationAddress(lb)
            && a.frame.sourcePort(la) == b.frame.sourcePort(lb) && a.frame.destinationPort(la) == b.frame.destinationPort(lb)
    }

    /// `tcp_gro_receive()`'s flush test for `p` against the held `h` (and `inet_gro_flush()` /
    /// `ipv6_gro_flush()` for the network header): false means merge.
    static func canMerge(_ h: GROHeld, _ p: Packet, _ seg: GROSegment) -> Bool {
        if h.path == .underlay, !outerCanMerge(h, p) { return false }
        let held = GROSegment(h.packet, h.path)
        let hl = held.layout, l = seg.layout
        let a = held.frame.bytes, b = seg.frame.bytes
        let fa = a[hl.l4Offset + 13], fb = b[l.l4Offset + 13]
        let cwr: UInt8 = 0x80, finPsh: UInt8 = 0x09
        if fb & cwr != 0 || (fa ^ fb) & ~(cwr | finPsh) != 0 { return false }
        if a.be32(at: hl.l4Offset + 8) != b.be32(at: l.l4Offset + 8) { return false }              // ack_seq
        if hl.l4HeaderLength != l.l4HeaderLength { return false }
        if a[(hl.l4Offset + 20)..<hl.payloadOffset] != b[(l.l4Offset + 20)..<l.payloadOffset] { return false }  // options
        let len = l.end - l.payloadOffset
        if len == 0 || len - 1 >= h.mss { return false }
        let heldLen = hl.end - hl.payloadOffset + h.appended.count
        if a.be32(at: hl.l4Offset + 4) &+ UInt32(heldLen) != b.be32(at: l.l4Offset + 4) { return false }   // seq
        switch l.ipVersion {
        case .v4:
            // TTL, TOS and DF must match; the IP ID must be the held one's + count (or fixed with DF).
            if a[hl.l3Offset + 8] != b[l.l3Offset + 8] || a[hl.l3Offset + 1] != b[l.l3Offset + 1] { return false }
            let dfA = a[hl.l3Offset + 6] & 0x40, dfB = b[l.l3Offset + 6] & 0x40
            if dfA != dfB { return false }
            let idA = a.be16(at: hl.l3Offset + 4), idB = b.be16(at: l.l3Offset + 4)
            let fixed = dfB != 0 && idA == idB
            if !fixed && idB != idA &+ UInt16(truncatingIfNeeded: h.count) { return false }
        case .v6:
            // Version, traffic class, flow label and hop limit must match.
            if a[hl.l3Offset..<(hl.l3Offset + 4)] != b[l.l3Offset..<(l.l3Offset + 4)] || a[hl.l3Offset + 7] != b[l.l3Offset + 7] { return false }
        }
        return true
    }

    /// The outer headers of a tunnelled segment against the held outer packet's: both UDP
    /// checksums zero or both not (`udp_gro_receive()`: `!uh->check ^ !uh2->check`), and
    /// `inet_gro_flush()` on the outer IPv4 header (TTL, TOS and DF equal, the ID one more per
    /// merged segment — 6.18; 6.12 skipped the ID of an outer header with DF, which a vxlan
    /// device does not set by default) or `ipv6_gro_receive()`'s (traffic class, flow label,
    /// hop limit). Not modelled (no lab sends them within one leg): 6.18's fixed outer ID
    /// (`ip_fixedid`), and that a packet differing in these is held as a flow of its own
    /// (`same_flow = 0`) rather than flushing the held one.
    static func outerCanMerge(_ h: GROHeld, _ p: Packet) -> Bool {
        let hl = h.packet.layout, l = p.layout
        let a = h.packet.frame.bytes, b = p.frame.bytes
        guard hl.l4Protocol == .udp, l.l4Protocol == .udp else { return false }
        if (a.be16(at: hl.l4Offset + 6) == 0) != (b.be16(at: l.l4Offset + 6) == 0) { return false }
        switch l.ipVersion {
        case .v4:
            if a[hl.l3Offset + 8] != b[l.l3Offset + 8] || a[hl.l3Offset + 1] != b[l.l3Offset + 1] { return false }
            let dfA = a[hl.l3Offset + 6] & 0x40, dfB = b[l.l3Offset + 6] & 0x40
            if dfA != dfB { return false }
            return b.be16(at: l.l3Offset + 4) == a.be16(at: hl.l3Offset + 4) &+ UInt16(truncatingIfNeeded: h.count)
        case .v6:
            return a[hl.l3Offset..<(hl.l3Offset + 4)] == b[l.l3Offset..<(l.l3Offset + 4)] && a[hl.l3Offset + 7] == b[l.l3Offset + 7]
        }
    }

    /// `napi_gro_complete()`: a lone segment goes up as it is; merged ones through
    /// `inet_gro_complete()` (the new total length, the IP header checksum) →
    /// `tcp4_gro_complete()` (`th->check = ~tcp_v4_check(len, saddr, daddr, 0)`) →
    /// `tcp_gro_complete()` (`CHECKSUM_PARTIAL`, `csum_start` at the TCP header, `gso_segs`).
    mutating func groComplete(_ h: GROHeld, node ni: Int) {
        let vx = h.device
        var q = h.packet
        let l = q.layout
        let v6 = l.ipVersion == .v6
        guard h.count > 1, case var .skb(st) = q.carrier else {
            let before = h.packet
            let up = watch(q) { w in
                w.record(before, q, node: ni, iface: w.ifLabel(vx), .receive, .tunnelGROComplete(device: w.name(vx), segments: 1, gsoSize: 0, v6: v6))
            }
            return groDeliver(up, device: vx, path: h.path)
        }
        if h.path == .underlay { return underlayGROComplete(h, node: ni) }
        let before = h.packet
        var b = Array(q.frame.bytes[..<l.end]) + h.appended
        switch l.ipVersion {
        case .v4: b.setBE16(UInt16(b.count - l.l3Offset), at: l.l3Offset + 2)
        case .v6: b.setBE16(UInt16(b.count - l.l3Offset - 40), at: l.l3Offset + 4)
        }
        q.frame = Frame(bytes: b)
        let fl = q.layout
        if !v6 { q.frame.fillIPv4Checksum(fl) }
        q.frame.setL4Checksum(q.frame.partialChecksumValue(fl), fl)
        st = st.with(.partial)
        st.csumStart = q.layout.l4Offset
        st.csumOffset = 16
        st.gsoSize = h.mss
        st.gsoType = v6 ? .tcpv6 : .tcpv4
        q.carrier = .skb(st)
        q.segment = nil
        let up = watch(q) { w in
            w.record(before, q, node: ni, iface: w.ifLabel(vx), .receive,
                     .tunnelGROComplete(device: w.name(vx), segments: h.count, gsoSize: h.mss, v6: v6))
        }
        groDeliver(up, device: vx, path: h.path)
    }

    /// The end of a NAPI poll (`napi_complete_done()` → `gro_flush()`): every held flow goes up.
    mutating func flushGRO() {
        while !groHeld.isEmpty {
            let h = groHeld.removeFirst()
            guard let ni = h.path.onVeth ? net.devices[h.device].node : shared.tunnelNode(h.device) else { continue }
            groComplete(h, node: ni)
        }
    }
}
