import Testing
import Checksum
@testable import Wire
import TestSupport

typealias Rng = SplitMix

let macA: [UInt8] = [0x52, 0x54, 0, 0, 0, 1]
let macB: [UInt8] = [0x52, 0x54, 0, 0, 0, 2]

func builder(_ v6: Bool = false) -> PacketBuilder {
    v6 ? PacketBuilder(sourceMAC: macA, destinationMAC: macB, source: IPAddress("fd00:1::2")!, destination: IPAddress("fd00:2::2")!)
       : PacketBuilder(sourceMAC: macA, destinationMAC: macB, source: IPAddress("10.0.1.2")!, destination: IPAddress("10.0.2.2")!)
}

@Suite struct FrameTests {
    /// A software-checksummed SYN: the checksum module agrees with the naive reference.
    @Test func completeChecksumMatchesNaiveReference() throws {
        let f = builder().tcp(sourcePort: 40000, destinationPort: 22, seq: 1, ack: 0, flags: .syn, payload: [], checksum: .complete)
        let l = try f.layout()
        #expect(f.l4Checksum(l) == naiveL4Checksum(f.bytes))
        #expect(f.ipv4Checksum(l) == naiveIPv4HeaderChecksum(f.bytes))
        #expect(f.l4ChecksumIsValid(l))
    }

    @Test(arguments: [false, true])
    func partialValueIsThePseudoHeaderSum(v6: Bool) throws {
        for proto in 0..<2 {
            let b = builder(v6)
            let f = proto == 0
                ? b.tcp(sourcePort: 1, destinationPort: 2, seq: 3, ack: 4, flags: [.psh, .ack], payload: Array(repeating: 7, count: 33), checksum: .partial)
                : b.udp(sourcePort: 1, destinationPort: 2, payload: Array(repeating: 9, count: 21), checksum: .partial)
            let l = try f.layout()
            #expect(f.l4Checksum(l) == naivePseudoHeaderSum(f.bytes))
            #expect(f.l4HoldsPartialSum(l))
            #expect(!f.l4ChecksumIsValid(l))
            // skb_checksum_help over the segment with the pseudo sum in place finishes it.
            var g = f
            g.completeChecksum(start: l.l4Offset, offset: l.l4Protocol.checksumOffset, end: l.end, mangleZero: true)
            #expect(g.l4Checksum(l) == naiveL4Checksum(f.bytes))
            #expect(g.l4ChecksumIsValid(l))
        }
    }

    @Test func parseRejectsTruncatedAndUnknown() {
        #expect(throws: WireError.self) { try FrameLayout.parse([0, 1, 2]) }
        var arp = [UInt8](repeating: 0, count: 60)
        arp[12] = 0x08; arp[13] = 0x06
        #expect(throws: WireError.self) { try FrameLayout.parse(arp) }
        let f = builder().tcp(sourcePort: 1, destinationPort: 2, seq: 0, ack: 0, flags: .syn, checksum: .zero)
        #expect(throws: WireError.self) { try FrameLayout.parse(Array(f.bytes.dropLast(3))) }
    }

    /// ip_decrease_ttl's incremental update equals a full recomputation.
    @Test func decrementTTLMatchesRecomputation() throws {
        var rng = Rng(state: 1)
        for _ in 0..<500 {
            var b = builder()
            b.ttl = UInt8.random(in: 1...255, using: &rng)
            b.ipID = UInt16.random(in: 0...0xFFFF, using: &rng)
            var f = b.udp(sourcePort: 5, destinationPort: 6, payload: [1, 2, 3], checksum: .complete)
            let l = try f.layout()
            f.decrementTTL(l)
            #expect(f.ipv4Checksum(l) == naiveIPv4HeaderChecksum(f.bytes) || (f.ipv4Checksum(l) == 0xFFFF && naiveIPv4HeaderChecksum(f.bytes) == 0))
        }
    }

    /// NAT on a finished checksum is an RFC 1624 update equal to recomputation; on a PARTIAL field
    /// it yields the new pseudo-header sum.
    @Test func natRewriteFinishedAndPartial() throws {
        var rng = Rng(state: 2)
        for _ in 0..<300 {
            let payload = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let newAddr = UInt32.random(in: 0...UInt32.max, using: &rng)
            let source = Bool.random(using: &rng)
            var f = builder().tcp(sourcePort: 1000, destinationPort: 22, seq: 1, ack: 1, flags: .ack, payload: payload, checksum: .complete)
            let l = try f.layout()
            f.natRewriteIPv4(source: source, to: newAddr, l, l4: .incremental)
            #expect(f.l4ChecksumIsValid(l))
            #expect(f.ipv4Checksum(l) == naiveIPv4HeaderChecksum(f.bytes) || naiveIPv4HeaderChecksum(f.bytes) == 0)
            var p = builder().tcp(sourcePort: 1000, destinationPort: 22, seq: 1, ack: 1, flags: .ack, payload: payload, checksum: .partial)
            p.natRewriteIPv4(source: source, to: newAddr, l, l4: .pseudoHeader)
            #expect(p.l4Checksum(l) == naivePseudoHeaderSum(p.bytes))
        }
    }

    /// The IPv6 form (nf_nat_ipv6_manip_pkt → inet_proto_csum_replace16): the same two results
    /// over a 16-byte address, for TCP and UDP; a UDP field the update would make 0 becomes 0xFFFF.
    @Test func natRewriteIPv6FinishedAndPartial() throws {
        var rng = Rng(state: 12)
        for _ in 0..<300 {
            let payload = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let newAddr = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let source = Bool.random(using: &rng)
            let udp = Bool.random(using: &rng)
            func frame(_ fill: PacketBuilder.ChecksumFill) -> Frame {
                udp ? builder(true).udp(sourcePort: 1000, destinationPort: 53, payload: payload, checksum: fill)
                    : builder(true).tcp(sourcePort: 1000, destinationPort: 22, seq: 1, ack: 1, flags: .ack, payload: payload, checksum: fill)
            }
            var f = frame(.complete)
            let l = try f.layout()
            f.natRewriteIPv6(source: source, to: newAddr, l, l4: .incremental)
            #expect(Array(f.bytes[(source ? 22 : 38)..<(source ? 38 : 54)]) == newAddr)
            #expect(f.l4Checksum(l) == naiveL4Checksum(f.bytes) || (udp && f.l4Checksum(l) == 0xFFFF && naiveL4Checksum(f.bytes) == 0))
            var p = frame(.partial)
            p.natRewriteIPv6(source: source, to: newAddr, l, l4: .pseudoHeader)
            #expect(p.l4Checksum(l) == naivePseudoHeaderSum(p.bytes))
        }
    }

    /// tcp_gso_segment equals building each segment independently.
    @Test(arguments: [false, true])
    func segmentationMatchesIndependentSegments(v6: Bool) throws {
        var rng = Rng(state: v6 ? 4 : 3)
        for _ in 0..<40 {
            let n = Int.random(in: 1...9000, using: &rng)
            let mss = Int.random(in: 500...1448, using: &rng)
            let payload = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var b = builder(v6)
            b.ipID = 0x1234
            let opts: [UInt8] = [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
            let flags: PacketBuilder.TCPFlags = [.psh, .ack, .cwr, .fin]
            let whole = b.tcp(sourcePort: 40000, destinationPort: 22, seq: 0xFFFF_FF00, ack: 7, flags: flags, options: opts, payload: payload, checksum: .partial)
            let l = try whole.layout()
            for complete in [false, true] {
                let segs = whole.tcpSegments(mss: mss, l, complete: complete, mangleZero: false)
                #expect(segs.count == (n + mss - 1) / mss)
                for (i, s) in segs.enumerated() {
                    var e = b
                    e.ipID = 0x1234 &+ UInt16(i)
                    var fl = flags
                    if i > 0 { fl.remove(.cwr) }
                    if i < segs.count - 1 { fl.remove(.fin); fl.remove(.psh) }
                    let off = i * mss
                    let expected = e.tcp(sourcePort: 40000, destinationPort: 22, seq: 0xFFFF_FF00 &+ UInt32(off), ack: 7, flags: fl, options: opts,
                                         payload: Array(payload[off..<min(n, off + mss)]), checksum: complete ? .complete : .partial)
                    #expect(s.frame.bytes == expected.bytes, "segment \(i) of \(segs.count)")
                    #expect(s.payloadOffset == off)
                }
            }
        }
    }

    @Test func virtioHeaderRoundTrip() throws {
        let h = VirtioNetHeader(flags: 1, gsoType: 1, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16)
        #expect(h.bytes == [1, 1, 66, 0, 0xa8, 0x05, 34, 0, 16, 0])
        #expect(try VirtioNetHeader(parsing: h.bytes) == h)
        #expect(h.summary == "NEEDS_CSUM start=34 off=16 gso=TCPV4/1448")
    }

    @Test func addresses() {
        #expect(IPAddress("fd00:1::2")?.description == "fd00:1::2")
        #expect(IPAddress("::")?.description == "::")
        #expect(IPAddress("10.0.0.256") == nil)
        #expect(IPAddress("1:2:3:4:5:6:7:8")?.description == "1:2:3:4:5:6:7:8")
        #expect(IPAddress("1::2::3") == nil)
        #expect(IPAddress("10.0.1.7")!.isIn(IPAddress("10.0.1.0")!, prefix: 24))
        #expect(!IPAddress("10.0.2.7")!.isIn(IPAddress("10.0.1.0")!, prefix: 24))
    }

    /// IPv4 in dotted decimal, every byte value in every place (written out with `String(Int)`,
    /// independently of the formatter), and back through the parser.
    @Test func everyIPv4ByteFormatsAsDecimal() {
        for b in 0...255 {
            for place in 0..<4 {
                var bytes: [UInt8] = [10, 200, 0, 99]
                bytes[place] = UInt8(b)
                let a = IPAddress(bytes: bytes)
                let expected = bytes.map { String(Int($0)) }.joined(separator: ".")
                #expect(a.description == expected)
                #expect(IPAddress(expected) == a)
            }
        }
    }
}
