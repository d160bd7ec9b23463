import Foundation
import Testing
import Simulation
import TopologyFile
import Wire
import TestSupport

/// The simulator against this machine's kernel. Each fixture in Fixtures/kernel was measured by
/// `csumlab-kprobe` (KernelLab): a frame with a virtio header written into tap1 of a real lab of
/// namespaces, bridges, veths and TAPs, and what the kernel delivered at tap2's fd. Here the same
/// lab is described with a shipped topology plus the fixture's own device settings, the same
/// bytes are injected with `Simulator.inject`, and the vnet header and the bytes (from the
/// ethertype on; MAC addresses are the lab's own) must match exactly.
@Suite struct KernelFixtureTests {
    static let dir = repoRoot + "/Tests/SimulationTests/Fixtures/kernel"

    static var fixtures: [String] { listDirectory(dir).filter { $0.hasSuffix(".json") }.sorted() }

    /// Fixtures whose mechanism the simulator does not model yet (and why).
    static let notModelled: [String: String] = [:]

    /// The shipped topology that describes each kernel lab.
    static func base(_ kind: String) -> String? {
        switch kind {
        case "bridged": return "seed-bridged"
        case "routed-netns": return "seed-routed-netns"
        case "routed-userspace": return "seed-routed-userspace"
        case "routed-userspace-vnet": return "seed-routed-userspace-vnet-hdr"
        case "routed-vm-relay": return "seed-routed-vm-router"
        case "routed-vm-relay-no-guest-csum": return "seed-routed-vm-router-no-guest-csum"
        default: return nil
        }
    }

    /// The lab's device names (`namespace:device`) as csumlab setting paths.
    static func settingPath(_ device: String) -> String? {
        let name = String(device.split(separator: ":").last ?? "")
        switch name {
        case "tap1", "tap2", "br0", "br1", "br2", "tapR1", "tapR2": return name
        case "vethA", "vethA-r": return "vethA." + name
        case "vethB", "vethB-r": return "vethB." + name
        default: return nil
        }
    }

    static func featureKey(_ ethtool: String) -> String? {
        switch ethtool {
        case "tx-checksum-ip-generic": return "tx"
        case "tx-tcp-segmentation", "tx-tcp6-segmentation", "tx-tcp-ecn-segmentation", "tx-tcp-mangleid-segmentation": return "tso"
        case "tx-generic-segmentation": return "gso"
        case "rx-gro": return "gro"
        case "rx-checksum": return "rx"
        case "tx-scatter-gather": return "sg"
        default: return nil
        }
    }

    struct Case {
        var topology: Topology
        var frame: [UInt8]
        var vnet: VirtioNetHeader?
        var observed: [(vnet: VirtioNetHeader?, frame: [UInt8])]
    }

    static func load(_ file: String) throws -> Case? {
        let d = try JSONSerialization.jsonObject(with: Data(FileText.read(dir + "/" + file).utf8)) as! [String: Any]
        let topo = d["topology"] as! [String: Any]
        guard var baseName = base(topo["kind"] as! String) else { return nil }
        let injectedHex = (((d["injected"] as! [String: Any])["frame"] as! [String: Any])["frameHex"] as! String)
        if baseName == "seed-routed-netns" && injectedHex.dropFirst(24).hasPrefix("86dd") { baseName = "ipv6-routed-netns" }
        var t = try loadShipped(baseName).topology
        t.kernel = .linux6
        for i in t.nodes.indices { t.nodes[i].kernel = nil }
        let name = d["name"] as! String
        // Router netfilter rules the probe installed.
        if name.contains("nat") { try t.apply(assignment: "router.masquerade=eth1") }
        if name.contains("ct-invalid-drop") { try t.apply(assignment: "router.drop-invalid=on") }
        if name.contains("checksum-fill") { try t.apply(assignment: "router.checksum-fill=udp") }
        // TAP flags as opened (TUNSETIFF/TUNSETOFFLOAD).
        for tap in (topo["taps"] as? [[String: Any]]) ?? [] {
            guard let n = tap["name"] as? String, let path = settingPath(n), t.node(named: path) != nil else { continue }
            let off = (tap["offloads"] as? [String]) ?? []
            try t.apply(assignment: "\(path).vnet-hdr=\((tap["vnetHeader"] as? Bool) ?? true)")
            try t.apply(assignment: "\(path).tun-csum=\(off.contains("TUN_F_CSUM"))")
            try t.apply(assignment: "\(path).tun-tso4=\(off.contains("TUN_F_TSO4"))")
            try t.apply(assignment: "\(path).tun-tso6=\(off.contains("TUN_F_TSO6"))")
        }
        // ethtool changes the probe made.
        for c in (topo["featureChanges"] as? [[String: Any]]) ?? [] {
            guard let dev = c["device"] as? String, let path = settingPath(dev), let key = featureKey(c["feature"] as! String) else {
                Issue.record("\(name): cannot map feature change \(c)")
                continue
            }
            try t.apply(assignment: "\(path).\(key)=\(c["on"] as! Bool)")
        }
        func frame(_ f: [String: Any]) -> (VirtioNetHeader?, [UInt8]) {
            let bytes = bytesFromHex(f["frameHex"] as! String)!
            guard let h = f["vnetHeader"] as? [String: Any] else { return (nil, bytes) }
            let v = VirtioNetHeader(flags: UInt8(h["flags"] as! Int), gsoType: UInt8(h["gsoType"] as! Int), hdrLen: UInt16(h["hdrLen"] as! Int),
                                    gsoSize: UInt16(h["gsoSize"] as! Int), csumStart: UInt16(h["csumStart"] as! Int), csumOffset: UInt16(h["csumOffset"] as! Int))
            return (v, bytes)
        }
        let inj = frame((d["injected"] as! [String: Any])["frame"] as! [String: Any])
        let obs = (d["observed"] as! [[String: Any]]).map(frame)
        return Case(topology: t, frame: inj.1, vnet: inj.0, observed: obs.map { (vnet: $0.0, frame: $0.1) })
    }

    @Test func fixturesExist() {
        #expect(Self.fixtures.count >= 20)
    }

    @Test(arguments: fixtures)
    func simulatorMatchesKernel(file: String) throws {
        let name = String(file.dropLast(5))
        if let why = Self.notModelled[name] {
            withKnownIssue("not modelled: \(why)") { try compare(file) }
            return
        }
        try compare(file)
    }

    func compare(_ file: String) throws {
        guard let c = try Self.load(file) else {
            Issue.record("\(file): no shipped topology describes this lab")
            return
        }
        let leg = try Simulator(c.topology).inject(frame: c.frame, vnetHeader: c.vnet, atTap: "tap1", sender: "vm1")
        let delivered = leg.steps.filter { $0.element == "tap2" && $0.event.kind == .tunPutUser }
        #expect(delivered.count == c.observed.count, "\(file): kernel delivered \(c.observed.count) frame(s) at tap2, simulation \(delivered.count) (\(leg.outcome.summary))")
        for (s, o) in zip(delivered, c.observed) {
            let simVnet: VirtioNetHeader? = { if case let .vnet(h) = s.after { return h }; return nil }()
            #expect(simVnet == o.vnet, "\(file): vnet header: kernel \(o.vnet?.summary ?? "none"), simulation \(simVnet?.summary ?? "none")")
            #expect(Array(s.frame.dropFirst(12)) == Array(o.frame.dropFirst(12)),
                    "\(file): bytes differ from offset 12: kernel \(Array(o.frame.dropFirst(12)).hexString.prefix(120)) simulation \(Array(s.frame.dropFirst(12)).hexString.prefix(120))")
        }
    }
}
