import Checksum
import Simulation
import Wire

/// What `PACKET_AUXDATA` says about an skb's checksum (`tp_status`), or what the simulator's skb
/// state implies for it (packet_rcv: PARTIAL → CSUMNOTREADY; skb_csum_unnecessary → CSUM_VALID).
public enum ChecksumStatus: String, Sendable, Equatable {
    case notReady = "CSUMNOTREADY"
    case valid = "CSUM_VALID"
    case none = "0"

    public init(tpStatus: UInt32) {
        if tpStatus & (1 << 3) != 0 { self = .notReady } else if tpStatus & (1 << 7) != 0 { self = .valid } else { self = .none }
    }

    /// What packet_rcv/tpacket_rcv report for an skb in state `s` (6.x): PARTIAL → CSUMNOTREADY;
    /// otherwise CSUM_VALID when `skb_csum_unnecessary()` (UNNECESSARY, or `csum_valid` left by an
    /// earlier software check such as conntrack's), except on an outgoing frame (captured in
    /// dev_queue_xmit_nit). Older kernels also reported COMPLETE; 6.x no longer does.
    public init(_ s: SkbState, outgoing: Bool = false) {
        if s.ipSummed == .partial {
            self = .notReady
        } else if !outgoing && s.csumUnnecessary {
            self = .valid
        } else {
            self = .none
        }
    }
}

/// One frame at an observation point: a TAP's fd (with its virtio_net_hdr if it has one) or an
/// AF_PACKET socket (with the PACKET_AUXDATA checksum status).
public struct Observation: Sendable, Equatable {
    public var vnet: VirtioNetHeader?
    public var status: ChecksumStatus?
    public var frame: [UInt8]

    public init(vnet: VirtioNetHeader? = nil, status: ChecksumStatus? = nil, frame: [UInt8]) {
        self.vnet = vnet
        self.status = status
        self.frame = frame
    }
}

/// One compared observable.
public struct ComparisonRow: Sendable, Equatable {
    /// Where it was observed when not at the leg's receiver (an intermediate capture, `vethA-r rx`).
    public var point: String = ""
    /// 0 for the leg (frame count), else the frame's 1-based number.
    public var frame: Int
    public var observable: String
    public var kernel: String
    public var simulation: String

    public init(point: String = "", frame: Int, observable: String, kernel: String, simulation: String) {
        self.point = point
        self.frame = frame
        self.observable = observable
        self.kernel = kernel
        self.simulation = simulation
    }

    public var matches: Bool { kernel == simulation }
}

/// The comparison of what the kernel delivered with what the simulation predicts, observable by
/// observable. Everything is computed from the bytes and headers on both sides.
public enum LegComparison {
    /// Compare two lists of observations at one point (in arrival / segment order). With
    /// `l4BytesOnly` (the kernel's own stack built the IP header: its IP ID and DF are its own) the
    /// bytes are compared from the L4 header on.
    /// Without `hdrLen` the GSO row leaves the vnet `hdr_len` out (and says so).
    public static func compare(kernel: [Observation], simulation: [Observation], l4BytesOnly: Bool = false, hdrLen: Bool = true,
                               point: String = "") -> [ComparisonRow] {
        var rows = [ComparisonRow(frame: 0, observable: "frames", kernel: "\(kernel.count)", simulation: "\(simulation.count)")]
        for (i, (k, s)) in zip(kernel, simulation).enumerated() {
            rows += frameRows(i + 1, k, s, l4BytesOnly: l4BytesOnly, hdrLen: hdrLen)
        }
        for i in rows.indices { rows[i].point = point }
        return rows
    }

    static func frameRows(_ n: Int, _ k: Observation, _ s: Observation, l4BytesOnly: Bool, hdrLen: Bool = true) -> [ComparisonRow] {
        var rows: [ComparisonRow] = []
        func row(_ what: String, _ kv: String, _ sv: String) { rows.append(ComparisonRow(frame: n, observable: what, kernel: kv, simulation: sv)) }
        if k.vnet != nil || s.vnet != nil {
            row("virtio flags", flags(k.vnet), flags(s.vnet))
            row("csum_start/offset", startOffset(k.vnet), startOffset(s.vnet))
            if hdrLen || !(k.vnet?.isGSO ?? false || s.vnet?.isGSO ?? false) {
                row("gso type/size/hdr_len", gso(k.vnet), gso(s.vnet))
            } else {
                row("gso type/size, not hdr_len (packet_snd)", gso(k.vnet, hdrLen: false), gso(s.vnet, hdrLen: false))
            }
        }
        if k.status != nil || s.status != nil {
            row("tp_status checksum", k.status?.rawValue ?? "-", s.status?.rawValue ?? "-")
        }
        let kf = FrameFacts(k.frame), sf = FrameFacts(s.frame)
        if kf.outer != nil || sf.outer != nil {
            row("outer UDP checksum (VXLAN)", kf.outer ?? "not tunnelled", sf.outer ?? "not tunnelled")
            row("inner L4 field", kf.field, sf.field)
            row("inner L4 bytes valid", kf.valid, sf.valid)
            row("inner TTL", kf.ttl, sf.ttl)
            row("inner addresses", kf.addresses, sf.addresses)
            row("inner L4 bytes", kf.l4Length, sf.l4Length == kf.l4Length && kf.l4 != sf.l4 ? sf.l4Length + " (differ)" : sf.l4Length)
            return rows
        }
        row("L4 field", kf.field, sf.field)
        row("L4 bytes valid", kf.valid, sf.valid)
        row("TTL / hop limit", kf.ttl, sf.ttl)
        row("addresses", kf.addresses, sf.addresses)
        if l4BytesOnly {
            row("L4 bytes", kf.l4Length, sf.l4Length == kf.l4Length && kf.l4 != sf.l4 ? sf.l4Length + " (differ)" : sf.l4Length)
        } else {
            row("bytes from offset 12", kf.length, sf.length == kf.length && Array(k.frame.dropFirst(12)) != Array(s.frame.dropFirst(12)) ? sf.length + " (differ)" : sf.length)
        }
        return rows
    }

    public static func flags(_ h: VirtioNetHeader?) -> String {
        guard let h else { return "no header" }
        var names: [String] = []
        if h.needsChecksum { names.append("NEEDS_CSUM") }
        if h.isDataValid { names.append("DATA_VALID") }
        if h.flags & ~3 != 0 { names.append("0x" + String(h.flags & ~3, radix: 16)) }
        return names.isEmpty ? "0" : names.joined(separator: "|")
    }

    static func startOffset(_ h: VirtioNetHeader?) -> String {
        guard let h else { return "-" }
        return "\(h.csumStart)/\(h.csumOffset)"
    }

    static func gso(_ h: VirtioNetHeader?, hdrLen: Bool = true) -> String {
        guard let h else { return "-" }
        if !h.isGSO && h.gsoSize == 0 && h.hdrLen == 0 { return "none" }
        let type: String
        switch VirtioNetHeader.GSOType(rawValue: h.gsoType & 0x7F) {
        case .none?: type = "NONE"
        case .tcpv4?: type = "TCPV4"
        case .tcpv6?: type = "TCPV6"
        case .udp?: type = "UDP"
        case .udpL4?: type = "UDP_L4"
        case nil: type = "\(h.gsoType & 0x7F)"
        }
        return "\(type)\(h.gsoType & 0x80 != 0 ? "|ECN" : "")/\(h.gsoSize)" + (hdrLen ? "/\(h.hdrLen)" : "")
    }
}

/// The facts compared about a frame's bytes.
struct FrameFacts {
    var field = "-", valid = "-", ttl = "-", addresses = "-", length: String
    var l4: [UInt8] = []
    var l4Length = "-"

    /// A VXLAN frame: the outer UDP checksum as a class (its value depends on the outer source
    /// port the kernel hashes and the IP ID, which the model does not predict), the inner facts.
    var outer: String?

    init(_ bytes: [UInt8]) {
        if let inner = VxlanFrame.innerOffset(bytes) {
            self.init(plain: Array(bytes[inner...]))
            outer = VxlanFrame.outerChecksumClass(bytes)
        } else {
            self.init(plain: bytes)
        }
    }

    init(plain bytes: [UInt8]) {
        length = "\(bytes.count) bytes"
        let f = Frame(bytes: bytes)
        guard let l = try? f.layout() else { return }
        l4 = Array(bytes[l.l4Offset..<min(l.end, bytes.count)])
        l4Length = "\(l4.count) bytes"
        field = "0x" + hex16(f.l4Checksum(l)) + (f.l4HoldsPartialSum(l) && !f.l4ChecksumIsValid(l) ? " (pseudo-header sum)" : "")
        valid = f.l4ChecksumIsValid(l) ? "yes" : "no"
        ttl = "\(f.ttl(l))"
        addresses = "\(IPAddress(bytes: f.sourceAddress(l))) → \(IPAddress(bytes: f.destinationAddress(l)))"
    }
}

/// Which frames belong to a leg: same L4 protocol and ports (ICMP: same echo identifier).
public struct FlowIdentity: Sendable, Equatable {
    public var proto: IPProtocol
    public var key: [UInt8]

    public init?(_ bytes: [UInt8]) {
        // A tunnelled frame belongs to the leg of the packet it carries.
        if let inner = VxlanFrame.innerOffset(bytes) {
            self.init(plain: Array(bytes[inner...]))
        } else {
            self.init(plain: bytes)
        }
    }

    init?(plain bytes: [UInt8]) {
        let f = Frame(bytes: bytes)
        guard let l = try? f.layout() else { return nil }
        proto = l.l4Protocol
        switch l.l4Protocol {
        case .tcp, .udp: key = Array(bytes[l.l4Offset..<(l.l4Offset + 4)])
        case .icmp, .icmpv6: key = l.l4Offset + 6 <= bytes.count ? [bytes[l.l4Offset]] + Array(bytes[(l.l4Offset + 4)..<(l.l4Offset + 6)]) : []
        }
    }

    public func matches(_ bytes: [UInt8]) -> Bool {
        FlowIdentity(bytes) == self
    }
}

/// VXLAN and GENEVE frames as `verify` reads them (ports 4789, 8472 and 6081).
enum VxlanFrame {
    static let ports: Set<UInt16> = [4789, 8472, 6081]

    /// Offset of the inner Ethernet header, when `bytes` is a VXLAN frame carrying IPv4/IPv6.
    static func innerOffset(_ bytes: [UInt8]) -> Int? {
        let f = Frame(bytes: bytes)
        guard let l = try? f.layout(), l.l4Protocol == .udp, ports.contains(f.destinationPort(l)) else { return nil }
        let inner = l.l4Offset + 16
        guard inner < bytes.count, (try? Frame(bytes: Array(bytes[inner...])).layout()) != nil else { return nil }
        return inner
    }

    /// "0", "valid", "valid once the inner is completed" (LCO with the inner pending) or "wrong".
    static func outerChecksumClass(_ bytes: [UInt8]) -> String {
        let f = Frame(bytes: bytes)
        guard let l = try? f.layout() else { return "-" }
        if f.l4Checksum(l) == 0 { return "0" }
        if f.l4ChecksumIsValid(l) { return "valid" }
        guard let io = innerOffset(bytes) else { return "wrong" }
        var inner = Frame(bytes: Array(bytes[io...]))
        guard let il = try? inner.layout() else { return "wrong" }
        var c = inner.correctL4Checksum(il)
        if il.l4Protocol == .udp && c == 0 { c = 0xFFFF }
        inner.setL4Checksum(c, il)
        let done = Frame(bytes: Array(bytes[..<io]) + inner.bytes)
        return done.l4ChecksumIsValid(l) ? "valid once the inner is completed" : "wrong"
    }
}
