/// An IPv4 or IPv6 address as bytes, with parsing and printing. Prefix arithmetic for routing.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The address in two words, big-endian (`hi` = bytes 0–7, `lo` = bytes 8–15; an IPv4
    /// address is `lo`'s low 32 bits): no heap storage, so making, copying, comparing and hashing
    /// one — which the walk does at every hop (routes, owners, NAT) — costs no allocation and no
    /// reference count. `==` and the hash compare the words and the version.
    @usableFromInline var hi: UInt64
    @usableFromInline var lo: UInt64
    @usableFromInline var v6: Bool

    /// The address's 4 or 16 bytes (a new array: hot paths use `byte(_:)` or `write(into:at:)`).
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: v6 ? 16 : 4)
        for i in out.indices { out[i] = byte(i) }
        return out
    }

    /// Byte `i` of the address (0 ..< 4 or 0 ..< 16).
    @inlinable
    public func byte(_ i: Int) -> UInt8 {
        v6 ? UInt8(truncatingIfNeeded: i < 8 ? hi >> (56 - 8 * i) : lo >> (56 - 8 * (i - 8)))
           : UInt8(truncatingIfNeeded: lo >> (24 - 8 * i))
    }

    /// The address's bytes written into `buffer` from `offset` (the caller makes room).
    public func write(into buffer: inout [UInt8], at offset: Int) {
        for i in 0..<(v6 ? 16 : 4) { buffer[offset + i] = byte(i) }
    }

    public var version: IPVersion { v6 ? .v6 : .v4 }

    /// The text of the address in `bytes` (4 or 16 bytes, e.g. a slice of a frame): an IPv4
    /// address without making an array or a heap string — a shown trace names two addresses at
    /// every step.
    public static func text(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.count == 4 ? dottedQuad(bytes) : IPAddress(bytes: Array(bytes)).description
    }

    /// Dotted decimal of four bytes, written straight into a string (at most 15 UTF-8 bytes,
    /// which Swift keeps inline: no allocation).
    static func dottedQuad(_ bytes: ArraySlice<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 15) { out in
            var n = 0
            var first = true
            for b in bytes {
                if !first { out[n] = UInt8(ascii: "."); n += 1 }
                first = false
                if b >= 100 { out[n] = UInt8(ascii: "0") + b / 100; n += 1 }
                if b >= 10 { out[n] = UInt8(ascii: "0") + b / 10 % 10; n += 1 }
                out[n] = UInt8(ascii: "0") + b % 10; n += 1
            }
            return n
        }
    }

    public init(bytes: [UInt8]) { self.init(bytes: bytes[...]) }

    public init(bytes: ArraySlice<UInt8>) {
        precondition(bytes.count == 4 || bytes.count == 16, "an IP address is 4 or 16 bytes")
        var h: UInt64 = 0, l: UInt64 = 0
        for (k, b) in bytes.enumerated() {
            if bytes.count == 16 && k < 8 { h = h << 8 | UInt64(b) } else { l = l << 8 | UInt64(b) }
        }
        hi = h
        lo = l
        v6 = bytes.count == 16
    }

    public init?(_ text: String) {
        if text.contains(":") {
            guard let b = Self.parseV6(text) else { return nil }
            self.init(bytes: b)
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var b: [UInt8] = []
            for p in parts {
                guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = UInt8(p) else { return nil }
                b.append(v)
            }
            self.init(bytes: b)
        }
    }

    private static func parseV6(_ text: String) -> [UInt8]? {
        let halves = splitDoubleColon(text)
        guard halves.count <= 2 else { return nil }
        func groups(_ s: Substring) -> [UInt16]? {
            if s.isEmpty { return [] }
            var out: [UInt16] = []
            for g in s.split(separator: ":", omittingEmptySubsequences: false) {
                guard !g.isEmpty, g.count <= 4, let v = UInt16(g, radix: 16) else { return nil }
                out.append(v)
            }
            return out
        }
        guard let head = groups(halves[0]) else { return nil }
        var words = head
        if halves.count == 2 {
            guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
            words += [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard words.count == 8 else { return nil }
        var b: [UInt8] = []
        for w in words { b.append(UInt8(w >> 8)); b.append(UInt8(w & 0xFF)) }
        return b
    }

    public var description: String {
        if !v6 { return Self.dottedQuad(bytes[...]) }
        var words: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { words.append(UInt16(byte(i)) << 8 | UInt16(byte(i + 1))) }
        // Longest run of zero words (length ≥ 2) becomes "::" (RFC 5952).
        var best = (start: -1, len: 0), cur = (start: -1, len: 0)
        for (i, w) in words.enumerated() {
            if w == 0 {
                if cur.start < 0 { cur = (i, 1) } else { cur.len += 1 }
                if cur.len > best.len { best = cur }
            } else { cur = (-1, 0) }
        }
        let hex = words.map { String($0, radix: 16) }
        if best.len < 2 { return hex.joined(separator: ":") }
        let left = hex[..<best.start].joined(separator: ":")
        let right = hex[(best.start + best.len)...].joined(separator: ":")
        return left + "::" + right
    }

    /// Does `self` lie in `network/prefix`?
    public func isIn(_ network: IPAddress, prefix: Int) -> Bool {
        guard network.v6 == v6 else { return false }
        func mask(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? ~0 : ~(~UInt64(0) >> UInt64(bits)) }
        if v6 {
            return (hi ^ network.hi) & mask(prefix) == 0 && (lo ^ network.lo) & mask(prefix - 64) == 0
        }
        return ((lo ^ network.lo) << 32) & mask(prefix) == 0
    }

    /// Byte order, as the bytes compare (`lexicographicallyPrecedes`): an IPv4 address before
    /// an IPv6 one whose first four bytes equal it.
    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        switch (a.v6, b.v6) {
        case (false, false): return a.lo < b.lo
        case (true, true): return (a.hi, a.lo) < (b.hi, b.lo)
        case (false, true): return a.lo <= b.hi >> 32
        case (true, false): return a.hi >> 32 < b.lo
        }
    }
}

/// Split on "::" (IPv6 zero compression) without Foundation; more than one "::" yields 3+ parts.
private func splitDoubleColon(_ s: String) -> [Substring] {
    var parts: [Substring] = []
    var start = s.startIndex
    var i = s.startIndex
    while i < s.endIndex {
        let next = s.index(after: i)
        if s[i] == ":", next < s.endIndex, s[next] == ":" {
            parts.append(s[start..<i])
            start = s.index(after: next)
            i = start
        } else {
            i = next
        }
    }
    parts.append(s[start...])
    return parts
}
