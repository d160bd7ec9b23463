import Wire

/// A userspace router hop like bmv2, Click or a pcap relay: reads frames from an AF_PACKET socket on
/// one interface and writes them to another, rewriting MACs, decrementing TTL / hop limit and
/// fixing the IPv4 header checksum; the L4 bytes are never touched. Without `PACKET_VNET_HDR` the
/// checksum metadata is lost on the way (`packet_snd()` makes a `CHECKSUM_NONE` skb); with it on
/// both sockets the virtio_net_hdr carries `NEEDS_CSUM` across.
public struct Forwarder: Sendable {
    public let input: PacketSocket
    public let output: PacketSocket
    /// Only frames addressed to this MAC (the input interface's) are routed.
    public let inputMAC: [UInt8]
    public let outputMAC: [UInt8]
    public let nextHopMAC: [UInt8]
    public private(set) var records: [ForwardRecord] = []

    public init(input: PacketSocket, output: PacketSocket, inputMAC: [UInt8], outputMAC: [UInt8], nextHopMAC: [UInt8]) {
        self.input = input
        self.output = output
        self.inputMAC = inputMAC
        self.outputMAC = outputMAC
        self.nextHopMAC = nextHopMAC
    }

    /// Handle every frame waiting on the input socket.
    public mutating func pump() {
        while let r = try? input.receive(timeoutMs: 0) {
            guard !r.isOutgoing else { continue }
            let headerSize = input.vnetHeader ? 10 : 0
            guard r.bytes.count >= headerSize + 14 else { continue }
            guard let routed = Self.route(Array(r.bytes[headerSize...]), inputMAC: inputMAC, outputMAC: outputMAC, nextHopMAC: nextHopMAC) else { continue }
            // A header read from a PACKET_VNET_HDR socket goes out as read; without one on input but
            // with one on output, a zero header (flags 0) is what such a program would write.
            let header: [UInt8] = output.vnetHeader ? (input.vnetHeader ? Array(r.bytes[0..<10]) : [UInt8](repeating: 0, count: 10)) : []
            let result: String
            do {
                let n = try output.send(header + routed)
                result = "sent:\(n)"
            } catch {
                result = "error:" + error.description.replacingSpaces
            }
            records.append(ForwardRecord(reading: r, sentResult: result))
        }
    }
}

extension Forwarder {
    /// The router's rewrite of one frame, or nil if it is not routed (not addressed to `inputMAC`,
    /// not IPv4/IPv6 csumlab can parse, or TTL already 0): new MACs, TTL / hop limit − 1, IPv4
    /// header checksum recomputed. L4 bytes are left exactly as they were.
    public static func route(_ bytes: [UInt8], inputMAC: [UInt8], outputMAC: [UInt8], nextHopMAC: [UInt8]) -> [UInt8]? {
        var frame = Frame(bytes: bytes)
        // Routed from the IP header alone, so IP fragments pass like any packet.
        guard bytes.count >= 14, frame.destinationMAC == inputMAC, let h = frame.networkHeader, h.ttl > 0 else { return nil }
        frame.setMACs(source: outputMAC, destination: nextHopMAC)
        frame.decrementTTLRecomputingHeader(h)
        return frame.bytes
    }
}

/// What the forwarder saw and did for one frame.
public struct ForwardRecord: Sendable, Equatable {
    public var reading: PacketReading
    /// `sent:<bytes>` or `error:<reason>`.
    public var sentResult: String
}

extension String {
    var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
}
