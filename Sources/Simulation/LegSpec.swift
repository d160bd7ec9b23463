import Wire

/// One packet a flow sends: who to whom, which protocol, and how to build its bytes.
struct LegSpec: Sendable {
    var name: String
    var from: HostRef
    var to: HostRef
    var source: IPAddress
    var destination: IPAddress
    var proto: IPProtocol
    /// The answer leg (SYN-ACK, server data, echo reply, DHCP OFFER).
    var reply = false
    /// Sent to the link's broadcast address from an unconfigured client (DHCP DISCOVER): the
    /// sender's egress interface and the target's interface are given, not routed.
    var broadcastRoute: (iface: Int, nextHop: IPAddress)?
    var broadcastTargetIface: Int?
    var broadcast: Bool { broadcastRoute != nil }
    /// The program writes the whole frame itself (a DHCP client's raw socket).
    var userspaceSender = false
    // TCP fields.
    var sourcePort: UInt16 = 0
    var destinationPort: UInt16 = 0
    var seq: UInt32 = 0
    var ack: UInt32 = 0
    var flags: PacketBuilder.TCPFlags = []
    var options: [UInt8] = []
    /// The payload per segment TCP cuts (the negotiated MSS less the data options); nil for
    /// what MTU 1500 gives with timestamps.
    var segmentSize: Int?
    var ipID: UInt16 = 0
    var payload: [UInt8] = []

    /// Frames already built from this spec (the fix search's plans only; see `LegFrameCache`).
    var frames: LegFrameCache?

    var payloadLength: Int { payload.count }

    /// Build the frame (or the part of the payload from `offset`, `length` bytes, for a segment
    /// TCP cuts itself).
    func build(_ b: PacketBuilder, _ fill: PacketBuilder.ChecksumFill, _ offset: Int, _ length: Int? = nil) -> Frame {
        guard let frames else { return make(b, fill, offset, length) }
        return frames.frame(LegFrameCache.Key(builder: b, fill: fill, offset: offset, length: length)) { make(b, fill, offset, length) }
    }

    private func make(_ b: PacketBuilder, _ fill: PacketBuilder.ChecksumFill, _ offset: Int, _ length: Int?) -> Frame {
        let end = length.map { offset + $0 } ?? payload.count
        let slice = Array(payload[offset..<end])
        switch proto {
        case .tcp:
            var f = flags
            if end < payload.count { f.remove(.psh); f.remove(.fin) }
            return b.tcp(sourcePort: sourcePort, destinationPort: destinationPort, seq: seq &+ UInt32(offset), ack: ack,
                         flags: f, options: options, payload: slice, checksum: fill)
        case .udp:
            return b.udp(sourcePort: sourcePort, destinationPort: destinationPort, payload: slice, checksum: fill)
        case .icmp, .icmpv6:
            return b.icmpEcho(reply: reply, identifier: sourcePort, sequence: 1, payload: slice, checksum: fill)
        }
    }
}
