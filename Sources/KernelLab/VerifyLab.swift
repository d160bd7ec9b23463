import Glibc
import Simulation
import Wire

/// The ethtool feature names behind each of csumlab's features.
public enum FeatureNames {
    /// Names set for a feature (all of them) and the first one read back as its state.
    public static func ethtool(_ f: Feature) -> [String] {
        switch f {
        case .txChecksumming: return ["tx-checksum-ip-generic"]
        case .rxChecksumming: return ["rx-checksum"]
        case .scatterGather: return ["tx-scatter-gather"]
        case .tso: return ["tx-tcp-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation", "tx-tcp6-segmentation"]
        case .gso: return ["tx-generic-segmentation"]
        case .gro: return ["rx-gro"]
        }
    }

    /// csumlab's view of a device's ethtool features: a feature is on when its first name is active;
    /// checksumming when any of the generic/IPv4/IPv6 checksum features is, TSO when TSO for IPv4
    /// or IPv6 is (the model keeps one TSO feature and checks the type per packet).
    public static func state(_ features: [EthtoolFeature]) -> Set<Feature> {
        let active = Set(features.filter(\.active).map(\.name))
        var on = Set<Feature>()
        for f in Feature.allCases {
            let names: [String]
            switch f {
            case .txChecksumming: names = ["tx-checksum-ip-generic", "tx-checksum-ipv4", "tx-checksum-ipv6"]
            case .tso: names = ["tx-tcp-segmentation", "tx-tcp6-segmentation"]
            default: names = [ethtool(f)[0]]
            }
            if names.contains(where: active.contains) { on.insert(f) }
        }
        return on
    }
}

/// The features of one real device after the lab applied the file's requests, next to the
/// simulator's effective features for it.
public struct FeatureReading: Sendable, Equatable {
    public var device: String
    public var kernel: Set<Feature>
    public var simulation: Set<Feature>
}

/// Carries out a `LabPlan` on the running kernel with a `LabBuilder` (namespaces of this run only;
/// the host namespace is never touched) and tears it down.
public final class VerifyLab {
    public let plan: LabPlan
    public let builder: LabBuilder

    public init(plan: LabPlan, prefix: RunPrefix, executable: String, agentArguments: [String]) {
        self.plan = plan
        builder = LabBuilder(prefix: prefix, executable: executable, kind: plan.topology.name, agentArguments: agentArguments)
    }

    public func agent(_ role: String) throws(LabError) -> Agent { try builder.agent(role) }

    /// Build the lab. `effective` maps the simulator's device names to its effective features;
    /// returns the real features of every real device next to them.
    @discardableResult
    public func build(effective: [String: Set<Feature>]) throws(LabError) -> [FeatureReading] {
        let b = builder
        let g = plan.graph
        for ns in plan.namespaces { try b.namespace(ns.role, ipv6: ns.ipv6) }
        for s in plan.sysctls { try b.sysctl(s.role, s.key, s.value) }
        let real = plan.devices.values.sorted { $0.graphID < $1.graphID }
        for r in real {
            let d = g.devices[r.graphID]
            switch d.kind {
            case .bridge:
                try b.bridge(r.role, r.name, mac: r.mac)
            case let .tap(ts):
                let guest = d.fdVM.map { MAC.format(g.devices[$0].mac) } ?? "-"
                try b.tap(r.role, r.name, vnetHeader: ts.vnetHdr, offloads: g.tunOffloads(r.graphID), mac: r.mac, guestMAC: guest)
            case .vethEnd:
                // Create each pair once, from its first end.
                guard let p = d.peer, p > d.id, let peer = plan.devices[p] else { continue }
                try b.veth(r.role, r.name, macA: r.mac, peer.role, peer.name, macB: peer.mac)
            case .hostNIC:
                guard let w = plan.wires[r.graphID] else { continue }
                try b.veth(r.role, r.name, macA: r.mac, w.role, w.name, macB: w.mac)
                try b.up(w.role, w.name)
            case .virtio:
                continue
            }
        }
        for r in real {
            let d = g.devices[r.graphID]
            let master = d.master.flatMap { plan.devices[$0] }
            if let m = master, m.role != r.role { throw .agent("\(r.simName) and its bridge \(m.simName) ended up in different namespaces") }
            try b.up(r.role, r.name, master: master?.name)
        }
        // The file's offload requests, after ports joined their bridges (br_features_recompute).
        for r in real {
            let d = g.devices[r.graphID]
            let node = g.topology.nodes[d.node]
            var requested: [Feature: Bool] = [:]
            switch d.kind {
            case .vethEnd: requested = d.iface.map { $0 < node.interfaces.count ? node.interfaces[$0].features.requested : [:] } ?? [:]
            case .tap, .bridge: requested = node.features.requested
            case .hostNIC:
                // Emulation: GRO validation on the near end stands in for the NIC's rx checksum;
                // the far end must not offer TSO, or veth skips the NAPI/GRO path.
                let rx = effective[d.name]?.contains(.rxChecksumming) ?? true
                try setFeature(r.role, r.name, .gro, on: rx)
                if let w = plan.wires[r.graphID] { try setFeature(w.role, w.name, .tso, on: false) }
                // The NIC's transmit side (tx-checksumming, SG, TSO, GSO) is the near end's own.
                for f in [Feature.txChecksumming, .scatterGather, .tso, .gso] {
                    if let on = node.features.requested[f] { try setFeature(r.role, r.name, f, on: on) }
                }
                continue
            case .virtio: continue
            }
            for f in Feature.allCases { if let on = requested[f] { try setFeature(r.role, r.name, f, on: on) } }
        }
        for c in plan.addresses { try b.ip(c.role, c.argv) }
        for c in plan.routes { try b.ip(c.role, c.argv) }
        for c in plan.neighbours { try b.ip(c.role, c.argv) }
        for c in plan.netfilter { try b.exec(c.role, c.argv) }
        for s in plan.conntrackSysctls { try b.sysctl(s.role, s.key, s.value) }
        for (i, r) in plan.routers.enumerated() {
            let a = try b.agent(r.role)
            let id = "r\(i)"
            try a.call(["urouter", id, r.mode.rawValue, r.header.rawValue])
            for p in r.ports { try a.call(["uport", id, p.name, p.kind, p.vnetHeader ? "1" : "0", p.mac]) }
            for rt in r.routes { try a.call(["uroute", id, rt.destination.description, rt.port, rt.nextHopMAC]) }
        }
        try waitForBridgePorts(real.filter { g.devices[$0.graphID].master != nil }, deadlineMs: 3000)
        var readings: [FeatureReading] = []
        for r in real where g.devices[r.graphID].kind != .hostNIC {
            let lines = try b.agent(r.role).call(["features", r.name]).data
            var fs: [EthtoolFeature] = []
            for line in lines {
                let w = line.split(separator: " ")
                guard w.count == 5, w[0] == "feature" else { continue }
                fs.append(EthtoolFeature(name: String(w[1]), available: w[2] == "1", requested: w[3] == "1", active: w[4] == "1"))
            }
            readings.append(FeatureReading(device: r.simName, kernel: FeatureNames.state(fs), simulation: effective[r.simName] ?? []))
        }
        // Where the kernel's result differs from the model's effective features (a default or a
        // dependency the model gets wrong), the difference is reported from `readings`; the lab
        // then takes the model's value where the kernel allows it, so the packet comparisons start
        // from the same device features.
        for (r, reading) in zip(real.filter { g.devices[$0.graphID].kind != .hostNIC }, readings) {
            for f in Feature.allCases where reading.kernel.contains(f) != reading.simulation.contains(f) {
                try setFeature(r.role, r.name, f, on: reading.simulation.contains(f))
            }
        }
        return readings
    }

    /// A bridge port passes frames once the bridge enabled it (`brport/state` 3, forwarding) and
    /// its operstate is up (or unknown). The bridge enables a port only when linkwatch has set its
    /// operstate, and linkwatch may hold a TAP's event for up to a second
    /// (`linkwatch_schedule_work`), so a frame injected right after building can be dropped.
    static func portForwarding(brportState: String, operstate: String) -> Bool {
        brportState == "3" && (operstate == "up" || operstate == "unknown")
    }

    /// Wait (up to `deadlineMs`) until every bridge port forwards; a port that never does is left
    /// for the comparison to show.
    private func waitForBridgePorts(_ ports: [LabPlan.RealDevice], deadlineMs: Int) throws(LabError) {
        var pending = ports
        var waited = 0
        while !pending.isEmpty {
            var still: [LabPlan.RealDevice] = []
            for r in pending {
                let w = try builder.agent(r.role).call(["link-state", r.name]).result
                if !(w.count == 2 && Self.portForwarding(brportState: w[0], operstate: w[1])) { still.append(r) }
            }
            pending = still
            if pending.isEmpty || waited >= deadlineMs { break }
            usleep(20_000)
            waited += 20
        }
    }

    private func setFeature(_ role: String, _ dev: String, _ f: Feature, on: Bool) throws(LabError) {
        for name in FeatureNames.ethtool(f) { try builder.setFeature(role, dev, name, on: on) }
    }

    public func teardown() { builder.teardown() }

    /// Keep the lab after this process ends (TAPs persistent; helpers and routers stopped).
    public func release() { builder.release() }
}
