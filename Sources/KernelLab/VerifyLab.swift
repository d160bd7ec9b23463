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
        case .udpTunnelSegmentation, .udpTunnelCsumSegmentation: return [f.rawValue]
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
        for step in try plan.buildSteps(effective: effective) {
            switch step {
            case let .namespace(role, ipv6): try b.namespace(role, ipv6: ipv6)
            case let .sysctl(s): try b.sysctl(s.role, s.key, s.value)
            case let .bridge(role, name, mac): try b.bridge(role, name, mac: mac)
            case let .tap(role, name, vnetHeader, offloads, mac, guestMAC):
                try b.tap(role, name, vnetHeader: vnetHeader, offloads: offloads, mac: mac, guestMAC: guestMAC ?? "-")
            case let .veth(roleA, nameA, macA, roleB, nameB, macB): try b.veth(roleA, nameA, macA: macA, roleB, nameB, macB: macB)
            case let .up(role, device, master): try b.up(role, device, master: master)
            case let .feature(role, device, f, on): try setFeature(role, device, f, on: on)
            case let .ip(c): try b.ip(c.role, c.argv)
            case let .exec(c): try b.exec(c.role, c.argv)
            case let .router(i, r):
                let a = try b.agent(r.role)
                let id = "r\(i)"
                try a.call(["urouter", id, r.mode.rawValue, r.header.rawValue])
                for p in r.ports { try a.call(["uport", id, p.name, p.kind, p.vnetHeader ? "1" : "0", p.mac]) }
                for rt in r.routes { try a.call(["uroute", id, rt.destination.description, rt.port, rt.nextHopMAC]) }
            }
        }
        let real = plan.devices.values.sorted { $0.graphID < $1.graphID }
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
