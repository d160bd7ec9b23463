import Wire

/// Generated labs for scale: what the explorer's tests and `csumlab-bench` both draw and time,
/// built in one place so the two measure the same thing.
public enum SampleTopology {
    /// A chain of `n` nodes (n ≥ 3): vmA, then TAPs and bridges alternating (tap0, br1, tap2, …),
    /// then vmB, on one subnet; no flows.
    public static func tapBridgeChain(_ n: Int) -> Topology {
        precondition(n >= 3, "a chain needs two VMs and something between them")
        var t = Topology(name: "long")
        t.nodes.append(Node(name: "vmA", kind: .vm(VMSettings()), interfaces: [Interface(name: "eth0", addresses: [IPNetwork("10.0.0.1/24")!])]))
        var prev = Endpoint(node: "vmA", interface: "eth0")
        for i in 0..<(n - 2) {
            let name = i % 2 == 0 ? "tap\(i)" : "br\(i)"
            t.nodes.append(Node(name: name, kind: i % 2 == 0 ? .tap(TapSettings()) : .bridge))
            t.links.append(Link(prev, Endpoint(node: name)))
            prev = Endpoint(node: name)
        }
        t.nodes.append(Node(name: "vmB", kind: .vm(VMSettings()), interfaces: [Interface(name: "eth0", addresses: [IPNetwork("10.0.0.2/24")!])]))
        t.links.append(Link(prev, Endpoint(node: "vmB", interface: "eth0")))
        return t
    }
}
