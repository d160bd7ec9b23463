import Wire

/// A frame in flight: the bytes and how they are carried, plus where layer 2 is taking it.
struct Packet: Sendable {
    /// Every change to the frame (assigned whole or mutated in place) parses it again, so
    /// `layout` is always the current frame's: a walk reads a packet's layout far more often
    /// than it changes the frame (each recorded step, each element's checks).
    var frame: Frame {
        didSet { parsed = try? frame.layout() }
    }
    /// `frame.layout()`, nil while the frame does not parse.
    private var parsed: FrameLayout?
    var carrier: Carrier
    /// The device that owns the next-hop address (bridges pick the port that leads there).
    var target: Int?
    /// Segment number after software segmentation (1-based).
    var segment: Int?
    /// Offset of this packet's payload in the leg's original payload (TCP segments).
    var payloadOffset = 0
    /// The corruption fault has been applied to this packet.
    var corrupted = false
    /// A copy a bridge flooded (unknown unicast): the receiving NIC checks its destination MAC.
    /// Other frames in the model are addressed to the device they reach (and frames injected
    /// from kernel fixtures carry the lab's MACs, not the model's), so only these are filtered.
    var flooded = false
    /// Set when the datagram does not fit the MTU (1500) and travels as IP fragments: the walk
    /// carries the whole datagram (what every hop does to the checksum is the same for each
    /// fragment, and reassembly gives it back whole), while MTU checks apply per fragment.
    var fragmentMTU: Int?
    /// Smaller MTUs routers on the way cut each IPv4 fragment again for, in order.
    var refragmentMTUs: [Int] = []

    /// The frames on the link: the IP fragments, or the frame itself.
    var linkFrames: [Frame] {
        guard let mtu = fragmentMTU else { return [frame] }
        return frame.ipFragments(layout, mtu: mtu, again: refragmentMTUs)
    }
    /// Offset of the inner Ethernet header of a tunnelled frame (VXLAN: 50); nil otherwise.
    var innerOffset: Int?
    /// Who owns the skb (`skb->sk`, `skb->destructor`): GRO on a veth keeps a segment owned by
    /// a writer's socket apart from the others (`Elements/VethGRO.swift`).
    var owner: SkbOwner = .none

    init(frame: Frame, carrier: Carrier, target: Int? = nil, segment: Int? = nil, payloadOffset: Int = 0) {
        self.frame = frame
        self.parsed = try? frame.layout()
        self.carrier = carrier
        self.target = target
        self.segment = segment
        self.payloadOffset = payloadOffset
    }

    var layout: FrameLayout {
        // Frames in flight are built by PacketBuilder or derived from one by kernel operations
        // that keep them parseable.
        guard let l = parsed else { preconditionFailure("a frame in flight no longer parses") }
        return l
    }

    var skb: SkbState? {
        if case let .skb(s) = carrier { return s }
        return nil
    }
}

/// The owner an skb carries until `ip_rcv_core()` or br_netfilter's `setup_pre_routing()`
/// orphans it (`Walk.ipReceive`, `Walk.bridgeNetfilter`), as far as GRO on a veth asks:
/// `skb_prepare_for_gro()` keeps a `sock_wfree` owner (and sets `slow_gro`, so
/// `gro_list_prepare()` compares `p->sk != skb->sk`) and orphans any other.
enum SkbOwner: Sendable, Hashable {
    /// No socket (orphaned, or a segment `skb_segment()` did not give the owner to).
    case none
    /// `skb_set_owner_w()`, destructor `sock_wfree`: a UDP/ICMP/raw or AF_PACKET socket's skb,
    /// a TAP writer's (`tun_alloc_skb()`).
    case socket
    /// A kernel TCP socket's skb (`tcp_wfree`): every segment keeps it, GRO orphans them.
    case tcp
}
