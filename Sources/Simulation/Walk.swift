import Checksum
import Wire

/// Walks one packet of one leg through the network, recording a `Step` at every kernel function
/// that touches it. What each element does lives in `Elements/` (one file per kind); this file
/// holds the recording, `validate_xmit_skb()` and the dispatch to each kind.
struct Walk {
    /// Never changes during a walk. Elements read a device's fields where they are
    /// (`net.devices[d].features`) instead of copying the whole `Device` at every hop (its
    /// name, label, MAC, ports and features each cost a retain and a release).
    let shared: SharedNetwork
    /// The simulator's network, read in place (`_read` yields it without a copy).
    var net: Network { _read { yield shared.network } }
    let flow: Flow
    let leg: LegSpec
    /// The payload the sending application wrote (to detect corrupted deliveries).
    let sentPayload: [UInt8]
    var steps: [Step] = []
    /// Terminal results, one per delivered or dropped packet (several after segmentation).
    var results: [Outcome] = []
    /// Checksum-error counters incremented, per host.
    var counters: [String: [String: Int]] = [:]
    /// The final packet(s) handed to the receiving application.
    var delivered: [Packet] = []
    /// The receiving host (node index) or the remote beyond a host NIC (negative: -1 - device).
    let destinationHost: HostRef
    /// NAT translations applied (original source → new source), shared with later legs.
    var nat: NATState
    /// Guard against forwarding loops in a malformed topology.
    private var hops = 0
    /// Segments GRO on a tunnel device holds until their flow is flushed (`Elements/TunnelGRO.swift`).
    var groHeld: [GROHeld] = []
    /// Tunnel transmits under way, one inside the other (`dev_xmit_recursion()`).
    var tunnelNesting = 0
    /// Per tunnel device: the next outer IPv4 ID it hands out (`Walk.outerIPID`).
    var outerIDs: [Int: UInt16] = [:]
    /// A walk that only decides (the fix search's variants): it records which nodes the packet
    /// met (`visited`) but no `Step` — no frame facts, changed bytes or address text, which only
    /// a shown trace needs. Nothing the walk does reads its steps back, so its outcomes,
    /// counters, NAT state and `visited` are the full walk's (`FixSearchReuseTests`).
    let lean: Bool
    /// The node of every recorded step, in order, a node met twice in a row listed once: what
    /// the fix search's proof needs of a walk (`FixSearch.relevantNodeSet`).
    var visited: [Int] = []
    /// The flow's fault (`corrupt-after`) was applied in this walk.
    var faulted = false
    /// The node after which this leg's fault may be applied (`corrupt-after`): nil for a flow
    /// without one and for a reply leg (a fault corrupts what the client sends). Steps at other
    /// nodes skip the fault hook, and a walk without one keeps no copy of its packet (`watch`).
    let faultNode: Int?

    /// The owner a host's own TCP gives its skbs: `tcp_wfree` (`.tcp`), or a packet socket's
    /// `sock_wfree` where verify's AF_PACKET writer stands in for the stack
    /// (`Simulator.tcpWrittenByPacketSocket`).
    let tcpOwner: SkbOwner

    init(shared: SharedNetwork, flow: Flow, leg: LegSpec, nat: NATState, lean: Bool = false, tcpOwner: SkbOwner = .tcp) {
        self.shared = shared
        self.lean = lean
        self.tcpOwner = tcpOwner
        // A leg records a dozen steps or so: one allocation instead of growing 1, 2, 4, 8, 16.
        if !lean { steps.reserveCapacity(16) }
        self.flow = flow
        self.leg = leg
        self.sentPayload = leg.payload
        self.destinationHost = leg.to
        self.nat = nat
        self.faultNode = leg.reply ? nil : flow.corruptAfter.flatMap { shared.network.nodeIndex(named: $0.node) }
    }

    var topology: Topology { _read { yield shared.network.topology } }

    // MARK: Recording

    mutating func record(_ before: Packet, _ after: Packet, node: Int, iface: String?, _ dir: Direction, _ event: StepEvent,
                         drop: String? = nil) {
        if visited.last != node { visited.append(node) }
        if lean {
            if faultNode == node { applyCorruption(after: topology.nodes[node].name, iface: iface, node: node) }
            return
        }
        steps.append(Step(element: topology.nodes[node].name, interface: iface, direction: dir, event: event,
                          before: before.carrier, after: after.carrier, frame: after.frame.bytes, frameBefore: before.frame.bytes,
                          innerOffset: after.innerOffset, segment: after.segment, fragmentMTU: after.fragmentMTU,
                          refragmentMTUs: after.refragmentMTUs, drop: drop))
        if faultNode == node { applyCorruption(after: topology.nodes[node].name, iface: iface, node: node) }
    }

    /// The fragment count of `p` (nil when it is one frame): what its step shows (`Step.fragments`).
    static func fragments(_ p: Packet) -> Int? {
        Step.fragments(p.frame, p.layout, mtu: p.fragmentMTU, again: p.refragmentMTUs)
    }

    /// The largest frame `p` puts on a link: per fragment when it is fragmented.
    static func linkFrameLength(_ p: Packet) -> Int {
        guard p.fragmentMTU != nil else { return p.frame.count }
        return p.linkFrames.map(\.count).max() ?? p.frame.count
    }

    /// A tunnelled skb whose pending sum is the inner one (`skb->encapsulation`, csum_start in
    /// the inner packet) keeps its promise when the inner field holds its pseudo-header sum and
    /// the outer UDP field is one that comes out right: 0 over IPv4 (no checksum), the outer
    /// pseudo-header sum (a GSO super-frame: each segment's is derived from it), or the checksum
    /// the frame has once the inner one is filled in (`lco_csum`). An outer field that is none
    /// of these — an LCO value NAT left behind a changed port — is a promise that will fail.
    static func tunnelledPromiseHolds(_ f: Frame, _ l: FrameLayout, innerOffset io: Int) -> Bool {
        guard io < f.bytes.count else { return false }
        var inner = Frame(bytes: Array(f.bytes[io...]))
        guard let il = try? inner.layout(), inner.l4HoldsPartialSum(il) else { return false }
        let outer = f.l4Checksum(l)
        if l.l4Protocol == .udp && l.ipVersion == .v4 && outer == 0 { return true }
        if outer == f.partialChecksumValue(l) { return true }
        inner.setL4Checksum(inner.correctL4Checksum(il), il)
        var completed = f
        completed.bytes.replaceSubrange(io..., with: inner.bytes)
        return outer == completed.correctL4Checksum(l)
    }

    /// The packet currently being walked, for the corruption hook.
    var current: Packet?

    /// A bit flip on the chosen element, applied once, right after the packet passes it.
    private mutating func applyCorruption(after element: String, iface: String?, node: Int) {
        guard let at = flow.corruptAfter, !leg.reply, at.node == element, at.interface == nil || at.interface == iface,
              var p = current, !p.corrupted else { return }
        let before = p
        if let io = p.innerOffset {
            // A tunnelled frame: the fault is in the payload the application sent (the inner one).
            var inner = Frame(bytes: Array(p.frame.bytes[io...]))
            guard let il = try? inner.layout(), inner.flipPayloadBit(byte: flow.corruptByte, il) else { return }
            p.frame.bytes.replaceSubrange(io..., with: inner.bytes)
        } else {
            guard p.frame.flipPayloadBit(byte: flow.corruptByte, p.layout) else { return }
        }
        p.corrupted = true
        current = p
        faulted = true
        guard !lean else { return }
        steps.append(Step(element: element, interface: iface, direction: .transmit, event: .faultInjected(after: element),
                          before: before.carrier, after: p.carrier, frame: p.frame.bytes, frameBefore: before.frame.bytes,
                          innerOffset: p.innerOffset, segment: p.segment, fragmentMTU: p.fragmentMTU,
                          refragmentMTUs: p.refragmentMTUs, drop: nil))
    }

    /// Run one event with the corruption hook watching `p`: returns the possibly corrupted packet.
    mutating func watch(_ p: Packet, _ body: (inout Walk) -> Void) -> Packet {
        // Only a leg with a fault changes the packet here (`applyCorruption`); any other
        // returns `p` as it came, without keeping a copy in `current`.
        guard faultNode != nil else {
            body(&self)
            return p
        }
        current = p
        body(&self)
        return current ?? p
    }

    mutating func finish(_ o: Outcome) {
        results.append(o)
    }

    mutating func count(_ host: String, _ counter: String) {
        counters[host, default: [:]][counter, default: 0] += 1
    }

    // MARK: Devices

    func name(_ d: Int) -> String { net.devices[d].name }

    /// Interface label of a device at its node (`eth0` for `vm1:eth0`).
    func ifLabel(_ d: Int) -> String { net.devices[d].label }

    /// `dev_queue_xmit()` on device `d`: `validate_xmit_skb()` with `d`'s features (software
    /// segmentation, checksum completion), then the driver's transmit.
    mutating func transmit(_ p: Packet, on d: Int) {
        hops += 1
        guard hops < 4096 else {
            finish(.droppedOnPath(at: name(d), reason: "forwarding loop"))
            return
        }
        guard var s = p.skb else { preconditionFailure("transmit needs an skb") }
        let l = p.layout
        let profile = net.devices[d].profile
        let node = net.devices[d].node
        // 1. GSO: a device without TSO for this type segments in software.
        if s.isGSO {
            let tsoOK: Bool
            if case let .tap(ts) = net.devices[d].kind {
                let flags = shared.tunFlags(d, ts)
                tsoOK = net.devices[d].features.has(.tso) && (s.gsoType == .tcpv6 ? flags.tso6 : flags.tso4)
                // A tunnelled (UDP_TUNNEL) GSO skb needs TUN_F_UDP_TUNNEL_GSO, which the model's
                // TAPs never set: __skb_udp_tunnel_segment() cuts it, keeping the inner
                // checksum pending when the TAP can checksum (measured on 6.18 with
                // vxlan-in-vm: NEEDS_CSUM at the inner TCP header, the outer valid once the
                // inner is completed).
                if p.innerOffset != nil { return tunnelSegment(p, on: d, s, reason: "a TAP has no TUN_F_UDP_TUNNEL_GSO") }
            } else {
                tsoOK = net.devices[d].features.has(.tso)
            }
            // A tunnelled GSO skb the device cannot take whole is cut by the tunnel's GSO
            // (skb_udp_tunnel_segment), not as plain TCP.
            if !tsoOK && p.innerOffset != nil { return tunnelSegment(p, on: d, s, reason: "it has no TSO") }
            if !tsoOK {
                // 4.4 quirk: a device without SG gets NONE segments even if it can checksum.
                let complete = !(net.devices[d].features.txChecksum && s.ipSummed == .partial && (profile == .linux6 || net.devices[d].features.has(.scatterGather)))
                let segs = p.frame.tcpSegments(mss: s.gsoSize, l, complete: complete, mangleZero: false)
                let sg = net.devices[d].features.has(.scatterGather)
                for (i, seg) in segs.enumerated() {
                    var q = p
                    q.frame = seg.frame
                    q.segment = i + 1
                    q.payloadOffset = p.payloadOffset + seg.payloadOffset
                    // skb_segment(): a sock_wfree owner moves to the last segment ("transfer
                    // ownership from head_skb to last segment"); tcp_gso_segment() gives every
                    // segment a tcp_wfree owner.
                    if p.owner == .socket && i != segs.count - 1 { q.owner = .none }
                    var segState = (complete ? SkbState(ipSummed: .none) : SkbState(ipSummed: .partial, csumStart: l.l4Offset, csumOffset: l.l4Protocol.checksumOffset))
                        .keepingChecksumMarks(of: s)
                    segState.headLength = Self.segmentHeadLength(sg: sg, superHead: s.headLength, headers: l.payloadOffset,
                                                                 payloadOffset: seg.payloadOffset, length: seg.frame.count - l.payloadOffset)
                    q.carrier = .skb(segState)
                    let q2 = watch(q) { w in
                        w.record(p, q, node: node, iface: w.ifLabel(d), .transmit,
                                 .gsoSegment(v6: l.ipVersion == .v6, complete: complete, count: segs.count, device: w.name(d)))
                    }
                    transmitDriver(q2, on: d)
                }
                return
            }
        }
        var q = p
        // skb_needs_linearize(): a paged skb meets a device without scatter-gather, and
        // __skb_linearize() pulls it all into the linear part (measured on 6.18:
        // vxlan-bridge-port with wireB sg off, segments merged again by GRO on vxA reach tap1
        // with hdr_len 1464, the whole first segment).
        if !s.isGSO, !net.devices[d].features.has(.scatterGather), (s.headLength ?? 0) < q.frame.count {
            s.headLength = q.frame.count
            q.carrier = .skb(s)
        }
        // 2. Checksum completion when the device cannot finish a PARTIAL skb.
        if s.ipSummed == .partial && !net.devices[d].features.txChecksum {
            if s.isGSO {
                // Not reached: a GSO skb on a device without checksum offload has no TSO either.
                preconditionFailure("GSO skb on a device without checksum offload")
            }
            q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: profile.checksumHelpMangles0)
            // skb_checksum_help() writes the field and sets CHECKSUM_NONE, nothing else: the
            // linear part stays as it was, and so does csum_valid (an earlier software check's
            // mark, which packet sockets downstream still report as TP_STATUS_CSUM_VALID —
            // measured on 6.18: vxlan-double-masquerade with pw0 tx off, wireB's ring).
            s = s.with(.none)
            q.carrier = .skb(s)
            let reason = net.devices[d].features.fixedOff[.txChecksumming] ?? "tx-checksumming is off"
            q = watch(q) { w in
                w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .checksumHelp(profile: profile, device: w.name(d), reason: reason))
            }
        }
        transmitDriver(q, on: d)
    }

    /// `skb_segment()`'s linear part of a segment (`skb_headlen()`, nil: the headers alone): the
    /// headers are copied, then `hsize = skb_headlen(head_skb) - offset` bytes of payload that
    /// still lie in the super-frame's linear part, and all `len` of them when the device has no
    /// scatter-gather (`if (hsize > len || !sg) hsize = len`: the segment is built linear). So
    /// a segment cut for a device without SG reaches a TAP with `hdr_len` = its whole length
    /// (measured on 6.18: vxlan-bridge-port with vxA sg off, GRO on vxB, hdr_len 1464 at tap2).
    static func segmentHeadLength(sg: Bool, superHead: Int?, headers: Int, payloadOffset off: Int, length len: Int) -> Int? {
        if !sg { return headers + len }
        let linearPayload = max(0, (superHead ?? headers) - headers)
        let inHead = min(len, max(0, linearPayload - off))
        return inHead > 0 ? headers + inHead : nil
    }

    /// The driver's transmit routine of device `d` (after validation): each kind's own, in
    /// `Elements/`.
    mutating func transmitDriver(_ p: Packet, on d: Int) {
        guard let s = p.skb else { preconditionFailure("driver transmit needs an skb") }
        switch net.devices[d].kind {
        case .virtio: virtioXmit(p, on: d, s)
        case let .tap(ts): tunNetXmit(p, on: d, s, ts)
        case .vethEnd: vethXmit(p, on: d, s)
        case .bridge: bridgeDevXmit(p, on: d)
        case .hostNIC: hostNICXmit(p, on: d, s)
        case let .vxlan(v): vxlanXmit(p, on: d, s, v)
        }
    }

    /// A frame enters the kernel on device `d` (from its peer, its fd, or the wire).
    mutating func ingress(_ p: Packet, on d: Int, via: String?) {
        // A device's receive keeps the skb's owner (veth_xmit, __dev_forward_skb and netif_rx
        // leave skb->sk alone; skb_scrub_packet stopped orphaning in 9c4c325252c5): what drops
        // it is the IP receive (`ipReceive`: ip_rcv_core) or a bridge's br_netfilter
        // (`bridgeNetfilter`: setup_pre_routing).
        if let br = net.devices[d].master {
            return bridgeForward(p, bridge: br, from: d)
        }
        if let ps = net.devices[d].packetSocket {
            return userspaceReceive(p, node: ps.node, iface: ps.iface, via: d)
        }
        if net.devices[d].l3 != nil {
            return arriveAtHost(p, device: d)
        }
        finish(.droppedOnPath(at: name(d), reason: "the device is not attached to anything"))
    }

    static func macString(_ m: [UInt8]) -> String {
        m.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }

    /// Unicast frames carry a destination MAC with the group bit clear.
    static func isForeignUnicast(_ frame: [UInt8], mac: [UInt8]) -> Bool {
        let f = Frame(bytes: frame)
        return f.destinationIsUnicast && f.destinationMAC != mac
    }

}

/// A host that sends or receives: a node, or the remote machine beyond a host NIC.
enum HostRef: Sendable, Hashable {
    case node(Int)
    case remote(nic: Int)
}

/// The conntrack entries of one flow's packets, so later legs find the connections earlier ones
/// made, and replies are translated back.
struct NATState: Sendable {
    /// Router node → the conntrack entries made there, oldest first. Legs run in order and share
    /// them, as the packets of one connection share an entry in the kernel; packets of another
    /// 5-tuple (a tunnel's far end sends from its own hashed source port) make their own.
    var connections: [Int: [ConntrackEntry]] = [:]
}

/// A conntrack tuple as the model needs it (`struct nf_conntrack_tuple`): addresses, protocol
/// and ports (TCP, UDP; an ICMP echo's identifier both ways, as `icmp_pkt_to_tuple` keeps it).
struct ConntrackTuple: Sendable, Equatable {
    var source: IPAddress
    var destination: IPAddress
    var proto: UInt8
    var sourcePort: UInt16
    var destinationPort: UInt16

    /// The tuple of `f`'s outer (or only) IP header and the transport header after it.
    init(_ f: Frame, _ l: FrameLayout) {
        source = IPAddress(bytes: f.sourceAddress(l))
        destination = IPAddress(bytes: f.destinationAddress(l))
        proto = l.l4Protocol.rawValue
        switch l.l4Protocol {
        case .tcp, .udp:
            sourcePort = f.sourcePort(l)
            destinationPort = f.destinationPort(l)
        case .icmp, .icmpv6:
            let id = l.l4Offset + 6 <= f.bytes.count ? f.bytes.be16(at: l.l4Offset + 4) : 0
            (sourcePort, destinationPort) = (id, id)
        }
    }

    /// `nf_ct_invert_tuple()`.
    var inverted: ConntrackTuple {
        var t = self
        (t.source, t.destination) = (destination, source)
        (t.sourcePort, t.destinationPort) = (destinationPort, sourcePort)
        return t
    }
}

/// A conntrack entry: the tuple of its first packet, the source MASQUERADE gave it, and the one
/// TCP state the model tracks.
struct ConntrackEntry: Sendable {
    /// `tuplehash[IP_CT_DIR_ORIGINAL]`.
    var original: ConntrackTuple
    /// MASQUERADE's address for the connection's source (nil: not translated).
    var natSource: IPAddress?
    /// A TCP connection made by a SYN whose SYN-ACK has not come back through (SYN_SENT): the
    /// one state the model tracks, because the kernel refuses an original-direction segment
    /// without SYN there (`ConntrackTCPStateTests`).
    var synSent = false

    /// `tuplehash[IP_CT_DIR_REPLY]`: the original inverted, addressed to the translated source.
    var reply: ConntrackTuple {
        var r = original.inverted
        if let n = natSource { r.destination = n }
        return r
    }
}
