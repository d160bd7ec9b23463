import Wire

/// A router (or switch) in userspace with any number of ports, each an AF_PACKET socket on a
/// device or a TAP fd: stands in for a userspace forwarder (bmv2, Click, a pcap relay) and for a
/// Linux router VM behind its TAPs. Routing rewrites MACs, decrements TTL / hop limit and fixes the
/// IPv4 header checksum; the L4 bytes are never touched. What happens to the checksum metadata is
/// the `HeaderMode`.
public struct UserspaceRouter: Sendable {
    public enum Mode: String, Sendable {
        /// Route by destination address (only frames addressed to the port's MAC).
        case l3
        /// Copy every frame unchanged to the other ports (a switch).
        case l2
    }

    public enum HeaderMode: String, Sendable {
        /// Not vnet-header aware: whatever comes in, frames go out with no header or a zero one.
        case drop
        /// Reads and writes the virtio_net_hdr as it is (`PACKET_VNET_HDR`, TAPs with vnet headers).
        case keep
        /// A Linux router guest: its virtio-net keeps NEEDS_CSUM and GSO, never sends DATA_VALID.
        case guest
    }

    public enum Port: Sendable {
        case tap(Tap)
        case packet(PacketSocket)

        var fd: Int32 {
            switch self {
            case let .tap(t): return t.fd
            case let .packet(p): return p.fd
            }
        }

        var vnetHeader: Bool {
            switch self {
            case let .tap(t): return t.vnetHeader
            case let .packet(p): return p.vnetHeader
            }
        }
    }

    public struct Entry: Sendable {
        public var name: String
        public var port: Port
        public var mac: [UInt8]
    }

    public let mode: Mode
    public let header: HeaderMode
    public private(set) var ports: [Entry] = []
    /// Destination address bytes → (port index, next-hop MAC).
    private var routes: [[UInt8]: (Int, [UInt8])] = [:]
    public private(set) var records: [String] = []

    public init(mode: Mode, header: HeaderMode) {
        self.mode = mode
        self.header = header
    }

    public mutating func add(port name: String, _ p: Port, mac: [UInt8]) {
        ports.append(Entry(name: name, port: p, mac: mac))
    }

    public mutating func route(_ destination: IPAddress, port name: String, nextHopMAC: [UInt8]) -> Bool {
        guard let i = ports.firstIndex(where: { $0.name == name }) else { return false }
        routes[destination.bytes] = (i, nextHopMAC)
        return true
    }

    public var fds: [Int32] { ports.map(\.port.fd) }

    /// The header to write for a frame read with `received` (nil: read without one).
    public static func outgoingHeader(_ received: VirtioNetHeader?, mode: HeaderMode) -> VirtioNetHeader {
        switch mode {
        case .drop: return VirtioNetHeader()
        case .keep: return received ?? VirtioNetHeader()
        case .guest: return received.map(TapRelay.transmitHeader) ?? VirtioNetHeader()
        }
    }

    /// What a Linux guest writes to a NIC without offloads (QEMU offers no VIRTIO_NET_F_CSUM or
    /// TSO when its TAP has no vnet header) for a frame it received as `received`: a TCP GSO
    /// super-frame is segmented per `gso_size` with complete checksums (`skb_gso_segment`,
    /// `gso_make_checksum`), a pending checksum is completed (`validate_xmit_skb` →
    /// `skb_checksum_help`); anything else goes out as it is.
    public static func guestCompletes(_ bytes: [UInt8], received: VirtioNetHeader?) -> [[UInt8]] {
        guard let h = received else { return [bytes] }
        var frame = Frame(bytes: bytes)
        guard let l = try? frame.layout() else { return [bytes] }
        if h.isGSO, l.l4Protocol == .tcp, h.gsoSize > 0, l.end - l.payloadOffset > Int(h.gsoSize) {
            return frame.tcpSegments(mss: Int(h.gsoSize), l, complete: true, mangleZero: true).map(\.frame.bytes)
        }
        if h.needsChecksum {
            let start = Int(h.csumStart), offset = Int(h.csumOffset)
            guard start + offset + 2 <= l.end else { return [bytes] }
            frame.completeChecksum(start: start, offset: offset, end: l.end, mangleZero: true)
        }
        return [frame.bytes]
    }

    /// Handle every frame waiting on port `i`.
    public mutating func pump(port i: Int) {
        while let (bytes, outgoing) = read(i) {
            if outgoing { continue }
            let hs = ports[i].port.vnetHeader ? 10 : 0
            guard bytes.count >= hs + 14 else { continue }
            let h = hs > 0 ? try? VirtioNetHeader(parsing: Array(bytes[0..<hs])) : nil
            let frame = Array(bytes[hs...])
            var outs: [(Int, [UInt8])] = []
            switch mode {
            case .l2:
                outs = ports.indices.filter { $0 != i }.map { ($0, frame) }
            case .l3:
                guard let (o, f) = routeFrame(frame, from: i) else { continue }
                outs = [(o, f)]
            }
            for (o, routed) in outs {
                let out = ports[o].port
                let hdr = out.vnetHeader ? Self.outgoingHeader(h, mode: header).bytes : []
                let frames = header == .guest && !out.vnetHeader ? Self.guestCompletes(routed, received: h) : [routed]
                for f in frames {
                    var result: String
                    switch out {
                    case let .tap(t):
                        result = (try? t.write(hdr + f)).map { "sent:\($0)" } ?? "error"
                    case let .packet(p):
                        do { result = "sent:\(try p.send(hdr + f))" } catch { result = "error:" + error.description.replacingSpaces }
                    }
                    records.append("\(ports[i].name)->\(ports[o].name) \(result)")
                }
            }
        }
    }

    private func read(_ i: Int) -> ([UInt8], Bool)? {
        switch ports[i].port {
        case let .tap(t):
            return (try? t.read(timeoutMs: 0)).flatMap { $0 }.map { ($0, false) }
        case let .packet(p):
            return (try? p.receive(timeoutMs: 0)).flatMap { $0 }.map { ($0.bytes, $0.isOutgoing) }
        }
    }

    private func routeFrame(_ bytes: [UInt8], from i: Int) -> (Int, [UInt8])? {
        var frame = Frame(bytes: bytes)
        // Routed from the IP header alone, so IP fragments pass like any packet.
        guard frame.destinationMAC == ports[i].mac, let h = frame.networkHeader, h.ttl > 0,
              let (o, next) = routes[h.destination] else { return nil }
        frame.setMACs(source: ports[o].mac, destination: next)
        frame.decrementTTLRecomputingHeader(h)
        return (o, frame.bytes)
    }
}
