import Testing
import Wire

/// An address's text as steps name it, against the plain way of writing it.
@Suite struct IPAddressTextTests {
    @Test func dottedQuadMatchesThePlainJoin() {
        var rng = SystemRandomNumberGenerator()
        var cases: [[UInt8]] = [[0, 0, 0, 0], [255, 255, 255, 255], [10, 0, 1, 2], [9, 99, 100, 199]]
        for _ in 0..<2000 { cases.append((0..<4).map { _ in UInt8.random(in: 0...255, using: &rng) }) }
        for b in cases {
            let plain = b.map { String($0) }.joined(separator: ".")
            #expect(IPAddress(bytes: b).description == plain)
            // A slice in the middle of a frame, as a step reads it.
            let frame = [0xAA, 0xBB] + b + [0xCC]
            #expect(IPAddress.text(frame[2..<6]) == plain)
            #expect(IPAddress(plain) == IPAddress(bytes: b))
        }
    }

    @Test func ipv6TextFromASlice() throws {
        let a = try #require(IPAddress("fd00:1::2"))
        let frame = [0x01] + a.bytes + [0x02]
        #expect(IPAddress.text(frame[1..<17]) == "fd00:1::2")
    }
}
