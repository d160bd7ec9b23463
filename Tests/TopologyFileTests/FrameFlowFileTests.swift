import Testing
import Simulation
import TestSupport
import Wire
@testable import TopologyFile

/// A guest on tap1, a bridge, a guest on tap2: tap1's fd side (vm1) writes the frame flows.
private let lab = """
csumlab: 1
name: frames
nodes:
  vm1:
    kind: vm
    interfaces:
      eth0: {address: 10.0.0.1/24}
  vm2:
    kind: vm
    interfaces:
      eth0: {address: 10.0.0.2/24}
  tap1: {kind: tap, vnet-hdr: true}
  tap2: {kind: tap, vnet-hdr: true}
  br0: {kind: bridge}
links:
  - endpoints: ["vm1:eth0", "tap1"]
  - endpoints: ["tap1", "br0"]
  - endpoints: ["br0", "tap2"]
  - endpoints: ["tap2", "vm2:eth0"]
flows:
  dv:
    type: frame
    from: vm1
    to: vm2
    tap: tap1
    protocol: udp
    port: 5001
    payload: 64
    checksum: corrupt
    corrupt-byte: 3
    vnet: {flags: [data-valid], gso-type: none}
  nc:
    type: frame
    from: vm1
    to: vm2
    tap: tap1
    protocol: tcp
    port: 80
    source-port: 41000
    checksum: pseudo
    vnet: {flags: [needs-csum], gso-type: tcpv4, ecn: true, gso-size: 1448, hdr-len: 66, csum-start: 34, csum-offset: 16}
  raw:
    type: frame
    from: vm1
    to: vm2
    tap: tap1
    hex: "00 11 22 33 44 55 66 77 88 99 aa bb 08 00"

"""

private func replacing(_ a: String, _ b: String, in text: String = lab) -> String {
    precondition(text.contains(a), "fixture lacks \(a)")
    return text.replacingFirst(a, with: b)
}

/// Line (1-based) of the first line of `text` containing `needle`.
private func line(of needle: String, in text: String) -> Int {
    (text.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains(needle) } ?? -1) + 1
}

@Suite struct FrameFlowFileTests {
    /// The raw flow's hex is not a whole IP frame, so the validator refuses it; the others load.
    private var loadable: String { replacing("  raw:\n    type: frame\n    from: vm1\n    to: vm2\n    tap: tap1\n    hex: \"00 11 22 33 44 55 66 77 88 99 aa bb 08 00\"\n", "") }

    @Test func everyFieldReachesTheFlow() throws {
        let t = try TopologyFile.parse(loadable, file: "lab.yaml").topology
        let dv = try #require(t.flows.first { $0.name == "dv" })
        #expect(dv.kind == .frame && dv.frame.tap == "tap1" && dv.frame.proto == .udp && dv.port == 5001 && dv.payload == 64)
        #expect(dv.frame.checksum == .corrupt && dv.corruptByte == 3 && dv.frame.bytes == nil)
        #expect(dv.frame.vnet == VirtioNetHeader(flags: VirtioNetHeader.dataValid))
        let nc = try #require(t.flows.first { $0.name == "nc" })
        #expect(nc.frame.proto == .tcp && nc.frame.sourcePort == 41000 && nc.frame.checksum == .pseudo)
        #expect(nc.frame.vnet == VirtioNetHeader(flags: VirtioNetHeader.needsCsum, gsoType: 0x81, hdrLen: 66, gsoSize: 1448, csumStart: 34, csumOffset: 16))
    }

    @Test func hexIsReadWithSpacesAndColons() throws {
        // Parse only (the validator would refuse a frame with no IP header).
        let root = try #require(try TopologyFile.compose(lab, file: "lab.yaml"))
        var p = Parser(file: "lab.yaml")
        let t = p.topology(root)
        let raw = try #require(t.flows.first { $0.name == "raw" })
        #expect(raw.frame.bytes == [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00])
        var q = Parser(file: "lab.yaml")
        _ = q.topology(try #require(try TopologyFile.compose(replacing("88 99 aa bb", "88:99:AA:BB"), file: "lab.yaml")))
        #expect(q.diagnostics.isEmpty)
    }

    @Test func writerRoundTripsFrameFlows() throws {
        let loaded = try TopologyFile.parse(loadable, file: "lab.yaml")
        var t = loaded.topology
        // A hex frame too: the built dv frame, given whole.
        var whole = try #require(t.flows.first { $0.name == "dv" })
        whole.name = "whole"
        whole.frame.bytes = try Simulator(t).frameBytes(whole)
        // With `hex` the built-frame keys are not written (they say nothing): read back as defaults.
        whole.frame.checksum = FrameInjection().checksum
        t.flows.append(whole)
        let text = TopologyWriter.yaml(t, expectations: loaded.expectations)
        #expect(text.contains("protocol: udp") && text.contains("hex: "))
        #expect(text.contains("vnet: {flags: [data-valid]}\n"), "only what differs from a zero header is written")
        t.flows[0].frame.vnet = VirtioNetHeader()
        #expect(TopologyWriter.yaml(t).contains("vnet: {}\n"))
        let back = try TopologyFile.parse(TopologyWriter.yaml(t, expectations: loaded.expectations), file: "back.yaml").topology
        #expect(back.flows == t.flows)
    }

    @Test func shippedFrameFlowsSurviveTheWriter() throws {
        var seen = 0
        for (name, text) in FuzzTests.shipped where text.contains("type: frame") {
            let a = try TopologyFile.parse(text, file: name)
            let b = try TopologyFile.parse(TopologyWriter.yaml(a.topology, expectations: a.expectations), file: name)
            #expect(b.topology.flows == a.topology.flows, "\(name)")
            #expect(b.expectations == a.expectations, "\(name)")
            seen += a.topology.flows.filter { $0.kind == .frame }.count
        }
        #expect(seen >= 4, "the shipped frame-injection lab has its frame flows")
    }

    @Test func builtFramesCarryTheChosenChecksum() throws {
        let t = try TopologyFile.parse(loadable, file: "lab.yaml").topology
        let sim = Simulator(t)
        var f = try #require(t.flows.first { $0.name == "dv" })
        for mode in FrameInjection.ChecksumMode.allCases {
            for proto in [IPProtocol.udp, .tcp] {
                f.frame.checksum = mode
                f.frame.proto = proto
                var b = try sim.frameBytes(f)
                let off = 14 + 20 + (proto == .tcp ? 16 : 6)
                let field = UInt16(b[off]) << 8 | UInt16(b[off + 1])
                switch mode {
                case .pseudo: #expect(field == naivePseudoHeaderSum(b), "\(proto) \(mode)")
                case .full: #expect(field == naiveL4Checksum(b), "\(proto) \(mode)")
                case .corrupt:
                    #expect(field != naiveL4Checksum(b), "\(proto) \(mode)")
                    let payloadStart = 14 + 20 + (proto == .tcp ? 20 : 8)  // the built TCP segment has no options
                    b[payloadStart + f.corruptByte] ^= 0x01
                    #expect(field == naiveL4Checksum(b), "\(proto) \(mode): the sum is of the frame before the flip")
                }
            }
        }
    }

    @Test func badFieldsAreLocated() {
        let cases: [(String, String, String, String)] = [
            ("flags: [data-valid]", "flags: [data-valid, bogus]", "'flags' expects", "flags: [data-valid, bogus]"),
            ("gso-type: tcpv4", "gso-type: tso", "'gso-type' expects", "gso-type: tso"),
            ("gso-size: 1448", "gso-size: 70000", "'gso-size' expects a number from 0 to 65535", "gso-size: 70000"),
            ("ecn: true", "ecn: maybe", "'ecn' expects true or false", "ecn: maybe"),
            ("checksum: corrupt", "checksum: wrong", "'checksum' expects one of pseudo, full, corrupt", "checksum: wrong"),
            ("protocol: udp", "protocol: sctp", "'protocol' expects tcp or udp", "protocol: sctp"),
            ("source-port: 41000", "source-port: 0", "'source-port' expects", "source-port: 0"),
            ("gso-type: none}", "gso-type: none, colour: red}", "unknown key 'colour' in 'vnet'", "colour: red"),
            ("aa bb 08 00\"", "aa bb 08 0\"", "'hex' expects the whole Ethernet frame", "aa bb 08 0\""),
            ("aa bb 08 00\"", "aa bb 08 +0\"", "'hex' expects the whole Ethernet frame", "aa bb 08 +0\""),
            ("aa bb 08 00\"", "aa bb\"", "'hex' expects the whole Ethernet frame", "aa bb\""),
        ]
        for (a, b, message, at) in cases {
            let text = replacing(a, b)
            let e = errors(text)
            let hit = e.first { $0.message.contains(message) }
            #expect(hit != nil, "\(b): \(e)")
            #expect(hit?.line == line(of: at, in: text), "\(b): \(String(describing: hit))")
        }
    }

    @Test func frameKeysNeedAFrameFlowAndAFrameFlowNeedsATap() {
        let text = lab + "  ssh: {type: tcp, from: vm1, to: vm2, tap: tap1}\n"
        #expect(errors(text).contains { $0.message.contains("'tap' belongs to a 'type: frame' flow") && $0.line == line(of: "ssh:", in: text) })
        let noTap = replacing("    tap: tap1\n    protocol: udp", "    protocol: udp", in: loadable)
        #expect(errors(noTap).contains { $0.message.contains("frame flow 'dv' has no 'tap'") && $0.line == line(of: "  dv:", in: noTap) })
    }

    @Test func theTapMustBeATapWrittenByTheSender() {
        let notTap = replacing("    tap: tap1\n    protocol: udp", "    tap: br0\n    protocol: udp", in: loadable)
        #expect(errors(notTap).contains { $0.message.contains("'br0' is a bridge, not a TAP") && $0.line == line(of: "tap: br0", in: notTap) })
        let unknown = replacing("    tap: tap1\n    protocol: udp", "    tap: tap9\n    protocol: udp", in: loadable)
        #expect(errors(unknown).contains { $0.message.contains("unknown TAP 'tap9'") && $0.line == line(of: "tap: tap9", in: unknown) })
        // tap2's fd side is vm2, so vm1 cannot write into it.
        let wrongSide = replacing("    tap: tap1\n    protocol: udp", "    tap: tap2\n    protocol: udp", in: loadable)
        #expect(errors(wrongSide).contains { $0.message.contains("written by vm2") }, "\(errors(wrongSide))")
        #expect(errors(lab).contains { $0.message.contains("frame flow 'raw'") && $0.message.contains("does not parse") }, "\(errors(lab))")
        // Without IFF_VNET_HDR only the frame is written: a header in the file would not be.
        let bare = replacing("tap1: {kind: tap, vnet-hdr: true}", "tap1: {kind: tap, vnet-hdr: off}", in: loadable)
        #expect(errors(bare).contains { $0.message.contains("frame flow 'dv'") && $0.message.contains("'vnet' must stay all zero") && $0.line == line(of: "  dv:", in: bare) },
                "\(errors(bare))")
        let bareZero = replacing("vnet: {flags: [data-valid], gso-type: none}", "vnet: {}", in: bare)
        #expect(!errors(bareZero).contains { $0.message.contains("frame flow 'dv'") }, "\(errors(bareZero))")
    }
}
