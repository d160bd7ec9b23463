import Wire

/// A `type: frame` flow's frame: written into a TAP's file descriptor (by QEMU, a userspace
/// switch or a test program on the TAP's fd side) with a chosen virtio_net_hdr. The frame is
/// built from the flow's hosts, port and payload, or given whole as bytes.
public struct FrameInjection: Sendable, Hashable {
    /// What the built frame carries in its L4 checksum field.
    public enum ChecksumMode: String, Sendable, CaseIterable {
        /// The folded pseudo-header sum, as a `CHECKSUM_PARTIAL` sender leaves it.
        case pseudo
        /// The complete checksum.
        case full
        /// The complete checksum, then bit 0x01 of payload byte `corruptByte` flipped.
        case corrupt
    }

    /// The TAP whose fd writes the frame.
    public var tap: String = ""
    /// The header written before the frame (only when the TAP has `vnet-hdr`).
    public var vnet = VirtioNetHeader()
    /// `.tcp` or `.udp` (a built frame).
    public var proto: IPProtocol = .udp
    public var sourcePort: UInt16 = 40000
    public var checksum: ChecksumMode = .full
    /// The whole Ethernet frame, given as bytes: used as it is instead of a built one.
    public var bytes: [UInt8]?

    public init() {}

    /// The TCP segment fields of a built frame.
    public static let tcpSeq: UInt32 = 0x1000_0001
    public static let tcpAck: UInt32 = 0x5000_0001
}

extension Simulator {
    /// Where a frame flow's TAP write goes: the TAP, the sender's NIC on its fd side, the
    /// interface it is, and the device of the frame's next hop.
    struct FramePath {
        var tap: Int
        var nic: Int
        var sender: Int
        var target: Int
        var source: IPAddress
        var destination: IPAddress
    }

    func framePath(_ f: Flow, _ net: Network) throws(InjectError) -> FramePath {
        let j = f.frame
        guard let ti = net.nodeIndex(named: j.tap), case .tap = topology.nodes[ti].kind, let tap = net.interfaceDevice[ti][0] else {
            throw InjectError(description: "no TAP named '\(j.tap)'")
        }
        guard let nic = net.devices[tap].fdVM, let ii = net.devices[nic].iface else {
            throw InjectError(description: "nothing is linked to the fd side of TAP '\(j.tap)' (link a VM's interface to it)")
        }
        let sender = net.devices[nic].node
        if case let .tap(ts) = topology.nodes[ti].kind, !ts.vnetHdr, j.vnet != VirtioNetHeader() {
            throw InjectError(description: "TAP '\(j.tap)' has no vnet header (vnet-hdr: off): only the frame is written, so 'vnet' must stay all zero")
        }
        guard topology.nodes[sender].name == f.from else {
            throw InjectError(description: "TAP '\(j.tap)' is written by \(topology.nodes[sender].name) (its fd side), not '\(f.from)': write 'from: \(topology.nodes[sender].name)'")
        }
        if let bytes = j.bytes {
            let frame = Frame(bytes: bytes)
            let l: FrameLayout
            do { l = try frame.layout() } catch { throw InjectError(description: "the frame does not parse: \(error)") }
            let dst = IPAddress(bytes: frame.destinationAddress(l))
            let iface = topology.nodes[sender].interfaces[ii]
            let onLink = iface.addresses.contains { $0.contains(dst) }
            guard let target = onLink ? net.targetDevice(for: dst) : Self.gatewayTarget(iface, dst, net) else {
                throw InjectError(description: "nobody in the topology owns \(dst) or routes it from \(f.from)'s interface")
            }
            return FramePath(tap: tap, nic: nic, sender: sender, target: target, source: IPAddress(bytes: frame.sourceAddress(l)), destination: dst)
        }
        let iface = topology.nodes[sender].interfaces[ii]
        guard let src = iface.address(f.ipVersion) else {
            throw InjectError(description: "\(f.from):\(iface.name) (on TAP '\(j.tap)') has no IPv\(f.ipVersion.rawValue) address")
        }
        guard let ri = net.nodeIndex(named: f.to) else { throw InjectError(description: "no host named '\(f.to)'") }
        let dst: IPAddress
        if case let .hostNIC(h) = topology.nodes[ri].kind, let a = f.ipVersion == .v4 ? h.remoteAddress : h.remoteAddress6 {
            dst = a
        } else if let a = topology.nodes[ri].interfaces.compactMap({ $0.address(f.ipVersion) }).first(where: { $0.contains(src.address) })
                    ?? topology.nodes[ri].interfaces.compactMap({ $0.address(f.ipVersion) }).first {
            dst = a.address
        } else {
            throw InjectError(description: "'\(f.to)' has no IPv\(f.ipVersion.rawValue) address")
        }
        let target: Int?
        if src.contains(dst) { target = net.targetDevice(for: dst) } else { target = Self.gatewayTarget(iface, dst, net) }
        guard let target else {
            throw InjectError(description: "\(f.from):\(iface.name) has no next hop for \(dst) (no gateway\(dst.version == .v6 ? "6" : "") on that interface)")
        }
        return FramePath(tap: tap, nic: nic, sender: sender, target: target, source: src.address, destination: dst)
    }

    /// The device of the interface's gateway for `dst`'s version.
    static func gatewayTarget(_ i: Interface, _ dst: IPAddress, _ net: Network) -> Int? {
        guard let gw = dst.version == .v4 ? i.gateway : i.gateway6 else { return nil }
        return net.targetDevice(for: gw)
    }

    /// The bytes a frame flow writes after the virtio header: given, or built from the flow.
    public func frameBytes(_ f: Flow) throws(InjectError) -> [UInt8] {
        try frameBytes(f, framePath(f, network), network)
    }

    func frameBytes(_ f: Flow, _ p: FramePath, _ net: Network) throws(InjectError) -> [UInt8] {
        let j = f.frame
        if let b = j.bytes { return b }
        var b = PacketBuilder(sourceMAC: net.devices[p.nic].mac, destinationMAC: net.destinationMAC(for: p.target), source: p.source, destination: p.destination)
        b.ipID = 0x7777
        let payload = Self.payload(f.payload, seed: 0x41)
        let fill: PacketBuilder.ChecksumFill = j.checksum == .pseudo ? .partial : .complete
        var frame: Frame
        switch j.proto {
        case .tcp:
            frame = b.tcp(sourcePort: j.sourcePort, destinationPort: f.port, seq: FrameInjection.tcpSeq, ack: FrameInjection.tcpAck,
                          flags: [.psh, .ack], payload: payload, checksum: fill)
        case .udp:
            frame = b.udp(sourcePort: j.sourcePort, destinationPort: f.port, payload: payload, checksum: fill)
        case .icmp, .icmpv6:
            throw InjectError(description: "a built frame is TCP or UDP")
        }
        if j.checksum == .corrupt {
            guard f.corruptByte < payload.count else {
                throw InjectError(description: "'checksum: corrupt' flips payload byte \(f.corruptByte), but the payload has \(payload.count) bytes")
            }
            let l: FrameLayout
            do { l = try frame.layout() } catch { throw InjectError(description: "internal: built frame does not parse: \(error)") }
            frame.bytes[l.payloadOffset + f.corruptByte] ^= 0x01
        }
        return frame.bytes
    }

    /// Why the model cannot follow `h` on `bytes` (headers the kernel accepts but whose
    /// consequences are not simulated), or nil. Headers the kernel refuses are modelled (the write
    /// fails) and are not reported here.
    static func unmodelledHeader(_ h: VirtioNetHeader, _ bytes: [UInt8], tapHasVnetHeader: Bool, profile: KernelProfile) -> String? {
        guard tapHasVnetHeader, h.toSkbRefusal(frameLength: bytes.count, profile: profile) == nil else { return nil }
        guard let l = try? Frame(bytes: bytes).layout() else { return nil }
        if h.needsChecksum && (Int(h.csumStart) < l.l3Offset || Int(h.csumStart) + Int(h.csumOffset) + 2 > l.end) {
            return "NEEDS_CSUM with csum_start \(h.csumStart) + csum_offset \(h.csumOffset) outside the IP datagram (bytes \(l.l3Offset)–\(l.end)) is not modelled"
        }
        guard h.isGSO, l.end - l.payloadOffset > Int(h.gsoSize) else { return nil }
        let type = h.gsoType & 0x7F
        let tcpMatches = l.l4Protocol == .tcp && ((type == 1 && l.ipVersion == .v4) || (type == 4 && l.ipVersion == .v6))
        guard tcpMatches, h.gsoSize > 0 else {
            return "a GSO header (\(h.summary)) on this \(l.ipVersion == .v4 ? "IPv4" : "IPv6") \(l.l4Protocol == .tcp ? "TCP" : l.l4Protocol == .udp ? "UDP" : "ICMP") frame is not modelled: the simulation segments TCPV4 super-frames of IPv4 TCP and TCPV6 of IPv6 TCP, with a gso-size above 0"
        }
        return nil
    }

    /// The frame flow's header problem on its TAP (see `unmodelledHeader`).
    func unmodelled(_ f: Flow, _ p: FramePath, _ bytes: [UInt8], _ net: Network) -> String? {
        if let l = try? Frame(bytes: bytes).layout(), l.end != bytes.count {
            return "the frame has \(bytes.count - l.end) byte(s) after its IP datagram (Ethernet padding or a short IP length), which the simulation does not model"
        }
        guard case let .tap(ts) = net.devices[p.tap].kind else { return nil }
        return Self.unmodelledHeader(f.frame.vnet, bytes, tapHasVnetHeader: ts.vnetHdr, profile: net.devices[p.tap].profile)
    }

    /// Why a frame flow cannot be walked, or nil.
    public func frameProblem(_ f: Flow) -> String? {
        let net = network
        do throws(InjectError) {
            let p = try framePath(f, net)
            let bytes = try frameBytes(f, p, net)
            return unmodelled(f, p, bytes, net)
        } catch {
            return error.description
        }
    }

    /// Walk a frame flow: one leg, the TAP write.
    func frameTrace(_ f: Flow, _ net: Network, lean: Bool = false) throws(SimulationError) -> FlowTrace {
        let leg: LegTrace
        do throws(InjectError) {
            let p = try framePath(f, net)
            let bytes = try frameBytes(f, p, net)
            if let why = unmodelled(f, p, bytes, net) { throw InjectError(description: why) }
            leg = try walkTapWrite(frame: bytes, vnetHeader: f.frame.vnet, tap: p.tap, sender: p.sender, target: p.target, flow: f, net: net, legName: "frame", lean: lean)
        } catch {
            throw .frame(flow: f.name, reason: error.description)
        }
        let legs = [leg]
        var counters: [String: [String: Int]] = [:]
        for (h, cs) in leg.counters { for (k, n) in cs { counters[h, default: [:]][k, default: 0] += n } }
        return FlowTrace(flow: f.name, kind: f.kind, from: f.from, to: f.to, legs: legs, verdict: Self.verdict(f, legs, summary: !lean), counters: counters,
                         window: ObservationWindow(seconds: window, summary: "one frame (no retransmission: nothing answers it)"))
    }
}
