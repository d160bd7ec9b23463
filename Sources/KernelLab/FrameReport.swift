import Checksum
import Wire

/// The virtio_net_hdr fields as read from (or written to) a TAP or AF_PACKET socket.
public struct VnetHeaderReport: Codable, Equatable, Sendable {
    public var hex: String
    public var flags: Int
    public var flagNames: [String]
    public var gsoType: Int
    public var gsoTypeName: String
    public var hdrLen: Int
    public var gsoSize: Int
    public var csumStart: Int
    public var csumOffset: Int

    public init(_ h: VirtioNetHeader) {
        hex = h.bytes.hexString
        flags = Int(h.flags)
        var names: [String] = []
        if h.needsChecksum { names.append("NEEDS_CSUM") }
        if h.isDataValid { names.append("DATA_VALID") }
        if h.flags & ~3 != 0 { names.append("0x" + String(h.flags & ~3, radix: 16)) }
        flagNames = names
        gsoType = Int(h.gsoType)
        switch VirtioNetHeader.GSOType(rawValue: h.gsoType & 0x7F) {
        case .none?: gsoTypeName = "NONE"
        case .tcpv4?: gsoTypeName = "TCPV4"
        case .tcpv6?: gsoTypeName = "TCPV6"
        case .udp?: gsoTypeName = "UDP"
        case .udpL4?: gsoTypeName = "UDP_L4"
        case nil: gsoTypeName = "\(h.gsoType & 0x7F)"
        }
        if h.gsoType & 0x80 != 0 { gsoTypeName += "|ECN" }
        hdrLen = Int(h.hdrLen)
        gsoSize = Int(h.gsoSize)
        csumStart = Int(h.csumStart)
        csumOffset = Int(h.csumOffset)
    }

    /// `NEEDS_CSUM` / `DATA_VALID` / `0`.
    public var flagsText: String { flagNames.isEmpty ? "0" : flagNames.joined(separator: "|") }
}

/// Everything csumlab compares about one frame, computed from its bytes with `Wire`/`Checksum`.
/// Validity is never copied from anywhere else.
public struct FrameReport: Codable, Equatable, Sendable {
    public var vnetHeader: VnetHeaderReport?
    public var frameHex: String
    public var frameLength: Int
    public var sourceMAC: String
    public var destinationMAC: String
    /// Set when the bytes are not an IPv4/IPv6 TCP/UDP/ICMP frame csumlab can read.
    public var parseError: String?
    public var ipVersion: Int?
    public var source: String?
    public var destination: String?
    /// TTL (IPv4) or hop limit (IPv6).
    public var ttl: Int?
    public var ipID: Int?
    /// IPv4 total length or IPv6 payload length.
    public var ipLength: Int?
    public var ipv4HeaderChecksumValid: Bool?
    public var l4Protocol: String?
    public var sourcePort: Int?
    public var destinationPort: Int?
    public var tcpSeq: UInt32?
    public var tcpFlags: String?
    public var l4PayloadLength: Int?
    /// The L4 checksum field as it is in the bytes (4 hex digits).
    public var l4Field: String?
    /// The complete checksum the bytes call for.
    public var l4Correct: String?
    /// The pseudo-header sum a CHECKSUM_PARTIAL sender would leave (`~tcp_v4_check(len, s, d, 0)`).
    public var l4PseudoHeaderSum: String?
    /// Would a verifier accept the bytes as they are?
    public var l4Valid: Bool?
    /// Does the field hold exactly the unfinished pseudo-header sum?
    public var l4HoldsPseudoHeaderSum: Bool?

    /// Analyse `bytes`; if `vnetHeaderSize` > 0 the first that many bytes are a virtio_net_hdr.
    public init(bytes: [UInt8], vnetHeaderSize: Int) {
        var frame = bytes
        var header: VnetHeaderReport?
        if vnetHeaderSize > 0, bytes.count >= vnetHeaderSize, let h = try? VirtioNetHeader(parsing: Array(bytes[0..<vnetHeaderSize])) {
            header = VnetHeaderReport(h)
            frame = Array(bytes[vnetHeaderSize...])
        }
        self.init(frame: frame, header: header)
    }

    public init(frame bytes: [UInt8], header: VnetHeaderReport?) {
        vnetHeader = header
        frameHex = bytes.hexString
        frameLength = bytes.count
        sourceMAC = bytes.count >= 12 ? MAC.format(Array(bytes[6..<12])) : ""
        destinationMAC = bytes.count >= 6 ? MAC.format(Array(bytes[0..<6])) : ""
        let f = Frame(bytes: bytes)
        let l: FrameLayout
        do {
            l = try f.layout()
        } catch {
            parseError = error.description
            return
        }
        ipVersion = l.ipVersion.rawValue
        source = IPAddress(bytes: f.sourceAddress(l)).description
        destination = IPAddress(bytes: f.destinationAddress(l)).description
        ttl = Int(f.ttl(l))
        if l.ipVersion == .v4 {
            ipID = Int(f.ipv4Identification(l))
            ipLength = Int(bytes.be16(at: l.l3Offset + 2))
            ipv4HeaderChecksumValid = f.ipv4Checksum(l) == f.correctIPv4Checksum(l)
        } else {
            ipLength = Int(bytes.be16(at: l.l3Offset + 4))
        }
        l4Protocol = l.l4Protocol.name
        if l.l4Protocol == .tcp || l.l4Protocol == .udp {
            sourcePort = Int(f.sourcePort(l))
            destinationPort = Int(f.destinationPort(l))
        }
        if l.l4Protocol == .tcp {
            tcpSeq = bytes.be32(at: l.l4Offset + 4)
            tcpFlags = PacketBuilder.TCPFlags(rawValue: bytes[l.l4Offset + 13]).names
        }
        l4PayloadLength = l.end - l.payloadOffset
        l4Field = hex16(f.l4Checksum(l))
        l4Correct = hex16(f.correctL4Checksum(l))
        l4PseudoHeaderSum = hex16(f.partialChecksumValue(l))
        l4Valid = f.l4ChecksumIsValid(l)
        l4HoldsPseudoHeaderSum = f.l4HoldsPartialSum(l)
    }
}

/// A frame read at an intermediate point: from an AF_PACKET socket (with its PACKET_AUXDATA
/// status) or from a TAP by a relay (with its virtio_net_hdr; no status).
public struct PacketObservation: Codable, Equatable, Sendable {
    /// `namespace-role:interface (how)`.
    public var at: String
    /// sll_pkttype (0 host, 3 otherhost, 4 outgoing); nil for a TAP read.
    public var packetType: Int?
    /// PACKET_AUXDATA tp_status (TP_STATUS_USER, 1, is always set); nil for a TAP read.
    public var tpStatus: Int?
    /// The checksum bits of `tpStatus` by name (CSUMNOTREADY, CSUM_VALID).
    public var tpStatusNames: [String]
    public var frame: FrameReport
    /// For a forwarder or relay: `sent:<bytes>` or `error:<reason>`.
    public var forwarderResult: String?

    public init(at: String, reading: PacketReading, vnetHeaderSize: Int, forwarderResult: String? = nil) {
        self.at = at
        packetType = Int(reading.packetType)
        tpStatus = Int(reading.tpStatus)
        var names: [String] = []
        if reading.checksumNotReady { names.append("TP_STATUS_CSUMNOTREADY") }
        if reading.checksumValid { names.append("TP_STATUS_CSUM_VALID") }
        tpStatusNames = names
        frame = FrameReport(bytes: reading.bytes, vnetHeaderSize: vnetHeaderSize)
        self.forwarderResult = forwarderResult
    }

    /// A frame a relay read from a TAP (virtio_net_hdr first when `vnetHeaderSize` is 10).
    public init(at: String, tapBytes: [UInt8], vnetHeaderSize: Int, forwarderResult: String?) {
        self.at = at
        tpStatusNames = []
        frame = FrameReport(bytes: tapBytes, vnetHeaderSize: vnetHeaderSize)
        self.forwarderResult = forwarderResult
    }
}
