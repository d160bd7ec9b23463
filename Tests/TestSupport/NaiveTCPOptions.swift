// An independent reader of TCP options (RFC 793/7323/2018 layout), written without the Wire or
// Simulation modules: walks kind/length pairs of an Ethernet/IPv4-or-IPv6/TCP frame.

/// One TCP option as read from the wire: kind and its data bytes (NOP and EOL have none).
public struct NaiveTCPOption: Equatable, Sendable {
    public var kind: UInt8
    public var data: [UInt8]
    public init(kind: UInt8, data: [UInt8]) { self.kind = kind; self.data = data }
}

/// Offset of the TCP header in an Ethernet frame (IPv4 with its IHL, or a bare IPv6 header).
public func naiveTCPOffset(_ f: [UInt8]) -> Int {
    f[12] == 0x86 ? 14 + 40 : 14 + Int(f[14] & 0xF) * 4
}

/// The TCP header length (data offset × 4).
public func naiveTCPHeaderLength(_ f: [UInt8]) -> Int {
    Int(f[naiveTCPOffset(f) + 12] >> 4) * 4
}

/// The TCP payload length: IP length less the IP and TCP headers.
public func naiveTCPPayloadLength(_ f: [UInt8]) -> Int {
    let t = naiveTCPOffset(f)
    let ipEnd = f[12] == 0x86 ? 14 + 40 + (Int(f[18]) << 8 | Int(f[19])) : 14 + (Int(f[16]) << 8 | Int(f[17]))
    return ipEnd - t - naiveTCPHeaderLength(f)
}

/// The options of the frame's TCP header, in order, NOPs included.
public func naiveTCPOptions(_ f: [UInt8]) -> [NaiveTCPOption] {
    let t = naiveTCPOffset(f)
    let end = t + naiveTCPHeaderLength(f)
    var i = t + 20
    var out: [NaiveTCPOption] = []
    while i < end {
        let kind = f[i]
        if kind == 0 { break }
        if kind == 1 { out.append(NaiveTCPOption(kind: 1, data: [])); i += 1; continue }
        let len = Int(f[i + 1])
        out.append(NaiveTCPOption(kind: kind, data: Array(f[(i + 2)..<(i + len)])))
        i += len
    }
    return out
}

/// The option kinds without NOPs (2 MSS, 3 window scale, 4 SACK permitted, 8 timestamp).
public func naiveTCPOptionKinds(_ f: [UInt8]) -> [UInt8] {
    naiveTCPOptions(f).map(\.kind).filter { $0 != 1 }
}

/// The MSS option's value, if the header carries one.
public func naiveTCPMSS(_ f: [UInt8]) -> Int? {
    naiveTCPOptions(f).first { $0.kind == 2 }.map { Int($0.data[0]) << 8 | Int($0.data[1]) }
}
