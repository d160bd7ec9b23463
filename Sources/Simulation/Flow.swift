import Wire

/// Traffic to trace between two hosts.
public struct Flow: Sendable, Hashable {
    public enum Kind: String, Sendable, CaseIterable {
        /// A TCP connection (SSH): SYN, SYN-ACK, then data each way.
        case tcp
        /// A UDP request/response through UDP sockets (DNS).
        case udp
        /// A DHCP exchange: the client sends DISCOVER from a raw socket, the server answers
        /// with an OFFER from a UDP socket.
        case dhcp
        /// ICMP echo request and reply (ping).
        case icmp
        /// One frame written into a TAP's fd with a chosen virtio_net_hdr (`frame` says which).
        case frame
    }

    /// How the sending host produces its checksums.
    public enum SenderMode: String, Sendable, CaseIterable {
        /// As the stack and device features decide (offload where available).
        case offloaded
        /// Force a complete software checksum at the socket (as `tx off` would).
        case software
    }

    /// How a DHCP client reads replies.
    public enum DHCPClient: String, Sendable, CaseIterable {
        /// An old dhclient: AF_PACKET socket, verifies the UDP checksum itself from the bytes.
        case raw
        /// A client that reads `PACKET_AUXDATA` and skips the check for `TP_STATUS_CSUMNOTREADY`.
        case rawAuxdata = "raw-auxdata"
        /// A plain UDP socket: the kernel verifies.
        case udp
    }

    public var name: String
    public var kind: Kind
    /// The client host (node name, or a host-nic's remote host).
    public var from: String
    public var to: String
    public var ipVersion: IPVersion = .v4
    /// Server port (TCP/UDP); DHCP uses 67/68.
    public var port: UInt16 = 22
    /// Application payload per data leg, bytes. For a ping, the echo data (`ping -s`); a ping
    /// whose payload was never set sends ping's default 56 bytes.
    public var payload: Int = 100 {
        didSet { payloadGiven = true }
    }
    /// `payload` was set (by the file or in code) rather than left at its default.
    public private(set) var payloadGiven = false

    /// The echo data a ping sends: `payload` when given, else ping's default 56 bytes.
    public var echoPayload: Int { payloadGiven ? payload : 56 }
    /// TCP maximum segment size (GSO size); nil means what the hosts' TCP options negotiate
    /// (MTU 1500 with timestamps: 1448 over IPv4, 1428 over IPv6; without: 1460, 1440).
    public var mss: Int?
    public var sender: SenderMode = .offloaded
    public var dhcpClient: DHCPClient = .raw
    /// Corrupt one bit of the L4 payload after the frame passes this element (`node` or
    /// `node:interface`), as a bad cable or a buggy device would. Applies to the packets that
    /// go from `from` to `to` (not to the replies) and carry a payload.
    public var corruptAfter: Endpoint?
    /// Payload byte to flip (bit 0x01).
    public var corruptByte: Int = 0
    /// A `frame` flow's TAP, virtio header and frame.
    public var frame = FrameInjection()

    public init(name: String, kind: Kind, from: String, to: String) {
        self.name = name
        self.kind = kind
        self.from = from
        self.to = to
        if kind == .dhcp { port = 67 }
        if kind == .udp { port = 53 }
    }
}
