@testable import csumlab
import ProcessSpawn
import Simulation
import Testing
import TopologyFile
import TraceReport

#if canImport(Glibc)
import Glibc
#endif

let tsharkPath = Spawn.which("tshark")
let isCI = getenv("CI").map { String(cString: $0) == "true" } ?? false

/// A pcapng reader written from draft-ietf-opsawg-pcapng for these tests alone: it shares no
/// code with `Pcapng`/`TracePcapng` and checks what a writer MUST do as it reads.
struct PcapngReader {
    struct Interface: Equatable {
        var linkType: UInt16
        var snapLength: UInt32
        var name: String?
        var tsresol: UInt8?
    }

    struct Packet {
        var interface: UInt32
        var timestamp: UInt64
        var data: [UInt8]
        var originalLength: UInt32
        var flags: UInt32?
        var packetID: UInt64?
        var comments: [String]
    }

    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    var interfaces: [Interface] = []
    var packets: [Packet] = []
    var userApplication: String?
    var blockOffsets: [Int] = []

    init(_ b: [UInt8]) throws {
        var pos = 0
        var bigEndian = false
        func u16(_ at: Int) -> UInt16 {
            let (x, y) = (UInt16(b[at]), UInt16(b[at + 1]))
            return bigEndian ? x << 8 | y : y << 8 | x
        }
        func u32(_ at: Int) -> UInt32 {
            let v = (0..<4).map { UInt32(b[at + $0]) }
            return bigEndian ? v[0] << 24 | v[1] << 16 | v[2] << 8 | v[3] : v[3] << 24 | v[2] << 16 | v[1] << 8 | v[0]
        }
        // Options (§3.5): 16-bit code, 16-bit length, value padded to 4, ended by code 0 length 0.
        func options(_ from: Int, _ end: Int) throws -> [(UInt16, [UInt8])] {
            var out: [(UInt16, [UInt8])] = []
            var p = from
            var ended = false
            while p < end {
                guard p + 4 <= end else { throw Problem(description: "option header past the block at \(p)") }
                let code = u16(p), len = Int(u16(p + 2))
                if code == 0 {
                    guard len == 0 else { throw Problem(description: "opt_endofopt with length \(len)") }
                    ended = true
                    p += 4
                    break
                }
                let padded = (len + 3) / 4 * 4
                guard p + 4 + padded <= end else { throw Problem(description: "option \(code) runs past the block") }
                guard b[(p + 4 + len)..<(p + 4 + padded)].allSatisfy({ $0 == 0 }) else {
                    throw Problem(description: "option \(code) padding is not zero")
                }
                out.append((code, Array(b[(p + 4)..<(p + 4 + len)])))
                p += 4 + padded
            }
            if from < end {
                guard ended else { throw Problem(description: "an option list without opt_endofopt") }
                guard p == end else { throw Problem(description: "\(end - p) bytes after opt_endofopt") }
            }
            return out
        }
        func text(_ v: [UInt8]) throws -> String {
            guard let s = String(validating: v, as: UTF8.self) else { throw Problem(description: "a string option that is not UTF-8") }
            return s
        }
        var sawSection = false
        while pos < b.count {
            guard pos % 4 == 0, pos + 12 <= b.count else { throw Problem(description: "block at \(pos): misaligned or truncated") }
            blockOffsets.append(pos)
            if !sawSection {
                // §4.1: the first block is a Section Header Block; its magic gives the byte order.
                guard Array(b[pos..<(pos + 4)]) == [0x0A, 0x0D, 0x0D, 0x0A] else { throw Problem(description: "the file does not start with an SHB") }
                if Array(b[(pos + 8)..<(pos + 12)]) == [0x1A, 0x2B, 0x3C, 0x4D] { bigEndian = true }
                else if Array(b[(pos + 8)..<(pos + 12)]) == [0x4D, 0x3C, 0x2B, 0x1A] { bigEndian = false }
                else { throw Problem(description: "bad byte-order magic") }
            }
            let type = u32(pos), total = Int(u32(pos + 4))
            guard total % 4 == 0, total >= 12, pos + total <= b.count else { throw Problem(description: "block at \(pos): total length \(total)") }
            guard Int(u32(pos + total - 4)) == total else { throw Problem(description: "block at \(pos): trailing length differs") }
            let body = pos + 8, end = pos + total - 4
            switch type {
            case 0x0A0D_0D0A:
                guard u16(body + 4) == 1, u16(body + 6) == 0 else { throw Problem(description: "SHB version") }
                for (c, v) in try options(body + 16, end) where c == 4 { userApplication = try text(v) }
                sawSection = true
            case 1:
                guard u16(body + 2) == 0 else { throw Problem(description: "IDB reserved field not zero") }
                var i = Interface(linkType: u16(body), snapLength: u32(body + 4))
                for (c, v) in try options(body + 8, end) {
                    if c == 2 { i.name = try text(v) }
                    if c == 9 { i.tsresol = v.first }
                }
                interfaces.append(i)
            case 6:
                let iface = u32(body)
                guard Int(iface) < interfaces.count else { throw Problem(description: "EPB for interface \(iface) before its IDB") }
                let ts = UInt64(u32(body + 4)) << 32 | UInt64(u32(body + 8))
                let cap = Int(u32(body + 12)), orig = u32(body + 16)
                let dataEnd = body + 20 + (cap + 3) / 4 * 4
                guard dataEnd <= end else { throw Problem(description: "EPB data past the block") }
                guard b[(body + 20 + cap)..<dataEnd].allSatisfy({ $0 == 0 }) else { throw Problem(description: "EPB data padding is not zero") }
                var p = Packet(interface: iface, timestamp: ts, data: Array(b[(body + 20)..<(body + 20 + cap)]), originalLength: orig, comments: [])
                for (c, v) in try options(dataEnd, end) {
                    switch c {
                    case 1: p.comments.append(try text(v))
                    case 2:
                        guard v.count == 4 else { throw Problem(description: "epb_flags of \(v.count) bytes") }
                        p.flags = v.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                        if bigEndian { p.flags = p.flags?.byteSwapped }
                    case 5:
                        guard v.count == 8 else { throw Problem(description: "epb_packetid of \(v.count) bytes") }
                        p.packetID = v.reversed().reduce(0) { $0 << 8 | UInt64($1) }
                    default: break
                    }
                }
                packets.append(p)
            default:
                break
            }
            pos += total
        }
        guard sawSection else { throw Problem(description: "empty file") }
    }
}

/// `csumlab trace FILE --pcapng OUT`: the file read back by the test's own parser and by tshark.
@Suite struct PcapngExportTests {
    static func lab(_ name: String) -> String { packageRoot + "/topologies/" + name + ".yaml" }

    static func readFile(_ path: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw PcapngReader.Problem(description: "cannot open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(fd, &buf, buf.count)
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    /// Write the capture with the binary, return its bytes and the trace computed here.
    static func capture(_ name: String, _ extra: [String] = []) throws -> ([UInt8], Trace) {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let out = "/tmp/csumlab-pcapng-\(getpid())-\(name).pcapng"
        defer { unlink(out) }
        let r = Spawn.run([bin, "trace", lab(name), "--pcapng", out] + extra, capture: true)
        #expect(r.status == 0)
        let trace = try Simulator(try TopologyFile.load(path: lab(name)).topology).run()
        return (try readFile(out), trace)
    }

    static let labs = ["seed-routed-vm-router", "seed-routed-userspace-vnet-hdr", "udp-fragments-userspace-router",
                       "tso-to-tap-without-tso", "dhcp-raw-client", "seed-bridged"]

    /// Every step is one packet, in order, on the interface named for its hop, with the frame's
    /// bytes, the direction and checksum bits, and the state in its comments.
    @Test(arguments: labs)
    func everyStepIsAPacketWithItsState(_ name: String) throws {
        let (bytes, trace) = try Self.capture(name)
        let file = try PcapngReader(bytes)
        let steps = trace.flows.flatMap { f in f.legs.flatMap(\.steps) }
        #expect(file.packets.count == steps.count)
        #expect(file.userApplication == "csumlab")
        #expect(file.blockOffsets.allSatisfy { $0 % 4 == 0 })
        // One interface per hop, each named once, all Ethernet.
        let names = file.interfaces.compactMap(\.name)
        #expect(names.count == file.interfaces.count && Set(names).count == names.count)
        #expect(file.interfaces.allSatisfy { $0.linkType == 1 && $0.tsresol == 6 })
        var lastTime: UInt64 = 0
        for (p, s) in zip(file.packets, steps) {
            let hop = s.interface.map { $0 == s.element ? $0 : s.element + ":" + $0 } ?? s.element
            #expect(file.interfaces[Int(p.interface)].name == hop)
            #expect(p.data == s.frame)
            #expect(p.originalLength == UInt32(s.frame.count))
            #expect(p.timestamp > lastTime)
            lastTime = p.timestamp
            let f = try #require(p.flags)
            let direction = f & 3
            switch s.direction {
            case .receive, .deliver: #expect(direction == 1)
            case .send, .transmit, .forward: #expect(direction == 2)
            case .userspace: #expect(direction == 0)
            }
            #expect((f & (1 << 9) != 0) == s.after.isPartial, "checksum-not-ready bit at \(hop): \(s.after.summary)")
            if f & (1 << 10) != 0 { #expect(s.after.trustedWithoutBytes && !s.after.isPartial) }
            #expect(f & 0xF000 == 0, "reserved bits 12-15 stay zero")
            #expect(p.comments.contains { $0.contains(s.function) })
            if case let .skb(k) = s.after {
                #expect(p.comments.contains { $0.contains("ip_summed=\(k.ipSummed.rawValue)") })
                if k.ipSummed == .partial { #expect(p.comments.contains { $0.contains("csum_start=\(k.csumStart) csum_offset=\(k.csumOffset)") }) }
            }
            if case let .vnet(h) = s.after {
                #expect(p.comments.contains { $0.contains("vnet header: flags=\(h.flags)") && $0.contains("csum_start=\(h.csumStart)") })
            }
        }
        // A leg's steps share one packet id; the next leg has another.
        var i = 0
        var ids: [UInt64] = []
        for f in trace.flows {
            for l in f.legs {
                let legIDs = Set(file.packets[i..<(i + l.steps.count)].compactMap(\.packetID))
                #expect(legIDs.count == 1)
                ids += legIDs
                i += l.steps.count
            }
        }
        #expect(Set(ids).count == ids.count)
    }

    /// tshark (Wireshark's reader) opens the file and shows the interfaces, flags and comments.
    @Test(.enabled(if: tsharkPath != nil || isCI, "tshark is not installed (Debian: tshark): pcapng read-back by tshark skipped"))
    func tsharkReadsItBack() throws {
        let tshark = try #require(tsharkPath, "CI=true and tshark is missing: .ci/run installs it")
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let out = "/tmp/csumlab-pcapng-tshark-\(getpid()).pcapng"
        defer { unlink(out) }
        #expect(Spawn.run([bin, "trace", Self.lab("seed-routed-vm-router"), "--pcapng", out], capture: true).status == 0)
        let trace = try Simulator(try TopologyFile.load(path: Self.lab("seed-routed-vm-router")).topology).run()
        let steps = trace.flows.flatMap { f in f.legs.flatMap(\.steps) }
        let verbose = Spawn.run([tshark, "-r", out, "-V"], capture: true)
        #expect(verbose.status == 0)
        #expect(verbose.output.contains("Interface name: vm1:eth0"))
        #expect(verbose.output.contains("Direction: Outbound"))
        #expect(verbose.output.contains("ip_summed=CHECKSUM_PARTIAL csum_start=34 csum_offset=16"))
        #expect(verbose.output.contains("vnet header: flags=1 (NEEDS_CSUM"))
        // One line per packet, with the interface and the frame's bytes as tshark decoded them.
        let fields = Spawn.run([tshark, "-r", out, "-T", "fields", "-E", "separator=|", "-e", "frame.interface_name", "-e", "frame.len",
                                "-e", "frame.packet_flags"], capture: true)
        #expect(fields.status == 0)
        let rows = fields.output.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        #expect(rows.count == steps.count)
        for (row, s) in zip(rows, steps) {
            let hop = s.interface.map { $0 == s.element ? $0 : s.element + ":" + $0 } ?? s.element
            #expect(row.count == 3)
            #expect(row.first == hop)
            #expect(row.dropFirst().first == String(s.frame.count))
        }
    }

    /// Blocks laid out by hand from the draft's figures (§4.1 SHB, §4.2 IDB, §4.3 EPB, §3.5
    /// options), little-endian, against the writer's bytes.
    @Test func blockLayoutsMatchTheDraftByteForByte() {
        // SHB, no options: type, total 28, magic, major 1, minor 0, section length -1, total.
        #expect(Pcapng.Block.sectionHeader(options: []).bytes == [
            0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 28, 0, 0, 0,
        ])
        // IDB: linktype 1, reserved 0, snaplen 0x40000; if_name "br" (code 2, length 2, padded
        // to 4), opt_endofopt; total 8 + 8 + 8 + 4 + 4 = 32.
        #expect(Pcapng.Block.interfaceDescription(linkType: 1, snapLength: 0x40000, options: [.interfaceName("br")]).bytes == [
            1, 0, 0, 0, 32, 0, 0, 0, 1, 0, 0, 0, 0x00, 0x00, 0x04, 0x00,
            2, 0, 2, 0, 0x62, 0x72, 0, 0, 0, 0, 0, 0, 32, 0, 0, 0,
        ])
        // EPB: interface 1, timestamp high 1 / low 2, captured 3, original 3, data padded to 4,
        // epb_flags (code 2, length 4) = outbound | checksum not ready (0x202), opt_endofopt;
        // total 8 + 20 + 4 + 8 + 4 + 4 = 48.
        #expect(Pcapng.Block.enhancedPacket(interface: 1, timestamp: 0x1_0000_0002, data: [0xAA, 0xBB, 0xCC], originalLength: 3,
                                            options: [.flags(Pcapng.Flag.outbound | Pcapng.Flag.checksumNotReady)]).bytes == [
            6, 0, 0, 0, 48, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0,
            0xAA, 0xBB, 0xCC, 0, 2, 0, 4, 0, 0x02, 0x02, 0, 0, 0, 0, 0, 0, 48, 0, 0, 0,
        ])
    }

    /// The file is replaced atomically: a failed write (no such directory) says why and leaves
    /// nothing behind; the trace is not printed as if all went well.
    @Test func anUnwritablePathIsAClearError() throws {
        let bin = try #require(csumlabBinary, "csumlab binary not found next to the test bundle")
        let r = Spawn.run([bin, "trace", Self.lab("seed-bridged"), "--pcapng", "/nonexistent-dir/x.pcapng"], capture: true)
        #expect(r.status != 0)
        #expect(access("/nonexistent-dir/x.pcapng", F_OK) != 0)
    }
}
