import Wire

/// `skb->ip_summed` (include/linux/skbuff.h).
public enum IPSummed: String, Sendable, CaseIterable {
    case none = "CHECKSUM_NONE"
    case unnecessary = "CHECKSUM_UNNECESSARY"
    case complete = "CHECKSUM_COMPLETE"
    case partial = "CHECKSUM_PARTIAL"

    public var short: String {
        switch self {
        case .none: return "NONE"
        case .unnecessary: return "UNNECESSARY"
        case .complete: return "COMPLETE"
        case .partial: return "PARTIAL"
        }
    }
}

/// The checksum and GSO metadata of an skb. `csumStart` is counted from the start of the frame
/// (the Ethernet header), as in the virtio header, not from `skb->head`.
public struct SkbState: Sendable, Hashable {
    public var ipSummed: IPSummed
    public var csumStart: Int = 0
    public var csumOffset: Int = 0
    public var csumLevel: Int = 0
    /// `skb_shinfo(skb)->gso_size`; 0 for a non-GSO skb.
    public var gsoSize: Int = 0
    /// `SKB_GSO_TCPV4`/`TCPV6` etc. as the virtio gso type; nil for a non-GSO skb.
    public var gsoType: VirtioNetHeader.GSOType?
    /// `SKB_GSO_DODGY`: GSO metadata came from an untrusted source (a TAP or packet socket).
    public var gsoDodgy = false
    /// `skb->csum_valid`: a software check (`__skb_checksum_complete()`, e.g. conntrack's) found
    /// the checksum good. It survives `skb_forward_csum()` and veth's scrub, and makes
    /// `skb_csum_unnecessary()` true downstream.
    public var csumValid = false
    /// `skb_headlen()`: bytes in the linear part, when it is not just the headers (a TAP or
    /// packet socket builds small frames fully linear). A GSO skb's virtio `hdr_len` is this.
    public var headLength: Int?

    public init(ipSummed: IPSummed, csumStart: Int = 0, csumOffset: Int = 0) {
        self.ipSummed = ipSummed
        self.csumStart = csumStart
        self.csumOffset = csumOffset
    }

    public var isGSO: Bool { gsoSize > 0 }

    /// The same skb with another `ip_summed`: GSO fields and `csum_valid` stay, the checksum
    /// offsets only mean something for `PARTIAL`.
    /// A segment `skb_segment()` cut from `head` in this state: `__copy_skb_header()` copies the
    /// head's `headers` group, so `csum_valid` and `csum_level` come with it (measured on 6.18:
    /// random campaign seed 20261222, a reader's ring reported TP_STATUS_CSUM_VALID for segments
    /// of an skb a software check vouched for).
    func keepingChecksumMarks(of head: SkbState) -> SkbState {
        var s = self
        s.csumValid = head.csumValid
        s.csumLevel = head.csumLevel
        return s
    }

    public func with(_ summed: IPSummed) -> SkbState {
        var s = self
        s.ipSummed = summed
        if summed != .partial {
            s.csumStart = 0
            s.csumOffset = 0
        }
        return s
    }

    /// `skb_csum_unnecessary()`: the stack will not verify this skb's checksum.
    public var csumUnnecessary: Bool {
        ipSummed == .unnecessary || csumValid || ipSummed == .partial
    }

    public var summary: String {
        var s = ipSummed.short
        if ipSummed == .partial { s += " start=\(csumStart) off=\(csumOffset)" }
        if ipSummed == .unnecessary && csumLevel > 0 { s += " level=\(csumLevel)" }
        if csumValid { s += " csum_valid" }
        if isGSO { s += " gso=\(gsoType.map { "\($0)" } ?? "?")/\(gsoSize)" }
        return s
    }
}

/// How a frame is carried at a point of its path: inside the kernel as an skb, in userspace or
/// QEMU with a virtio header, as bare bytes with no metadata, or on a physical wire.
public enum Carrier: Sendable, Hashable {
    case skb(SkbState)
    case vnet(VirtioNetHeader)
    /// Bytes only: an AF_PACKET socket or a TAP without vnet header; nothing says whether the
    /// checksum was finished.
    case raw
    case wire
    /// Not yet a packet: data in a socket buffer, before the stack builds the frame.
    case socket

    public var summary: String {
        switch self {
        case let .skb(s): return s.summary
        case let .vnet(h): return "vnet " + h.summary
        case .raw: return "bytes only"
        case .wire: return "wire"
        case .socket: return "socket"
        }
    }

    /// Does this state carry a promise that the checksum will be (or was) dealt with, so that a
    /// kernel receiver does not verify the bytes?
    public var trustedWithoutBytes: Bool {
        switch self {
        case let .skb(s): return s.csumUnnecessary
        case let .vnet(h): return h.needsChecksum || h.isDataValid
        case .raw, .wire, .socket: return false
        }
    }

    public var isPartial: Bool {
        switch self {
        case let .skb(s): return s.ipSummed == .partial
        case let .vnet(h): return h.needsChecksum
        case .raw, .wire, .socket: return false
        }
    }
}

/// What a link shows for the checksum state of the frame that crossed it.
public enum ChecksumCondition: String, Sendable, CaseIterable {
    /// Bytes hold a correct, complete checksum and nothing flags them.
    case completeValid = "complete"
    /// `PARTIAL` / `NEEDS_CSUM`: the field holds the pseudo-header sum; someone will finish it.
    case partialPending = "partial"
    /// No metadata and the bytes are wrong: a verifying receiver drops it.
    case badUnflagged = "bad"
    /// `UNNECESSARY` / `DATA_VALID` and the bytes are right.
    case verifiedUnnecessary = "verified"
    /// Flagged as fine (`UNNECESSARY`, `DATA_VALID`, or `PARTIAL` with a field that is not the
    /// pseudo-header sum) but the bytes are wrong: accepted though bad.
    case flaggedButBad = "flagged-bad"

    public var label: String {
        switch self {
        case .completeValid: return "complete, valid"
        case .partialPending: return "PARTIAL promise pending"
        case .badUnflagged: return "bad and unflagged"
        case .verifiedUnnecessary: return "verified (unnecessary)"
        case .flaggedButBad: return "flagged valid but bytes bad"
        }
    }
}

extension ChecksumCondition {
    /// The condition of `f` (parsed as `l`) carried as `carrier`; `valid`: its L4 checksum
    /// verifies against its bytes; `innerOffset`: the inner Ethernet header of a tunnelled frame.
    init(_ f: Frame, _ l: FrameLayout, carrier: Carrier, innerOffset: Int?, valid: Bool) {
        if carrier.isPartial {
            if let io = innerOffset, case let .skb(s) = carrier, s.csumStart >= io {
                self = Walk.tunnelledPromiseHolds(f, l, innerOffset: io) ? .partialPending : .flaggedButBad
                return
            }
            self = f.l4HoldsPartialSum(l) ? .partialPending : .flaggedButBad
            return
        }
        if carrier.trustedWithoutBytes { self = valid ? .verifiedUnnecessary : .flaggedButBad; return }
        self = valid ? .completeValid : .badUnflagged
    }
}
