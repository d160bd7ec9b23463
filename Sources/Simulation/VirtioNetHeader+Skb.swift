import Wire

// The skb ↔ virtio_net_hdr conversion, once, as include/linux/virtio_net.h has it. Every place
// a header meets an skb uses these: the guest's virtio-net transmit and receive, tun_put_user and
// tun_get_user, AF_PACKET with PACKET_VNET_HDR, and verify's injections.

extension VirtioNetHeader {
    /// `virtio_net_hdr_from_skb(skb, hdr, little_endian, has_data_valid, vlan_hlen)`: PARTIAL
    /// becomes NEEDS_CSUM at the same csum_start/csum_offset; UNNECESSARY becomes DATA_VALID only
    /// when the caller passes `hasDataValid` (tun and packet sockets do, virtio-net TX does not);
    /// a GSO skb carries its type, size and `hdr_len = skb_headlen(skb)` — `headLength` when the
    /// skb says, else `headersLength` (the headers alone are linear).
    public init(skb s: SkbState, hasDataValid: Bool, headersLength: Int) {
        self.init()
        switch s.ipSummed {
        case .partial:
            flags = Self.needsCsum
            csumStart = UInt16(s.csumStart)
            csumOffset = UInt16(s.csumOffset)
        case .unnecessary where hasDataValid:
            flags = Self.dataValid
        case .unnecessary, .none, .complete:
            break
        }
        if s.isGSO {
            gsoType = (s.gsoType ?? .tcpv4).rawValue
            gsoSize = UInt16(s.gsoSize)
            hdrLen = UInt16(s.headLength ?? headersLength)
        }
    }
}

extension SkbState {
    /// `virtio_net_hdr_to_skb()`: NEEDS_CSUM becomes CHECKSUM_PARTIAL (`skb_partial_csum_set`),
    /// else CHECKSUM_NONE; with `gso`, the GSO fields make a GSO skb marked `SKB_GSO_DODGY`.
    /// DATA_VALID is the caller's business (virtio-net's `receive_buf` honours it, tun ignores it),
    /// and so is the linear length (`tun_alloc_skb`, `packet_alloc_skb`).
    public init(virtioHeader h: VirtioNetHeader, gso: Bool = true) {
        if h.needsChecksum {
            self.init(ipSummed: .partial, csumStart: Int(h.csumStart), csumOffset: Int(h.csumOffset))
        } else {
            self.init(ipSummed: .none)
        }
        if gso && h.isGSO {
            gsoSize = Int(h.gsoSize)
            gsoType = VirtioNetHeader.GSOType(rawValue: h.gsoType & 0x7F)
            gsoDodgy = true
        }
    }
}
