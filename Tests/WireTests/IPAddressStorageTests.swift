import Testing
import Wire

/// `IPAddress` keeps its bytes in two words; each operation is checked against the same
/// operation done on the bytes, the way the address was stored before (an array).
@Suite struct IPAddressStorageTests {
    /// Random addresses of both versions, with shared prefixes so that order and prefix tests
    /// meet equal leading bytes often.
    static func addresses(_ n: Int) -> [[UInt8]] {
        var rng = SystemRandomNumberGenerator()
        let base: [UInt8] = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return (0..<n).map { _ in
            let count = Bool.random(using: &rng) ? 4 : 16
            let keep = Int.random(in: 0...count, using: &rng)
            return (0..<count).map { i in i < keep ? base[i] : UInt8.random(in: 0...255, using: &rng) }
        }
    }

    /// The byte-wise rule `isIn` had: every full byte of the prefix equal, then the masked one.
    static func byteWiseIsIn(_ a: [UInt8], _ net: [UInt8], _ prefix: Int) -> Bool {
        guard a.count == net.count else { return false }
        var bits = prefix
        for i in 0..<a.count {
            if bits <= 0 { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if a[i] & mask != net[i] & mask { return false }
            bits -= 8
        }
        return true
    }

    @Test func bytesRoundTripAndEveryByteReads() {
        for b in Self.addresses(3000) {
            let a = IPAddress(bytes: b)
            #expect(a.bytes == b)
            #expect(a.version == (b.count == 4 ? .v4 : .v6))
            #expect((0..<b.count).map(a.byte) == b)
            var buffer = [UInt8](repeating: 0xEE, count: b.count + 3)
            a.write(into: &buffer, at: 2)
            #expect(Array(buffer[2..<(2 + b.count)]) == b)
            #expect(buffer[0] == 0xEE && buffer[1] == 0xEE && buffer.last == 0xEE)
            // From a slice in the middle of a frame.
            let frame = [0x01, 0x02] + b + [0x03]
            #expect(IPAddress(bytes: frame[2..<(2 + b.count)]) == a)
        }
    }

    @Test func equalityHashAndOrderFollowTheBytes() {
        let all = Self.addresses(400)
        for x in all {
            for y in all {
                let a = IPAddress(bytes: x), b = IPAddress(bytes: y)
                #expect((a == b) == (x == y))
                #expect((a < b) == x.lexicographicallyPrecedes(y), "\(a) < \(b)")
                if x == y { #expect(a.hashValue == b.hashValue) }
            }
        }
        // An IPv4 address and an IPv6 one starting with its four bytes: unequal, IPv4 first.
        let v4 = IPAddress(bytes: [10, 0, 0, 1]), v6 = IPAddress(bytes: [10, 0, 0, 1] + [UInt8](repeating: 0, count: 12))
        #expect(v4 != v6 && v4 < v6 && !(v6 < v4))
        #expect(Set([v4, v6]).count == 2)
    }

    @Test func isInMatchesTheByteWiseRule() {
        let all = Self.addresses(300)
        for x in all {
            for y in all.prefix(60) {
                for prefix in [0, 1, 7, 8, 9, 16, 23, 24, 25, 31, 32, 33, 48, 63, 64, 65, 96, 127, 128] {
                    #expect(IPAddress(bytes: x).isIn(IPAddress(bytes: y), prefix: prefix) == Self.byteWiseIsIn(x, y, prefix),
                            "\(x) in \(y)/\(prefix)")
                }
            }
        }
    }
}
