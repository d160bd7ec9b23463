/// An independent, deliberately plain RFC 1071 implementation for expectations (not `Checksum`).
enum Naive {
    static func sum(_ bytes: [UInt8]) -> UInt32 {
        var s: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            s += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { s += UInt32(bytes[i]) << 8 }
        while s > 0xFFFF { s = (s & 0xFFFF) + (s >> 16) }
        return s
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 { ~UInt16(sum(bytes)) }

    /// TCP/UDP over IPv4 checksum of `segment` (field zeroed by the caller).
    static func l4v4(source: [UInt8], destination: [UInt8], proto: UInt8, segment: [UInt8]) -> UInt16 {
        let len = segment.count
        let pseudo = source + destination + [0, proto, UInt8(len >> 8), UInt8(len & 0xFF)]
        return checksum(pseudo + segment)
    }
}
