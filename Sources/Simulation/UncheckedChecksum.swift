import Wire

/// A packet that reaches its receiver with checksum bytes that are wrong while its skb says
/// nothing needs checking (`ChecksumCondition.flaggedButBad`: a `CHECKSUM_PARTIAL` whose field
/// is not the pending sum — an outer UDP checksum NAT left wrong under a pending inner — or an
/// `UNNECESSARY` over bad bytes).
///
/// Why it matters to `fix`: on the lab's software path nothing verifies such bytes, so the flow
/// works (the real kernel agrees), but through a real NIC, which completes the pending checksum
/// and puts the bytes on a wire, the receiver verifies them and drops the packet. The typical
/// case is turning `tx` back on for a veth that stands in for a NIC. Such a fix ranks after the
/// fixes of its size that do not rely on it, and the report says why.
public struct UncheckedChecksum: Sendable, Hashable {
    public var flow: String
    public var leg: String
    /// `node:interface` of the receiving step.
    public var at: String
    /// What the skb (or virtio header) said there.
    public var state: String

    /// The first such step of each working flow's sent, accepted legs (one per flow). A zero UDP
    /// checksum is "no checksum", not a wrong one (a receiver that takes it is right to).
    public static func find(in trace: Trace, works: [String: Bool]) -> [UncheckedChecksum] {
        var out: [UncheckedChecksum] = []
        for f in trace.flows where works[f.flow] == true {
            for l in f.legs where l.sent && l.outcome == .accepted {
                guard let st = l.steps.first(where: { $0.condition == .flaggedButBad && $0.direction == .receive && !zeroUDP($0) }) else { continue }
                let state: String
                switch st.after {
                case let .skb(k): state = k.ipSummed.rawValue
                case let .vnet(h): state = h.needsChecksum ? "NEEDS_CSUM" : "DATA_VALID"
                default: state = "its metadata"
                }
                out.append(UncheckedChecksum(flow: f.flow, leg: l.name, at: st.interface.map { "\(st.element):\($0)" } ?? st.element, state: state))
                break
            }
        }
        return out
    }

    static func zeroUDP(_ st: Step) -> Bool {
        st.l4Field == 0 && (try? FrameLayout.parse(st.frame))?.l4Protocol == .udp
    }

    /// "request's SYN reaches nodeB:wireB with a wrong checksum under CHECKSUM_PARTIAL".
    public var description: String { "\(flow)'s \(leg) reaches \(at) with a wrong checksum under \(state)" }
}

extension FixSearch.Outcome {
    /// Where this set works only because a wrong checksum goes unchecked (see `UncheckedChecksum`).
    public var uncheckedChecksums: [UncheckedChecksum] { UncheckedChecksum.find(in: trace, works: works) }
}
