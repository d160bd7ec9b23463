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
    /// Why a TAP write of this header before a `len`-byte frame fails with -EINVAL, or nil when
    /// the kernel takes it. The checks are `tun_get_user()`'s and then `virtio_net_hdr_to_skb()`'s
    /// (4.4: the same checks inline in `tun_get_user()`), in the order the source makes them, on a
    /// linear frame:
    /// - `tun_get_user()`: with NEEDS_CSUM, `hdr_len` is raised to `csum_start + csum_offset + 2`;
    ///   a `hdr_len` longer than the frame, or non-zero and shorter than an Ethernet header, fails;
    /// - a GSO type the kernel does not know, or a zero `gso_size`, fails (both profiles);
    /// - NEEDS_CSUM: 4.4 asks only `skb_partial_csum_set()` (the field inside the frame); 6.x also
    ///   pulls `csum_start + max(thlen, csum_offset + 2)` bytes (`thlen` is the GSO type's
    ///   transport header: 20 for TCP, 8 for UDP, 0 without GSO) and refuses a `csum_start` below
    ///   `nh_min_len` (20, the IPv4 header; 40 for TCPV6 GSO);
    /// - 6.x GSO: a TCP type with NEEDS_CSUM must point `csum_offset` at the TCP checksum (16);
    ///   UDP_L4 needs NEEDS_CSUM at the UDP checksum (6) and at most 64 segments
    ///   (`UDP_MAX_SEGMENTS`); `gso_size` 0xFFFF is `GSO_BY_FRAGS`, refused.
    public func toSkbRefusal(frameLength len: Int, profile: KernelProfile) -> String? {
        let start = Int(csumStart), off = Int(csumOffset)
        var headerLength = Int(hdrLen)
        if needsChecksum && start + off + 2 > headerLength { headerLength = start + off + 2 }
        if headerLength > len {
            return needsChecksum && headerLength == start + off + 2 && headerLength > Int(hdrLen)
                ? "tun_get_user: csum_start \(start) + csum_offset \(off) + 2 bytes reaches past the \(len)-byte frame"
                : "tun_get_user: hdr_len \(headerLength) is longer than the \(len)-byte frame"
        }
        if headerLength != 0 && headerLength < 14 {
            return "tun_get_user: hdr_len \(headerLength) is shorter than an Ethernet header (14)"
        }
        let type = gsoType & 0x7F
        if isGSO {
            let known: Set<UInt8> = profile == .linux6 ? [1, 3, 4, 5] : [1, 3, 4]
            guard known.contains(type) else { return "gso_type \(type) is not one this kernel knows" }
            if gsoSize == 0 { return "a GSO header with gso_size 0" }
        }
        guard profile == .linux6 else { return nil }
        let thlen = !isGSO ? 0 : (type == 1 || type == 4) ? 20 : 8
        if needsChecksum {
            if start + max(thlen, off + 2) > len {
                return "virtio_net_hdr_to_skb: csum_start \(start) + \(max(thlen, off + 2)) bytes of transport header reach past the \(len)-byte frame"
            }
            let nhMinLength = isGSO && type == 4 ? 40 : 20
            if start < nhMinLength {
                return "virtio_net_hdr_to_skb: csum_start \(start) is below the smallest network header (\(nhMinLength) bytes)"
            }
        }
        guard isGSO else { return nil }
        if (type == 1 || type == 4) && needsChecksum && csumOffset != 16 {
            return "a TCP GSO header must point csum_offset at the TCP checksum field (16), not \(csumOffset)"
        }
        if type == 5 {
            if !needsChecksum || csumOffset != 6 {
                return "a UDP_L4 GSO header needs NEEDS_CSUM with csum_offset 6 (the UDP checksum field)"
            }
            if len - (start + thlen) > Int(gsoSize) * 64 {
                return "a UDP_L4 GSO header over more than 64 segments (UDP_MAX_SEGMENTS)"
            }
        }
        if gsoSize == 0xFFFF { return "gso_size 0xFFFF is GSO_BY_FRAGS, which a writer may not claim" }
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
