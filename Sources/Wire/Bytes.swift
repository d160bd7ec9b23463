/// Big-endian field access on a byte array. All byte offsets in csumlab go through `Wire`.
extension Array where Element == UInt8 {
    @inlinable
    public func be16(at i: Int) -> UInt16 {
        UInt16(self[i]) << 8 | UInt16(self[i + 1])
    }

    @inlinable
    public func be32(at i: Int) -> UInt32 {
        UInt32(self[i]) << 24 | UInt32(self[i + 1]) << 16 | UInt32(self[i + 2]) << 8 | UInt32(self[i + 3])
    }

    @inlinable
    public func le16(at i: Int) -> UInt16 {
        UInt16(self[i]) | UInt16(self[i + 1]) << 8
    }

    @inlinable
    public mutating func setBE16(_ v: UInt16, at i: Int) {
        self[i] = UInt8(v >> 8)
        self[i + 1] = UInt8(v & 0xFF)
    }

    @inlinable
    public mutating func setBE32(_ v: UInt32, at i: Int) {
        self[i] = UInt8(v >> 24)
        self[i + 1] = UInt8((v >> 16) & 0xFF)
        self[i + 2] = UInt8((v >> 8) & 0xFF)
        self[i + 3] = UInt8(v & 0xFF)
    }

    @inlinable
    public mutating func setLE16(_ v: UInt16, at i: Int) {
        self[i] = UInt8(v & 0xFF)
        self[i + 1] = UInt8(v >> 8)
    }

    /// Lower-case hex, no separators.
    public var hexString: String {
        let digits: [UInt8] = Swift.Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(count * 2)
        for b in self {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Parse a hex string (whitespace and colons ignored). Returns nil on a bad digit or odd length.
public func bytesFromHex(_ s: String) -> [UInt8]? {
    var out: [UInt8] = []
    var hi: UInt8?
    for ch in s.unicodeScalars {
        if ch == " " || ch == ":" || ch == "\n" || ch == "\t" { continue }
        guard let v = UInt8(String(ch), radix: 16) else { return nil }
        if let h = hi { out.append(h << 4 | v); hi = nil } else { hi = v }
    }
    return hi == nil ? out : nil
}

/// `0x`-less, zero-padded 4-digit lower-case hex of a 16-bit value.
public func hex16(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
}
