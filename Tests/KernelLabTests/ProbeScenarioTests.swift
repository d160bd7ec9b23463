import Testing
import Wire
@testable import KernelLab

@Suite struct ProbeScenarioTests {
    static func scenario(_ name: String) throws -> ProbeScenario {
        try #require(ProbeScenario.all.first { $0.name == name })
    }

    @Test func namesAreUnique() {
        let names = ProbeScenario.all.map(\.name)
        #expect(Set(names).count == names.count)
    }

    @Test func seedSynHasNeedsCsumAt34Slash16() throws {
        let s = try Self.scenario("bridged-tcp-syn")
        let (f, h) = ProbeRunner.buildFrame(s, destinationMAC: [0x52, 0x54, 0, 0, 0, 2], source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        #expect(h == VirtioNetHeader(flags: 1, csumStart: 34, csumOffset: 16))
        let r = FrameReport(frame: f.bytes, header: nil)
        #expect(r.l4HoldsPseudoHeaderSum == true)
        #expect(r.destinationPort == 22)
        #expect(r.tcpFlags == "SYN")
    }

    @Test func udpAndIPv6Offsets() throws {
        let (_, hu) = ProbeRunner.buildFrame(try Self.scenario("bridged-udp-dhcp"), destinationMAC: [2, 0, 0, 0, 0, 2],
                                             source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        #expect(hu.csumStart == 34 && hu.csumOffset == 6)
        let (_, h6) = ProbeRunner.buildFrame(try Self.scenario("bridged-tcp6-syn"), destinationMAC: [2, 0, 0, 0, 0, 2],
                                             source: IPAddress("fd00::1")!, destination: IPAddress("fd00::2")!)
        #expect(h6.csumStart == 54 && h6.csumOffset == 16)
    }

    @Test func tsoHeader() throws {
        let (f, h) = ProbeRunner.buildFrame(try Self.scenario("bridged-tso4-tap2-no-offload"), destinationMAC: [2, 0, 0, 0, 0, 2],
                                            source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        #expect(h.gsoType == 1 && h.gsoSize == 1448 && h.hdrLen == 54 && h.flags == 1)
        #expect(f.bytes.count == 14 + 20 + 20 + 4000)
    }

    @Test func completeAndCorruptedFrames() throws {
        let (fc, hc) = ProbeRunner.buildFrame(try Self.scenario("bridged-tcp-syn-complete"), destinationMAC: [2, 0, 0, 0, 0, 2],
                                              source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        #expect(hc == VirtioNetHeader())
        #expect(FrameReport(frame: fc.bytes, header: nil).l4Valid == true)
        let (fx, hx) = ProbeRunner.buildFrame(try Self.scenario("bridged-tcp-syn-data-valid-corrupt"), destinationMAC: [2, 0, 0, 0, 0, 2],
                                              source: IPAddress("10.0.0.1")!, destination: IPAddress("10.0.0.2")!)
        #expect(hx.flags == VirtioNetHeader.dataValid)
        #expect(FrameReport(frame: fx.bytes, header: nil).l4Valid == false)
    }

    @Test func dhcpOfferShape() {
        let p = ProbeRunner.dhcpOffer()
        #expect(p.count == 300)
        #expect(p[0] == 2)
        #expect(Array(p[236..<240]) == [0x63, 0x82, 0x53, 0x63])
    }
}
