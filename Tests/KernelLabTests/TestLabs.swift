import Simulation

/// Labs the KernelLab tests build in Swift (not shipped files).
enum TestLabs {
    /// A namespace's TCP through a veth and a bridge to a veth end (no TSO) whose peer has GRO on:
    /// client –vethC– br0 –vethS (tso off)– server (vethS-s gro on), one 5000-byte TCP flow
    /// `bulk`; `sets` are applied after (`--set` form).
    static func namespaceBridgeVethGRO(_ sets: [String] = []) throws -> Topology {
        func host(_ n: String, _ a: String) -> Node {
            Node(name: n, kind: .netns(Netfilter()), interfaces: [Interface(name: "eth0", addresses: [IPNetwork(a)!])])
        }
        var t = Topology(name: "ns-bridge-veth-gro", kernel: .linux6, nodes: [
            host("client", "10.0.0.1/24"),
            Node(name: "vethC", kind: .veth, interfaces: [Interface(name: "vethC-c"), Interface(name: "vethC")]),
            Node(name: "br0", kind: .bridge),
            Node(name: "vethS", kind: .veth, interfaces: [Interface(name: "vethS"), Interface(name: "vethS-s")]),
            host("server", "10.0.0.2/24"),
        ], links: [
            Link(Endpoint(node: "client", interface: "eth0"), Endpoint(node: "vethC", interface: "vethC-c")),
            Link(Endpoint(node: "vethC", interface: "vethC"), Endpoint(node: "br0")),
            Link(Endpoint(node: "br0"), Endpoint(node: "vethS", interface: "vethS")),
            Link(Endpoint(node: "vethS", interface: "vethS-s"), Endpoint(node: "server", interface: "eth0")),
        ])
        var bulk = Flow(name: "bulk", kind: .tcp, from: "client", to: "server")
        bulk.payload = 5000
        t.flows = [bulk]
        for a in ["vethS.vethS.tso=off", "vethS.vethS-s.gro=on"] + sets { try t.apply(assignment: a) }
        return t
    }
}
