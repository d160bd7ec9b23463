/// Builds Ethernet frames for test flows: IPv4/IPv6 carrying TCP, UDP or ICMP echo. The L4
/// checksum field is left as `checksum` says; the IPv4 header checksum is always filled (the
/// kernel computes it in software, `ip_send_check()`).
public struct PacketBuilder: Sendable, Hashable {
    public struct TCPFlags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let fin = TCPFlags(rawValue: 0x01)
        public static let syn = TCPFlags(rawValue: 0x02)
        public static let rst = TCPFlags(rawValue: 0x04)
        public static let psh = TCPFlags(rawValue: 0x08)
        public static let ack = TCPFlags(rawValue: 0x10)
        public static let urg = TCPFlags(rawValue: 0x20)
        public static let ece = TCPFlags(rawValue: 0x40)
        public static let cwr = TCPFlags(rawValue: 0x80)

        public var names: String {
            var s: [String] = []
            if contains(.syn) { s.append("SYN") }
            if contains(.fin) { s.append("FIN") }
            if contains(.rst) { s.append("RST") }
            if contains(.psh) { s.append("PSH") }
            if contains(.ack) { s.append("ACK") }
            if contains(.urg) { s.append("URG") }
            if contains(.ece) { s.append("ECE") }
            if contains(.cwr) { s.append("CWR") }
            return s.joined(separator: "|")
        }
    }

    /// What to leave in the L4 checksum field.
    public enum ChecksumFill: Sendable {
        /// Zero (to be filled by a later step).
        case zero
        /// The folded pseudo-header sum (`CHECKSUM_PARTIAL` sender).
        case partial
        /// The complete checksum (software sender).
        case complete
    }

    public var sourceMAC: [UInt8]
    public var destinationMAC: [UInt8]
    public var source: IPAddress
    public var destination: IPAddress
    public var ttl: UInt8 = 64
    public var ipID: UInt16 = 0
    public var dontFragment = true

    public init(sourceMAC: [UInt8], destinationMAC: [UInt8], source: IPAddress, destination: IPAddress) {
        precondition(source.version == destination.version, "source and destination must be the same IP version")
        self.sourceMAC = sourceMAC
        self.destinationMAC = destinationMAC
        self.source = source
        self.destination = destination
    }

    /// A TCP segment. `options` must be a multiple of 4 bytes.
    public func tcp(sourcePort: UInt16, destinationPort: UInt16, seq: UInt32, ack: UInt32, flags: TCPFlags,
                    window: UInt16 = 64240, options: [UInt8] = [], payload: [UInt8] = [], checksum: ChecksumFill) -> Frame {
        precondition(options.count % 4 == 0, "TCP options are padded to 4 bytes")
        var l4 = [UInt8]()
        l4.reserveCapacity(20 + options.count + payload.count)
        l4.append(contentsOf: repeatElement(0, count: 20))
        l4.setBE16(sourcePort, at: 0)
        l4.setBE16(destinationPort, at: 2)
        l4.setBE32(seq, at: 4)
        l4.setBE32(ack, at: 8)
        l4[12] = UInt8((20 + options.count) / 4) << 4
        l4[13] = flags.rawValue
        l4.setBE16(window, at: 14)
        l4 += options
        l4 += payload
        return assemble(proto: .tcp, l4: l4, checksum: checksum)
    }

    /// A UDP datagram.
    public func udp(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8], checksum: ChecksumFill) -> Frame {
        var l4 = [UInt8](repeating: 0, count: 8)
        l4.setBE16(sourcePort, at: 0)
        l4.setBE16(destinationPort, at: 2)
        l4.setBE16(UInt16(8 + payload.count), at: 4)
        l4 += payload
        return assemble(proto: .udp, l4: l4, checksum: checksum)
    }

    /// An ICMP (or ICMPv6) echo request (type 8 / 128) or reply (0 / 129).
    public func icmpEcho(reply: Bool, identifier: UInt16, sequence: UInt16, payload: [UInt8], checksum: ChecksumFill) -> Frame {
        let v6 = source.version == .v6
        var l4 = [UInt8](repeating: 0, count: 8)
        l4[0] = v6 ? (reply ? 129 : 128) : (reply ? 0 : 8)
        l4.setBE16(identifier, at: 4)
        l4.setBE16(sequence, at: 6)
        l4 += payload
        return assemble(proto: v6 ? .icmpv6 : .icmp, l4: l4, checksum: checksum)
    }

    private func assemble(proto: IPProtocol, l4: [UInt8], checksum: ChecksumFill) -> Frame {
        // One buffer, sized once: every leg of every walk builds its frames here.
        let v4 = source.version == .v4
        let ipStart = 14, ipLength = v4 ? 20 : 40
        var b = [UInt8]()
        b.reserveCapacity(ipStart + ipLength + l4.count)
        b.append(contentsOf: destinationMAC)
        b.append(contentsOf: sourceMAC)
        b.append(contentsOf: repeatElement(0, count: 2 + ipLength))
        if v4 {
            b.setBE16(0x0800, at: 12)
            b[ipStart] = 0x45
            b.setBE16(UInt16(20 + l4.count), at: ipStart + 2)
            b.setBE16(ipID, at: ipStart + 4)
            b[ipStart + 6] = dontFragment ? 0x40 : 0
            b[ipStart + 8] = ttl
            b[ipStart + 9] = proto.rawValue
            source.write(into: &b, at: ipStart + 12)
            destination.write(into: &b, at: ipStart + 16)
        } else {
            b.setBE16(0x86DD, at: 12)
            b[ipStart] = 0x60
            b.setBE16(UInt16(l4.count), at: ipStart + 4)
            b[ipStart + 6] = proto.rawValue
            b[ipStart + 7] = ttl
            source.write(into: &b, at: ipStart + 8)
            destination.write(into: &b, at: ipStart + 24)
        }
        b.append(contentsOf: l4)
        var f = Frame(bytes: b)
        // The layout of a frame built here always parses.
        guard let l = try? f.layout() else { preconditionFailure("PacketBuilder produced an unparsable frame") }
        if l.ipVersion == .v4 { f.fillIPv4Checksum(l) }
        switch checksum {
        case .zero: break
        case .partial: f.setL4Checksum(f.partialChecksumValue(l), l)
        case .complete: f.setL4Checksum(f.correctL4Checksum(l), l)
        }
        return f
    }
}
