import Wire

extension Simulator {
    /// Why an injection cannot be simulated.
    public struct InjectError: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Walk one frame written into a TAP's file descriptor — what a guest (or a test program
    /// standing in for one) writes, with its virtio header — the way the real kernel would
    /// carry it. This is the simulation side of `csumlab verify` and of the real-kernel fixtures.
    /// - Parameters:
    ///   - sender: the host the frame comes from (its routing picks the first next hop).
    public func inject(frame bytes: [UInt8], vnetHeader: VirtioNetHeader?, atTap tapName: String, sender: String) throws(InjectError) -> LegTrace {
        let net = network
        guard let ti = topology.nodeIndex(named: tapName), case .tap = topology.nodes[ti].kind,
              let tap = net.interfaceDevice[ti][0] else {
            throw InjectError(description: "no TAP named '\(tapName)'")
        }
        guard let si = topology.nodeIndex(named: sender) else { throw InjectError(description: "no host named '\(sender)'") }
        let frame = Frame(bytes: bytes)
        let l: FrameLayout
        do { l = try frame.layout() } catch { throw InjectError(description: "the frame does not parse: \(error)") }
        let dst = IPAddress(bytes: frame.destinationAddress(l))
        guard let (_, nextHop) = shared.route(from: si, to: dst), let hop = shared.owner(of: nextHop),
              let target = shared.deviceOf(node: hop.node, iface: hop.iface) else {
            throw InjectError(description: "\(sender) has no route to \(dst)")
        }
        return try walkTapWrite(frame: bytes, vnetHeader: vnetHeader, tap: tap, sender: si, target: target, flow: nil, net: net, legName: "injected")
    }

    /// The walk of a TAP write: `tun_get_user()` at `tap`, then wherever the kernel takes it.
    /// `flow` is the frame flow being traced (nil: a bare injection, named after the protocol).
    func walkTapWrite(frame bytes: [UInt8], vnetHeader: VirtioNetHeader?, tap: Int, sender si: Int, target: Int, flow: Flow?, net: Network,
                      legName: String, lean: Bool = false) throws(InjectError) -> LegTrace {
        guard case let .tap(ts) = net.devices[tap].kind else { throw InjectError(description: "\(net.devices[tap].name) is not a TAP") }
        let frame = Frame(bytes: bytes)
        let l: FrameLayout
        do { l = try frame.layout() } catch { throw InjectError(description: "the frame does not parse: \(error)") }
        let src = IPAddress(bytes: frame.sourceAddress(l)), dst = IPAddress(bytes: frame.destinationAddress(l))
        guard let owner = shared.owner(of: dst) else { throw InjectError(description: "nobody in the topology owns \(dst)") }
        let sender = topology.nodes[si].name
        var leg = LegSpec(name: legName, from: .node(si), to: .node(owner.node), source: src, destination: dst, proto: l.l4Protocol)
        leg.payload = Array(frame.payload(l))
        var f = flow ?? Flow(name: legName, kind: l.l4Protocol == .tcp ? .tcp : (l.l4Protocol == .udp ? .udp : .icmp), from: sender, to: topology.nodes[owner.node].name)
        f.ipVersion = l.ipVersion
        var w = Walk(shared: shared, flow: f, leg: leg, nat: NATState(), lean: lean, tcpOwner: tcpOwner)
        let carrier: Carrier = vnetHeader.map { .vnet($0) } ?? .raw
        w.tapWrite(Packet(frame: frame, carrier: carrier, target: target), tap: tap, vnet: ts.vnetHdr)
        // The end of the receiving NAPI poll: a segment a tunnel device's GRO holds goes up.
        w.flushGRO()
        return LegTrace(name: legName, from: sender, to: topology.nodes[owner.node].name, steps: w.steps, outcome: Simulator.combine(w.results), counters: w.counters, visitedNodes: w.visited)
    }
}
