import Wire

/// Stands in for a router VM behind two QEMU TAPs: reads a frame (with its virtio_net_hdr) from
/// one TAP, routes it like `Forwarder.route` and writes it to the other TAP with the header a
/// Linux router guest's virtio-net would send: `NEEDS_CSUM` (same csum_start/offset, the L2/L3
/// lengths do not change) and the GSO fields are kept, because the guest forwards the
/// `CHECKSUM_PARTIAL` skb; `DATA_VALID` becomes 0, because virtio-net TX never sets it
/// (`virtio_net_hdr_from_skb(..., has_data_valid=false)`).
public struct TapRelay: Sendable {
    public let input: Tap
    public let output: Tap
    public let inputMAC: [UInt8]
    public let outputMAC: [UInt8]
    public let nextHopMAC: [UInt8]
    public private(set) var records: [RelayRecord] = []

    public init(input: Tap, output: Tap, inputMAC: [UInt8], outputMAC: [UInt8], nextHopMAC: [UInt8]) {
        self.input = input
        self.output = output
        self.inputMAC = inputMAC
        self.outputMAC = outputMAC
        self.nextHopMAC = nextHopMAC
    }

    /// The header the router guest transmits for a frame it received with `received`.
    public static func transmitHeader(for received: VirtioNetHeader) -> VirtioNetHeader {
        var h = received
        h.flags = received.needsChecksum ? VirtioNetHeader.needsCsum : 0
        if !received.needsChecksum {
            h.csumStart = 0
            h.csumOffset = 0
        }
        return h
    }

    public mutating func pump() {
        while let bytes = try? input.read(timeoutMs: 0) {
            guard input.vnetHeader, output.vnetHeader, bytes.count > 10, let h = try? VirtioNetHeader(parsing: Array(bytes[0..<10])),
                  let routed = Forwarder.route(Array(bytes[10...]), inputMAC: inputMAC, outputMAC: outputMAC, nextHopMAC: nextHopMAC) else { continue }
            let result: String
            do {
                result = "sent:\(try output.write(Self.transmitHeader(for: h).bytes + routed))"
            } catch {
                result = "error:" + error.description.replacingSpaces
            }
            records.append(RelayRecord(bytes: bytes, sentResult: result))
        }
    }
}

/// What the relay read (virtio_net_hdr + frame) and what writing it out gave.
public struct RelayRecord: Sendable, Equatable {
    public var bytes: [UInt8]
    public var sentResult: String
}
