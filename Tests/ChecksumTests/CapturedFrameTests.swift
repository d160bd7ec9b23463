import Testing
@testable import Checksum

/// Frames whose checksums the Linux kernel computed, checked with every path.
///
/// How they were captured (kernel 6.x, this repository's dev machine, as root): two network
/// namespaces joined by a veth pair (10.77.0.1/24 and fd00:77::1/64 on `va`, .2 / ::2 on `vb`);
/// transmit checksum offload turned off on both ends with the ETHTOOL_STXCSUM ioctl (what
/// `ethtool -K va tx off` does), so the sender's kernel filled in every TCP/UDP checksum in
/// software; a Python AF_PACKET socket bound to `vb` printed each received frame as hex while
/// Python sockets in the other namespace sent a UDP datagram over IPv4 and over IPv6 and made a
/// TCP connection with one data segment.
enum CapturedFrames {
    /// UDP/IPv4, 10.77.0.1:40001 → 10.77.0.2:9999, 35-byte (odd) payload.
    static let udp4 = "861c717dcf3f0efa1dfa2ad108004500003fbd5d4000401168b40a4d00010a4d00029c41270f002bd6346373756d6c61623a20554450206f76657220495076342c206f6464206c656e6774682e"
    /// UDP/IPv6, [fd00:77::1]:40002 → [fd00:77::2]:9999.
    static let udp6 = "861c717dcf3f0efa1dfa2ad186dd600a24ce00261140fd000077000000000000000000000001fd0000770000000000000000000000029c42270f00261d036373756d6c61623a20554450206f7665722049507636207061796c6f6164"
    /// TCP/IPv4 SYN with options (MSS, SACK, timestamps, window scale).
    static let tcpSyn = "861c717dcf3f0efa1dfa2ad108004500003c327b40004006f3a40a4d00010a4d00029c431e61a049c4d400000000a002faf02abf0000020405b40402080a41abac42000000000103030a"
    /// TCP/IPv4 data segment (PSH|ACK) with a 74-byte payload.
    static let tcpData = "861c717dcf3f0efa1dfa2ad108004500007e327d40004006f3600a4d00010a4d00029c431e61a049c4d551a4cfbb8018003fc60c00000101080a41abac423eab61e96373756d6c61623a206120544350207365676d656e742077686f736520636865636b73756d204c696e757820636f6d707574656420696e20736f66747761726520287478206f6666292e"

    static func bytes(_ hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var it = hex.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c <= 0x39 ? c - 0x30 : c - 0x61 + 10 }
        while let h = it.next(), let l = it.next() { out.append(nibble(h) << 4 | nibble(l)) }
        return out
    }
}

func be16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
func be32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(be16(b, i)) << 16 | UInt32(be16(b, i + 2)) }

/// A captured frame's L3/L4 split, parsed by hand (this module has no Wire dependency).
struct ParsedFrame {
    var bytes: [UInt8]
    var isIPv6: Bool
    var l3: Int
    var l4: Int
    var end: Int
    var proto: UInt8
    var checksumField: Int { l4 + (proto == 6 ? 16 : 6) }

    init(_ hex: String) {
        bytes = CapturedFrames.bytes(hex)
        l3 = 14
        isIPv6 = be16(bytes, 12) == 0x86DD
        if isIPv6 {
            l4 = l3 + 40
            end = l4 + Int(be16(bytes, l3 + 4))
            proto = bytes[l3 + 6]
        } else {
            l4 = l3 + Int(bytes[l3] & 0x0F) * 4
            end = l3 + Int(be16(bytes, l3 + 2))
            proto = bytes[l3 + 9]
        }
    }

    var pseudoHeader: UInt32 {
        let len = UInt32(end - l4)
        if isIPv6 {
            return InternetChecksum.pseudoHeaderIPv6(source: Array(bytes[l3 + 8..<l3 + 24]),
                                                     destination: Array(bytes[l3 + 24..<l3 + 40]),
                                                     nextHeader: proto, length: len)
        }
        return InternetChecksum.pseudoHeaderIPv4(source: be32(bytes, l3 + 12), destination: be32(bytes, l3 + 16),
                                                 protocol: proto, length: len)
    }

    /// The L4 checksum computed from scratch with `engine` (field taken as zero).
    func l4Checksum(_ engine: ChecksumEngine) -> UInt16 {
        var b = bytes
        b[checksumField] = 0
        b[checksumField + 1] = 0
        let s = b.withUnsafeBytes { engine.sum(UnsafeRawBufferPointer(rebasing: $0[l4..<end]), initial: pseudoHeader) }
        let c = InternetChecksum.finish(s)
        return proto == 17 ? InternetChecksum.udpMangleZero(c) : c
    }
}

@Suite struct CapturedFrameTests {
    static let frames = [CapturedFrames.udp4, CapturedFrames.udp6, CapturedFrames.tcpSyn, CapturedFrames.tcpData]

    @Test(arguments: enginesUnderTest.map(\.path))
    func kernelChecksumsRecomputed(path: ChecksumEngine.Path) {
        let e = ChecksumEngine(path: path)
        for hex in Self.frames {
            let f = ParsedFrame(hex)
            #expect(f.l4Checksum(e) == be16(f.bytes, f.checksumField), "\(path) proto \(f.proto) v6 \(f.isIPv6)")
            // Verification as a receiver does it: the sum over the segment with its checksum,
            // plus the pseudo-header, folds to 0xFFFF.
            let s = f.bytes.withUnsafeBytes { e.sum(UnsafeRawBufferPointer(rebasing: $0[f.l4..<f.end]), initial: f.pseudoHeader) }
            #expect(InternetChecksum.fold(s) == 0xFFFF)
        }
    }

    @Test func ipv4HeaderChecksums() {
        for hex in Self.frames {
            let f = ParsedFrame(hex)
            guard !f.isIPv6 else { continue }
            let header = Array(f.bytes[f.l3..<f.l4])
            #expect(InternetChecksum.ipv4HeaderChecksum(header) == be16(header, 10))
            #expect(InternetChecksum.checksum(header) == 0)
        }
    }
}
