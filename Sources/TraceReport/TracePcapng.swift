import Simulation
import Wire

/// A trace as a pcapng capture that Wireshark and tshark open: one interface (IDB) per hop the
/// packets cross, one packet (EPB) per step with the frame as it stands after that step, and on
/// each packet the hop's kernel function and checksum state.
///
/// - Interfaces are named as the explorer and `trace` name a hop: `element:interface`, or the
///   element alone when it has no interface or the interface is the element (a bridge).
/// - Timestamps are synthetic: the step's index in the file, in microseconds since the epoch
///   (if_tsresol 6), so the packets sort in trace order; they say nothing about real time.
/// - epb_flags (draft-ietf-opsawg-pcapng §4.3.1): bits 0-1 the direction (receive/deliver are
///   inbound; send/transmit/forward outbound; a userspace program's step "not available"), bit 9
///   "checksum not ready" for `CHECKSUM_PARTIAL` / `VIRTIO_NET_HDR_F_NEEDS_CSUM`, bit 10 "checksum
///   valid" for `CHECKSUM_UNNECESSARY`, `csum_valid` or `DATA_VALID`, bit 11 "TCP segmentation
///   offloaded" for a TCP GSO super-frame. These three bits are defined in the IETF draft
///   (draft-ietf-opsawg-pcapng-latest); the older draft-tuexen text marks bits 9-15 reserved, so
///   a reader built on it ignores them. The comment carries the full state either way.
/// - epb_packetid (§4.3): one id per leg, shared by its steps, so a reader can follow a packet.
/// - opt_comment, one per line: the hop, the kernel function, `ip_summed`, `csum_start`/`csum_offset`, the
///   virtio-net header, the L4 checksum field against the correct value, and the explanation.
public enum TracePcapng {
    /// Large enough for a 64 KiB GSO super-frame with its Ethernet header.
    public static let snapLength: UInt32 = 262_144

    /// The name of a step's hop, as the explorer and the trace table show it.
    public static func hopName(_ s: Step) -> String {
        s.interface.map { s.element == $0 ? $0 : "\(s.element):\($0)" } ?? s.element
    }

    /// The hops in the order the trace first crosses them: interface id = index.
    public static func hops(_ t: Trace) -> [String] {
        var seen: Set<String> = []
        var out: [String] = []
        for f in t.flows {
            for l in f.legs {
                for s in l.steps where seen.insert(hopName(s)).inserted { out.append(hopName(s)) }
            }
        }
        return out
    }

    /// The flags word for a step (§4.3.1).
    public static func flags(_ s: Step) -> UInt32 {
        var f: UInt32 = 0
        switch s.direction {
        case .receive, .deliver: f |= Pcapng.Flag.inbound
        case .send, .transmit, .forward: f |= Pcapng.Flag.outbound
        case .userspace: break
        }
        switch s.after {
        case let .skb(k):
            if k.ipSummed == .partial {
                f |= Pcapng.Flag.checksumNotReady
            } else if k.ipSummed == .unnecessary || k.csumValid {
                f |= Pcapng.Flag.checksumValid
            }
            if k.isGSO, k.gsoType == .tcpv4 || k.gsoType == .tcpv6 { f |= Pcapng.Flag.tcpSegmentationOffloaded }
        case let .vnet(h):
            if h.needsChecksum {
                f |= Pcapng.Flag.checksumNotReady
            } else if h.isDataValid {
                f |= Pcapng.Flag.checksumValid
            }
            let g = VirtioNetHeader.GSOType(rawValue: h.gsoType & 0x7F)
            if g == .tcpv4 || g == .tcpv6 { f |= Pcapng.Flag.tcpSegmentationOffloaded }
        case .raw, .wire, .socket:
            break
        }
        return f
    }

    /// The checksum state a carrier holds, in the kernel's words.
    public static func state(_ c: Carrier) -> String {
        switch c {
        case let .skb(k):
            var s = "ip_summed=\(k.ipSummed.rawValue)"
            if k.ipSummed == .partial {
                s += " csum_start=\(k.csumStart) csum_offset=\(k.csumOffset) (from the Ethernet header)"
            }
            if k.ipSummed == .unnecessary { s += " csum_level=\(k.csumLevel)" }
            if k.csumValid { s += " csum_valid=1" }
            if k.isGSO { s += " gso_size=\(k.gsoSize) gso_type=\(k.gsoType.map { "\($0)" } ?? "?")\(k.gsoDodgy ? " SKB_GSO_DODGY" : "")" }
            return s + "; no vnet header"
        case let .vnet(h):
            return "vnet header: flags=\(h.flags) (\(h.summary)) gso_type=\(h.gsoType) hdr_len=\(h.hdrLen) gso_size=\(h.gsoSize) csum_start=\(h.csumStart) csum_offset=\(h.csumOffset)"
        case .raw: return "bytes only: no skb, no vnet header"
        case .wire: return "on the wire: no metadata"
        case .socket: return "socket data: not yet a packet"
        }
    }

    /// The per-packet comments, one line each: an opt_comment may repeat (§3.5), and tshark -V
    /// shows each as its own "Packet comments" line where one long comment would be cut short.
    public static func comments(flow: FlowTrace, leg: LegTrace, index: Int, step s: Step) -> [String] {
        var lines = [
            "csumlab: flow \(flow.flow), leg \(leg.name) (\(leg.from) → \(leg.to)\(leg.sent ? "" : ", would-be leg")), step \(index + 1) of \(leg.steps.count)",
            "hop: \(hopName(s)) (\(s.direction.rawValue))",
            "kernel function: \(s.function)",
            "before: \(state(s.before))",
            "after: \(state(s.after))",
            "L4 checksum: field 0x\(hex16(s.l4Field)), correct 0x\(hex16(s.l4Correct)), pseudo-header sum 0x\(hex16(s.l4PseudoSum)); bytes \(s.bytesValid ? "valid" : "wrong"); a receiver would \(s.receiverWouldAccept ? "accept" : "drop") it",
            "condition: \(s.condition.rawValue) (\(s.condition.label)); TTL/hop limit \(s.ttl)",
        ]
        if let seg = s.segment { lines.append("segment \(seg) after software segmentation") }
        if let n = s.ipFragments { lines.append("travels as \(n) IP fragments; the packet here is the whole datagram") }
        lines.append(s.explanation)
        if let d = s.drop { lines.append("end: \(d)") }
        return lines
    }

    /// The blocks of the capture.
    public static func blocks(_ t: Trace) -> [Pcapng.Block] {
        let names = hops(t)
        var id: [String: UInt32] = [:]
        for (i, n) in names.enumerated() { id[n] = UInt32(i) }
        var blocks: [Pcapng.Block] = [
            .sectionHeader(options: [.userApplication("csumlab"),
                                     .comment("csumlab trace of \(t.topology) (host kernel \(t.hostKernel.rawValue)); timestamps are synthetic: one microsecond per step")]),
        ]
        for n in names {
            blocks.append(.interfaceDescription(linkType: Pcapng.linkTypeEthernet, snapLength: snapLength,
                                                options: [.interfaceName(n), .timestampResolution(6)]))
        }
        var time: UInt64 = 0
        var leg: UInt64 = 0
        for f in t.flows {
            for l in f.legs {
                leg += 1
                for (i, s) in l.steps.enumerated() {
                    time += 1
                    let data = s.frame.count > Int(snapLength) ? Array(s.frame.prefix(Int(snapLength))) : s.frame
                    blocks.append(.enhancedPacket(interface: id[hopName(s)] ?? 0, timestamp: time, data: data,
                                                  originalLength: UInt32(s.frame.count),
                                                  options: [.flags(flags(s)), .packetID(leg)]
                                                    + comments(flow: f, leg: l, index: i, step: s).map { .comment($0) }))
                }
            }
        }
        return blocks
    }

    /// The capture file's bytes.
    public static func render(_ t: Trace) -> [UInt8] {
        Pcapng.file(blocks(t))
    }
}
