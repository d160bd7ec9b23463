import Testing
import Simulation
import Wire

/// The one skb ↔ virtio_net_hdr conversion (include/linux/virtio_net.h).
@Suite struct VirtioConversionTests {
    @Test func partialBecomesNeedsCsumAtTheSameOffsets() {
        let h = VirtioNetHeader(skb: SkbState(ipSummed: .partial, csumStart: 34, csumOffset: 16), hasDataValid: false, headersLength: 66)
        #expect(h == VirtioNetHeader(flags: VirtioNetHeader.needsCsum, csumStart: 34, csumOffset: 16))
    }

    @Test func dataValidOnlyWhenTheCallerPassesIt() {
        let s = SkbState(ipSummed: .unnecessary)
        #expect(VirtioNetHeader(skb: s, hasDataValid: true, headersLength: 54).flags == VirtioNetHeader.dataValid)
        #expect(VirtioNetHeader(skb: s, hasDataValid: false, headersLength: 54).flags == 0)
        #expect(VirtioNetHeader(skb: SkbState(ipSummed: .complete), hasDataValid: true, headersLength: 54).flags == 0)
    }

    @Test func gsoHdrLenIsTheLinearLength() {
        var s = SkbState(ipSummed: .partial, csumStart: 34, csumOffset: 16)
        s.gsoSize = 1448
        s.gsoType = .tcpv4
        #expect(VirtioNetHeader(skb: s, hasDataValid: false, headersLength: 66).hdrLen == 66)
        s.headLength = 3066
        let h = VirtioNetHeader(skb: s, hasDataValid: false, headersLength: 66)
        #expect(h.hdrLen == 3066 && h.gsoSize == 1448 && h.gsoType == VirtioNetHeader.GSOType.tcpv4.rawValue)
    }

    @Test func toSkbHonoursNeedsCsumAndGSOButLeavesDataValidToTheCaller() {
        let h = VirtioNetHeader(flags: VirtioNetHeader.needsCsum | VirtioNetHeader.dataValid, gsoType: 1, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16)
        let s = SkbState(virtioHeader: h)
        #expect(s.ipSummed == .partial && s.csumStart == 34 && s.csumOffset == 16)
        #expect(s.gsoSize == 1448 && s.gsoType == .tcpv4 && s.gsoDodgy && s.headLength == nil)
        #expect(!SkbState(virtioHeader: h, gso: false).isGSO)
        #expect(SkbState(virtioHeader: VirtioNetHeader(flags: VirtioNetHeader.dataValid)).ipSummed == IPSummed.none)
    }

    @Test func aRoundTripKeepsThePromise() {
        let s = SkbState(ipSummed: .partial, csumStart: 54, csumOffset: 6)
        let back = SkbState(virtioHeader: VirtioNetHeader(skb: s, hasDataValid: true, headersLength: 62))
        #expect(back == s)
    }
}
