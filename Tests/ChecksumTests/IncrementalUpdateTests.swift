import Testing
@testable import Checksum

/// RFC 1624 incremental updates against full recomputation.
@Suite struct IncrementalUpdateTests {
    /// A random IPv4 header with a correct checksum.
    static func header(_ rng: inout TestRandom) -> [UInt8] {
        var h = rng.bytes(20)
        h[0] = 0x45
        h[10] = 0
        h[11] = 0
        let c = InternetChecksum.ipv4HeaderChecksum(h)
        h[10] = UInt8(c >> 8)
        h[11] = UInt8(c & 0xFF)
        return h
    }

    /// Changing any 16-bit word of an IPv4 header (TTL/protocol, ID, …): `replace16` equals
    /// recomputing the header checksum.
    @Test func replace16MatchesRecomputation() {
        var rng = TestRandom(seed: 0x1624)
        for _ in 0..<2000 {
            var h = Self.header(&rng)
            let word = [0, 1, 2, 3, 4, 6, 7, 8, 9].randomElement(using: &rng)! * 2
            let old = be16(h, word), new = UInt16(truncatingIfNeeded: rng.next())
            let hc = be16(h, 10)
            h[word] = UInt8(new >> 8)
            h[word + 1] = UInt8(new & 0xFF)
            #expect(InternetChecksum.replace16(checksum: hc, old: old, new: new) == InternetChecksum.ipv4HeaderChecksum(h))
        }
    }

    /// NAT-style address rewrite: `replace32` on the IPv4 header and on a UDP/TCP checksum
    /// (which covers the address through the pseudo-header) equals recomputation, with UDP's
    /// computed 0 sent as 0xFFFF on both sides.
    @Test(arguments: [UInt8(6), 17])
    func replace32MatchesRecomputation(proto: UInt8) {
        var rng = TestRandom(seed: 0xA7 &+ UInt64(proto))
        for _ in 0..<1000 {
            let payload = rng.bytes(Int.random(in: 8...200, using: &rng))
            let src = UInt32(truncatingIfNeeded: rng.next()), dst = UInt32(truncatingIfNeeded: rng.next())
            let newSrc = UInt32(truncatingIfNeeded: rng.next())
            func full(_ s: UInt32) -> UInt16 {
                let ph = InternetChecksum.pseudoHeaderIPv4(source: s, destination: dst, protocol: proto, length: UInt32(payload.count))
                let c = InternetChecksum.finish(InternetChecksum.sum(payload, initial: ph))
                return proto == 17 ? InternetChecksum.udpMangleZero(c) : c
            }
            var updated = InternetChecksum.replace32(checksum: full(src), old: src, new: newSrc)
            if proto == 17 { updated = InternetChecksum.udpMangleZero(updated) }
            #expect(updated == full(newSrc))
        }
    }

    /// A UDP datagram whose new checksum computes to 0: full recomputation and the incremental
    /// update both give 0, which must go on the wire as 0xFFFF (RFC 768, Linux CSUM_MANGLED_0);
    /// and a field holding 0xFFFF still verifies and updates correctly.
    @Test func udpZeroBecomesFFFF() {
        var rng = TestRandom(seed: 0x768)
        for _ in 0..<200 {
            var payload = rng.bytes(2 * Int.random(in: 4...60, using: &rng))
            let src = UInt32(truncatingIfNeeded: rng.next()), dst = UInt32(truncatingIfNeeded: rng.next())
            let ph = InternetChecksum.pseudoHeaderIPv4(source: src, destination: dst, protocol: 17, length: UInt32(payload.count))
            // Choose the last payload word so that the one's-complement sum is 0xFFFF.
            let i = payload.count - 2
            let oldWord = be16(payload, i)
            payload[i] = 0
            payload[i + 1] = 0
            let rest = InternetChecksum.fold(InternetChecksum.sum(payload, initial: ph))
            let zeroingWord = ~rest // rest + ~rest = 0xFFFF
            payload[i] = UInt8(oldWord >> 8)
            payload[i + 1] = UInt8(oldWord & 0xFF)
            let before = InternetChecksum.udpMangleZero(InternetChecksum.finish(InternetChecksum.sum(payload, initial: ph)))

            payload[i] = UInt8(zeroingWord >> 8)
            payload[i + 1] = UInt8(zeroingWord & 0xFF)
            let computed = InternetChecksum.finish(InternetChecksum.sum(payload, initial: ph))
            #expect(computed == 0)
            let incremental = InternetChecksum.replace16(checksum: before, old: oldWord, new: zeroingWord)
            #expect(incremental == 0)
            #expect(InternetChecksum.udpMangleZero(incremental) == 0xFFFF)
            // A receiver adds the 0xFFFF field into the sum and still gets 0xFFFF (valid).
            #expect(InternetChecksum.fold(InternetChecksum.add(InternetChecksum.sum(payload, initial: ph), 0xFFFF)) == 0xFFFF)
            // Updating from the mangled 0xFFFF back to the old word restores the old checksum.
            let back = InternetChecksum.udpMangleZero(InternetChecksum.replace16(checksum: 0xFFFF, old: zeroingWord, new: oldWord))
            #expect(back == before)
        }
    }

    /// A CHECKSUM_PARTIAL field (the folded pseudo-header sum) after an address rewrite equals
    /// the pseudo-header sum of the new addresses.
    @Test func replacePseudo32MatchesNewPseudoHeader() {
        var rng = TestRandom(seed: 0x9A27)
        for _ in 0..<1000 {
            let src = UInt32(truncatingIfNeeded: rng.next()), dst = UInt32(truncatingIfNeeded: rng.next())
            let newDst = UInt32(truncatingIfNeeded: rng.next())
            let len = UInt32(Int.random(in: 8...1480, using: &rng))
            let field = InternetChecksum.fold(InternetChecksum.pseudoHeaderIPv4(source: src, destination: dst, protocol: 6, length: len))
            let want = InternetChecksum.fold(InternetChecksum.pseudoHeaderIPv4(source: src, destination: newDst, protocol: 6, length: len))
            let got = InternetChecksum.replacePseudo32(partialField: field, old: dst, new: newDst)
            // 0x0000 and 0xFFFF are the same one's-complement number.
            #expect(got == want || (got % 0xFFFF == 0 && want % 0xFFFF == 0))
        }
    }
}
