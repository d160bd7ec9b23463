import Testing
import Checksum
@testable import Wire
import TestSupport

/// `ip_fragment()` / `ip6_fragment()` as the local output path does them: expected field values
/// are written out from RFC 791 / RFC 8200, the header checksums come from the naive reference,
/// and reassembling the fragments' data must give the datagram back.
@Suite struct FragmentTests {
    func bigUDP(_ v6: Bool, payload: Int) throws -> (Frame, FrameLayout) {
        var rng = SplitMix(state: 7)
        let data = (0..<payload).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        let f = builder(v6).udp(sourcePort: 4000, destinationPort: 5001, payload: data, checksum: .complete)
        return (f, try f.layout())
    }

    /// A router's `ip_do_fragment()` on fragments cut for 9000, egress 1500: each piece cut
    /// again; offsets continue, MF stays on all but the datagram's last piece.
    @Test func fragmentsCutAgainForASmallerMTU() throws {
        var (f, l) = try bigUDP(false, payload: 12000)
        f.clearDontFragment(l)
        // 12008 bytes of UDP: (9000 − 20) & ~7 = 8976, then 3032.
        let first = f.ipFragments(l, mtu: 9000)
        #expect(first.map { $0.bytes.count - 34 } == [8976, 3032])
        let again = f.ipFragments(l, mtu: 9000, again: [1500])
        // 8976 = 6 × 1480 + 96; 3032 = 2 × 1480 + 72: 7 + 3 pieces.
        let lens = [1480, 1480, 1480, 1480, 1480, 1480, 96, 1480, 1480, 72]
        #expect(again.map { $0.bytes.count - 34 } == lens)
        var off = 0
        var data: [UInt8] = []
        for (i, g) in again.enumerated() {
            let b = g.bytes
            let last = i == again.count - 1
            #expect(b.be16(at: 20) == (last ? 0 : 0x2000) | UInt16(off / 8), "piece \(i): flags and offset")
            #expect(Int(b.be16(at: 16)) == 20 + lens[i])
            #expect(b.be16(at: 18) == f.bytes.be16(at: 18))
            #expect(b.be16(at: 24) == naiveIPv4HeaderChecksum(b))
            off += lens[i]
            data += b[34...]
        }
        #expect(data == Array(f.bytes[l.l4Offset..<l.end]))
        // A piece that fits is left alone; an IPv6 packet is never cut by a router.
        #expect(first[1].refragmentIPv4(mtu: 4000) == [first[1]])
        let (v6, l6) = try bigUDP(true, payload: 3000)
        #expect(v6.refragmentIPv4(mtu: 1280) == [v6])
        #expect(v6.ipFragments(l6, mtu: 1500, again: [1280]).count == v6.ipFragments(l6, mtu: 1500).count)
    }

    @Test func ipv4UDPDatagramOf3008BytesMakesThreeFragments() throws {
        var (f, l) = try bigUDP(false, payload: 3000)
        f.clearDontFragment(l)
        #expect(f.fragmentCount(l, mtu: 1500) == 3)
        let frags = f.ipFragments(l, mtu: 1500)
        #expect(frags.count == 3)
        // 1480 + 1480 + 48 bytes of the 3008-byte UDP datagram; offsets in 8-byte units.
        let expected: [(len: Int, flagsOffset: UInt16)] = [(1480, 0x2000 | 0), (1480, 0x2000 | 185), (48, 370)]
        var data: [UInt8] = []
        for (g, e) in zip(frags, expected) {
            let b = g.bytes
            #expect(b.count == 14 + 20 + e.len)
            #expect(Int(b.be16(at: 16)) == 20 + e.len, "IP total length")
            #expect(b.be16(at: 20) == e.flagsOffset, "flags (DF clear, MF) and fragment offset")
            #expect(b.be16(at: 18) == f.bytes.be16(at: 18), "every fragment keeps the datagram's IP ID")
            #expect(b.be16(at: 24) == naiveIPv4HeaderChecksum(b))
            #expect(Array(b[0..<12]) == Array(f.bytes[0..<12]), "MACs kept")
            data += b[34...]
        }
        #expect(data == Array(f.bytes[l.l4Offset..<l.end]))
        // The first fragment carries the UDP header with the whole datagram's checksum.
        #expect(frags[0].bytes.be16(at: 34 + 6) == naiveL4Checksum(f.bytes))
    }

    @Test func ipv6FragmentsCarryAFragmentHeader() throws {
        let (f, l) = try bigUDP(true, payload: 3000)
        let frags = f.ipFragments(l, mtu: 1500, identification: 0xCAFE_F00D)
        // (1500 − 40 − 8) & ~7 = 1448 bytes per fragment: 1448 + 1448 + 112.
        #expect(frags.map(\.count) == [14 + 48 + 1448, 14 + 48 + 1448, 14 + 48 + 112])
        var data: [UInt8] = []
        for (i, g) in frags.enumerated() {
            let b = g.bytes
            #expect(b[14 + 6] == 44, "next header: Fragment")
            #expect(Int(b.be16(at: 14 + 4)) == b.count - 14 - 40, "payload length")
            #expect(b[54] == 17, "the Fragment header's next header is UDP")
            let offsetField = b.be16(at: 56)
            #expect(Int(offsetField >> 3) * 8 == i * 1448)
            #expect(offsetField & 1 == (i < 2 ? 1 : 0), "M flag")
            #expect(b.be32(at: 58) == 0xCAFE_F00D)
            data += b[62...]
        }
        #expect(data == Array(f.bytes[l.l4Offset..<l.end]))
    }

    @Test func aDatagramThatFitsIsOneFrame() throws {
        let (f, l) = try bigUDP(false, payload: 1472)  // 20 + 8 + 1472 = 1500
        #expect(f.fragmentCount(l, mtu: 1500) == 1)
        #expect(f.ipFragments(l, mtu: 1500) == [f])
    }

    /// What the lab's routers use: a non-first fragment has no UDP header, yet routes.
    @Test func networkHeaderRoutesEveryFragment() throws {
        let (f, l) = try bigUDP(false, payload: 3000)
        for var g in f.ipFragments(l, mtu: 1500) {
            let h = try #require(g.networkHeader)
            #expect(h.destination == [10, 0, 2, 2] && h.ttl == 64)
            g.decrementTTLRecomputingHeader(h)
            #expect(g.bytes[22] == 63)
            #expect(g.bytes.be16(at: 24) == naiveIPv4HeaderChecksum(g.bytes))
        }
    }
}
