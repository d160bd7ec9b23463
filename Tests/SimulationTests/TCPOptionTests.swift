import Foundation
import Testing
import Simulation
import TestSupport
import TopologyFile

/// Per-host TCP options (`tcp-timestamps`, `sack`, `window-scaling`, `mss`): what the SYN
/// offers, what the SYN-ACK answers, what data segments carry, and the segment sizes that
/// follow. Expected option layouts are Linux's as tcpdump prints them (`mss 1460,sackOK,TS val
/// … ecr 0,nop,wscale 7`; with `tcp_timestamps=0`: `mss 1460,nop,nop,sackOK,nop,wscale 7`), read
/// back with the naive option reader in TestSupport; sizes are worked out here from the MTU.
@Suite struct TCPOptionTests {
    @Test func defaultOptionsAreLinuxs() throws {
        let tr = try run(loadShipped("tso-to-tap-without-tso").topology, flow: "bulk")
        let syn = try sent(tr, "bulk", "SYN")
        // MSS, SACK_PERM folded in front of TS, NOP, WSCALE 7: 20 option bytes.
        #expect(naiveTCPOptions(syn).map(\.kind) == [2, 4, 8, 1, 3])
        #expect(naiveTCPHeaderLength(syn) == 40)
        #expect(naiveTCPMSS(syn) == 1500 - 20 - 20)
        #expect(naiveTCPOptions(syn).last?.data == [7])
        let data = try sent(tr, "bulk", "data vm1→vm2")
        #expect(naiveTCPOptions(data).map(\.kind) == [1, 1, 8])
        #expect(try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2") == pieces(4000, 1500 - 20 - 20 - 12))
    }

    @Test func timestampsOffAtTheClient() throws {
        let t = try with(loadShipped("tso-to-tap-without-tso").topology, ["vm1.tcp-timestamps=off"])
        let tr = try run(t, flow: "bulk")
        let syn = try sent(tr, "bulk", "SYN")
        #expect(naiveTCPOptions(syn).map(\.kind) == [2, 1, 1, 4, 1, 3])
        #expect(naiveTCPHeaderLength(syn) == 32)
        let synack = try sent(tr, "bulk", "SYN-ACK")
        #expect(!naiveTCPOptionKinds(synack).contains(8))
        #expect(naiveTCPOptionKinds(synack) == [2, 4, 3])
        for name in ["data vm1→vm2", "data vm2→vm1"] {
            let d = try sent(tr, "bulk", name)
            #expect(naiveTCPHeaderLength(d) == 20, "\(name)")
        }
        // Without the 12-byte timestamp every segment carries 1460 bytes, not 1448.
        let cut = try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2")
        #expect(cut == pieces(4000, 1500 - 20 - 20))
        #expect(cut == [1460, 1460, 1080])
        #expect(tr.flows[0].verdict.completes)
    }

    /// Option bytes captured on this machine (6.18.44, two namespaces, a real connect()): the SYN
    /// and SYN-ACK with `tcp_timestamps=0` in the client; with timestamps on and `tcp_sack=0`,
    /// `tcp_window_scaling=0`. The kernel offered window scale 10 (`tcp_rmem[2]` 32 MiB); the
    /// simulation offers 7, so the last byte is taken from the simulation's constant.
    @Test func optionBytesMatchTheKernelsCapture() throws {
        let noTS = try run(with(loadShipped("tso-to-tap-without-tso").topology, ["vm1.tcp-timestamps=off"]), flow: "bulk")
        func hex(_ b: [UInt8]) -> String { b.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
        func opts(_ f: [UInt8]) -> [UInt8] { let t = naiveTCPOffset(f); return Array(f[(t + 20)..<(t + naiveTCPHeaderLength(f))]) }
        #expect(hex(opts(try sent(noTS, "bulk", "SYN"))) == "020405b40101040201030307")
        #expect(hex(opts(try sent(noTS, "bulk", "SYN-ACK"))) == "020405b40101040201030307")
        #expect(hex(opts(try sent(noTS, "bulk", "data vm1→vm2"))) == "")
        let noSack = try run(with(loadShipped("tso-to-tap-without-tso").topology, ["vm1.sack=off", "vm1.window-scaling=off"]), flow: "bulk")
        // Timestamp values differ (the kernel's clock); the layout around them is compared.
        #expect(hex(opts(try sent(noSack, "bulk", "SYN"))).prefix(16) == "020405b40101080a")
        #expect(opts(try sent(noSack, "bulk", "SYN")).count == 16)
        #expect(hex(opts(try sent(noSack, "bulk", "SYN-ACK"))).prefix(16) == "020405b40101080a")
        #expect(hex(opts(try sent(noSack, "bulk", "data vm1→vm2"))).prefix(8) == "0101080a")
        #expect(opts(try sent(noSack, "bulk", "data vm1→vm2")).count == 12)
    }

    @Test func timestampsOffAtTheServerOnly() throws {
        let t = try with(loadShipped("tso-to-tap-without-tso").topology, ["vm2.tcp-timestamps=off"])
        let tr = try run(t, flow: "bulk")
        // The client still offers; the server does not answer, so neither side's data has them.
        #expect(naiveTCPOptionKinds(try sent(tr, "bulk", "SYN")).contains(8))
        #expect(!naiveTCPOptionKinds(try sent(tr, "bulk", "SYN-ACK")).contains(8))
        #expect(naiveTCPHeaderLength(try sent(tr, "bulk", "data vm1→vm2")) == 20)
        #expect(try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2") == pieces(4000, 1460))
    }

    @Test func sackAndWindowScalingOff() throws {
        let t = try with(loadShipped("tso-to-tap-without-tso").topology, ["vm1.sack=off", "vm1.window-scaling=off"])
        let tr = try run(t, flow: "bulk")
        let syn = try sent(tr, "bulk", "SYN")
        // mss 1460,nop,nop,TS
        #expect(naiveTCPOptions(syn).map(\.kind) == [2, 1, 1, 8])
        #expect(naiveTCPHeaderLength(syn) == 36)
        // The server offers SACK and window scaling but answers only what the client offered.
        #expect(naiveTCPOptionKinds(try sent(tr, "bulk", "SYN-ACK")) == [2, 8])
        #expect(naiveTCPHeaderLength(try sent(tr, "bulk", "data vm1→vm2")) == 32)
    }

    @Test func mssClampsBothDirections() throws {
        let t = try with(loadShipped("tso-to-tap-without-tso").topology, ["vm2.mss=1000"])
        let tr = try run(t, flow: "bulk")
        #expect(naiveTCPMSS(try sent(tr, "bulk", "SYN")) == 1460)
        #expect(naiveTCPMSS(try sent(tr, "bulk", "SYN-ACK")) == 1000)
        // Each sender cuts min(its MSS, the peer's) less the timestamp option.
        #expect(try segmentPayloads(tr, "bulk", "data vm1→vm2", at: "tap2") == pieces(4000, 1000 - 12))
        let back = try #require(leg(tr, "bulk", "data vm2→vm1")?.steps.first?.after.skbState)
        #expect(back.gsoSize == 1000 - 12)
    }

    @Test func ipv6AdvertisesTheIPv6MSS() throws {
        let tr = try run(loadShipped("ipv6-routed-netns").topology)
        let syn = try #require(tr.flows.first { $0.kind == .tcp }?.legs.first?.steps.first?.frame)
        #expect(naiveTCPMSS(syn) == 1500 - 40 - 20)
    }

    @Test func profilesDefaultToEverythingOn() {
        for p in KernelProfile.allCases {
            let d = TCPOptionSettings.defaults(p)
            #expect(d.timestamps == true && d.sack == true && d.windowScaling == true && d.mss == nil, "\(p)")
        }
    }

    @Test func badValuesAreRefusedWithTheKey() throws {
        var t = try loadShipped("tso-to-tap-without-tso").topology
        #expect(throws: SettingError("'tcp-timestamps' expects on/off (or true/false), got 'maybe'")) {
            try t.apply(assignment: "vm1.tcp-timestamps=maybe")
        }
        #expect(throws: SettingError("'mss' expects a number of bytes from 88 to 32767 (TCP_MAXSEG) or auto, got '40'")) {
            try t.apply(assignment: "vm1.mss=40")
        }
        #expect(throws: SettingError.self) { try t.apply(assignment: "tap1.tcp-timestamps=off") }
    }

    @Test func fileSettingsRoundTripAndErrorsPointAtTheValue() throws {
        let loaded = try loadShipped("tcp-no-timestamps")
        let vm1 = try #require(loaded.topology.node(named: "vm1"))
        #expect(vm1.tcp.timestamps == false)
        var t = loaded.topology
        try t.apply(assignment: "vm2.mss=1200")
        try t.apply(assignment: "vm2.sack=off")
        let text = TopologyWriter.yaml(t)
        #expect(text.contains("tcp-timestamps: off"))
        #expect(text.contains("mss: 1200"))
        #expect(try TopologyFile.parse(text, file: "x.yaml").topology == t)
        let bad = text.replacingOccurrences(of: "mss: 1200", with: "mss: lots")
        do {
            _ = try TopologyFile.parse(bad, file: "x.yaml")
            Issue.record("a bad mss loaded")
        } catch {
            let line = bad.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("mss: lots") }! + 1
            #expect(error.description.hasPrefix("x.yaml:\(line):"))
            #expect(error.description.contains("'mss' expects a number"))
        }
    }

    @Test func optionsMenuOffersTheHostSettings() throws {
        let t = try loadShipped("tcp-no-timestamps").topology
        let items = SettingItem.items(for: "vm1", topology: t, trace: try run(t))
        let ts = try #require(items.first { $0.key == "tcp-timestamps" })
        #expect(ts.value == "off" && ts.next == "on")
        #expect(items.first { $0.key == "sack" }?.value == "on")
        let mss = try #require(items.first { $0.key == "mss" })
        #expect(mss.value == "auto")
        var t2 = t
        try t2.apply(assignment: mss.assignment(try #require(mss.next)))
        #expect(t2.node(named: "vm1")?.tcp.mss == Int(mss.next!))
    }
}
