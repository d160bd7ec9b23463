import Checksum
import Wire

/// A Linux bridge: forwarding between ports (`br_handle_frame()`), flooding, and the host's own
/// transmit through the bridge device (`br_dev_xmit()`).
extension Walk {
    /// `br_dev_xmit()`: the host sends through its bridge device; the bridge picks the port as
    /// `br_forward()` does, with `local_orig` (no `skb_forward_csum()`).
    mutating func bridgeDevXmit(_ p: Packet, on d: Int) {
        let node = net.devices[d].node
        // br_dev_xmit: locally originated, forwarded without skb_forward_csum().
        let q = watch(p) { w in
            w.record(p, p, node: node, iface: w.ifLabel(d), .transmit, .bridgeLocalXmit)
        }
        guard let egress = bridgeEgress(bridge: d, excluding: nil, q) else { return }
        guard let flooded = egress.flood else { return transmit(q, on: egress.port) }
        var fq = q
        fq.flooded = true
        let r = watch(fq) { w in
            w.record(q, fq, node: node, iface: w.ifLabel(d), .transmit, .bridgeLocalFlood(ports: flooded.map(w.name)))
        }
        transmit(r, on: egress.port)
    }

    /// `br_forward()` or, with no fdb entry for the destination MAC, `br_flood()` to every port
    /// but `inPort` (nil: a locally originated frame, `local_orig`): the port the walk follows
    /// and, when flooded, every port a copy leaves by. Nil, with the drop recorded, when no
    /// flooded port leads to the destination host.
    mutating func bridgeEgress(bridge br: Int, excluding inPort: Int?, _ p: Packet) -> (port: Int, flood: [Int]?)? {
        if let port = pickPort(bridge: br, excluding: inPort, p) { return (port, nil) }
        let flood = floodPorts(bridge: br, excluding: inPort)
        guard let port = flood.follow else {
            finish(.droppedOnPath(at: name(br), reason: floodDropReason(flood.ports)))
            return nil
        }
        return (port, flood.ports)
    }

    /// `br_handle_frame()` → `br_forward()` → `__br_forward()` → `br_dev_queue_push_xmit()`.
    mutating func bridgeForward(_ p: Packet, bridge br: Int, from inPort: Int) {
        let node = net.devices[br].node
        let p = bridgeNetfilter(p, bridge: br, from: inPort)
        if p.target == br || (p.target.map { net.devices[$0].l3 == nil && $0 == br } ?? false) {
            let q = watch(p) { w in
                w.record(p, p, node: node, iface: w.ifLabel(br), .receive, .bridgePassUp(bridge: w.name(br)))
            }
            return arriveAtHost(q, device: br)
        }
        // br_handle_frame_finish(): br_forward(), or br_flood() to every port but the ingress one.
        guard let egress = bridgeEgress(bridge: br, excluding: inPort, p) else { return }
        let out = egress.port
        var flooded = egress.flood.map { StepEvent.BridgeFlood(destinationMAC: Self.macString(p.frame.destinationMAC), ports: $0.map(name)) }
        var q = p
        q.flooded = p.flooded || flooded != nil
        // A broadcast or multicast frame (BR_PKT_BROADCAST / _MULTICAST) is flooded too:
        // br_flood() to every port but the ingress one, the walk following the copy toward the
        // destination host.
        if flooded == nil, !p.frame.destinationIsUnicast {
            flooded = StepEvent.BridgeFlood(destinationMAC: Self.macString(p.frame.destinationMAC), ports: floodPorts(bridge: br, excluding: inPort).ports.map(name))
        }
        let s = p.skb!
        if s.ipSummed == .complete {
            q.carrier = .skb(s.with(.none))
        }
        // br_dev_queue_push_xmit() → is_skb_forwardable(): a non-GSO frame larger than the
        // egress port's MTU (+ Ethernet header + VLAN tag) is freed without a counter.
        let outMTU = net.devices[out].mtu
        let length = Self.linkFrameLength(p)
        if !s.isGSO && length > MTURule.forwardableLength(mtu: outMTU) {
            q = watch(q) { w in
                w.record(p, q, node: node, iface: w.ifLabel(br), .forward, .bridgeTooBig(egress: w.name(out), length: length, mtu: outMTU),
                         drop: "frame exceeds MTU")
            }
            return finish(.droppedOnPath(at: name(br), reason: "frame exceeds MTU"))
        }
        // br_handle_frame_finish(): a promiscuous bridge (or a broadcast or multicast frame) sets
        // local_rcv, and br_forward() / br_flood() then send a clone out (deliver_clone()):
        // skb_clone() leaves the clone without an owner (`n->sk = NULL`). Not modelled: which
        // port of a flood without local_rcv gets the original (the kernel's port list order).
        let clone = (topology.nodes[node].promisc ?? false) || !p.frame.destinationIsUnicast
        if clone { q.owner = .none }
        q = watch(q) { w in
            w.record(p, q, node: node, iface: w.ifLabel(br), .forward,
                     .bridgeForward(summed: s.ipSummed, from: w.name(inPort), to: w.name(out), flood: flooded, clone: clone))
        }
        transmit(q, on: out)
    }

    /// `br_netfilter` (`br_nf_pre_routing()`): a bridged IPv4 or IPv6 frame passes the IP
    /// PRE_ROUTING hooks of the bridge's namespace, so where conntrack is active there
    /// (`Netfilter.conntrackActive`, or a kube-proxy `outer-masquerade` rule of a tunnel placed
    /// there) `nf_conntrack_in()` checks its TCP/UDP checksum as it does for routed packets
    /// (`conntrackChecksum`): a `COMPLETE` skb that verifies — a frame a tunnel just decapsulated
    /// after verifying the outer — leaves as `CHECKSUM_UNNECESSARY`, and a TAP reader then sees
    /// `DATA_VALID`. The model assumes br_netfilter is loaded with `bridge-nf-call-iptables`/
    /// `-ip6tables` = 1, the default once it is (built in on the verify kernel, CONFIG_BRIDGE_NETFILTER=y;
    /// loaded by Docker and kubeadm). Found by the random campaign of 2026-12-06 (seed 20261213):
    /// vxlan-bridge-port `--set vxA.udpcsum=on --set vxB.outer-masquerade=on` gave tap2 DATA_VALID.
    ///
    /// Before the hooks, `setup_pre_routing()` orphans the skb ("Must drop socket now because of
    /// tproxy", net/bridge/br_netfilter_hooks.c): a writer's socket (a TAP's, a packet
    /// socket's) no longer owns it, so the segments a veth without TSO cuts it into further on
    /// all merge in the peer's GRO (`VethGRO.swift`). A bridge with `br-netfilter: off`
    /// (`Node.brNetfilter`) does neither: no conntrack, and the owner stays.
    /// A promiscuous bridge (`Node.promisc`) and a broadcast or multicast frame send clones out
    /// (`bridgeForward`). Not modelled: which port of an unknown-unicast flood gets the original
    /// (the others get clones; the kernel's port list order decides).
    mutating func bridgeNetfilter(_ p: Packet, bridge br: Int, from inPort: Int) -> Packet {
        guard topology.nodes[net.devices[br].node].brNetfilter ?? true else { return p }
        var p = p
        p.owner = .none
        guard let ref = net.devices[br].l3, Self.conntrackActive(topology, node: ref.node, net),
              p.skb != nil, p.fragmentMTU == nil else { return p }
        let l = p.layout
        guard l.l4Protocol == .tcp || l.l4Protocol == .udp else { return p }
        var q = p
        let check = Self.conntrackChecksum(&q, l, enabled: topology.nodes[ref.node].netfilter?.conntrackChecksum ?? true)
        return watch(q) { w in
            w.record(p, q, node: w.net.devices[br].node, iface: w.ifLabel(br), .receive,
                     .bridgeConntrackCheck(l4: l.l4Protocol, v6: l.ipVersion == .v6, result: check, bridge: w.name(br), port: w.name(inPort)))
        }
    }

    /// Is conntrack loaded in namespace `ni`: its netfilter settings ask for it, or a tunnel
    /// placed there has kube-proxy's outer MASQUERADE (a nat rule).
    static func conntrackActive(_ t: Topology, node ni: Int, _ net: Network) -> Bool {
        if t.nodes[ni].netfilter?.conntrackActive == true { return true }
        return net.devices.indices.contains { d in
            if case let .vxlan(v) = net.devices[d].kind, v.outerMasquerade, net.tunnelNode(d) == ni { return true }
            return false
        }
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
        shared.l2Reaches(from: port, target: target, avoiding: bridge)
    }
}
