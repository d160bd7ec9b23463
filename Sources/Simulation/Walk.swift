import Checksum
import Wire

/// Walks one packet of one leg through the network, recording a `Step` at every kernel function
/// that touches it. Device behaviour lives here; host stacks are in `Walk+Hosts.swift`.
struct Walk {
    let net: Network
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

    init(net: Network, flow: Flow, leg: LegSpec, nat: NATState) {
        self.net = net
        self.flow = flow
        self.leg = leg
        self.sentPayload = leg.payload
        self.destinationHost = leg.to
        self.nat = nat
    }

    var topology: Topology { net.topology }

    // MARK: Recording

    mutating func record(_ before: Packet, _ after: Packet, node: Int, iface: String?, _ dir: Direction, _ event: StepEvent,
                         drop: String? = nil) {
        let l = after.layout
        let f = after.frame
        let valid = f.l4ChecksumIsValid(l)
        let changed: [Int]
        if before.frame.count == after.frame.count {
            changed = (0..<f.count).filter { before.frame.bytes[$0] != f.bytes[$0] }
        } else {
            changed = Array(0..<f.count)
        }
        let src = IPAddress(bytes: f.sourceAddress(l)).description
        let dst = IPAddress(bytes: f.destinationAddress(l)).description
        steps.append(Step(element: topology.nodes[node].name, interface: iface, direction: dir, event: event, function: event.function,
                          before: before.carrier, after: after.carrier, frame: f.bytes, changedBytes: changed,
                          l4Field: f.l4Checksum(l), l4Correct: f.correctL4Checksum(l), l4PseudoSum: f.partialChecksumValue(l),
                          bytesValid: valid, receiverWouldAccept: after.carrier.trustedWithoutBytes || valid,
                          condition: Self.condition(after), ttl: f.ttl(l), source: src, destination: dst,
                          segment: after.segment, ipFragments: Self.fragments(after, l), explanation: event.explanation, drop: drop))
        applyCorruption(after: topology.nodes[node].name, iface: iface, node: node)
    }

    /// The fragment count a step records for `p` (nil when it is one frame).
    static func fragments(_ p: Packet, _ l: FrameLayout? = nil) -> Int? {
        guard let mtu = p.fragmentMTU else { return nil }
        let n = p.frame.fragmentCount(l ?? p.layout, mtu: mtu)
        return n > 1 ? n : nil
    }

    /// The largest frame `p` puts on a link: per fragment when it is fragmented.
    static func linkFrameLength(_ p: Packet) -> Int {
        p.fragmentMTU != nil ? min(p.frame.count, FrameLayout.ethernetLength + Frame.linkMTU) : p.frame.count
    }

    static func condition(_ p: Packet) -> ChecksumCondition {
        let l = p.layout
        let valid = p.frame.l4ChecksumIsValid(l)
        if p.carrier.isPartial {
            return p.frame.l4HoldsPartialSum(l) ? .partialPending : .flaggedButBad
        }
        if p.carrier.trustedWithoutBytes { return valid ? .verifiedUnnecessary : .flaggedButBad }
        return valid ? .completeValid : .badUnflagged
    }

    /// The packet currently being walked, for the corruption hook.
    var current: Packet?

    /// A bit flip on the chosen element, applied once, right after the packet passes it.
    private mutating func applyCorruption(after element: String, iface: String?, node: Int) {
        guard let at = flow.corruptAfter, !leg.reply, at.node == element, at.interface == nil || at.interface == iface,
              var p = current, !p.corrupted else { return }
        let before = p
        guard p.frame.flipPayloadBit(byte: flow.corruptByte, p.layout) else { return }
        p.corrupted = true
        current = p
        let l = p.layout
        let f = p.frame
        let event = StepEvent.faultInjected(after: element)
        steps.append(Step(element: element, interface: iface, direction: .transmit, event: event, function: event.function,
                          before: before.carrier, after: p.carrier, frame: f.bytes,
                          changedBytes: (0..<f.count).filter { before.frame.bytes[$0] != f.bytes[$0] },
                          l4Field: f.l4Checksum(l), l4Correct: f.correctL4Checksum(l), l4PseudoSum: f.partialChecksumValue(l),
                          bytesValid: f.l4ChecksumIsValid(l), receiverWouldAccept: p.carrier.trustedWithoutBytes || f.l4ChecksumIsValid(l),
                          condition: Self.condition(p), ttl: f.ttl(l),
                          source: IPAddress(bytes: f.sourceAddress(l)).description,
                          destination: IPAddress(bytes: f.destinationAddress(l)).description,
                          segment: p.segment, ipFragments: Self.fragments(p),
                          explanation: event.explanation, drop: nil))
    }

    /// Run one event with the corruption hook watching `p`: returns the possibly corrupted packet.
    mutating func watch(_ p: Packet, _ body: (inout Walk) -> Void) -> Packet {
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
    func ifLabel(_ d: Int) -> String {
        let n = net.devices[d].name
        if let i = n.firstIndex(of: ":") { return String(n[n.index(after: i)...]) }
        return n
    }

    /// `dev_queue_xmit()` on device `d`: `validate_xmit_skb()` with `d`'s features (software
    /// segmentation, checksum completion), then the driver's transmit.
    mutating func transmit(_ p: Packet, on d: Int) {
        hops += 1
        guard hops < 4096 else {
            finish(.droppedOnPath(at: name(d), reason: "forwarding loop"))
            return
        }
        let dev = net.devices[d]
        guard var s = p.skb else { preconditionFailure("transmit needs an skb") }
        let l = p.layout
        let profile = dev.profile
        let node = dev.node
        // 1. GSO: a device without TSO for this type segments in software.
        if s.isGSO {
            let tsoOK: Bool
            if case let .tap(ts) = dev.kind {
                let flags = net.tunFlags(d, ts)
                tsoOK = dev.features.has(.tso) && (s.gsoType == .tcpv6 ? flags.tso6 : flags.tso4)
            } else {
                tsoOK = dev.features.has(.tso)
            }
            if !tsoOK {
                // 4.4 quirk: a device without SG gets NONE segments even if it can checksum.
                let complete = !(dev.features.txChecksum && s.ipSummed == .partial && (profile == .linux6 || dev.features.has(.scatterGather)))
                let segs = p.frame.tcpSegments(mss: s.gsoSize, l, complete: complete, mangleZero: false)
                for (i, seg) in segs.enumerated() {
                    var q = p
                    q.frame = seg.frame
                    q.segment = i + 1
                    q.payloadOffset = p.payloadOffset + seg.payloadOffset
                    q.carrier = .skb(complete ? SkbState(ipSummed: .none) : SkbState(ipSummed: .partial, csumStart: l.l4Offset, csumOffset: l.l4Protocol.checksumOffset))
                    let q2 = watch(q) { w in
                        w.record(p, q, node: node, iface: w.ifLabel(d), .transmit,
                                 .gsoSegment(v6: l.ipVersion == .v6, complete: complete, count: segs.count, device: w.name(d)))
                    }
                    transmitDriver(q2, on: d)
                }
                return
            }
        }
        // 2. Checksum completion when the device cannot finish a PARTIAL skb.
        var q = p
        if s.ipSummed == .partial && !dev.features.txChecksum {
            if s.isGSO {
                // Not reached: a GSO skb on a device without checksum offload has no TSO either.
                preconditionFailure("GSO skb on a device without checksum offload")
            }
            q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: profile.checksumHelpMangles0)
            s = SkbState(ipSummed: .none)
            q.carrier = .skb(s)
            let reason = dev.features.fixedOff[.txChecksumming] ?? "tx-checksumming is off"
            q = watch(q) { w in
                w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .checksumHelp(profile: profile, device: w.name(d), reason: reason))
            }
        }
        transmitDriver(q, on: d)
    }

    /// The driver's transmit routine of device `d` (after validation).
    mutating func transmitDriver(_ p: Packet, on d: Int) {
        let dev = net.devices[d]
        let node = dev.node
        guard let s = p.skb else { preconditionFailure("driver transmit needs an skb") }
        let l = p.layout
        switch dev.kind {
        case .virtio:
            let h = VirtioNetHeader(skb: s, hasDataValid: false, headersLength: l.payloadOffset)
            var q = p
            q.carrier = .vnet(h)
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .virtioXmit(h)) }
            guard let tap = dev.peer else {
                finish(.droppedOnPath(at: name(d), reason: "NIC has no backend"))
                return
            }
            tapWrite(q, tap: tap, vnet: true)
        case let .tap(ts):
            var q = p
            if ts.vnetHdr {
                let h = VirtioNetHeader(skb: s, hasDataValid: true, headersLength: l.payloadOffset)
                q.carrier = .vnet(h)
                q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .tunPutUser(vnet: h, summed: s.ipSummed)) }
            } else {
                q.carrier = .raw
                q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .tunPutUser(vnet: nil, summed: s.ipSummed)) }
            }
            switch dev.fdSide {
            case let .vm(v)?:
                qemuToGuest(q, nic: v, tap: d)
            case let .userspace(ni, ii)?:
                userspaceReceive(q, node: ni, iface: ii, via: d)
            case nil:
                finish(.droppedOnPath(at: name(d), reason: "nobody reads this TAP"))
            }
        case .vethEnd:
            var q = p
            var marks = false
            if let peer = dev.peer, dev.profile.vethMarksUnnecessary, s.ipSummed == .none, net.devices[peer].features.has(.rxChecksumming) {
                q.carrier = .skb(s.with(.unnecessary))
                marks = true
            }
            guard let peer = dev.peer else { return finish(.droppedOnPath(at: name(d), reason: "veth has no peer")) }
            // __dev_forward_skb() → is_skb_forwardable(): a non-GSO frame longer than the peer's
            // MTU + Ethernet header + VLAN tag (1518) is dropped.
            if !s.isGSO && Self.linkFrameLength(q) > Frame.forwardableLength {
                let r = p
                _ = watch(r) { w in
                    w.record(r, r, node: node, iface: w.ifLabel(d), .transmit, .vethTooBig(peer: w.name(peer)), drop: "frame exceeds MTU")
                }
                return finish(.droppedOnPath(at: name(d), reason: "frame exceeds the veth peer's MTU"))
            }
            q = watch(q) { w in
                w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .vethXmit(summed: s.ipSummed, marksUnnecessary: marks, gso: s.isGSO))
            }
            // veth_skb_is_eligible_for_gro(): with GRO on the peer, frames from a sender without
            // TSO take the NAPI path, where GRO validates a NONE checksum and marks it UNNECESSARY.
            if dev.profile == .linux6, net.devices[peer].features.has(.gro), !dev.features.has(.tso),
               case let .skb(cur) = q.carrier, cur.ipSummed == .none, !cur.isGSO, q.fragmentMTU == nil, l.l4Protocol == .tcp || l.l4Protocol == .udp {
                let r = q
                let valid = q.frame.l4ChecksumIsValid(l)
                if valid { q.carrier = .skb(SkbState(ipSummed: .unnecessary)) }
                q = watch(q) { w in
                    w.record(r, q, node: w.net.devices[peer].node, iface: w.ifLabel(peer), .receive,
                             .vethGRO(v6: l.ipVersion == .v6, l4: l.l4Protocol, valid: valid, device: w.name(d), peer: w.name(peer)))
                }
            }
            ingress(q, on: peer, via: "netif_rx")
        case .bridge:
            // br_dev_xmit: locally originated, forwarded without skb_forward_csum().
            let q = watch(p) { w in
                w.record(p, p, node: node, iface: w.ifLabel(d), .transmit, .bridgeLocalXmit)
            }
            if let port = pickPort(bridge: d, excluding: nil, q) {
                return transmit(q, on: port)
            }
            let flood = floodPorts(bridge: d, excluding: nil)
            guard let port = flood.follow else {
                return finish(.droppedOnPath(at: name(d), reason: floodDropReason(flood.ports)))
            }
            var fq = q
            fq.flooded = true
            let r = watch(fq) { w in
                w.record(q, fq, node: node, iface: w.ifLabel(d), .transmit, .bridgeLocalFlood(ports: flood.ports.map(w.name)))
            }
            transmit(r, on: port)
        case .hostNIC:
            var q = p
            if s.ipSummed == .partial {
                q.frame.completeChecksum(start: s.csumStart, offset: s.csumOffset, end: l.end, mangleZero: false)
            }
            q.carrier = .wire
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .hostNICXmit(partial: s.ipSummed == .partial, gso: s.isGSO)) }
            remoteReceive(q, nic: d)
        }
    }

    /// QEMU hands a frame the host wrote to the TAP to the guest's virtio-net device.
    mutating func qemuToGuest(_ p: Packet, nic: Int, tap: Int) {
        let dev = net.devices[nic]
        let node = dev.node
        var q = p
        let profile = dev.profile
        let guestName = topology.nodes[node].name
        // QEMU virtio-net receive_filter(): a unicast frame for another MAC is dropped unless
        // the guest put its NIC in promiscuous mode (a flooded copy, for instance).
        if p.flooded, Self.isForeignUnicast(p.frame.bytes, mac: dev.mac), !guestNICIsPromiscuous(nic) {
            _ = watch(p) { w in
                w.record(p, p, node: node, iface: w.ifLabel(nic), .receive,
                         .qemuReceiveFilter(mac: Self.macString(p.frame.destinationMAC), guest: guestName), drop: "not for this MAC")
            }
            return finish(.droppedOnPath(at: name(nic), reason: "frame not addressed to this NIC's MAC"))
        }
        switch p.carrier {
        case let .vnet(h):
            if h.isGSO, !guestAcceptsGSO(nic) {
                return finish(.droppedOnPath(at: name(tap), reason: "GSO frame to a guest without GUEST_TSO"))
            }
            // virtnet_receive_done(): DATA_VALID → CHECKSUM_UNNECESSARY, then virtio_net_hdr_to_skb().
            var s = SkbState(virtioHeader: h)
            if h.isDataValid && !h.needsChecksum {
                s.ipSummed = .unnecessary
            }
            q.carrier = .skb(s)
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(nic), .receive, .receiveBuf(vnet: h, profile: profile, guest: guestName)) }
        case .raw:
            q.carrier = .skb(SkbState(ipSummed: .none))
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(nic), .receive, .receiveBuf(vnet: nil, profile: profile, guest: guestName)) }
        default:
            preconditionFailure("QEMU delivers vnet or raw frames")
        }
        arriveAtHost(q, device: nic)
    }

    /// A guest NIC read by a userspace forwarder (AF_PACKET, pcap) is promiscuous; a guest
    /// host's or kernel router's is not.
    func guestNICIsPromiscuous(_ nic: Int) -> Bool {
        if case let .router(r) = topology.nodes[net.devices[nic].node].kind, r.flavour == .userspace { return true }
        return false
    }

    func guestAcceptsGSO(_ nic: Int) -> Bool {
        switch topology.nodes[net.devices[nic].node].kind {
        case let .vm(v): return v.guestTSO
        case let .router(r): return r.vm.guestTSO
        default: return false
        }
    }

    /// A frame written to a TAP's fd: `tun_get_user()`.
    mutating func tapWrite(_ p: Packet, tap: Int, vnet: Bool) {
        let dev = net.devices[tap]
        guard case let .tap(ts) = dev.kind else { preconditionFailure("tapWrite needs a TAP") }
        let node = dev.node
        let profile = dev.profile
        var q = p
        var s = SkbState(ipSummed: .none)
        var written: VirtioNetHeader?
        var gsoApplied = false
        if ts.vnetHdr, case let .vnet(h) = p.carrier {
            written = h
            gsoApplied = h.isGSO && p.layout.end - p.layout.payloadOffset > Int(h.gsoSize)
            s = SkbState(virtioHeader: h, gso: gsoApplied)
            if gsoApplied {
                // tun_can_build_skb(): a frame that fits a page with XDP headroom and
                // skb_shared_info is built fully linear; larger ones get hdr_len linear.
                // tun_alloc_skb(): "Under a page? Don't bother with paged skb." (prepad 64).
                let fitsPage = (p.frame.count + 64 + 256 + 63) / 64 * 64 + 320 <= 4096
                let linear = fitsPage || p.frame.count + 64 < 4096 || h.hdrLen == 0
                s.headLength = linear ? p.frame.count : Int(h.hdrLen)
            }
        }
        q.carrier = .skb(s)
        let event = StepEvent.tunGetUser(tapVnetHdr: ts.vnetHdr, vnet: written, gso: gsoApplied, profile: profile)
        q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(tap), .receive, event) }
        ingress(q, on: tap, via: nil)
    }

    /// A frame enters the kernel on device `d` (from its peer, its fd, or the wire).
    mutating func ingress(_ p: Packet, on d: Int, via: String?) {
        let dev = net.devices[d]
        if let br = dev.master {
            return bridgeForward(p, bridge: br, from: d)
        }
        if let ps = dev.packetSocket {
            return userspaceReceive(p, node: ps.node, iface: ps.iface, via: d)
        }
        if dev.l3 != nil {
            return arriveAtHost(p, device: d)
        }
        finish(.droppedOnPath(at: name(d), reason: "the device is not attached to anything"))
    }

    /// `br_handle_frame()` → `br_forward()` → `__br_forward()` → `br_dev_queue_push_xmit()`.
    mutating func bridgeForward(_ p: Packet, bridge br: Int, from inPort: Int) {
        let node = net.devices[br].node
        if p.target == br || (p.target.map { net.devices[$0].l3 == nil && $0 == br } ?? false) {
            let q = watch(p) { w in
                w.record(p, p, node: node, iface: w.ifLabel(br), .receive, .bridgePassUp(bridge: w.name(br)))
            }
            return arriveAtHost(q, device: br)
        }
        let out: Int
        var flooded: StepEvent.BridgeFlood?
        if let port = pickPort(bridge: br, excluding: inPort, p) {
            out = port
        } else {
            // br_handle_frame_finish(): no fdb entry for the destination MAC → br_flood() to
            // every port but the ingress one.
            let flood = floodPorts(bridge: br, excluding: inPort)
            guard let port = flood.follow else {
                return finish(.droppedOnPath(at: name(br), reason: floodDropReason(flood.ports)))
            }
            out = port
            flooded = StepEvent.BridgeFlood(destinationMAC: Self.macString(p.frame.destinationMAC), ports: flood.ports.map(name))
        }
        var q = p
        q.flooded = p.flooded || flooded != nil
        let s = p.skb!
        if s.ipSummed == .complete {
            q.carrier = .skb(s.with(.none))
        }
        // is_skb_forwardable(): a non-GSO frame larger than the egress MTU is dropped.
        if !s.isGSO && Self.linkFrameLength(p) > Frame.forwardableLength {
            q = watch(q) { w in
                w.record(p, q, node: node, iface: w.ifLabel(br), .forward, .bridgeTooBig(egress: w.name(out)), drop: "frame exceeds MTU")
            }
            return finish(.droppedOnPath(at: name(br), reason: "frame exceeds MTU"))
        }
        q = watch(q) { w in
            w.record(p, q, node: node, iface: w.ifLabel(br), .forward,
                     .bridgeForward(summed: s.ipSummed, from: w.name(inPort), to: w.name(out), flood: flooded))
        }
        transmit(q, on: out)
    }

    /// `br_flood()` for unknown unicast: the ports a copy goes out of (every port but the
    /// ingress one, in port order) and the one whose far side holds the leg's destination host,
    /// which the walk follows (the copies elsewhere end at NICs whose MAC does not match).
    func floodPorts(bridge br: Int, excluding inPort: Int?) -> (ports: [Int], follow: Int?) {
        let ports = net.devices[br].ports.filter { $0 != inPort }
        let hostDevices: [Int]
        switch destinationHost {
        case let .node(ni): hostDevices = net.devices.indices.filter { net.devices[$0].node == ni }
        case let .remote(nic): hostDevices = [nic]
        }
        let follow = ports.first { port in
            hostDevices.contains { port == $0 || reachesBeyond(port, target: $0, bridge: br) }
        }
        return (ports, follow)
    }

    /// Why a flooded frame ends at the bridge: no port, or none leading to the destination host.
    func floodDropReason(_ ports: [Int]) -> String {
        ports.isEmpty ? "no bridge port to flood to" : "unknown unicast flooded to \(ports.map(name).joined(separator: ", ")); none leads to the destination host"
    }

    static func macString(_ m: [UInt8]) -> String {
        m.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined(separator: ":")
    }

    /// Unicast frames carry a destination MAC with the group bit clear.
    static func isForeignUnicast(_ frame: [UInt8], mac: [UInt8]) -> Bool {
        let f = Frame(bytes: frame)
        return f.destinationIsUnicast && f.destinationMAC != mac
    }

    /// The bridge port whose side of the network holds the packet's target.
    func pickPort(bridge br: Int, excluding inPort: Int?, _ p: Packet) -> Int? {
        guard let target = p.target else { return nil }
        for port in net.devices[br].ports where port != inPort {
            if port == target || reachesBeyond(port, target: target, bridge: br) { return port }
        }
        return nil
    }

    /// Does the far side of `port` (away from `bridge`) hold `target`?
    func reachesBeyond(_ port: Int, target: Int, bridge: Int) -> Bool {
        var seen: Set<Int> = [bridge]
        var stack = [port]
        while let d = stack.popLast() {
            if d == target { return true }
            if !seen.insert(d).inserted { continue }
            stack.append(contentsOf: net.l2Neighbours(d).filter { !seen.contains($0) })
        }
        return false
    }
}

/// A host that sends or receives: a node, or the remote machine beyond a host NIC.
enum HostRef: Sendable, Hashable {
    case node(Int)
    case remote(nic: Int)
}

/// Source NAT applied to a connection, so replies are translated back.
struct NATState: Sendable {
    /// Router node → (original client address, translated address).
    var masquerades: [Int: (original: IPAddress, translated: IPAddress)] = [:]
    /// Router node → the conntrack entry this flow's connection has there. Legs run in order and
    /// share it, as the packets of one connection share a conntrack entry in the kernel.
    var connections: [Int: ConntrackEntry] = [:]
}

/// A conntrack entry, as far as the model needs it: which way its first packet went and where a
/// reply must be addressed to match its reply tuple (the original source, or the address
/// MASQUERADE gave it).
struct ConntrackEntry: Sendable {
    /// The `reply` flag of the leg whose packet created the entry (its original direction).
    var creatorWasReply: Bool
    /// The destination a packet in the reply direction must carry to belong to the entry.
    var replyDestination: IPAddress
}
