import Testing
import Checksum
@testable import Wire
import TestSupport

/// Header fields read and written by name (`HeaderField.swift`), checked against the byte
/// positions RFC 791 / 8200 / 9293 give, and the checksum arithmetic they share.
@Suite struct HeaderFieldTests {
    @Test func tcpFlagsAndICMPTypeAreReadByName() throws {
        let synAck = builder().tcp(sourcePort: 22, destinationPort: 40000, seq: 1, ack: 2, flags: [.syn, .ack], payload: [], checksum: .complete)
        let l = try synAck.layout()
        #expect(synAck.tcpFlags(l) == [.syn, .ack])
        #expect(synAck.bytes[l.l4Offset + 13] == 0x12)
        #expect(synAck.icmpType(l) == nil)
    }

    @Test func dontFragmentIsBitOneOfTheFlags() throws {
        var f = builder().udp(sourcePort: 1, destinationPort: 2, payload: [1, 2, 3], checksum: .complete)
        let l = try f.layout()
        #expect(f.mayNotFragment(l) == (f.bytes[14 + 6] & 0x40 != 0))
        f.bytes[14 + 6] |= 0x40
        #expect(f.mayNotFragment(l))
        f.clearDontFragment(l)
        #expect(!f.mayNotFragment(l) && f.ipv4Checksum(l) == naiveIPv4HeaderChecksum(f.bytes))
    }

    /// A userspace router recomputes the header checksum; the kernel updates it incrementally.
    /// Both give the naive checksum of the new header, away from the carry corner case.
    @Test func bothTTLDecrementsAgreeWithTheNaiveChecksum() throws {
        let f = builder().tcp(sourcePort: 40000, destinationPort: 22, seq: 1, ack: 0, flags: .syn, payload: [], checksum: .complete)
        let l = try f.layout()
        var kernel = f
        kernel.decrementTTL(l)
        var program = f
        program.decrementTTLRecomputingHeader(l)
        #expect(kernel.bytes == program.bytes)
        #expect(kernel.ttl(l) == f.ttl(l) - 1)
        #expect(kernel.ipv4Checksum(l) == naiveIPv4HeaderChecksum(kernel.bytes))
    }

    /// `ip_decrease_ttl()`: `check += htons(0x0100)` with the end-around carry.
    @Test func kernelTTLUpdateCarriesAroundTheEnd() {
        #expect(InternetChecksum.decrementTTL(checksum: 0x1234) == 0x1334)
        #expect(InternetChecksum.decrementTTL(checksum: 0xFF00) == 0x0001)
        #expect(InternetChecksum.decrementTTL(checksum: 0xFEFF) == 0x0000)
    }
}
