#if canImport(Glibc)
import Glibc
#endif

/// Builds one lab inside namespaces of its own and records every step into `TopologySettings`.
/// Configuration goes through `ip -n NS ...` and the namespace helpers (`Agent`); nothing is done
/// in the host namespace except creating and deleting the run's namespaces.
public final class LabBuilder {
    /// Features worth recording per device (ETH_SS_FEATURES names).
    public static let recordedFeatures = [
        "tx-checksum-ip-generic", "tx-checksum-ipv4", "tx-checksum-ipv6", "tx-scatter-gather",
        "tx-tcp-segmentation", "tx-tcp6-segmentation", "tx-generic-segmentation", "rx-gro", "rx-checksum",
    ]

    public let prefix: RunPrefix
    public let executable: String
    public private(set) var settings: TopologySettings
    /// How the helper is started: `EXECUTABLE ARGUMENTS...` inside the namespace.
    public let agentArguments: [String]
    private var agents: [String: Agent] = [:]
    private var created: [String] = []

    public init(prefix: RunPrefix, executable: String, kind: String, agentArguments: [String] = ["agent"]) {
        self.prefix = prefix
        self.executable = executable
        self.agentArguments = agentArguments
        settings = TopologySettings(kind: kind)
    }

    /// Create namespace `role` with its helper; IPv6 disabled unless asked (no ND/MLD noise).
    public func namespace(_ role: String, ipv6: Bool) throws(LabError) {
        let ns = prefix.namespace(role)
        try Namespaces.create(ns)
        created.append(ns)
        settings.namespaces.append(role)
        step("ip netns add \(ns); ip -n \(ns) link set lo up")
        agents[role] = try Agent(namespace: ns, executable: executable, arguments: agentArguments)
        if !ipv6 {
            try sysctl(role, "net.ipv6.conf.all.disable_ipv6", "1")
            try sysctl(role, "net.ipv6.conf.default.disable_ipv6", "1")
        }
    }

    public func agent(_ role: String) throws(LabError) -> Agent {
        guard let a = agents[role] else { throw .agent("no namespace \(role)") }
        return a
    }

    /// `ip -n <ns of role> ARGS...`
    public func ip(_ role: String, _ args: [String]) throws(LabError) {
        let ns = prefix.namespace(role)
        try Spawn.check(["ip", "-n", ns] + args)
        step((["ip", "-n", ns] + args).joined(separator: " "))
    }

    /// Run a program inside the namespace (`ip netns exec NS ARGS...`), e.g. nft or iptables.
    public func exec(_ role: String, _ args: [String]) throws(LabError) {
        let ns = prefix.namespace(role)
        try Spawn.check(["ip", "netns", "exec", ns] + args)
        step((["ip", "netns", "exec", ns] + args).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))
    }

    public func sysctl(_ role: String, _ key: String, _ value: String) throws(LabError) {
        try agent(role).call(["sysctl", key, value])
        step("[\(prefix.namespace(role))] sysctl \(key)=\(value)")
    }

    public func bridge(_ role: String, _ name: String, mac: String) throws(LabError) {
        try ip(role, Self.bridgeArgs(name, mac: mac))
        try ip(role, ["link", "set", "dev", name, "up"])
        settings.macs["\(role):\(name)"] = mac
    }

    /// `ip link add` arguments for a bridge. Names always follow the `name`/`dev` keyword:
    /// iproute2 reads a bare word as a keyword when it abbreviates one (`a` is `address`).
    static func bridgeArgs(_ name: String, mac: String) -> [String] {
        ["link", "add", "name", name, "address", mac, "type", "bridge", "forward_delay", "0"]
    }

    /// `ip link add` arguments for a veth pair whose second end goes to `peerNamespace`.
    static func vethArgs(_ nameA: String, macA: String, _ nameB: String, macB: String, peerNamespace: String) -> [String] {
        ["link", "add", "name", nameA, "address", macA, "type", "veth", "peer", "name", nameB, "address", macB,
         "netns", peerNamespace]
    }

    public func veth(_ roleA: String, _ nameA: String, macA: String, _ roleB: String, _ nameB: String, macB: String) throws(LabError) {
        try ip(roleA, Self.vethArgs(nameA, macA: macA, nameB, macB: macB, peerNamespace: prefix.namespace(roleB)))
        settings.macs["\(roleA):\(nameA)"] = macA
        settings.macs["\(roleB):\(nameB)"] = macB
    }

    public func up(_ role: String, _ dev: String, master: String? = nil) throws(LabError) {
        if let m = master { try ip(role, ["link", "set", "dev", dev, "master", m]) }
        try ip(role, ["link", "set", "dev", dev, "up"])
    }

    /// Open a TAP in `role` (as QEMU does for a guest NIC) and set its host-side MAC.
    public func tap(_ role: String, _ name: String, vnetHeader: Bool, offloads: TunOffloads, mac: String, guestMAC: String) throws(LabError) {
        let r = try agent(role).call(["tap", name, vnetHeader ? "1" : "0", String(offloads.rawValue), "10"])
        let iff = Int(r.result.first ?? "") ?? -1
        step("[\(prefix.namespace(role))] open /dev/net/tun TUNSETIFF \(name) IFF_TAP|IFF_NO_PI\(vnetHeader ? "|IFF_VNET_HDR; TUNSETVNETHDRSZ 10" : ""); TUNSETOFFLOAD \(offloads.names.isEmpty ? "0" : offloads.names.joined(separator: "|"))")
        settings.taps.append(TapRecord(namespace: role, name: name, vnetHeader: vnetHeader, vnetHeaderSize: vnetHeader ? 10 : 0,
                                       offloads: offloads.names, iffFlags: iff, guestMAC: guestMAC))
        try ip(role, ["link", "set", "dev", name, "address", mac])
        settings.macs["\(role):\(name)"] = mac
    }

    public func setFeature(_ role: String, _ dev: String, _ feature: String, on: Bool) throws(LabError) {
        let r = try agent(role).call(["set-feature", dev, feature, on ? "1" : "0"])
        step("[\(prefix.namespace(role))] SIOCETHTOOL ETHTOOL_SFEATURES \(dev) \(feature) \(on ? "on" : "off")")
        settings.featureChanges.append(FeatureChange(device: "\(role):\(dev)", feature: feature, on: on, result: Int(r.result.first ?? "") ?? -1))
    }

    /// Record the selected features of a device as they are now.
    public func recordFeatures(_ role: String, _ dev: String) throws(LabError) {
        let r = try agent(role).call(["features", dev])
        var out: [String: Bool] = [:]
        for line in r.data {
            let w = line.split(separator: " ")
            guard w.count == 5, w[0] == "feature", Self.recordedFeatures.contains(String(w[1])) else { continue }
            out[String(w[1])] = w[4] == "1"
        }
        settings.deviceFeatures["\(role):\(dev)"] = out
    }

    public func setForwarder(_ record: ForwarderRecord) { settings.forwarder = record }

    /// A step line with this run's prefix replaced by `<run>`, so fixtures do not depend on the pid.
    private func step(_ s: String) {
        settings.steps.append(s.replacingAll(prefix.value, with: "<run>"))
    }

    /// Leave the lab standing: make every TAP persistent, stop the helpers (their relays and
    /// routers stop with them) and forget the namespaces, so neither `teardown` nor `deinit`
    /// removes them. `Namespaces.cleanup(prefix:)` does, later.
    public func release() {
        for a in agents.values { _ = try? a.call(["persist"]) }
        for a in agents.values { a.stop() }
        agents.removeAll()
        created.removeAll()
    }

    /// Stop the helpers (closing their TAPs) and delete every namespace this builder created.
    public func teardown() {
        for a in agents.values { a.stop() }
        agents.removeAll()
        for ns in created.reversed() { Namespaces.destroy(ns) }
        created.removeAll()
    }

    deinit { teardown() }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound]
            out += replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

extension Substring {
    func range(of target: String) -> Range<Substring.Index>? {
        let t = Array(target)
        guard !t.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].starts(with: t) {
                return i..<index(i, offsetBy: t.count)
            }
            i = index(after: i)
        }
        return nil
    }
}
