// An independent reference for checksum values, written without the Checksum module: plain
// 16-bit big-endian word sums with a 64-bit accumulator and a final fold.

public func naiveFold(_ words: [UInt16]) -> UInt16 {
    var acc: UInt64 = 0
    for w in words { acc += UInt64(w) }
    while acc > 0xFFFF { acc = (acc & 0xFFFF) + (acc >> 16) }
    return UInt16(acc)
}

public func naiveWords(_ b: ArraySlice<UInt8>) -> [UInt16] {
    var out: [UInt16] = []
    var i = b.startIndex
    while i + 1 < b.endIndex { out.append(UInt16(b[i]) << 8 | UInt16(b[i + 1])); i += 2 }
    if i < b.endIndex { out.append(UInt16(b[i]) << 8) }
    return out
}

/// The correct L4 checksum of an Ethernet/IPv4-or-IPv6/TCP-or-UDP frame, field taken as zero.
public func naiveL4Checksum(_ f: [UInt8]) -> UInt16 {
    let v6 = f[12] == 0x86
    let l3 = 14
    let l4: Int, proto: UInt8, len: Int
    var pseudo: [UInt16] = []
    if v6 {
        l4 = l3 + 40; proto = f[l3 + 6]; len = Int(f[l3 + 4]) << 8 | Int(f[l3 + 5])
        pseudo = naiveWords(f[(l3 + 8)..<(l3 + 40)])
    } else {
        let ihl = Int(f[l3] & 0xF) * 4
        l4 = l3 + ihl; proto = f[l3 + 9]; len = (Int(f[l3 + 2]) << 8 | Int(f[l3 + 3])) - ihl
        pseudo = naiveWords(f[(l3 + 12)..<(l3 + 20)])
    }
    if proto != 1 {
        pseudo += [UInt16(proto), UInt16(len >> 16), UInt16(len & 0xFFFF)]
    } else {
        pseudo = []
    }
    var seg = Array(f[l4..<(l4 + len)])
    let off = proto == 6 ? 16 : (proto == 17 ? 6 : 2)
    seg[off] = 0; seg[off + 1] = 0
    let c = ~naiveFold(pseudo + naiveWords(seg[...]))
    return proto == 17 && c == 0 ? 0xFFFF : c
}

/// The IPv4 header checksum, field taken as zero.
public func naiveIPv4HeaderChecksum(_ f: [UInt8]) -> UInt16 {
    var h = Array(f[14..<(14 + Int(f[14] & 0xF) * 4)])
    h[10] = 0; h[11] = 0
    return ~naiveFold(naiveWords(h[...]))
}

/// Folded pseudo-header sum (what a CHECKSUM_PARTIAL sender leaves in the field).
public func naivePseudoHeaderSum(_ f: [UInt8]) -> UInt16 {
    let v6 = f[12] == 0x86
    let l3 = 14
    if v6 {
        let len = Int(f[l3 + 4]) << 8 | Int(f[l3 + 5])
        return naiveFold(naiveWords(f[(l3 + 8)..<(l3 + 40)]) + [UInt16(f[l3 + 6]), UInt16(len)])
    }
    let ihl = Int(f[l3] & 0xF) * 4
    let len = (Int(f[l3 + 2]) << 8 | Int(f[l3 + 3])) - ihl
    return naiveFold(naiveWords(f[(l3 + 12)..<(l3 + 20)]) + [UInt16(f[l3 + 9]), UInt16(len)])
}

/// A tunnelled frame with its inner IPv4 packet's L4 checksum completed naively (what
/// `skb_checksum_help()` does to the pending inner field). The inner Ethernet frame starts at
/// `innerAt`: 50 behind an IPv4 outer header, 70 behind an IPv6 one.
public func naiveCompletingInner(_ outer: [UInt8], innerAt: Int) -> [UInt8] {
    var b = outer
    let inner = Array(b[innerAt...])
    let c = naiveL4Checksum(inner)
    let field = innerAt + 34 + (inner[23] == 6 ? 16 : 6)
    b[field] = UInt8(c >> 8); b[field + 1] = UInt8(c & 0xFF)
    return b
}

/// The outer UDP checksum field of a tunnelled frame: bytes 40–41 behind IPv4, 60–61 behind IPv6.
public func naiveOuterUDPField(_ b: [UInt8]) -> UInt16 {
    let at = b[12] == 0x86 ? 60 : 40
    return UInt16(b[at]) << 8 | UInt16(b[at + 1])
}
