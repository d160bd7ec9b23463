import Simulation
import Wire
import enum Yams.Node
import struct Yams.Mark

/// The file names of a `type: frame` flow's virtio header fields, shared by the parser and the writer.
enum FrameNames {
    static let flags: [(String, UInt8)] = [("needs-csum", VirtioNetHeader.needsCsum), ("data-valid", VirtioNetHeader.dataValid)]
    static let gsoTypes: [(String, UInt8)] = [("none", 0), ("tcpv4", 1), ("udp", 3), ("tcpv6", 4), ("udp-l4", 5)]
    static let vnetKeys = ["flags", "gso-type", "gso-size", "hdr-len", "csum-start", "csum-offset", "ecn"]
    /// Keys only a frame flow takes.
    static let flowKeys = ["tap", "vnet", "protocol", "source-port", "checksum", "hex"]

    /// `[needs-csum, data-valid]`, or `[]`.
    static func flagList(_ f: UInt8) -> String {
        "[" + flags.filter { f & $0.1 != 0 }.map(\.0).joined(separator: ", ") + "]"
    }

    /// The name of `gso_type` without its ECN bit (a number when it has no name).
    static func gsoName(_ t: UInt8) -> String {
        gsoTypes.first { $0.1 == t & 0x7F }?.0 ?? String(t & 0x7F)
    }

    static func hex(_ b: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(b.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xF)]] })
    }
}

extension Parser {
    /// A frame flow's own keys (`tap`, `vnet`, `protocol`, `source-port`, `checksum`, `hex`); false when `key` is not one.
    mutating func parseFrameKey(_ key: String, _ v: Yams.Node, into flow: inout Flow) -> Bool {
        switch key {
        case "tap":
            flow.frame.tap = scalar(v, "tap") ?? ""
        case "protocol":
            let s = scalar(v, "protocol") ?? ""
            switch s {
            case "tcp": flow.frame.proto = .tcp
            case "udp": flow.frame.proto = .udp
            default: error(v.mark, "'protocol' expects tcp or udp, got '\(s)'")
            }
        case "source-port":
            if let s = scalar(v, "source-port"), let p = UInt16(s), p > 0 { flow.frame.sourcePort = p } else {
                error(v.mark, "'source-port' expects a number from 1 to 65535")
            }
        case "checksum":
            let s = scalar(v, "checksum") ?? ""
            if let m = FrameInjection.ChecksumMode(rawValue: s) { flow.frame.checksum = m } else {
                error(v.mark, "'checksum' expects one of \(FrameInjection.ChecksumMode.allCases.map(\.rawValue).joined(separator: ", ")), got '\(s)'")
            }
        case "hex":
            let s = (scalar(v, "hex") ?? "").filter { !$0.isWhitespace && $0 != ":" }
            var out: [UInt8] = []
            var i = s.startIndex
            var ok = s.count % 2 == 0 && !s.isEmpty && s.allSatisfy(\.isHexDigit)
            while ok && i < s.endIndex {
                let j = s.index(i, offsetBy: 2)
                if let b = UInt8(s[i..<j], radix: 16) { out.append(b) } else { ok = false }
                i = j
            }
            if ok && (14...65535).contains(out.count) { flow.frame.bytes = out } else {
                error(v.mark, "'hex' expects the whole Ethernet frame as hex digits (an even count, 14 to 65535 bytes; spaces and colons are ignored)")
            }
        case "vnet":
            parseVnet(v, into: &flow.frame.vnet)
        default:
            return false
        }
        return true
    }

    mutating func parseVnet(_ n: Yams.Node, into h: inout VirtioNetHeader) {
        guard let fields = mapping(n, "'vnet'") else { return }
        for f in fields {
            let s = scalar(f.value, f.key) ?? ""
            switch f.key {
            case "flags":
                var flags: UInt8 = 0
                for part in s.split(separator: ",").map({ String($0.filter { !$0.isWhitespace }) }) where !part.isEmpty && part != "none" {
                    if let x = FrameNames.flags.first(where: { $0.0 == part }) { flags |= x.1 } else {
                        error(f.value.mark, "'flags' expects a list of \(FrameNames.flags.map(\.0).joined(separator: ", ")) (or none), got '\(part)'")
                    }
                }
                h.flags = flags
            case "gso-type":
                if let x = FrameNames.gsoTypes.first(where: { $0.0 == s }) { h.gsoType = (h.gsoType & 0x80) | x.1 } else if let x = UInt8(s), x < 0x80 {
                    h.gsoType = (h.gsoType & 0x80) | x
                } else {
                    error(f.value.mark, "'gso-type' expects one of \(FrameNames.gsoTypes.map(\.0).joined(separator: ", ")) or a number from 0 to 127, got '\(s)'")
                }
            case "ecn":
                if s == "true" { h.gsoType |= 0x80 } else if s == "false" { h.gsoType &= 0x7F } else {
                    error(f.value.mark, "'ecn' expects true or false (VIRTIO_NET_HDR_GSO_ECN)")
                }
            case "gso-size", "hdr-len", "csum-start", "csum-offset":
                guard let x = UInt16(s) else {
                    error(f.value.mark, "'\(f.key)' expects a number from 0 to 65535, got '\(s)'")
                    continue
                }
                switch f.key {
                case "gso-size": h.gsoSize = x
                case "hdr-len": h.hdrLen = x
                case "csum-start": h.csumStart = x
                default: h.csumOffset = x
                }
            default:
                error(f.keyMark, unknown(f.key, in: "'vnet'", expected: FrameNames.vnetKeys))
            }
        }
    }
}
