import Testing
@testable import Checksum

/// A naive reference written independently of the kernel: 16-bit big-endian words, 32-bit
/// accumulator, folded at the end.
func naiveSum(_ b: [UInt8]) -> UInt16 {
    var acc: UInt64 = 0
    var i = 0
    while i + 1 < b.count { acc += UInt64(b[i]) << 8 + UInt64(b[i + 1]); i += 2 }
    if i < b.count { acc += UInt64(b[i]) << 8 }
    while acc > 0xFFFF { acc = (acc & 0xFFFF) + (acc >> 16) }
    return UInt16(acc)
}

@Suite struct RFC1071Tests {
    /// RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
    @Test func workedExample() {
        let b: [UInt8] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]
        #expect(InternetChecksum.fold(InternetChecksum.sum(b)) == 0xddf2)
        #expect(InternetChecksum.checksum(b) == ~UInt16(0xddf2))
    }

    @Test func matchesNaiveReference() {
        var rng = SystemRandomNumberGenerator()
        for len in 0..<300 {
            let b = (0..<len).map { _ in UInt8.random(in: 0...255, using: &rng) }
            #expect(InternetChecksum.fold(InternetChecksum.sum(b)) == naiveSum(b), "length \(len)")
        }
    }

    @Test func oddOffsetChaining() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let b = (0..<Int.random(in: 1...200, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let cut = Int.random(in: 0...b.count, using: &rng)
            let a = InternetChecksum.sum(Array(b[..<cut]))
            let c = InternetChecksum.blockAdd(a, InternetChecksum.sum(Array(b[cut...])), offset: cut)
            #expect(InternetChecksum.fold(c) == naiveSum(b))
        }
    }
}
