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

extension VirtioNetHeader {
    /// Why `virtio_net_hdr_to_skb()` returns -EINVAL for this header on `frame` (linear, as
    /// `tun_get_user` builds a frame this size), or nil when it accepts it. Linux 4.4 checks the
    /// csum_start/csum_offset bounds (`skb_partial_csum_set`) and the GSO type; 6.x also refuses a
    /// TCP GSO header whose csum_offset is not the TCP checksum field's, and UDP_L4 GSO without
    /// NEEDS_CSUM at the UDP checksum field.
    public func toSkbRefusal(frameLength len: Int, profile: KernelProfile) -> String? {
        if needsChecksum {
            let start = Int(csumStart), off = Int(csumOffset)
            if start > len || start + off > len - 2 {
                return "skb_partial_csum_set: csum_start \(start) + csum_offset \(off) + 2 bytes reaches past the \(len)-byte frame"
            }
        }
        guard isGSO else { return nil }
        let type = gsoType & 0x7F
        let known: Set<UInt8> = profile == .linux6 ? [1, 3, 4, 5] : [1, 3, 4]
        guard known.contains(type) else { return "gso_type \(type) is not one this kernel knows" }
        guard profile == .linux6 else { return nil }
        if (type == 1 || type == 4) && needsChecksum && csumOffset != 16 {
            return "a TCP GSO header must point csum_offset at the TCP checksum field (16), not \(csumOffset)"
        }
        if type == 5 && (!needsChecksum || csumOffset != 6) {
            return "a UDP_L4 GSO header needs NEEDS_CSUM with csum_offset 6 (the UDP checksum field)"
        }
        return nil
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
