import Wire

/// Why a topology cannot be simulated (a validated topology never produces these).
public enum SimulationError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownFlow(String)
    case unknownHost(flow: String, host: String)
    case noAddress(flow: String, host: String, version: IPVersion)
    /// A `frame` flow whose frame cannot be built or written.
    case frame(flow: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownFlow(f): return "no flow named '\(f)'"
        case let .unknownHost(f, h): return "flow '\(f)': no host named '\(h)'"
        case let .noAddress(f, h, v): return "flow '\(f)': host '\(h)' has no IPv\(v.rawValue) address"
        case let .frame(f, reason): return "flow '\(f)': \(reason)"
        }
    }
}

/// Runs the flows of a topology through the kernel model and returns the trace. Pure and
/// deterministic: the same topology always gives the same trace.
public struct Simulator: Sendable {
    public let topology: Topology

    /// Seconds of a connection's life the counters cover (retransmissions within it count).
    public var window: Double

    /// A host's own TCP sends as verify's stand-in does: an AF_PACKET socket writes the skb
    /// the stack would hand to `dev_queue_xmit()`, so it carries that socket's `sock_wfree`
    /// owner instead of TCP's `tcp_wfree`. What differs is GRO on a veth: `skb_segment()` gives
    /// such an owner to the last segment only, and `gro_list_prepare()` keeps that segment apart
    /// (`Elements/VethGRO.swift`, `Elements/UnderlayGRO.swift`). Off for every trace a user
    /// sees; `csumlab verify` simulates with it on, so it checks what it injects.
    public var tcpWrittenByPacketSocket = false

    /// `topology` resolved into devices and connections, once: a network is a function of the
    /// topology alone and no walk changes it, so every run, flow and leg of this simulator (and
    /// a caller that runs it again, like the bench or the explorer) walks the same one.
    /// Read in place (`_read`): a copy of a `Network` retains each of its fields, and the fix
    /// search passes a variant's network to every flow it walks.
    public var network: Network { _read { yield shared.network } }
    /// `network`, shared with every walk by reference.
    let shared: SharedNetwork
    /// Every device's effective features for the trace, worked out once when this simulator
    /// resolved its own network (a caller that runs it again gets the same list without
    /// building it per run); nil for a simulator handed a network (the fix search builds one per
    /// variant and asks for the list only for the variants it shows).
    private var deviceList: [DeviceFeatures]?
    /// Each flow's leg plan (its endpoints, addresses, TCP options and legs), worked out once
    /// with `deviceList`, by flow name; a flow not found here (or changed) is planned per run.
    private var legPlans: [String: LegPlan]?

    public init(_ topology: Topology, window: Double = ObservationWindow.defaultSeconds) {
        let network = Network(topology)
        self.init(topology, network: network, window: window)
        deviceList = Self.devices(network)
        legPlans = plans(network)
    }

    /// A simulator on a network already built from `topology` (`Network(topology)`, or
    /// `Network(topology, reusing:touched:)` as the fix search builds it).
    /// `legPlans`: the plans of a lab whose flows, addresses, routes, MTUs and TCP options
    /// this one shares (the fix search's variants change none of them without a structural
    /// change); a plan is used only for a flow equal to the one it was made for.
    init(_ topology: Topology, network: Network, window: Double = ObservationWindow.defaultSeconds,
         legPlans: [String: LegPlan]? = nil) {
        self.topology = topology
        self.shared = SharedNetwork(network)
        self.window = window
        self.deviceList = nil
        self.legPlans = legPlans
    }

    /// A simulator of `topology` on `other`'s network, shared (not copied): `topology` must
    /// resolve to that network — the fix search's clean run of a flow that corrupts on purpose,
    /// whose lab differs from the variant's only in that flow's fault.
    init(_ topology: Topology, sharing other: Simulator, legPlans: [String: LegPlan]?) {
        self.topology = topology
        self.shared = other.shared
        self.window = other.window
        self.tcpWrittenByPacketSocket = other.tcpWrittenByPacketSocket
        self.deviceList = nil
        self.legPlans = legPlans
    }

    /// Every flow's leg plan on `net` (this simulator's network), by flow name; a frame flow or
    /// a flow that cannot be planned is left out (it is planned, and its error thrown, per run).
    func plans(_ net: Network) -> [String: LegPlan] {
        var out: [String: LegPlan] = [:]
        for f in topology.flows where f.kind != .frame {
            if let p = try? legPlan(f, net) { out[f.name] = p }
        }
        return out
    }

    /// Trace every flow, or only the one named.
    public func run(flow name: String? = nil) throws(SimulationError) -> Trace {
        let net = network
        var flows = topology.flows
        if let name {
            flows = flows.filter { $0.name == name }
            if flows.isEmpty { throw .unknownFlow(name) }
        }
        var out: [FlowTrace] = []
        out.reserveCapacity(flows.count)
        for f in flows { out.append(try trace(f, net)) }
        return Trace(topology: topology.name, hostKernel: topology.hostKernel, flows: out, devices: deviceList ?? devices(net), notes: notes(net))
    }

    /// The trace of one flow on a network already built from `topology` (the fix search builds
    /// it once per variant and runs several flows on it). With `stopAtFailingLeg` the walk stops
    /// after the first leg that is not `.accepted`: that leg is sent (every leg before it
    /// arrived), so the flow cannot work, and the legs it would walk next cannot change that.
    /// A flow with `corrupt-after` stops there only when that leg delivered corrupted data or
    /// its fault was not applied yet (the clean flow then loses the same leg).
    /// Such a trace is a prefix of the full one (its verdict says the flow fails, its schedules
    /// and counters are not the full trace's): only for deciding, never to show.
    ///
    /// `lean` walks record no steps (`Walk.lean`): each leg keeps its outcome, counters and
    /// `visitedNodes`, and the verdict has no summary — a trace to decide with, never to show.
    ///
    /// `decideFirst` (only with `stopAtFailingLeg`, and only for a lab whose legs are
    /// independent: `legsIndependent`): walk that leg first, and when it decides that the flow
    /// fails, stop there (see `trace`).
    func flowTrace(named name: String, net: Network, stopAtFailingLeg: Bool, lean: Bool = false, decideFirst: Int? = nil) throws(SimulationError) -> FlowTrace {
        guard let f = topology.flows.first(where: { $0.name == name }) else { throw .unknownFlow(name) }
        return try trace(f, net, stopAtFailingLeg: stopAtFailingLeg, lean: lean, resume: nil, keepCleanPrefix: false, decideFirst: decideFirst).trace
    }

    /// The owner of a host's own TCP skbs in this simulator's walks (`tcpWrittenByPacketSocket`).
    var tcpOwner: SkbOwner { tcpWrittenByPacketSocket ? .socket : .tcp }

    /// Whether every leg of a flow walks the same whatever the legs before it met, so that any
    /// leg can be walked first. A walk takes two things from earlier legs: the conntrack entries
    /// they made (`NATState`, read and written only where conntrack runs: `NetnsRouter`) and the
    /// address the server saw as the client's, where replies go (`clientAsSeen`, which differs
    /// from the address the client sent from only after a MASQUERADE — a rule that needs
    /// conntrack — or a tunnel's outer masquerade). A lab with neither passes an empty state to
    /// every leg and sends each reply to the address its plan holds.
    static func legsIndependent(_ t: Topology) -> Bool {
        for n in t.nodes {
            if n.netfilter?.conntrackActive == true { return false }
            if case let .vxlan(v) = n.kind, v.outerMasquerade { return false }
        }
        return true
    }

    /// Every device's effective features, for the trace.
    func devices(_ net: Network) -> [DeviceFeatures] { Self.devices(net) }

    static func devices(_ net: Network) -> [DeviceFeatures] {
        net.devices.map { d in
            DeviceFeatures(device: d.name, effective: d.features)
        }
    }

    /// The modelling notes of a run on `net`.
    func notes(_ net: Network) -> [String] {
        var notes: [String] = []
        if topology.hostKernel == .linux6 {
            notes.append("linux-6.x TAPs report CHECKSUM_UNNECESSARY as DATA_VALID (has_data_valid=true; measured on 6.18.44 — a ~6.17 change had dropped it and a fix was posted in November 2025; `csumlab verify` probes the running kernel).")
        }
        notes += net.warnings
        return notes
    }

    private func host(_ name: String, flow: Flow, _ net: Network) throws(SimulationError) -> HostRef {
        if let i = net.nodeIndex(named: name) {
            if case .hostNIC = topology.nodes[i].kind, let d = net.interfaceDevice[i][0] { return .remote(nic: d) }
            return .node(i)
        }
        throw .unknownHost(flow: flow.name, host: name)
    }

    /// The address a host uses to reach `dst` (or its first address of that version).
    private func address(of h: HostRef, toward dst: IPAddress?, version v: IPVersion, flow: Flow, _ net: Network) throws(SimulationError) -> IPAddress {
        switch h {
        case let .remote(nic):
            if case let .hostNIC(hs) = topology.nodes[net.devices[nic].node].kind,
               let a = v == .v4 ? hs.remoteAddress : hs.remoteAddress6 { return a }
            throw .noAddress(flow: flow.name, host: topology.nodes[net.devices[nic].node].name, version: v)
        case let .node(n):
            let node = topology.nodes[n]
            if let dst, let (ii, _) = net.route(from: n, to: dst), let a = node.interfaces[ii].address(v) { return a.address }
            for i in node.interfaces { if let a = i.address(v) { return a.address } }
            throw .noAddress(flow: flow.name, host: node.name, version: v)
        }
    }

    private func trace(_ f: Flow, _ net: Network, stopAtFailingLeg: Bool = false, lean: Bool = false) throws(SimulationError) -> FlowTrace {
        try trace(f, net, stopAtFailingLeg: stopAtFailingLeg, lean: lean, resume: nil, keepCleanPrefix: false).trace
    }

    /// Where a flow's walk stood before one of its legs: all that later legs take from earlier
    /// ones (the NAT and conntrack state, the address the server saw, the legs walked).
    struct LegResume: Sendable {
        /// The index of the next leg to walk.
        var next: Int
        var nat: NATState
        var clientAsSeen: IPAddress?
        var legs: [LegTrace]
    }

    /// A flow with `corrupt-after` walked for deciding, and — when its fault was applied — the
    /// state before the leg it was first applied to (`cleanPrefix`). Until that leg the walk is
    /// the clean flow's leg for leg (the fault hook changes nothing before it fires: `Walk.watch`),
    /// so the clean run the fix search needs (`FlowIntent`) resumes there instead of walking
    /// those legs again (`FixSearchReuseTests` compares it with a clean run from the start).
    func flowTraceKeepingCleanPrefix(named name: String, net: Network, lean: Bool, decideFirst: Int? = nil) throws(SimulationError) -> (trace: FlowTrace, cleanPrefix: LegResume?) {
        guard let f = topology.flows.first(where: { $0.name == name }) else { throw .unknownFlow(name) }
        return try trace(f, net, stopAtFailingLeg: true, lean: lean, resume: nil, keepCleanPrefix: f.corruptAfter != nil, decideFirst: decideFirst)
    }

    /// The flow named (this simulator's flows: the clean one) walked on from `resume`, stopping
    /// at its first failing leg.
    func flowTrace(named name: String, net: Network, resuming resume: LegResume, lean: Bool) throws(SimulationError) -> FlowTrace {
        guard let f = topology.flows.first(where: { $0.name == name }) else { throw .unknownFlow(name) }
        return try trace(f, net, stopAtFailingLeg: true, lean: lean, resume: resume, keepCleanPrefix: false).trace
    }

    /// `decideFirst` (the fix search's variants; the caller checks `legsIndependent`): the leg
    /// that decided the lab's own run (its first leg lost, or the one that delivered corrupted
    /// data) is walked before the others. When it decides again — a flow without a fault loses
    /// it, or a flow with one has it deliver corrupted data — the flow fails whatever the legs
    /// before it meet: if one of them is lost the flow fails there (a flow with a fault then
    /// never applies it: its clean run fails too); if none is, that leg is walked exactly as
    /// walked first (independent legs). The trace then holds that one leg. Otherwise its walk is
    /// kept and taken when the loop reaches it.
    private func trace(_ f: Flow, _ net: Network, stopAtFailingLeg: Bool, lean: Bool, resume: LegResume?,
                       keepCleanPrefix: Bool, decideFirst: Int? = nil) throws(SimulationError) -> (trace: FlowTrace, cleanPrefix: LegResume?) {
        if f.kind == .frame { return (try frameTrace(f, net, lean: lean), nil) }
        let plan: LegPlan
        if let p = legPlans?[f.name], p.flow == f { plan = p } else { plan = try legPlan(f, net) }
        let (c, s, legs) = (plan.client, plan.server, plan.legs)
        var first: (index: Int, walk: Walk)?
        if let k = decideFirst, stopAtFailingLeg, resume == nil, k > 0, k < legs.count {
            let w = walkAlone(f, legs[k], lean: lean)
            let l = Self.legTrace(w)
            if l.outcome == .acceptedCorrupted || (f.corruptAfter == nil && l.outcome != .accepted) {
                return (FlowTrace(flow: f.name, kind: f.kind, from: f.from, to: f.to, legs: [l],
                                  verdict: Self.verdict(f, [l], summary: !lean), counters: [:],
                                  window: ObservationWindow(seconds: window, summary: "decided by \(l.name) alone")), nil)
            }
            first = (k, w)
        }
        var nat = resume?.nat ?? NATState()
        var traces: [LegTrace] = resume?.legs ?? []
        var counters: [String: [String: Int]] = [:]
        // The address the server saw as the client's (after any NAT): replies go there.
        var clientAsSeen: IPAddress? = resume?.clientAsSeen
        var faultSeen = false
        var cleanPrefix: LegResume?
        for var leg in legs[(resume?.next ?? 0)...] {
            if leg.reply, let seen = clientAsSeen { leg.destination = seen }
            let before = keepCleanPrefix && !faultSeen ? (nat, clientAsSeen) : nil
            var w: Walk
            if let (k, walked) = first, traces.count == k, nat.connections.isEmpty, leg.destination == legs[k].destination {
                w = walked  // the same leg, state and destination it was walked with
            } else {
                w = Walk(shared: shared, flow: f, leg: leg, nat: nat, lean: lean, tcpOwner: tcpOwner)
                w.send(leg)
            }
            nat = w.nat
            if let (natBefore, seenBefore) = before, w.faulted {
                cleanPrefix = LegResume(next: traces.count, nat: natBefore, clientAsSeen: seenBefore, legs: traces)
            }
            if !leg.reply, !leg.broadcast, let p = w.delivered.first {
                let l = p.layout
                clientAsSeen = IPAddress(bytes: p.frame.sourceAddress(l))
            }
            traces.append(Self.legTrace(w))
            faultSeen = faultSeen || w.faulted
            if stopAtFailingLeg, traces[traces.count - 1].outcome != .accepted {
                // A flow that corrupts on purpose goes on after a leg lost once its fault was
                // applied: a would-be leg may still deliver corrupted data, which decides its
                // intent (`FlowIntent`). Before the fault, its walk is the clean flow's. Only a
                // leg the client sends can carry the fault (`Walk.faultNode`), and only the
                // fault makes a delivery differ from what was sent (`Walk.deliver`), so once no
                // such leg is left nothing can deliver corrupted data: the walk stops.
                if f.corruptAfter == nil || !faultSeen || traces[traces.count - 1].outcome == .acceptedCorrupted { break }
                if !legs[traces.count...].contains(where: { !$0.reply }) { break }
            }
        }
        let win = Connection.apply(f.kind, legs: &traces, client: timers(c), server: timers(s), window: window)
        // A lean trace decides, it is never shown: its legs keep their own counters (what
        // `FixSearchReuseTests` compares), the flow's sum by host is left out.
        for l in traces where l.sent && !lean {
            for (h, cs) in l.counters { for (k, n) in cs { counters[h, default: [:]][k, default: 0] += n * l.transmissions } }
        }
        return (FlowTrace(flow: f.name, kind: f.kind, from: f.from, to: f.to, legs: traces,
                          verdict: Self.verdict(f, traces.filter(\.sent), summary: !lean), counters: counters, window: win), cleanPrefix)
    }

    /// A leg walked as if no leg came before it: no conntrack entry, a reply sent to the address
    /// its plan holds. In a lab whose legs are independent (`legsIndependent`) that is how it
    /// walks in its flow's order too (`DecideFirstTests`).
    func walkAlone(_ f: Flow, _ leg: LegSpec, lean: Bool) -> Walk {
        var w = Walk(shared: shared, flow: f, leg: leg, nat: NATState(), lean: lean, tcpOwner: tcpOwner)
        w.send(leg)
        return w
    }

    /// Leg `index` of the flow named, walked alone (`walkAlone`).
    func legWalkedAlone(flow name: String, index: Int, lean: Bool) throws(SimulationError) -> LegTrace? {
        guard let f = topology.flows.first(where: { $0.name == name }) else { throw .unknownFlow(name) }
        guard f.kind != .frame else { return nil }
        let legs = try legPlan(f, network).legs
        guard legs.indices.contains(index) else { return nil }
        return Self.legTrace(walkAlone(f, legs[index], lean: lean))
    }

    /// What a walk of one leg leaves in the trace.
    static func legTrace(_ w: Walk) -> LegTrace {
        LegTrace(name: w.leg.name, from: w.hostName(w.leg.from), to: w.hostName(w.leg.to), steps: w.steps,
                 outcome: combine(w.results), counters: w.counters, visitedNodes: w.visited, faulted: w.faulted)
    }

    /// The TCP options a connection from `c` to `s` uses.
    func handshake(client c: HostRef, server s: HostRef, _ v: IPVersion, clientAddr: IPAddress, serverAddr: IPAddress, _ net: Network) -> TCPHandshake {
        TCPHandshake(client: tcpSettings(c), server: tcpSettings(s), ipVersion: v,
                     clientMTU: routeMTU(c, to: serverAddr, net), serverMTU: routeMTU(s, to: clientAddr, net))
    }

    /// The MTU of the device a host's route to `dst` leaves by (a host NIC's remote host: the
    /// NIC's; no route: the default).
    func routeMTU(_ h: HostRef, to dst: IPAddress, _ net: Network) -> Int {
        switch h {
        case let .remote(nic): return net.devices[nic].mtu
        case let .node(n):
            guard let (ii, _) = net.route(from: n, to: dst), let d = net.deviceOf(node: n, iface: ii) else { return MTURule.defaultMTU }
            return net.devices[d].mtu
        }
    }

    /// A host's TCP option settings with its profile's defaults (a host NIC's remote host: the
    /// host kernel's defaults).
    private func tcpSettings(_ h: HostRef) -> TCPOptionSettings {
        switch h {
        case let .node(n): return topology.nodes[n].tcp.resolved(topology.profile(of: topology.nodes[n]))
        case .remote: return TCPOptionSettings.defaults(topology.hostKernel)
        }
    }

    /// The TCP timers of a host's kernel.
    private func timers(_ h: HostRef) -> TCPTimers {
        switch h {
        case let .node(n): return TCPTimers.defaults(topology.profile(of: topology.nodes[n]))
        case .remote: return TCPTimers.defaults(topology.hostKernel)
        }
    }

    static func combine(_ rs: [Outcome]) -> Outcome {
        if let d = rs.first(where: { if case .droppedOnPath = $0 { return true }; if case .droppedByReceiver = $0 { return true }; return false }) {
            return d
        }
        if rs.contains(.acceptedCorrupted) { return .acceptedCorrupted }
        return rs.isEmpty ? .droppedOnPath(at: "?", reason: "the packet went nowhere") : .accepted
    }

    /// `summary` false: the verdict's text is left empty (a lean trace is never shown).
    static func verdict(_ f: Flow, _ legs: [LegTrace], summary: Bool = true) -> FlowVerdict {
        if !summary {
            if let bad = legs.first(where: { $0.outcome != .accepted && $0.outcome != .acceptedCorrupted }) {
                return FlowVerdict(completes: false, failedLeg: bad.name, corruptedData: false, summary: "")
            }
            return FlowVerdict(completes: true, failedLeg: nil, corruptedData: legs.contains { $0.outcome == .acceptedCorrupted }, summary: "")
        }
        let what: String
        switch f.kind {
        case .tcp: what = "connection"
        case .udp: what = "exchange"
        case .dhcp: what = "DHCP exchange"
        case .icmp: what = "ping"
        case .frame: what = "frame"
        }
        if let bad = legs.first(where: { $0.outcome != .accepted && $0.outcome != .acceptedCorrupted }) {
            return FlowVerdict(completes: false, failedLeg: bad.name, corruptedData: false,
                               summary: "\(what) fails: \(bad.namesEndpoints ? bad.name : "\(bad.name) (\(bad.from) → \(bad.to))") \(bad.outcome.summary)")
        }
        if let bad = legs.first(where: { $0.outcome == .acceptedCorrupted }) {
            return FlowVerdict(completes: true, failedLeg: nil, corruptedData: true,
                               summary: "\(what) completes, but \(bad.name) delivered corrupted data to the application")
        }
        return FlowVerdict(completes: true, failedLeg: nil, corruptedData: false, summary: "\(what) completes")
    }

    // MARK: Legs

    /// Deterministic payload bytes (distinct per direction).
    /// Byte i is `(7 × i + seed) mod 256`, written by a running sum (a leg's payload is built at
    /// every run, up to 64 KiB of it).
    static func payload(_ n: Int, seed: UInt8) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: max(n, 0)) { buf, count in
            var v = seed
            for i in 0..<buf.count {
                buf.initializeElement(at: i, to: v)
                v &+= 7
            }
            count = buf.count
        }
    }

    /// A flow's endpoints and the legs it sends: a function of the flow and the network.
    struct LegPlan: Sendable {
        var flow: Flow
        var client: HostRef
        var server: HostRef
        var legs: [LegSpec]
    }

    func legPlan(_ f: Flow, _ net: Network) throws(SimulationError) -> LegPlan {
        let c = try host(f.from, flow: f, net)
        let s = try host(f.to, flow: f, net)
        let v = f.ipVersion
        let serverAddr = try address(of: s, toward: nil, version: v, flow: f, net)
        let clientAddr = try address(of: c, toward: serverAddr, version: v, flow: f, net)
        let serverAddrToward = (try? address(of: s, toward: clientAddr, version: v, flow: f, net)) ?? serverAddr
        return LegPlan(flow: f, client: c, server: s,
                       legs: legSpecs(f, client: c, server: s, clientAddr: clientAddr, serverAddr: serverAddrToward, net))
    }

    private func legSpecs(_ f: Flow, client c: HostRef, server s: HostRef, clientAddr: IPAddress, serverAddr: IPAddress, _ net: Network) -> [LegSpec] {
        func leg(_ name: String, _ from: HostRef, _ to: HostRef, _ src: IPAddress, _ dst: IPAddress, _ proto: IPProtocol) -> LegSpec {
            LegSpec(name: name, from: from, to: to, source: src, destination: dst, proto: proto)
        }
        let cport: UInt16 = 40000
        switch f.kind {
        case .tcp:
            let cisn: UInt32 = 0x1000_0000, sisn: UInt32 = 0x5000_0000
            // The options each side's settings give (tcp_syn_options, tcp_synack_options,
            // tcp_established_options).
            let hs = handshake(client: c, server: s, f.ipVersion, clientAddr: clientAddr, serverAddr: serverAddr, net)
            let synOpts = hs.synOptions, tsOpts = hs.dataOptions
            var syn = leg("SYN", c, s, clientAddr, serverAddr, .tcp)
            syn.sourcePort = cport; syn.destinationPort = f.port; syn.seq = cisn; syn.flags = .syn; syn.options = synOpts; syn.ipID = 0x1234
            var synack = leg("SYN-ACK", s, c, serverAddr, clientAddr, .tcp)
            synack.reply = true
            synack.sourcePort = f.port; synack.destinationPort = cport; synack.seq = sisn; synack.ack = cisn &+ 1
            synack.flags = [.syn, .ack]; synack.options = hs.synAckOptions; synack.ipID = 0
            var d1 = leg("data \(f.from)→\(f.to)", c, s, clientAddr, serverAddr, .tcp)
            d1.sourcePort = cport; d1.destinationPort = f.port; d1.seq = cisn &+ 1; d1.ack = sisn &+ 1
            d1.flags = [.psh, .ack]; d1.options = tsOpts; d1.segmentSize = hs.segmentSize(clientSends: true); d1.ipID = 0x1235; d1.payload = Self.payload(f.payload, seed: 0x41)
            var d2 = leg("data \(f.to)→\(f.from)", s, c, serverAddr, clientAddr, .tcp)
            d2.reply = true
            d2.sourcePort = f.port; d2.destinationPort = cport; d2.seq = sisn &+ 1; d2.ack = cisn &+ 1 &+ UInt32(f.payload)
            d2.flags = [.psh, .ack]; d2.options = tsOpts; d2.segmentSize = hs.segmentSize(clientSends: false); d2.ipID = 0x4001; d2.payload = Self.payload(f.payload, seed: 0x61)
            return [syn, synack, d1, d2]
        case .udp:
            var q = leg("query", c, s, clientAddr, serverAddr, .udp)
            q.sourcePort = cport; q.destinationPort = f.port; q.ipID = 0x2222; q.payload = Self.payload(f.payload, seed: 0x11)
            var r = leg("response", s, c, serverAddr, clientAddr, .udp)
            r.reply = true
            r.sourcePort = f.port; r.destinationPort = cport; r.ipID = 0x3333; r.payload = Self.payload(f.payload, seed: 0x22)
            return [q, r]
        case .icmp:
            let proto: IPProtocol = f.ipVersion == .v4 ? .icmp : .icmpv6
            var q = leg("echo request", c, s, clientAddr, serverAddr, proto)
            q.sourcePort = 0x0b0b; q.ipID = 0x5555; q.payload = Self.payload(f.echoPayload, seed: 0x30)
            var r = leg("echo reply", s, c, serverAddr, clientAddr, proto)
            r.reply = true
            r.sourcePort = 0x0b0b; r.ipID = 0x6666; r.payload = q.payload
            return [q, r]
        case .frame:
            return []  // walked by frameTrace: one TAP write, no socket legs
        case .dhcp:
            // The client sends DISCOVER from 0.0.0.0 to the broadcast address on its first
            // interface; the server answers with an OFFER to the address it hands out.
            var discover = leg("DISCOVER", c, s, Self.unspecified, Self.broadcast, .udp)
            discover.sourcePort = 68; discover.destinationPort = 67; discover.ipID = 0
            discover.userspaceSender = true
            discover.payload = Self.bootp(op: 1, count: max(f.payload, 300))
            if case .node = c {
                discover.broadcastRoute = (0, Self.broadcast)
                if case let .node(sn) = s {
                    discover.broadcastTargetIface = topology.nodes[sn].interfaces.firstIndex { i in
                        i.addresses.contains { $0.contains(clientAddr) }
                    } ?? 0
                }
            }
            var offer = leg("OFFER", s, c, serverAddr, clientAddr, .udp)
            offer.reply = true
            offer.sourcePort = 67; offer.destinationPort = 68; offer.ipID = 0x7777
            offer.payload = Self.bootp(op: 2, count: max(f.payload, 300))
            return [discover, offer]
        }
    }

    /// 0.0.0.0 and 255.255.255.255, parsed once (a DHCP leg is built at every run).
    static let unspecified = IPAddress(bytes: [0, 0, 0, 0])
    static let broadcast = IPAddress(bytes: [255, 255, 255, 255])

    /// A BOOTP-shaped payload: op, htype, hlen, then a deterministic body.
    static func bootp(op: UInt8, count: Int) -> [UInt8] {
        var b = payload(count, seed: op)
        b[0] = op; b[1] = 1; b[2] = 6; b[3] = 0
        return b
    }
}
