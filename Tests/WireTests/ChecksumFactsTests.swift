import Testing
import Checksum
@testable import Wire
import TestSupport

/// `Frame.l4ChecksumFacts` (one pass, what a recorded step shows) against the four functions it
/// stands for, each summing the segment on its own.
@Suite struct ChecksumFactsTests {
    static func expectSame(_ f: Frame, _ label: String) throws {
        let l = try f.layout()
        let facts = f.l4ChecksumFacts(l)
        #expect(facts.field == f.l4Checksum(l), "\(label)")
        #expect(facts.correct == f.correctL4Checksum(l), "\(label)")
        #expect(facts.valid == f.l4ChecksumIsValid(l), "\(label)")
        #expect(facts.pseudoSum == f.partialChecksumValue(l), "\(label)")
    }

    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomFramesAgree(seed: UInt64) throws {
        var rng = Rng(state: seed)
        for i in 0..<300 {
            let v6 = rng.next() % 2 == 0
            let payload = (0..<Int(rng.next() % 97)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var f: Frame
            switch rng.next() % 3 {
            case 0: f = builder(v6).tcp(sourcePort: 40000, destinationPort: 22, seq: UInt32(truncatingIfNeeded: rng.next()), ack: 0, flags: .ack,
                                       payload: payload, checksum: .complete)
            case 1: f = builder(v6).udp(sourcePort: 5353, destinationPort: 53, payload: payload, checksum: .complete)
            default: f = builder(v6).icmpEcho(reply: false, identifier: 7, sequence: UInt16(i), payload: payload, checksum: .complete)
            }
            let l = try f.layout()
            let correct = f.correctL4Checksum(l)
            // The field as written, zero, the other zero, one bit off, and a random value.
            for field in [correct, 0, 0xFFFF, correct ^ 0x0100, UInt16(truncatingIfNeeded: rng.next())] {
                f.setL4Checksum(field, l)
                try Self.expectSame(f, "seed \(seed) frame \(i) field \(field)")
            }
        }
    }
}
