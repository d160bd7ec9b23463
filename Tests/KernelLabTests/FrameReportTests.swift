import Testing
import Wire
@testable import KernelLab

@Suite struct FrameReportTests {
    static let v4 = PacketBuilder(sourceMAC: [2, 0, 0, 0, 0, 1], destinationMAC: [2, 0, 0, 0, 0, 2],
                                  source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)

    static func syn(_ fill: PacketBuilder.ChecksumFill) -> Frame {
        v4.tcp(sourcePort: 40000, destinationPort: 22, seq: 1, ack: 0, flags: [.syn], checksum: fill)
    }

    @Test func partialFrameHoldsPseudoHeaderSumAndIsInvalid() {
        let f = Self.syn(.partial)
        let r = FrameReport(frame: f.bytes, header: nil)
        #expect(r.l4Protocol == "TCP")
        #expect(r.l4HoldsPseudoHeaderSum == true)
        #expect(r.l4Valid == false)
        #expect(r.l4Field == r.l4PseudoHeaderSum)
        // Independent: the pseudo-header sum of 10.0.0.1 -> 10.0.0.2, proto 6, length 20.
        let pseudo = Naive.sum([10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20])
        #expect(r.l4PseudoHeaderSum == hex16(UInt16(pseudo)))
    }

    @Test func completeFrameIsValidAndCorrectMatchesNaive() {
        let f = Self.syn(.complete)
        let r = FrameReport(frame: f.bytes, header: nil)
        #expect(r.l4Valid == true)
        #expect(r.l4HoldsPseudoHeaderSum == false)
        var seg = Array(f.bytes[34...])
        seg[16] = 0
        seg[17] = 0
        #expect(r.l4Correct == hex16(Naive.l4v4(source: [10, 0, 0, 1], destination: [10, 0, 0, 2], proto: 6, segment: seg)))
        #expect(r.l4Field == r.l4Correct)
        #expect(r.ttl == 64)
        #expect(r.ipv4HeaderChecksumValid == true)
        #expect(r.tcpFlags == "SYN")
        #expect(r.tcpSeq == 1)
        #expect(r.sourcePort == 40000 && r.destinationPort == 22)
        #expect(r.frameLength == f.bytes.count)
        #expect(r.source == "10.0.0.1" && r.destination == "10.0.0.2")
        #expect(r.destinationMAC == "02:00:00:00:00:02")
    }

    @Test func vnetHeaderPrefixIsSplitOff() {
        let f = Self.syn(.partial)
        let h = VirtioNetHeader(flags: 1, csumStart: 34, csumOffset: 16)
        let r = FrameReport(bytes: h.bytes + f.bytes, vnetHeaderSize: 10)
        #expect(r.vnetHeader?.flags == 1)
        #expect(r.vnetHeader?.flagNames == ["NEEDS_CSUM"])
        #expect(r.vnetHeader?.csumStart == 34)
        #expect(r.vnetHeader?.csumOffset == 16)
        #expect(r.vnetHeader?.hex == "01000000000022001000")
        #expect(r.frameHex == f.bytes.hexString)
    }

    @Test func vnetHeaderNames() {
        let h = VnetHeaderReport(VirtioNetHeader(flags: 3, gsoType: 0x81, hdrLen: 54, gsoSize: 1448))
        #expect(h.flagNames == ["NEEDS_CSUM", "DATA_VALID"])
        #expect(h.flagsText == "NEEDS_CSUM|DATA_VALID")
        #expect(h.gsoTypeName == "TCPV4|ECN")
        #expect(VnetHeaderReport(VirtioNetHeader()).flagsText == "0")
        #expect(VnetHeaderReport(VirtioNetHeader(gsoType: 4)).gsoTypeName == "TCPV6")
    }

    @Test func nonIPFrameRecordsParseError() {
        let arp = [UInt8](repeating: 0xFF, count: 6) + [2, 0, 0, 0, 0, 1] + [0x08, 0x06] + [UInt8](repeating: 0, count: 28)
        let r = FrameReport(frame: arp, header: nil)
        #expect(r.parseError != nil)
        #expect(r.l4Valid == nil)
        #expect(r.sourceMAC == "02:00:00:00:00:01")
    }

    @Test func ipv6UDP() {
        let b = PacketBuilder(sourceMAC: [2, 0, 0, 0, 0, 1], destinationMAC: [2, 0, 0, 0, 0, 2],
                              source: IPAddress("fd00::1")!, destination: IPAddress("fd00::2")!)
        let r = FrameReport(frame: b.udp(sourcePort: 67, destinationPort: 68, payload: [1, 2, 3], checksum: .complete).bytes, header: nil)
        #expect(r.ipVersion == 6)
        #expect(r.ipID == nil)
        #expect(r.ipLength == 11)
        #expect(r.l4Valid == true)
        #expect(r.tcpSeq == nil)
    }

    @Test func packetObservationNamesStatusBits() {
        let f = Self.syn(.partial)
        let o = PacketObservation(at: "r:x", reading: PacketReading(bytes: f.bytes, packetType: 4, tpStatus: 0x88), vnetHeaderSize: 0)
        #expect(o.tpStatusNames == ["TP_STATUS_CSUMNOTREADY", "TP_STATUS_CSUM_VALID"])
        #expect(o.packetType == 4)
    }
}

@Suite struct ForwarderRouteTests {
    static let inMAC: [UInt8] = [2, 0, 0, 0, 0x0a, 2]
    static let outMAC: [UInt8] = [2, 0, 0, 0, 0x0b, 2]
    static let next: [UInt8] = [0x52, 0x54, 0, 0, 0, 2]

    static func frame(_ dst: [UInt8], v6: Bool = false, ttl: UInt8 = 64) -> Frame {
        var b = PacketBuilder(sourceMAC: [0x52, 0x54, 0, 0, 0, 1], destinationMAC: dst,
                              source: IPAddress(v6 ? "fd00:1::2" : "10.0.1.2")!, destination: IPAddress(v6 ? "fd00:2::2" : "10.0.2.2")!)
        b.ttl = ttl
        return b.tcp(sourcePort: 40000, destinationPort: 22, seq: 7, ack: 0, flags: [.syn], checksum: .partial)
    }

    @Test func rewritesMACsTTLAndIPHeaderOnly() throws {
        let f = Self.frame(Self.inMAC)
        let out = try #require(Forwarder.route(f.bytes, inputMAC: Self.inMAC, outputMAC: Self.outMAC, nextHopMAC: Self.next))
        #expect(Array(out[0..<6]) == Self.next)
        #expect(Array(out[6..<12]) == Self.outMAC)
        #expect(out[14 + 8] == 63)
        #expect(Naive.sum(Array(out[14..<34])) == 0xFFFF, "IPv4 header checksum must verify")
        #expect(Array(out[34...]) == Array(f.bytes[34...]), "L4 bytes untouched")
    }

    @Test func ipv6HopLimit() throws {
        let f = Self.frame(Self.inMAC, v6: true)
        let out = try #require(Forwarder.route(f.bytes, inputMAC: Self.inMAC, outputMAC: Self.outMAC, nextHopMAC: Self.next))
        #expect(out[14 + 7] == 63)
        #expect(Array(out[54...]) == Array(f.bytes[54...]))
    }

    @Test func ignoresOtherMACsAndExpiredTTL() {
        #expect(Forwarder.route(Self.frame(Self.next).bytes, inputMAC: Self.inMAC, outputMAC: Self.outMAC, nextHopMAC: Self.next) == nil)
        #expect(Forwarder.route(Self.frame(Self.inMAC, ttl: 0).bytes, inputMAC: Self.inMAC, outputMAC: Self.outMAC, nextHopMAC: Self.next) == nil)
        #expect(Forwarder.route([1, 2, 3], inputMAC: Self.inMAC, outputMAC: Self.outMAC, nextHopMAC: Self.next) == nil)
    }
}

@Suite struct TapRelayTests {
    @Test func routerGuestKeepsNeedsCsumAndGSO() {
        let h = VirtioNetHeader(flags: 1, gsoType: 1, hdrLen: 54, gsoSize: 1448, csumStart: 34, csumOffset: 16)
        #expect(TapRelay.transmitHeader(for: h) == h)
    }

    @Test func dataValidIsNotTransmitted() {
        #expect(TapRelay.transmitHeader(for: VirtioNetHeader(flags: 2)) == VirtioNetHeader())
        #expect(TapRelay.transmitHeader(for: VirtioNetHeader(flags: 3, csumStart: 34, csumOffset: 16)) == VirtioNetHeader(flags: 1, csumStart: 34, csumOffset: 16))
    }
}
