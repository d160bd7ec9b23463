/// An IPv4 or IPv6 address as bytes, with parsing and printing. Prefix arithmetic for routing.
public struct IPAddress: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: [UInt8]

    public var version: IPVersion { bytes.count == 4 ? .v4 : .v6 }

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

    /// The bytes in one call (`==` compares them, the version included in their count):
    /// addresses key the routing and owner tables every hop looks up.
    public func hash(into h: inout Hasher) {
        bytes.withUnsafeBytes { h.combine(bytes: $0) }
    }

    public init(bytes: [UInt8]) {
        precondition(bytes.count == 4 || bytes.count == 16, "an IP address is 4 or 16 bytes")
        self.bytes = bytes
    }

    public init?(_ text: String) {
        if text.contains(":") {
            guard let b = Self.parseV6(text) else { return nil }
            bytes = b
        } else {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var b: [UInt8] = []
            for p in parts {
                guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), let v = UInt8(p) else { return nil }
                b.append(v)
            }
            bytes = b
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
        if version == .v4 { return Self.dottedQuad(bytes[...]) }
        var words: [UInt16] = []
        for i in stride(from: 0, to: 16, by: 2) { words.append(UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])) }
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
        guard network.version == version else { return false }
        var bits = prefix
        for i in 0..<bytes.count {
            if bits <= 0 { return true }
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if bytes[i] & mask != network.bytes[i] & mask { return false }
            bits -= 8
        }
        return true
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool {
        a.bytes.lexicographicallyPrecedes(b.bytes)
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
