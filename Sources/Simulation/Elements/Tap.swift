import Checksum
import Wire

/// A TAP device: `tun_put_user()` to its reader, `tun_get_user()` from its writer.
extension Walk {
    /// `tun_net_xmit()` → `tun_put_user()`: the frame goes to whoever reads the TAP's fd (QEMU for a
    /// guest, or a userspace forwarder), with a vnet header (`has_data_valid=true`) when the TAP has
    /// one.
    mutating func tunNetXmit(_ p: Packet, on d: Int, _ s: SkbState, _ ts: TapSettings) {
        let node = net.devices[d].node
        let l = p.layout
        var q = p
        if ts.vnetHdr {
            let h = VirtioNetHeader(skb: s, hasDataValid: true, headersLength: l.payloadOffset)
            q.carrier = .vnet(h)
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .tunPutUser(vnet: h, summed: s.ipSummed)) }
        } else {
            q.carrier = .raw
            q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(d), .transmit, .tunPutUser(vnet: nil, summed: s.ipSummed)) }
        }
        switch net.devices[d].fdSide {
        case let .vm(v)?:
            qemuToGuest(q, nic: v, tap: d)
        case let .userspace(ni, ii)?:
            userspaceReceive(q, node: ni, iface: ii, via: d)
        case nil:
            finish(.droppedOnPath(at: name(d), reason: "nobody reads this TAP"))
        }
    }

    /// `tun_get_user()` refuses the header: the write fails, nothing enters the kernel.
    private mutating func watchRefusal(_ p: Packet, node: Int, tap: Int, _ h: VirtioNetHeader, _ why: String) {
        record(p, p, node: node, iface: ifLabel(tap), .receive, .tunGetUserRefused(vnet: h, reason: why), drop: "write() fails: EINVAL")
        finish(.droppedOnPath(at: name(tap), reason: "the write fails with EINVAL (\(why))"))
    }

    /// A frame written to a TAP's fd: `tun_get_user()`.
    mutating func tapWrite(_ p: Packet, tap: Int, vnet: Bool) {
        guard case let .tap(ts) = net.devices[tap].kind else { preconditionFailure("tapWrite needs a TAP") }
        let node = net.devices[tap].node
        let profile = net.devices[tap].profile
        var q = p
        // tun_alloc_skb() → sock_alloc_send_pskb(): the TAP's socket owns the skb until a
        // bridge's br_netfilter or the IP receive orphans it (`bridgeNetfilter`, `ipReceive`).
        q.owner = .socket
        var s = SkbState(ipSummed: .none)
        var written: VirtioNetHeader?
        var gsoApplied = false
        if ts.vnetHdr, case let .vnet(h) = p.carrier, let why = h.toSkbRefusal(frameLength: p.frame.count, profile: profile) {
            return watchRefusal(p, node: node, tap: tap, h, why)
        }
        if ts.vnetHdr, case let .vnet(h) = p.carrier {
            written = h
            gsoApplied = h.isGSO && p.layout.end - p.layout.payloadOffset > Int(h.gsoSize)
            s = SkbState(virtioHeader: h, gso: gsoApplied)
            if gsoApplied {
                // tun_can_build_skb(): a frame that fits a page with XDP headroom and
                // skb_shared_info is built fully linear; larger ones get hdr_len linear.
                // tun_alloc_skb(): "Under a page? Don't bother with paged skb." (prepad 64).
                let fitsPage = (p.frame.count + 64 + 256 + 63) / 64 * 64 + 320 <= 4096
                let linear = fitsPage || p.frame.count + 64 < 4096 || h.hdrLen == 0
                s.headLength = linear ? p.frame.count : Int(h.hdrLen)
            }
        }
        q.carrier = .skb(s)
        let event = StepEvent.tunGetUser(tapVnetHdr: ts.vnetHdr, vnet: written, gso: gsoApplied, profile: profile)
        q = watch(q) { w in w.record(p, q, node: node, iface: w.ifLabel(tap), .receive, event) }
        ingress(q, on: tap, via: nil)
    }
}
