import Testing
import Simulation
import TestSupport
import TopologyFile
import Wire

/// `LegTrace.readerFrames`: the frames handed to a TAP reader or a guest, with values checked
/// against the naive reference (not the Checksum module) and the kernel's virtio_net_hdr rules.
@Suite struct ReaderFrameTests {
    /// The L4 checksum field read straight from the bytes (Ethernet, IPv4 or IPv6, TCP or UDP).
    static func naiveField(_ f: [UInt8]) -> (field: UInt16, proto: UInt8)? {
        let v6 = f[12] == 0x86 && f[13] == 0xDD
        let proto = v6 ? f[14 + 6] : f[14 + 9]
        let l4 = v6 ? 14 + 40 : 14 + Int(f[14] & 0xF) * 4
        let off: Int
        switch proto {
        case 6: off = 16
        case 17: off = 6
        default: return nil
        }
        return (UInt16(f[l4 + off]) << 8 | UInt16(f[l4 + off + 1]), proto)
    }

    /// UDP over IPv4 from vm1 to vm2 across tap1, br0, tap2: CHECKSUM_PARTIAL all the way, so
    /// tap2's reader (QEMU) and then vm2 get NEEDS_CSUM with csum_start at the UDP header,
    /// csum_offset 6, and only the pseudo-header sum in the field.
    @Test func partialUDPReachesTheGuestAsNeedsCsum() throws {
        let tr = try run(loadShipped("seed-bridged").topology, flow: "dns")
        let l = try #require(tr.flows.first?.legs.first { $0.from == "vm1" && $0.to == "vm2" })
        let rs = l.readerFrames
        #expect(rs.map(\.reader) == [.tapReader, .guest])
        #expect(rs.map(\.node) == ["tap2", "vm2"])
        for r in rs {
            let frame = l.steps[r.step].frame
            #expect(r.frameLength == 14 + 20 + 8 + 40)
            let h = try #require(r.vnet)
            #expect(h.flags == 1)          // VIRTIO_NET_HDR_F_NEEDS_CSUM
            #expect(h.csumStart == 34)     // Ethernet 14 + IPv4 20
            #expect(h.csumOffset == 6)     // offsetof(struct udphdr, check)
            #expect(h.gsoType == 0)
            #expect(r.l4Field == naivePseudoHeaderSum(frame))
            #expect(r.l4Field != naiveL4Checksum(frame))
            #expect(!r.l4Valid)
        }
    }

    /// The DHCP OFFER after `CHECKSUM --checksum-fill`: CHECKSUM_NONE with a full checksum, so
    /// the header carries no flag and the field verifies.
    @Test func checksumFillHandsTheGuestAFullChecksum() throws {
        let tr = try run(loadShipped("dhcp-checksum-fill").topology, flow: "dhcp")
        let offer = try #require(tr.flows.first?.legs.first { $0.to == "guest" })
        let r = try #require(offer.readerFrames.last)
        #expect(r.reader == .guest)
        #expect(r.node == "guest")
        let frame = offer.steps[r.step].frame
        #expect(r.l4Field == naiveL4Checksum(frame))
        #expect(r.l4Valid)
        #expect(r.vnet.map { $0.flags & 1 } ?? 0 == 0)
        // Without the rule, the same frame reaches the guest with the pseudo-header sum.
        var t = try loadShipped("dhcp-checksum-fill").topology
        t = try with(t, ["host.checksum-fill=off"])
        let bareLeg = try #require(try run(t, flow: "dhcp").flows.first?.legs.first { $0.to == "guest" })
        let bare = try #require(bareLeg.readerFrames.last)
        #expect(bare.l4Field == naivePseudoHeaderSum(bareLeg.steps[bare.step].frame))
        #expect(!bare.l4Valid)
        #expect(bare.vnet?.flags == 1)
    }

    /// Every shipped lab: each record's field and validity agree with the bytes read naively,
    /// its length with the step's frame, and it sits at a TAP transmit or a guest receive.
    @Test(arguments: shippedTopologyPaths())
    func recordsAgreeWithTheBytes(path: String) throws {
        let tr = try Simulator(TopologyFile.load(path: path).topology).run()
        for f in tr.flows {
            for l in f.legs {
                for r in l.readerFrames {
                    let s = l.steps[r.step]
                    #expect(r.frameLength == s.frame.count)
                    #expect(s.direction == (r.reader == .guest ? .receive : .transmit))
                    guard r.ipFragments == nil, let (field, proto) = Self.naiveField(s.frame) else { continue }
                    #expect(r.l4Field == field, "\(path) \(f.flow) \(l.name)")
                    // A UDP checksum of 0 over IPv4 means "none" (RFC 768): valid as it is.
                    let v4 = s.frame[12] == 0x08 && s.frame[13] == 0x00
                    let noChecksum = proto == 17 && v4 && field == 0
                    #expect(r.l4Valid == (noChecksum || field == naiveL4Checksum(s.frame)), "\(path) \(f.flow) \(l.name)")
                }
            }
        }
    }
}
