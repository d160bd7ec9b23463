import Simulation
import Wire

/// How one leg of a simulated flow is checked on the real lab: what is written where (exactly the
/// bytes and virtio header the simulation's sender emits), where the result is read, and what the
/// simulation says arrives there. Pure: derived from the plan and the simulated leg.
public struct LegCheck: Sendable, Equatable {
    /// Where frames enter the lab.
    public enum Injection: Sendable, Equatable {
        /// Written into a TAP's fd (a VM's virtio-net backend): virtio_net_hdr + frame.
        case tap(role: String, name: String)
        /// Sent on an AF_PACKET socket (with PACKET_VNET_HDR when `vnet`).
        case packet(role: String, device: String, vnet: Bool)
        /// Sent as a datagram through the namespace's own UDP stack (the writes are payloads): the
        /// kernel decides PARTIAL or complete and runs netfilter, as for the simulated sender.
        case udp(role: String, source: String, sourcePort: UInt16, destination: String, destinationPort: UInt16)
    }

    /// Where frames are read.
    public enum Point: Sendable, Equatable {
        case tap(role: String, name: String, vnetHeader: Bool)
        case packet(role: String, device: String)
        /// What a device's driver is handed (AF_PACKET, outgoing frames only).
        case packetTx(role: String, device: String)

        /// What the report calls the point: with the file's name of the device.
        public func label(in plan: LabPlan) -> String {
            switch self {
            case let .tap(r, n, v): return "\(plan.shown(role: r, device: n)) (TAP fd\(v ? ", vnet header" : ""))"
            case let .packet(r, d): return "\(plan.shown(role: r, device: d)) (AF_PACKET, TPACKET_V2 ring)"
            case let .packetTx(r, d): return "\(plan.shown(role: r, device: d)) tx (AF_PACKET: what the NIC's driver is handed; its hardware checksum is not emulated)"
            }
        }
    }

    public var injection: Injection
    public var injectionLabel: String
    /// The bytes written, in order (virtio_net_hdr first where the TAP or socket has one).
    public var writes: [[UInt8]]
    public var points: [Point]
    /// The simulation's frames at the points (all points together, in step order).
    public var expected: [Observation]
    public var identity: FlowIdentity?
    /// Intermediate AF_PACKET captures (TPACKET_V2 rings: no skb clone) on the real devices the leg crosses.
    public var captures: [Capture] = []
    /// What the simulation says the writes give: `ok`, or the errno name of a refused write
    /// (`EINVAL` when `tun_get_user` refuses the virtio header).
    public var expectedWrite = "ok"

    /// The kernel's stack built the IP header (IP ID, DF): compare bytes from the L4 header on.
    public var kernelBuildsIPHeader: Bool {
        if case .udp = injection { return true }
        return false
    }

    /// Whether the vnet `hdr_len` of GSO frames tells anything about the simulated sender.
    /// Frames injected with `packet_snd()` come from `packet_alloc_skb()`, which makes anything
    /// under a page linear, so a TAP downstream reports the whole frame as `hdr_len`; a TCP
    /// socket's skb keeps only the headers linear (payload in page frags), as the simulation has it.
    public var hdrLenComparable: Bool {
        if case .packet(_, _, true) = injection { return false }
        return true
    }
}

/// Frames of a leg seen by an AF_PACKET socket on one device in one direction: received
/// (`__netif_receive_skb`, after GRO) or sent (`dev_queue_xmit_nit`, after `validate_xmit_skb`).
public struct Capture: Sendable, Equatable {
    public var role: String
    public var device: String
    /// The file's name of the device, for the report.
    public var shown: String
    public var outgoing: Bool
    public var expected: [Observation]

    public var label: String { "\(shown) \(outgoing ? "tx" : "rx")" }

    /// The captures the simulated steps imply on the lab's real devices (TAPs and veth ends): a
    /// TAP receives in `tun_get_user` and sends in `tun_put_user`; a veth end sends in `veth_xmit`
    /// and its peer receives (after GRO when the peer has it).
    public static func implied(by steps: [Step], plan: LabPlan) -> [Capture] {
        var out: [Capture] = []
        func add(_ simName: String?, outgoing: Bool, _ state: Carrier, _ frame: [UInt8]) {
            guard let simName, let real = plan.real(simName), let d = plan.graph.device(named: simName),
                  plan.graph.devices[d].kind != .hostNIC, case let .skb(s) = state else { return }
            let o = Observation(status: ChecksumStatus(s, outgoing: outgoing), frame: frame)
            if let i = out.firstIndex(where: { $0.device == real.name && $0.role == real.role && $0.outgoing == outgoing }) {
                out[i].expected.append(o)
            } else {
                out.append(Capture(role: real.role, device: real.name, shown: real.simName, outgoing: outgoing, expected: [o]))
            }
        }
        for (k, s) in steps.enumerated() {
            switch s.event.kind {
            case .tunGetUser:
                add(s.element, outgoing: false, s.after, s.firstFragment)
            case .tunPutUser:
                add(s.element, outgoing: true, s.before, s.firstFragment)
            case .vethXmit, .vethTooBig:
                guard let end = s.interface, let d = plan.graph.device(named: end), let p = plan.graph.devices[d].peer else { continue }
                add(end, outgoing: true, s.before, s.firstFragment)
                // Dropped in veth_xmit (is_skb_forwardable): the peer never receives it.
                if s.drop != nil { continue }
                let peer = plan.graph.devices[p].name
                var j = k + 1
                var (state, frame) = (s.after, s.firstFragment)
                if j < steps.count, steps[j].interface == peer, steps[j].event.kind == .vethGRO {
                    (state, frame) = (steps[j].after, steps[j].firstFragment)
                    j += 1
                }
                // A tunnelled packet's inner check on the underlay (the tunnel socket's gro_receive).
                if j < steps.count, steps[j].interface == peer, steps[j].event.kind == .underlayTunnelGRO {
                    (state, frame) = (steps[j].after, steps[j].firstFragment)
                    j += 1
                }
                // GRO on the peer (`Elements/VethGRO.swift`): a held or merged segment is seen
                // when its flow is completed (below), one GRO lets go of as it goes up.
                if j < steps.count, case let .tunnelGRO(g) = steps[j].event, g.veth, steps[j].interface == peer {
                    if case .passedUp = g.action { add(peer, outgoing: false, steps[j].after, steps[j].firstFragment) }
                    continue
                }
                add(peer, outgoing: false, state, frame)
            case .tunnelGROComplete:
                // A veth end's GRO flushing a flow: what __netif_receive_skb hands its sockets.
                guard case let .tunnelGROComplete(device, _, _, _, _) = s.event, let d = plan.graph.device(named: device),
                      plan.graph.devices[d].kind == .vethEnd else { continue }
                add(device, outgoing: false, s.after, s.firstFragment)
            default:
                continue
            }
        }
        return out
    }
}

/// Why a leg (or an aspect of a file) is not checked, and the leg's name.
public struct NotCheckable: Sendable, Equatable {
    public var what: String
    public var reason: String
}

extension LegCheck {
    /// Derive the check for `leg` (a leg of the linux-6.x simulation of the plan's topology).
    public static func make(_ leg: LegTrace, plan: LabPlan) -> Result<LegCheck, NotCheckableLeg> {
        let t = plan.topology
        if let s = leg.steps.first(where: { plan.unsupported[$0.element] != nil }) {
            return .failure(NotCheckableLeg("passes \(s.element): \(plan.unsupported[s.element]!)"))
        }
        guard let from = t.node(named: leg.from) ?? t.nodes.first(where: { "\($0.name)-remote" == leg.from }) else {
            return .failure(NotCheckableLeg("unknown sender \(leg.from)"))
        }
        if let s = leg.steps.first(where: { $0.event.kind == .natTupleClash }) {
            return .failure(NotCheckableLeg("at \(s.element) the kernel's NAT gives this packet a random source port (its new connection clashes with the request's entry)"))
        }
        if let s = leg.steps.first(where: { $0.ipFragments != nil }), (try? Frame(bytes: s.frame).layout())?.ipVersion == .v6 {
            return .failure(NotCheckableLeg("the datagram travels as IPv6 fragments, whose Fragment header the capture filter does not follow"))
        }
        if let flip = Self.interiorCorruption(leg, sender: from.name) {
            return .failure(NotCheckableLeg("interior corruption is not reproduced (the simulation flips a bit after \(flip); the lab injects the sender's frames and nothing flips them on the way)"))
        }
        // 1. The sender.
        var injection: Injection
        var label: String
        var writes: [[UInt8]] = []
        var sent: [[UInt8]] = []
        switch from.kind {
        case .vm:
            let written: Set<StepEvent.Kind> = [.tunGetUser, .tunGetUserRefused]
            guard let first = leg.steps.first(where: { written.contains($0.event.kind) }), let tap = plan.real(first.element),
                  let ti = plan.graph.device(named: first.element), case let .tap(ts) = plan.graph.devices[ti].kind else {
                return .failure(NotCheckableLeg("the simulated frame never reaches a TAP of \(leg.from)"))
            }
            injection = .tap(role: tap.role, name: tap.name)
            label = "\(tap.simName) (TAP fd)"
            for s in leg.steps where s.element == first.element && written.contains(s.event.kind) {
                var h: VirtioNetHeader?
                if case let .vnet(v) = s.before { h = v }
                for f in s.linkFrames {
                    writes.append(ts.vnetHdr ? (h ?? VirtioNetHeader()).bytes + f : f)
                }
                sent.append(s.frame)
            }
        case .netns where leg.steps.first.map({ $0.element == leg.from && $0.event.kind == .udpSend }) == true
            // A bit flipped right after the sender is in the frame, not in what a socket would
            // send: such a leg takes the AF_PACKET path below with the flipped frame.
            && !leg.steps.contains(where: { $0.element == leg.from && $0.event.kind == .faultInjected }):
            let f = Frame(bytes: leg.steps[0].frame)
            guard let ni = t.nodeIndex(named: leg.from), let l = try? f.layout(), let role = plan.hostRole(ni) else {
                return .failure(NotCheckableLeg("the sender's datagram does not parse"))
            }
            injection = .udp(role: role, source: leg.steps[0].source, sourcePort: f.sourcePort(l), destination: leg.steps[0].destination,
                             destinationPort: f.destinationPort(l))
            label = "\(leg.from)'s UDP socket (\(leg.steps[0].source):\(f.sourcePort(l)) → \(leg.steps[0].destination):\(f.destinationPort(l)))"
            writes = [Array(f.payload(l))]
            sent = [f.bytes]
        case .netns(let nf):
            if nf.checksumFill != .off || nf.masqueradeOn != nil {
                return .failure(NotCheckableLeg("\(leg.from)'s own netfilter (checksum-fill/masquerade) acts on output, which an AF_PACKET injection bypasses"))
            }
            // The packet as the sender's stack hands it to dev_queue_xmit: the last of each run of
            // steps at the sender.
            var device: String?
            var shownDevice = ""
            var role = ""
            var i = 0
            let steps = leg.steps
            while i < steps.count {
                guard steps[i].element == leg.from, steps[i].direction == .send else { i += 1; continue }
                var j = i
                // A vxlan device's encapsulation is the kernel's: inject the inner frame into it.
                while j + 1 < steps.count && steps[j + 1].element == leg.from && steps[j + 1].event.kind != .vxlanEncap { j += 1 }
                guard case let .skb(s) = steps[j].after, j + 1 < steps.count else { return .failure(NotCheckableLeg("the sender's packet has no skb state")) }
                guard let ni = t.nodeIndex(named: leg.from), let dst = IPAddress(steps[j].destination),
                      let (iface, _) = plan.graph.route(from: ni, to: dst) ?? (dst.bytes == [255, 255, 255, 255] ? (0, dst) : nil),
                      let d = plan.graph.deviceOf(LabGraph.Ref(node: ni, iface: iface)), let real = plan.devices[d] else {
                    return .failure(NotCheckableLeg("no device for \(leg.from)'s route"))
                }
                device = real.name
                shownDevice = real.simName
                role = real.role
                for f in steps[j].linkFrames {
                    writes.append(Self.header(s, frame: f).bytes + f)
                }
                sent.append(steps[j].frame)
                i = j + 1
            }
            guard let dev = device else { return .failure(NotCheckableLeg("\(leg.from) sends nothing")) }
            injection = .packet(role: role, device: dev, vnet: true)
            label = "\(shownDevice) (AF_PACKET, PACKET_VNET_HDR, the sender's skb state)"
        case .hostNIC:
            guard let ni = t.nodeIndex(named: from.name), let d = plan.graph.deviceOf(LabGraph.Ref(node: ni, iface: 0)), let w = plan.wires[d] else {
                return .failure(NotCheckableLeg("no wire for \(from.name)"))
            }
            for (k, s) in leg.steps.enumerated() where s.event.kind == .nicReceive && k > 0 {
                writes += leg.steps[k - 1].linkFrames
                sent.append(leg.steps[k - 1].frame)
            }
            let wireMTU = plan.graph.devices[d].mtu
            if let big = writes.first(where: { $0.count > wireMTU + FrameLayout.ethernetLength }) {
                return .failure(NotCheckableLeg("the remote host's frame is \(big.count) bytes, more than a \(wireMTU)-byte MTU wire carries; "
                    + "its NIC's TSO would put segments on the wire, which the simulation does not trace (it hands the wire one frame)"))
            }
            injection = .packet(role: w.role, device: w.name, vnet: false)
            label = "the wire beyond \(from.name) (AF_PACKET)"
        case .tap, .bridge, .veth, .router, .vxlan:
            return .failure(NotCheckableLeg("sender \(leg.from) is a \(from.kind.name): no way to inject its frames faithfully"))
        }
        if writes.isEmpty { return .failure(NotCheckableLeg("the simulated sender emits nothing")) }
        // 2. The receiver.
        var points: [Point] = []
        var expected: [Observation] = []
        guard let to = t.node(named: leg.to) ?? t.nodes.first(where: { "\($0.name)-remote" == leg.to }) else {
            return .failure(NotCheckableLeg("unknown receiver \(leg.to)"))
        }
        switch to.kind {
        case .hostNIC:
            // The remote host beyond a NIC: what the host kernel hands the NIC's driver is
            // observable; the NIC's hardware checksum and the remote stack are not.
            guard let nic = plan.real(to.name) else { return .failure(NotCheckableLeg("no device for \(to.name)")) }
            points = [.packetTx(role: nic.role, device: nic.name)]
            for (k, s) in leg.steps.enumerated() where k > 0 && s.element == to.name && s.event.kind == .hostNICXmit {
                guard case let .skb(state) = s.before else { continue }
                expected.append(Observation(status: ChecksumStatus(state, outgoing: true), frame: leg.steps[k - 1].firstFragment))
            }
        case .vm:
            let taps = plan.taps(ofVM: to.name)
            let names = Set(taps.map(\.simName))
            for r in taps {
                guard let ti = plan.graph.device(named: r.simName), case let .tap(ts) = plan.graph.devices[ti].kind else { continue }
                points.append(.tap(role: r.role, name: r.name, vnetHeader: ts.vnetHdr))
            }
            for s in leg.steps where names.contains(s.element) && s.event.kind == .tunPutUser {
                var h: VirtioNetHeader?
                if case let .vnet(v) = s.after { h = v }
                expected.append(Observation(vnet: h, frame: s.firstFragment))
            }
        case .netns where leg.steps.contains(where: { $0.element == to.name && $0.event.kind == .vxlanOuterReceive }):
            // Through a tunnel: the outer frame at the underlay interface (as veth hands it over),
            // then, if the outer check passed, the inner frame at the vxlan device after its GRO.
            // Expected in the order of the observation points. The points are mmap rings
            // (`observe IF 0`): a plain packet socket on the underlay would keep a clone and turn
            // the tunnel's GRO off.
            let devs = plan.interfaces(ofHost: to.name)
            points = devs.map { .packet(role: $0.role, device: $0.name) }
            for d in devs {
                for (k, s) in leg.steps.enumerated() where k > 0 && s.element == to.name {
                    if s.event.kind == .vxlanOuterReceive, s.interface == d.simName || "\(to.name):\(s.interface ?? "")" == d.simName,
                       case let .skb(state) = s.before {
                        expected.append(Observation(status: ChecksumStatus(state), frame: s.frame))
                    }
                    // What the vxlan device's packet socket sees is what leaves GRO there
                    // (__netif_receive_skb after napi_gro_receive): the frame as decapsulated when
                    // GRO is off, else each frame GRO passes up or completes (merged).
                    let groFollows = k + 1 < leg.steps.count && leg.steps[k + 1].event.kind == .tunnelGRO
                    if case let .vxlanDecap(_, device, _) = s.event, !groFollows, plan.real(device)?.name == d.name, case let .skb(state) = s.after {
                        expected.append(Observation(status: ChecksumStatus(state), frame: s.frame))
                    }
                    if case let .tunnelGRO(g) = s.event, case .passedUp = g.action, plan.real(g.device)?.name == d.name, case let .skb(state) = s.after {
                        expected.append(Observation(status: ChecksumStatus(state), frame: s.frame))
                    }
                    if case let .tunnelGROComplete(device, _, _, _, _) = s.event, plan.real(device)?.name == d.name, case let .skb(state) = s.after {
                        expected.append(Observation(status: ChecksumStatus(state), frame: s.frame))
                    }
                }
            }
        case .netns, .router:
            // A host's stack, or a kernel router's own in its namespace (a frame addressed to
            // the router): what reaches it is read on its interfaces with AF_PACKET and
            // PACKET_AUXDATA. A router VM's or a userspace forwarder's stack is not built here.
            if case let .router(r) = to.kind, r.flavour != .netns {
                return .failure(NotCheckableLeg("receiver \(leg.to) is a router (\(r.flavour.rawValue)): what its stack does is not observable here"))
            }
            points = plan.interfaces(ofHost: to.name).map { .packet(role: $0.role, device: $0.name) }
            for (k, s) in leg.steps.enumerated() where s.element == to.name && (k == 0 || leg.steps[k - 1].element != to.name) {
                guard case let .skb(state) = s.before else { continue }
                expected.append(Observation(status: ChecksumStatus(state), frame: s.firstFragment))
            }
        case .tap, .bridge, .veth, .vxlan:
            return .failure(NotCheckableLeg("receiver \(leg.to) is a \(to.kind.name): what its stack does is not observable here"))
        }
        if points.isEmpty { return .failure(NotCheckableLeg("no observation point at \(leg.to)")) }
        // Intermediate captures, except on a device whose AF_PACKET socket is the receiver's point
        // already (a TAP read at its fd keeps its AF_PACKET view of what tun_put_user was given).
        let finalSockets = Set(points.compactMap { p -> String? in
            switch p {
            case let .packet(role, dev), let .packetTx(role, dev): return role + "/" + dev
            case .tap: return nil
            }
        })
        let captures = Capture.implied(by: leg.steps, plan: plan).filter { !finalSockets.contains($0.role + "/" + $0.device) }
        var check = LegCheck(injection: injection, injectionLabel: label, writes: writes, points: points, expected: expected,
                             identity: sent.first.flatMap { FlowIdentity($0) }, captures: captures)
        if leg.steps.contains(where: { $0.event.kind == .tunGetUserRefused }) { check.expectedWrite = "EINVAL" }
        return .success(check)
    }

    /// The element after which the simulation flips a bit of this leg, when that is not the
    /// sender (whose frames the lab injects as they are, flip included); nil otherwise.
    static func interiorCorruption(_ leg: LegTrace, sender: String) -> String? {
        leg.steps.first { $0.event.kind == .faultInjected && $0.element != sender && $0.element != leg.from }?.element
    }

    /// The virtio_net_hdr that makes `packet_snd()` rebuild skb state `s`.
    public static func header(_ s: SkbState, frame: [UInt8]) -> VirtioNetHeader {
        VirtioNetHeader(skb: s, hasDataValid: false, headersLength: (try? Frame(bytes: frame).layout())?.payloadOffset ?? 0)
    }
}

/// A leg that cannot be checked, with why.
public struct NotCheckableLeg: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
